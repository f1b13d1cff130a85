#!/usr/bin/env python3
"""Writes golden references for the end-to-end tests: Hugging Face transformers'
logits and greedy continuations for the repository's random-weight checkpoints.

Runs on the device machine (transformers 5.x, torch, numpy); the checkpoints are
regenerated there by tools/make_checkpoint.py, which is deterministic, so the
tests can rebuild byte-identical checkpoints locally and compare against these.

For every case (a checkpoint recipe) and prompt it records, per prompt position:
the logsumexp of the logits and the top-K (id, logit) pairs; and the greedy
continuation of N tokens (eos does not stop it, so every case has N tokens).
The model runs in float32 (bf16 weights upcast), eager attention: the reference
is the exact math, not a kernel's approximation of it.

    python3 tools/make_golden_reference.py --out tests/data/golden [--top-k 16] [--new-tokens 24]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent

# Recipes: make_checkpoint.py arguments. Both layouts; the 4B-like one has linear
# RoPE scaling on global layers and a nested text config.
CASES = {
    "tiny-1b-seed0": ["--preset", "tiny-1b", "--seed", "0"],
    "tiny-4b-seed0": ["--preset", "tiny-4b", "--seed", "0"],
}

# Prompts as text, tokenized by the checkpoint's tokenizer with BOS. They are
# longer than the presets' sliding windows (8 and 6), and the last is longer than
# a prefill chunk of 64 tokens.
PROMPTS = [
    "The capital of France is",
    "<start_of_turn>user\nWrite a haiku about unicorns.<end_of_turn>\n<start_of_turn>model\n",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    " ".join(["Sliding windows let most layers forget distant tokens, while every sixth layer sees them all."] * 4),
]


def load_model(checkpoint_dir):
    import torch
    import transformers

    config = json.loads((checkpoint_dir / "config.json").read_text())
    architecture = config["architectures"][0]
    model_class = getattr(transformers, architecture)
    model = model_class.from_pretrained(checkpoint_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "tests/data/golden"))
    parser.add_argument("--top-k", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--cases", nargs="*", default=sorted(CASES))
    args = parser.parse_args()

    import torch
    import transformers

    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.cases:
        with tempfile.TemporaryDirectory() as scratch:
            checkpoint = pathlib.Path(scratch) / name
            subprocess.run([sys.executable, str(REPO / "tools/make_checkpoint.py"), *CASES[name], "-o", str(checkpoint)],
                           check=True)
            tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint)
            model = load_model(checkpoint)
            prompts = []
            for text in PROMPTS:
                ids = tokenizer(text, add_special_tokens=True)["input_ids"]
                input_ids = torch.tensor([ids])
                with torch.no_grad():
                    logits = model(input_ids=input_ids).logits[0].float()
                    lse = torch.logsumexp(logits, dim=-1)
                    top = torch.topk(logits, args.top_k, dim=-1)
                    generated = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                               max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                                               do_sample=False, eos_token_id=None, pad_token_id=0)
                positions = [{"pos": p, "lse": float(lse[p]),
                              "top": [[int(i), float(v)] for i, v in zip(top.indices[p], top.values[p])]}
                             for p in range(len(ids))]
                prompts.append({"text": text, "ids": ids, "positions": positions,
                                "greedy": [int(t) for t in generated[0, len(ids):]]})
        document = {
            "generator": "transformers %s, torch %s, float32, eager attention, via tools/make_golden_reference.py"
                         % (transformers.__version__, torch.__version__),
            "checkpoint": {"make_checkpoint_args": CASES[name]},
            "top_k": args.top_k,
            "prompts": prompts,
        }
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
        print(f"wrote {path}: {len(prompts)} prompts", file=sys.stderr)


if __name__ == "__main__":
    main()
