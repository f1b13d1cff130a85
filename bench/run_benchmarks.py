#!/usr/bin/python3
r"""Decode and prefill speed of Gemma 3 shapes, beside the bandwidth roofline.

For each preset of tools/make_checkpoint.py and each weight format: writes the
random-weight checkpoint, compiles it, runs `unicorn-exec BUNDLE --bench --json`
and collects the reports. Prints a Markdown table (the README's "Speed" table is
this output) with the commands that made it, and writes every report to --out.

    /usr/bin/python3 bench/run_benchmarks.py --work /tmp/bench --out bench.json
    /usr/bin/python3 bench/run_benchmarks.py --presets tiny-1b --allow-software-gpu --work /tmp/b --out b.json

--variant compares compile flags in the model: each one compiles and measures
every (preset, weights) once more, from the same checkpoint, its entries
carrying their `flags` (the first variant is --compile-flags alone):

    /usr/bin/python3 bench/run_benchmarks.py --presets gemma3-1b --weights q4 --variant= \
        --variant='--norm-workgroup 1024' --bench-contexts 0 --work /tmp/bench --out sweep.json

--compiler compares builds of unicorn-compile (a kernel experiment against the
commit before it) the same way, each NAME=PATH compiling every (preset, weights,
variant) from the same checkpoint, its entries carrying their `compiler`;
--keep-checkpoints leaves the checkpoints in --work and reuses them on the next
run (make_checkpoint's files depend only on its arguments):

    /usr/bin/python3 bench/run_benchmarks.py --presets gemma3-27b-width --weights bf16,q4 \
        --compiler base=/tmp/base/unicorn-compile --compiler new=build/compiler/unicorn-compile \
        --keep-checkpoints --work /tmp/bench --out ab.json

The benchmark presets make multi-gigabyte checkpoints and bundles (gemma3-1b
about 2 GB, gemma3-27b-width about 6 GB, each plus its bundles): --work needs
room for one preset at a time (for all of them with --keep-checkpoints); bundles
are deleted once measured.
"""
import argparse
import json
import pathlib
import shlex
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(command, **kwargs):
    """Runs `command`, echoing it; exits with its stderr when it fails."""
    print("$ " + shlex.join(str(c) for c in command), file=sys.stderr, flush=True)
    try:
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    except OSError as error:
        sys.exit(f"run_benchmarks: cannot run {command[0]}: {error.strerror}")
    if result.returncode != 0:
        sys.exit(f"run_benchmarks: {command[0]} failed (exit {result.returncode}): {result.stderr.strip()}")
    return result


def table(rows):
    """The README's table: one row per (model, weights)."""
    lines = ["| model shape | weights | prefill tok/s (512) | decode tok/s (ctx 0) | GB/s | % of roofline "
             "| roofline tok/s | decode tok/s (ctx 4096) | load s | device |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for preset, weights, report in rows:
        prefill = report["prefill"]
        decodes = {d["context"]: d for d in report["decode"]}
        ctx0, ctx4k = decodes.get(0, {}), decodes.get(4096, {})

        def figure(entry, key, scale=1.0, suffix=""):
            return f"{entry[key] * scale:.1f}{suffix}" if key in entry else "skipped"

        lines.append(f"| {preset} | {weights} | {figure(prefill, 'tokens_per_second')} "
                     f"| {figure(ctx0, 'tokens_per_second')} | {figure(ctx0, 'GBps')} "
                     f"| {figure(ctx0, 'fraction_of_roofline', 100, '%')} "
                     f"| {figure(ctx0, 'roofline_tokens_per_second')} | {figure(ctx4k, 'tokens_per_second')} "
                     f"| {report['load']['seconds_to_first_token']:.2f} | {report['device']['name']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="gemma3-1b,gemma3-27b-width",
                        help="make_checkpoint presets, comma-separated (default: gemma3-1b,gemma3-27b-width)")
    parser.add_argument("--weights", default="bf16,q8,q4", help="weight formats, comma-separated (default: all)")
    parser.add_argument("--compile", type=pathlib.Path, default=ROOT / "build/compiler/unicorn-compile",
                        help="the unicorn-compile to use (default: build/compiler/unicorn-compile)")
    parser.add_argument("--exec", type=pathlib.Path, default=ROOT / "build/runtime/unicorn-exec",
                        help="the unicorn-exec to use (default: build/runtime/unicorn-exec)")
    parser.add_argument("--work", type=pathlib.Path, required=True, help="directory for checkpoints and bundles")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="JSON file for every report")
    parser.add_argument("--device", help="unicorn-exec --device")
    parser.add_argument("--allow-software-gpu", action="store_true", help="unicorn-exec --allow-software-gpu")
    parser.add_argument("--bench-prefill", type=int, help="unicorn-exec --bench-prefill (default 512)")
    parser.add_argument("--bench-prefill-context", type=int,
                        help="unicorn-exec --bench-prefill-context (default 0): the timed prefill's starting position")
    parser.add_argument("--bench-decode", type=int, help="unicorn-exec --bench-decode (default 128)")
    parser.add_argument("--bench-contexts", help="unicorn-exec --bench-contexts (default 0,4096)")
    parser.add_argument("--prefill-chunk", type=int, help="unicorn-compile --prefill-chunk (default: its own)")
    parser.add_argument("--compile-flags", default="",
                        help="more unicorn-compile flags, one shell-quoted string joined by '=' (its value "
                             "starts with '--'), e.g. --compile-flags='--matvec-launch quant=4x128' to compare "
                             "launch shapes in the model")
    parser.add_argument("--compiler", action="append", metavar="NAME=PATH",
                        help="a unicorn-compile to compare, named; repeat for each (default: --compile alone)")
    parser.add_argument("--keep-checkpoints", action="store_true",
                        help="keep the checkpoints in --work and reuse those an earlier run made with the same "
                             "make_checkpoint arguments")
    parser.add_argument("--variant", action="append",
                        help="compile flags to compare, as --compile-flags, after it; repeat for each variant "
                             "(an empty one: --compile-flags alone); default: one, --compile-flags alone")
    args = parser.parse_args()

    compile_flags = ["--prefill-chunk", str(args.prefill_chunk)] if args.prefill_chunk else []
    compile_flags += shlex.split(args.compile_flags)
    variants = [shlex.split(v) for v in args.variant] if args.variant else [[]]
    compilers = [(None, args.compile)]
    if args.compiler:
        compilers = []
        for named in args.compiler:
            name, _, path = named.partition("=")
            if not name or not path:
                parser.error(f"--compiler takes NAME=PATH, not '{named}'")
            compilers.append((name, pathlib.Path(path)))

    exec_flags = []
    if args.device:
        exec_flags += ["--device", args.device]
    if args.allow_software_gpu:
        exec_flags.append("--allow-software-gpu")
    if args.bench_prefill:
        exec_flags += ["--bench-prefill", args.bench_prefill]
    if args.bench_prefill_context:
        exec_flags += ["--bench-prefill-context", args.bench_prefill_context]
    if args.bench_decode:
        exec_flags += ["--bench-decode", args.bench_decode]
    if args.bench_contexts:
        exec_flags += ["--bench-contexts", args.bench_contexts]

    args.work.mkdir(parents=True, exist_ok=True)
    rows, results = [], []
    for preset in args.presets.split(","):
        checkpoint = args.work / preset
        generate = [sys.executable, ROOT / "tools/make_checkpoint.py", "--preset", preset, "-o", checkpoint]
        generate_line = shlex.join(map(str, generate))
        # What made a kept checkpoint, beside it (not in it: the compiler reads the directory).
        made_by = args.work / f"{preset}.made-by"
        started = time.monotonic()
        if args.keep_checkpoints and made_by.exists() and made_by.read_text() == generate_line:
            print(f"run_benchmarks: {preset} checkpoint kept from an earlier run", file=sys.stderr)
        else:
            made_by.unlink(missing_ok=True)
            run(generate)
            made_by.write_text(generate_line)
            print(f"run_benchmarks: {preset} checkpoint in {time.monotonic() - started:.0f} s", file=sys.stderr)
        for weights in args.weights.split(","):
            for name, compiler in compilers:
                for variant in variants:
                    flags = compile_flags + variant
                    bundle = args.work / f"{preset}-{weights}.ubundle"
                    run([compiler, checkpoint, "-o", bundle, "--weights", weights, "-q", *flags])
                    report = json.loads(run([args.exec, bundle, "--bench", "--json", *exec_flags]).stdout)
                    bundle.unlink()
                    print(json.dumps(report["decode"], indent=None), file=sys.stderr)
                    label = " ".join([weights] + ([name] if name else []) + ([shlex.join(variant)] if variant else []))
                    rows.append((preset, label, report))
                    entry = {"preset": preset, "weights": weights, "report": report,
                             "commands": [f"tools/make_checkpoint.py --preset {preset} -o CKPT",
                                          shlex.join(["unicorn-compile", "CKPT", "-o", "B.ubundle",
                                                      "--weights", weights, *flags]),
                                          "unicorn-exec B.ubundle --bench --json " + shlex.join(map(str, exec_flags))]}
                    if args.variant:
                        entry["flags"] = shlex.join(variant)
                    if name:
                        entry["compiler"] = {"name": name, "path": str(compiler)}
                    results.append(entry)
        if not args.keep_checkpoints:
            for path in sorted(checkpoint.iterdir()):
                path.unlink()
            checkpoint.rmdir()
            made_by.unlink()
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
