"""What q8 and q4 weights cost in quality, on Mesa llvmpipe (issue 3, acceptance 2).

For the tiny-1b and tiny-4b checkpoints (seed 0, as tests/data/golden/*.json were
made), the same checkpoint is compiled as bf16, q8 and q4, and every golden
prompt runs through unicorn-exec with --logits-out, which writes every
position's full logits. Over all positions of all prompts:

  top-1 agreement  the share of positions whose argmax equals transformers'
                   top-1 id (the golden file; near-ties count, as they would for
                   a user)
  mean KL          KL(p_bf16 || p_q) over the whole vocabulary, p_bf16 being
                   our bf16 bundle's distribution, averaged over positions

The bf16 distribution stands in for transformers' because transformers' full
logits are too large to commit; this test first checks that it is transformers'
own to the golden tolerance (the logits of its top-16 ids and the log-sum-exp
within 0.05 at every position), so the reference is transformers' up to that.

Asserted: q8 top-1 agreement >= 98%, q4 >= 90% (the issue's bar), and q8's KL
below q4's. The measured numbers are printed and kept in README.md. Greedy
decoding (the quantised matvec kernels) is checked against the prefill (the
quantised matmul kernels) on the first prompt of each, also with every q8 and q4
decode product on the packed-integer path (--dot-min-mib 0).
"""
import json
import os
import pathlib
import sys
import unittest

import numpy as np

import harness

GOLDEN_DIR = harness.SOURCE_DIR / "tests" / "data" / "golden"
TOLERANCE = 0.05  # the golden tests' tolerance on logits and lse (test_generation.py)
MIN_TOP1_AGREEMENT = {"q8": 0.98, "q4": 0.90}


def log_softmax(logits):
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class QuantisedQualityTest(harness.CliTestCase):
    def bundle(self, checkpoint, preset, weights):
        # On the device machine (no compiler there) the bundles come prebuilt, as in test_generation.py.
        prebuilt = os.environ.get("UNICORN_GOLDEN_BUNDLES")
        if prebuilt:
            path = pathlib.Path(prebuilt) / f"{preset}-{weights}.ubundle"
            if not path.exists():
                self.skipTest(f"no prebuilt {path}")
            return path
        path = self.tmp / f"{preset}-{weights}.ubundle"
        result = harness.run([harness.COMPILE, checkpoint, "-o", path, "--weights", weights, "-q"])
        self.assertEqual(result.returncode, 0, result.stderr)
        return path

    def full_logits(self, bundle, ids, vocab):
        """[positions, vocab] float32 logits of the prompt `ids`, from --logits-out."""
        out = self.tmp / "logits.f32"
        result = harness.run([harness.EXEC, bundle, "--allow-software-gpu", "--ids", ",".join(map(str, ids)),
                              "--dump-logits", "1", "--logits-out", out])
        self.assertEqual(result.returncode, 0, result.stderr)
        logits = np.fromfile(out, dtype="<f4")
        self.assertEqual(logits.size, len(ids) * vocab, "--logits-out wrote the wrong number of floats")
        # The file agrees with the readout printed beside it.
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        logits = logits.reshape(len(ids), vocab)
        self.assertEqual([row["top"][0][0] for row in rows], list(logits.argmax(axis=1)))
        return logits

    def check_reference_is_transformers(self, logits, prompt, label):
        log_probs = log_softmax(logits)
        for pos in prompt["positions"]:
            row = logits[pos["pos"]]
            lse = float(row.astype(np.float64).max() - log_probs[pos["pos"]].max())
            self.assertLessEqual(abs(lse - pos["lse"]), TOLERANCE, f"{label} pos {pos['pos']}: bf16 lse")
            for token, logit in pos["top"]:
                self.assertLessEqual(abs(float(row[token]) - logit), TOLERANCE,
                                     f"{label} pos {pos['pos']}: bf16 logit of id {token}")

    def check_decode_follows_prefill(self, bundle, ids, vocab, label):
        """Greedy decoding runs the matvec kernels, prefill the matmul kernels: the
        continuation decoded step by step must be the argmax of the prefill's logits
        over prompt + continuation, wherever that argmax leads its runner-up by
        more than TOLERANCE (the two kernels sum in different orders)."""
        steps = 12
        result = harness.run([harness.EXEC, bundle, "--allow-software-gpu", "--ids", ",".join(map(str, ids)),
                              "--max-tokens", str(steps), "--ignore-eos", "--json"])
        self.assertEqual(result.returncode, 0, result.stderr)
        generated = json.loads(result.stdout)["ids"]
        self.assertEqual(len(generated), steps)
        logits = self.full_logits(bundle, list(ids) + generated[:-1], vocab)
        compared = 0
        for step, token in enumerate(generated):
            row = logits[len(ids) - 1 + step]
            first, second = np.sort(row)[-2:][::-1]
            if first - second > TOLERANCE:
                self.assertEqual(int(row.argmax()), token, f"{label}: decode step {step}")
                compared += 1
        self.assertGreater(compared, steps // 2, f"{label}: too few decisive steps to compare")

    def check_row_slices_change_nothing(self, checkpoint, bundle, weights, ids, vocab, label):
        """Quantised matrices bound as 3 row slices (quants and scales windows apart,
        slices starting mid-word in the scales) give bit-identical logits: each
        row's sum runs in the same order whichever slice holds it."""
        if checkpoint is None:
            return  # prebuilt bundles only: nothing to compile
        sliced = self.tmp / f"{bundle.stem}-sliced.ubundle"
        result = harness.run([harness.COMPILE, checkpoint, "-o", sliced, "--weights", weights, "-q",
                              "--min-row-slices", "3"])
        self.assertEqual(result.returncode, 0, result.stderr)
        whole = self.full_logits(bundle, ids, vocab)
        np.testing.assert_array_equal(self.full_logits(sliced, ids, vocab), whole, f"{label}: sliced vs whole")

    def check_packed_decode(self, checkpoint, weights, ids, vocab, label):
        """The tiny checkpoints' products are below the 8 MiB from which q8 and q4
        decode takes the packed-integer path (quantize_activation, then
        matvec_quant_dot); --dot-min-mib 0 puts every decode product on it, and its
        greedy decode must still follow the prefill's logits
        (check_decode_follows_prefill)."""
        if checkpoint is None:
            return  # prebuilt bundles only: nothing to compile
        packed = self.tmp / f"{label.split()[0]}-{weights}-packed.ubundle"
        ir = self.tmp / f"packed-ir-{weights}"
        result = harness.run([harness.COMPILE, checkpoint, "-o", packed, "--weights", weights, "-q", "--dot-min-mib",
                              "0", "--dump-ir", ir])
        self.assertEqual(result.returncode, 0, result.stderr)
        schedule = (ir / "05-schedule.mlir").read_text()
        self.assertIn('"matvec_quant_dot" {bits = ' + weights[1:], schedule)
        self.assertNotIn('"matvec_quant" {', schedule)
        self.check_decode_follows_prefill(packed, ids, vocab, f"{label} {weights} packed")

    def measure(self, preset):
        golden = json.loads((GOLDEN_DIR / f"{preset}-seed0.json").read_text())
        self.assertEqual(golden["checkpoint"]["make_checkpoint_args"], ["--preset", preset, "--seed", "0"])
        checkpoint = None
        if not os.environ.get("UNICORN_GOLDEN_BUNDLES"):
            checkpoint = harness.make_checkpoint(self.tmp / preset, preset=preset, seed=0)
        bundles = {w: self.bundle(checkpoint, preset, w) for w in ("bf16", "q8", "q4")}
        vocab = json.loads(harness.run([harness.EXEC, bundles["bf16"], "--inspect", "--json"]).stdout)["model"]["vocab_size"]
        agree = {"q8": 0, "q4": 0}
        kl_sum = {"q8": 0.0, "q4": 0.0}
        positions = 0
        for index, prompt in enumerate(golden["prompts"]):
            label = f"{preset} prompt {index}"
            reference = self.full_logits(bundles["bf16"], prompt["ids"], vocab)
            self.check_reference_is_transformers(reference, prompt, label)
            reference_log_probs = log_softmax(reference)
            transformers_top1 = np.array([pos["top"][0][0] for pos in prompt["positions"]])
            positions += len(prompt["positions"])
            for weights in ("q8", "q4"):
                log_probs = log_softmax(self.full_logits(bundles[weights], prompt["ids"], vocab))
                agree[weights] += int((log_probs.argmax(axis=1) == transformers_top1).sum())
                kl = (np.exp(reference_log_probs) * (reference_log_probs - log_probs)).sum(axis=1)
                self.assertTrue(np.all(np.isfinite(kl)), f"{label} {weights}: KL is not finite")
                kl_sum[weights] += float(kl.sum())
            if index == 0:
                for weights in ("q8", "q4"):
                    self.check_decode_follows_prefill(bundles[weights], prompt["ids"], vocab, f"{label} {weights}")
                    self.check_row_slices_change_nothing(checkpoint, bundles[weights], weights, prompt["ids"],
                                                         vocab, f"{label} {weights}")
                for weights in ("q8", "q4"):
                    self.check_packed_decode(checkpoint, weights, prompt["ids"], vocab, label)
        results = {w: (agree[w] / positions, kl_sum[w] / positions) for w in ("q8", "q4")}
        for weights, (agreement, kl) in results.items():
            print(f"{preset} {weights}: top-1 agreement with transformers {agreement:.2%} "
                  f"({agree[weights]}/{positions} positions), mean KL(bf16 || {weights}) {kl:.5f} nats",
                  file=sys.stderr)
        for weights, (agreement, _) in results.items():
            self.assertGreaterEqual(agreement, MIN_TOP1_AGREEMENT[weights], f"{preset} {weights} top-1 agreement")
        self.assertLess(results["q8"][1], results["q4"][1], f"{preset}: q8 should lose less than q4")

    def test_tiny_1b(self):
        self.measure("tiny-1b")

    def test_tiny_4b(self):
        self.measure("tiny-4b")


if __name__ == "__main__":
    unittest.main()
