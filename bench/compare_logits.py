#!/usr/bin/env python3
"""Whether kernel variants compute the same model: compiles one checkpoint with
each set of compile flags and compares every prompt position's top logits.

A variant that changes how a product is computed (split-K, another kernel)
but not what it computes must give the same greedy argmax and logits equal to
float32 rounding; the numerics tests check each kernel alone, this checks them
in the model, at real shapes, on the device at hand. The first variant is the
reference:

    /usr/bin/python3 bench/compare_logits.py --checkpoint CKPT --weights q4 --prefill-chunk 512 \\
        --variant= --variant='--prefill-split-tiles 256' --work /tmp/cmp --out cmp.json

Prints one line per variant and exits 1 where a top-1 id differs or a logit
moves by more than --tolerance (relative to the position's largest |logit|).
"""
import argparse
import json
import random
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compare_logits: {' '.join(map(str, command))} failed ({result.returncode}): "
                 f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ''}")
    return result.stdout


def top_logits(exec_path, bundle, ids, top, device_args):
    """Per position: {token id: logit} of its top `top`."""
    out = run([exec_path, bundle, "--ids", ",".join(map(str, ids)), "--dump-logits", top, *device_args])
    positions = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(positions) != len(ids):
        sys.exit(f"compare_logits: {bundle} gave {len(positions)} positions for {len(ids)} ids")
    return [{int(i): float(v) for i, v in p["top"]} for p in positions]


def compare(reference, other):
    """Top-1 disagreements, and the largest |logit change| relative to the position's largest |logit|."""
    flips, worst = 0, 0.0
    for want, got in zip(reference, other):
        flips += max(want, key=want.get) != max(got, key=got.get)
        scale = max(abs(v) for v in want.values()) or 1.0
        for token in want.keys() & got.keys():
            worst = max(worst, abs(got[token] - want[token]) / scale)
    return flips, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="Hugging Face checkpoint directory")
    parser.add_argument("--weights", default="bf16", help="unicorn-compile --weights")
    parser.add_argument("--prefill-chunk", type=int, help="unicorn-compile --prefill-chunk")
    parser.add_argument("--variant", action="append", required=True,
                        help="compile flags, one shell-quoted string (--variant= for none); the first is the reference")
    parser.add_argument("--tokens", type=int, default=300, help="prompt length (random ids, fixed seed)")
    parser.add_argument("--top", type=int, default=16, help="logits compared per position")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative logit change allowed")
    parser.add_argument("--compile", default=ROOT / "build/compiler/unicorn-compile")
    parser.add_argument("--exec", default=ROOT / "build/runtime/unicorn-exec")
    parser.add_argument("--allow-software-gpu", action="store_true")
    parser.add_argument("--work", required=True, help="directory for the bundles")
    parser.add_argument("--out", required=True, help="JSON file for the comparison")
    args = parser.parse_args()
    if len(args.variant) < 2:
        parser.error("give at least two --variant (the first is the reference)")

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ids = [random.Random(0).randrange(3, 20000) for _ in range(args.tokens)]
    ids[0] = 2  # BOS
    device_args = ["--allow-software-gpu"] if args.allow_software_gpu else []
    results, reference, failed = [], None, False
    for n, flags in enumerate(args.variant):
        bundle = work / f"variant{n}.ubundle"
        command = [args.compile, args.checkpoint, "-o", bundle, "--weights", args.weights, *shlex.split(flags)]
        if args.prefill_chunk:
            command += ["--prefill-chunk", args.prefill_chunk]
        run(command)
        logits = top_logits(args.exec, bundle, ids, args.top, device_args)
        bundle.unlink()
        if reference is None:
            reference = logits
            print(f"reference: {flags or '(no flags)'}")
            continue
        flips, worst = compare(reference, logits)
        ok = flips == 0 and worst <= args.tolerance
        failed = failed or not ok
        print(f"{'same' if ok else 'DIFFERENT'}: {flags or '(no flags)'}: top-1 differs at {flips} of "
              f"{len(ids)} positions, largest relative logit change {worst:.2e}")
        results.append({"flags": flags, "top1_differences": flips, "largest_relative_change": worst})
    Path(args.out).write_text(json.dumps({"weights": args.weights, "tokens": args.tokens, "top": args.top,
                                          "reference": args.variant[0], "variants": results}, indent=1) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
