"""End-to-end generation against Hugging Face transformers, on Mesa llvmpipe.

For the tiny-1b and tiny-4b checkpoints (seed 0, regenerated here exactly as
tests/data/golden/*.json were made) compiled as bf16, every golden prompt runs
through unicorn-exec on the Vulkan device and is compared with transformers'
float32 forward pass: per position the top-1 id (where transformers' top-1/top-2
margin exceeds the tolerance, so a near-tie may order either way), the logits of
transformers' top-16 ids, and the log-sum-exp, all within 0.05; and the greedy
24-token continuation exactly. The prompts cross the sliding windows (8 and 6)
and one is 70 tokens, longer than the 64-token prefill chunk these bundles are
compiled with.
"""
import json
import os
import pathlib
import sys
import unittest

import harness

TOLERANCE = 0.05
READOUT_K = 32  # our top-32 must contain transformers' top-16 (their logits agree within TOLERANCE)
GOLDEN_DIR = harness.SOURCE_DIR / "tests" / "data" / "golden"


class GenerationTest(harness.CliTestCase):
    def compile_preset(self, preset, extra=()):
        golden = json.loads((GOLDEN_DIR / f"{preset}-seed0.json").read_text())
        # On the device machine (no compiler toolchain there) the bundles come prebuilt:
        # UNICORN_GOLDEN_BUNDLES names a directory of <preset>.ubundle made by unicorn-compile here.
        prebuilt = os.environ.get("UNICORN_GOLDEN_BUNDLES")
        if prebuilt:
            bundle = pathlib.Path(prebuilt) / f"{preset}.ubundle"
            if not bundle.exists():
                self.skipTest(f"no prebuilt {bundle}")
            return golden, bundle
        args = golden["checkpoint"]["make_checkpoint_args"]
        self.assertEqual(args, ["--preset", preset, "--seed", "0"], "the golden file was made from another checkpoint")
        checkpoint = harness.make_checkpoint(self.tmp / preset, preset=preset, seed=0)
        bundle = self.tmp / f"{preset}.ubundle"
        result = harness.run([harness.COMPILE, checkpoint, "-o", bundle, "--weights", "bf16", "-q", *extra])
        self.assertEqual(result.returncode, 0, result.stderr)
        return golden, bundle

    def exec_(self, bundle, *args):
        return harness.run([harness.EXEC, bundle, "--allow-software-gpu", *args])

    def check_logits(self, bundle, prompt, label, worst):
        ids = ",".join(map(str, prompt["ids"]))
        result = self.exec_(bundle, "--ids", ids, "--dump-logits", str(READOUT_K))
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual([r["pos"] for r in rows], [p["pos"] for p in prompt["positions"]], label)
        for ours, want in zip(rows, prompt["positions"]):
            where = f"{label} pos {want['pos']}"
            self.assertEqual(len(ours["top"]), READOUT_K, where)
            our_logit = {token: logit for token, logit in ours["top"]}
            (top1, logit1), (_, logit2) = want["top"][0], want["top"][1]
            if logit1 - logit2 > TOLERANCE:
                self.assertEqual(ours["top"][0][0], top1, f"{where}: top-1 id")
            for token, logit in want["top"]:
                self.assertIn(token, our_logit, f"{where}: transformers' top-16 id {token} is not in our top {READOUT_K}")
                diff = abs(our_logit[token] - logit)
                worst["logit"] = max(worst["logit"], diff)
                self.assertLessEqual(diff, TOLERANCE, f"{where}: logit of id {token}: ours {our_logit[token]}, "
                                                      f"transformers {logit}")
            diff = abs(ours["lse"] - want["lse"])
            worst["lse"] = max(worst["lse"], diff)
            self.assertLessEqual(diff, TOLERANCE, f"{where}: lse ours {ours['lse']}, transformers {want['lse']}")

    def check_greedy(self, bundle, prompt, label):
        ids = ",".join(map(str, prompt["ids"]))
        steps = len(prompt["greedy"])
        result = self.exec_(bundle, "--ids", ids, "--max-tokens", str(steps), "--temperature", "0", "--ignore-eos",
                            "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        output = json.loads(result.stdout)
        self.assertEqual(output["ids"], prompt["greedy"], f"{label}: greedy continuation")
        self.assertIsInstance(output["text"], str)

    def run_preset(self, preset, extra=()):
        # Chunks of 64 (the default is 128): the longest prompt then crosses a chunk.
        golden, bundle = self.compile_preset(preset, ("--prefill-chunk", "64", *extra))
        self.assertEqual(golden["top_k"], 16)
        self.assertTrue(any(len(p["ids"]) > 64 for p in golden["prompts"]), "a prompt must cross a prefill chunk")
        worst = {"logit": 0.0, "lse": 0.0}
        for index, prompt in enumerate(golden["prompts"]):
            label = f"{preset} prompt {index} ({len(prompt['ids'])} tokens)"
            with self.subTest(prompt=label):
                self.check_logits(bundle, prompt, label, worst)
                self.check_greedy(bundle, prompt, label)
        print(f"{preset}: max |logit diff| {worst['logit']:.2e}, max |lse diff| {worst['lse']:.2e} "
              f"over {len(golden['prompts'])} prompts; greedy continuations compared", file=sys.stderr)
        return bundle

    def test_tiny_1b_matches_transformers(self):
        bundle = self.run_preset("tiny-1b")
        # The same bundle for the error contract: these fail before or at device selection.
        too_small = self.exec_(bundle, "--ids", "2,818,5279,529", "--max-tokens", "8", "--ctx", "10")
        self.assertCleanFailure(too_small, harness.EXIT_INVALID_INPUT, "--ctx 10", "12 positions")
        devices = json.loads(harness.run([harness.EXEC, "--list-devices", "--json"]).stdout)["devices"]
        if all(device["type"] == "cpu" for device in devices):  # as on CI; the device machine has a GPU
            no_software = harness.run([harness.EXEC, bundle, "--ids", "2,818", "--max-tokens", "1"])
            self.assertCleanFailure(no_software, harness.EXIT_DEVICE, "llvmpipe")
        for bad, fragment in [(("--top-k", "3"), "--temperature > 0"), (("--temperature", "-1"), "--temperature"),
                              (("--temperature", "1", "--top-p", "0"), "--top-p"),
                              (("--temperature", "nan"), "--temperature")]:
            refused = self.exec_(bundle, "--ids", "2,818", *bad)
            self.assertCleanFailure(refused, harness.EXIT_USAGE, fragment)
        self.check_sampling(bundle, golden_prompt=json.loads((GOLDEN_DIR / "tiny-1b-seed0.json").read_text())["prompts"][0])

    def test_context_over_one_kv_binding_is_refused_naming_the_limit(self):
        # A global layer's cache is one binding, of at most the device's
        # maxStorageBufferRange (llvmpipe: 128 MiB). A model that allows 2^21
        # positions of 128-byte slots (tiny-1b: 1 kv head of 32 floats) still
        # cannot hold them all there: the run says so and how far --ctx can go,
        # instead of binding past the limit.
        device = json.loads(harness.run([harness.EXEC, "--check-device", "--allow-software-gpu", "--json"]).stdout)
        limit = device["capabilities"]["max_storage_buffer_range"]
        slot = 1 * 32 * 4
        longest = limit // slot
        checkpoint = harness.make_checkpoint(self.tmp / "long", preset="tiny-1b", seed=0)
        config = json.loads((checkpoint / "config.json").read_text())
        config["max_position_embeddings"] = max(1 << 21, longest + 1)
        (checkpoint / "config.json").write_text(json.dumps(config))
        bundle = self.tmp / "long.ubundle"
        result = harness.run([harness.COMPILE, checkpoint, "-o", bundle, "-q"])
        self.assertEqual(result.returncode, 0, result.stderr)
        refused = self.exec_(bundle, "--ids", "2", "--max-tokens", "1", "--ctx", str(longest + 1))
        self.assertCleanFailure(refused, harness.EXIT_DEVICE, f"--ctx {longest + 1}", "maxStorageBufferRange",
                                f"use --ctx {longest} or less")
        if longest <= 1 << 21:  # a context the test machine can allocate
            fits = self.exec_(bundle, "--ids", "2", "--max-tokens", "1", "--ctx", str(longest), "--json")
            self.assertEqual(fits.returncode, 0, fits.stderr)

    def check_sampling(self, bundle, golden_prompt):
        """The sampling flags end to end (the distribution itself: sample_kernel_test)."""
        ids = ",".join(map(str, golden_prompt["ids"]))
        steps = len(golden_prompt["greedy"])

        def sample(*flags):
            result = self.exec_(bundle, "--ids", ids, "--max-tokens", str(steps), "--ignore-eos", "--json", *flags)
            self.assertEqual(result.returncode, 0, result.stderr)
            return json.loads(result.stdout)
        # top-k 1 is greedy whatever the temperature: transformers' continuation.
        self.assertEqual(sample("--temperature", "3", "--top-k", "1", "--seed", "5")["ids"], golden_prompt["greedy"])
        # A seed reproduces its draw; another seed, at a temperature that flattens
        # the distribution, draws something else; without --seed one is chosen and reported.
        hot = ("--temperature", "50", "--top-p", "0.9")
        first = sample(*hot, "--seed", "1234")
        self.assertEqual(first["seed"], 1234)
        self.assertEqual(sample(*hot, "--seed", "1234")["ids"], first["ids"])
        self.assertNotEqual(sample(*hot, "--seed", "1235")["ids"], first["ids"])
        unseeded = sample(*hot)
        self.assertEqual(sample(*hot, "--seed", str(unseeded["seed"]))["ids"], unseeded["ids"])
        self.assertNotIn("seed", sample(), "greedy decoding has no seed to report")

    def test_tiny_4b_matches_transformers(self):
        self.run_preset("tiny-4b")

    def test_readout_in_chunks_smaller_than_the_prefill_chunk_matches_transformers(self):
        # At most 16 rows of logits a chunk, as a 262144-token vocabulary has with
        # chunks over 128 tokens: --dump-logits then runs in chunks of 16 (the
        # longest prompt in five), generation in chunks of 64.
        if os.environ.get("UNICORN_GOLDEN_BUNDLES"):
            self.skipTest("needs unicorn-compile")
        bundle = self.run_preset("tiny-1b", extra=("--max-readout-rows", "16"))
        schedule = json.loads(harness.run([harness.EXEC, bundle, "--inspect", "--json"]).stdout)["schedule"]
        self.assertEqual((schedule["prefill_chunk"], schedule["readout_rows"]), (64, 16))

    def test_decode_attention_in_two_dispatches_matches_transformers(self):
        # --no-decode-attention: the global layer's decode attention as qkv_norm_rope
        # and attention_split (the sliding layers' windows are too short to split,
        # so they take those either way): the same golden results, one dispatch more.
        if os.environ.get("UNICORN_GOLDEN_BUNDLES"):
            self.skipTest("needs unicorn-compile")
        def decode_dispatches(bundle):
            return json.loads(harness.run([harness.EXEC, bundle, "--inspect", "--json"]).stdout)["schedule"][
                "decode_dispatches"]

        two = decode_dispatches(self.run_preset("tiny-1b", extra=("--no-decode-attention",)))
        one = decode_dispatches(self.compile_preset("tiny-1b", ("--prefill-chunk", "64"))[1])  # the same path, rewritten
        self.assertEqual(two, one + 1)

    def test_row_sliced_weights_match_transformers(self):
        # Every matrix bound as 3 row slices, as the 1B embedding and the 27B MLP
        # (over one 128 MiB binding) are: the same golden results must come out.
        if os.environ.get("UNICORN_GOLDEN_BUNDLES"):
            self.skipTest("needs unicorn-compile")
        bundle = self.run_preset("tiny-4b", extra=("--min-row-slices", "3"))
        inspect = json.loads(harness.run([harness.EXEC, bundle, "--inspect", "--json"]).stdout)
        # 8 layers of 4 products (q|k|v and gate|up stacked), 3 dispatches each, and the
        # embedding's and LM head's 3 too; unsliced, the whole decode step has ~70.
        self.assertGreater(inspect["schedule"]["decode_dispatches"], 3 * 4 * 8 + 3 + 3, "the matrices were not sliced")


if __name__ == "__main__":
    unittest.main()
