#!/usr/bin/env node
// Renders every case of tests/data/chat_conversations.json with
// @huggingface/jinja (the JavaScript Jinja that Hugging Face's JS libraries use
// for chat templates) and prints {"generator": ..., "cases": [{"id", "rendered"}
// or {"id", "error"}]} as JSON on stdout. chat_template_test runs it and
// compares Unicorn's renderer with it case by case.
//
//   node tools/reference/render_chat.mjs [path/to/chat_conversations.json]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const casesPath = process.argv[2] ?? join(repoRoot, "tests/data/chat_conversations.json");
const suite = JSON.parse(readFileSync(casesPath, "utf8"));

function templateSource(template) {
  if (template.text !== undefined) return template.text;
  const config = JSON.parse(readFileSync(join(repoRoot, template.from_tokenizer_config), "utf8"));
  if (typeof config.chat_template !== "string") {
    throw new Error(`${template.from_tokenizer_config} has no string chat_template`);
  }
  return config.chat_template;
}

// Parse each template once, as the C++ side does.
const compiled = new Map();
for (const [name, template] of Object.entries(suite.templates)) {
  compiled.set(name, new Template(templateSource(template)));
}

const results = [];
for (const testCase of suite.cases) {
  const context = {
    messages: suite.conversations[testCase.conversation],
    add_generation_prompt: testCase.add_generation_prompt,
    ...suite.special_tokens,
  };
  try {
    results.push({ id: testCase.id, rendered: compiled.get(testCase.template).render(context) });
  } catch (error) {
    results.push({ id: testCase.id, error: String(error?.message ?? error) });
  }
}

// The package does not export its package.json; find it beside its entry point.
const require = createRequire(import.meta.url);
const jinjaPackage = join(dirname(require.resolve("@huggingface/jinja")), "..", "package.json");
const jinjaVersion = JSON.parse(readFileSync(jinjaPackage, "utf8")).version;
process.stdout.write(JSON.stringify({ generator: { "@huggingface/jinja": jinjaVersion, node: process.version }, cases: results }));
process.stdout.write("\n");
