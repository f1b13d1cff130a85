"""unicorn-exec --bench on Mesa llvmpipe: the report's structure and, above all, its
arithmetic. The bytes a decode step reads and the FLOPs of a prefill are computed
here from the checkpoint's config.json and safetensors header with the model's
rules, not taken from the runtime, so a wrong roofline cannot pass. Speed itself is
not asserted (DESIGN.md: speed goes in benchmarks): llvmpipe runs on the CPU."""
import json
import shutil
import struct
import unittest

import harness

PREFILL, DECODE, CONTEXTS = 70, 3, [0, 100]
# The bench's own steps need positions up to 5: 4 warm-up steps, then the profiled one.
OWN_POSITIONS = 6


def text_config(checkpoint):
    config = json.loads((checkpoint / "config.json").read_text())
    return config.get("text_config", config)


def tensor_shapes(checkpoint):
    shapes = {}
    for path in checkpoint.glob("*.safetensors"):
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(size))
        shapes.update({k: v["shape"] for k, v in header.items() if k != "__metadata__"})
    return shapes


class BenchTest(harness.CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.shared, cls.checkpoint, cls.bundle = harness.make_shared_bundle("unicorn-bench-", seed=2)
        cls.result = harness.run([harness.EXEC, cls.bundle, "--bench", "--json", "--allow-software-gpu",
                                  "--bench-prefill", str(PREFILL), "--bench-decode", str(DECODE),
                                  "--bench-contexts", ",".join(map(str, CONTEXTS))])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, ignore_errors=True)

    def report(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        return json.loads(self.result.stdout)

    def test_decode_traffic_is_the_models(self):
        """Bytes per step: every weight once (bf16; the tied embedding is the LM head's
        whole matrix), plus, per layer, the keys and values its attention sees."""
        report, text = self.report(), text_config(self.checkpoint)
        shapes = tensor_shapes(self.checkpoint)
        weights = sum(2 * shape[0] * (shape[1] if len(shape) > 1 else 1) for shape in shapes.values())
        pattern = text.get("sliding_window_pattern", 6)
        sliding = [(i + 1) % pattern != 0 for i in range(text["num_hidden_layers"])]
        slot = text["num_key_value_heads"] * text["head_dim"] * 4
        self.assertEqual([d["context"] for d in report["decode"]], CONTEXTS)
        for decode, context in zip(report["decode"], CONTEXTS):
            first = max(context, 1)  # the prompt before the first measured step
            kv = 0
            for position in range(first, first + DECODE):
                for s in sliding:
                    kv += 2 * slot * (min(position + 1, text["sliding_window"]) if s else position + 1)
            self.assertEqual(decode["tokens"], DECODE)
            self.assertEqual(decode["bytes_per_token"]["weights"], weights)
            self.assertAlmostEqual(decode["bytes_per_token"]["kv"], kv / DECODE, places=3)
            total = weights + kv / DECODE
            self.assertAlmostEqual(decode["bytes_per_token"]["total"], total, delta=1e-6 * total)
            # The figures derive from each other as the report says.
            self.assertAlmostEqual(decode["tokens_per_second"], DECODE / decode["seconds"], delta=1e-6 * DECODE)
            self.assertAlmostEqual(decode["GBps"], total * decode["tokens_per_second"] / 1e9, delta=1e-9)
            self.assertAlmostEqual(decode["fraction_of_roofline"], decode["GBps"] / report["roofline_GBps"], delta=1e-9)
            self.assertAlmostEqual(decode["roofline_tokens_per_second"], report["roofline_GBps"] * 1e9 / total,
                                   delta=1e-6 * decode["roofline_tokens_per_second"])

    def test_prefill_flops_are_the_projections(self):
        report, shapes = self.report(), tensor_shapes(self.checkpoint)
        per_token = sum(2 * s[0] * s[1] for name, s in shapes.items() if name.endswith("_proj.weight"))
        prefill = report["prefill"]
        self.assertEqual(prefill["tokens"], PREFILL)
        self.assertEqual(prefill["matmul_flops"], per_token * PREFILL)
        self.assertGreater(prefill["tokens_per_second"], 0)

    def test_load_memory_and_bandwidth_are_reported(self):
        report = self.report()
        load = report["load"]
        self.assertGreater(load["seconds_to_first_token"], load["open_and_verify_seconds"])
        self.assertGreaterEqual(load["seconds_to_first_token"],
                                load["device_seconds"] + load["resident_seconds"] + load["first_prefill_seconds"])
        # Weights and pipelines are made side by side, each within the executor's set-up;
        # every kernel the decode step runs has its pipeline.
        self.assertLessEqual(load["weights_seconds"], load["resident_seconds"])
        self.assertLessEqual(load["upload_seconds"], load["weights_seconds"])
        self.assertLessEqual(load["pipelines_seconds"], load["resident_seconds"])
        decode_kernels = {k["kernel"] for k in report["decode_profile"]["kernels"]}
        self.assertGreaterEqual(load["pipelines"], len(decode_kernels))
        slowest = [p["seconds"] for p in load["slowest_pipelines"]]
        self.assertEqual(len(slowest), min(3, load["pipelines"]))
        self.assertEqual(slowest, sorted(slowest, reverse=True))
        self.assertLessEqual(slowest[0], load["pipelines_seconds"])
        # llvmpipe imports the mapped bundle in place; every weight byte is either copied or imported.
        weights = report["decode"][0]["bytes_per_token"]["weights"]
        self.assertEqual(load["weights_copied_bytes"] + load["weights_imported_bytes"], weights)
        self.assertEqual(report["roofline_GBps"], max(report["copy_bandwidth"]["GBps"], report["read_bandwidth"]["GBps"]))
        # The bus's figure is measured in every run; the staged upload is set beside it when weights were staged.
        self.assertGreater(report["upload_bandwidth"]["GBps"], 0)
        self.assertLessEqual(load["weights_staged_bytes"], load["weights_copied_bytes"])
        if load["weights_staged_bytes"]:
            self.assertAlmostEqual(load["copy_GBps"], load["weights_staged_bytes"] / load["upload_seconds"] / 1e9,
                                   delta=1e-9 * load["copy_GBps"])
            self.assertAlmostEqual(load["fraction_of_upload_bandwidth"],
                                   load["copy_GBps"] / report["upload_bandwidth"]["GBps"], delta=1e-9)
        else:
            self.assertNotIn("copy_GBps", load)
            self.assertNotIn("fraction_of_upload_bandwidth", load)
        self.assertGreater(report["memory"]["peak_host_rss_bytes"], 0)
        self.assertGreater(report["memory"]["peak_gpu_allocated_bytes"], 0)
        self.assertEqual(report["bundle"]["weights"], "bf16")
        self.assertEqual(report["bundle"]["context"], max(PREFILL, max(CONTEXTS) + DECODE, OWN_POSITIONS))

    def test_decode_profile_covers_every_dispatch_of_a_step(self):
        """The profile times each dispatch of one greedy decode step: as many as the
        bundle's decode list holds once the dispatches of other modes (sampling,
        --dump-logits) are left out, under the kernels' own names, and its total is
        the sum of its parts."""
        profile = self.report()["decode_profile"]
        header = harness.bundle_header(self.bundle, self.shared)
        schedule = header["schedule"]
        greedy = [d for d in schedule["decode"] if d["condition"] not in ("DumpLogits", "SampledToken")]
        self.assertEqual(profile["dispatches"], len(greedy))
        expected = {}
        for d in greedy:
            name = schedule["kernels"][d["kernel"]]["name"].split(" (")[0]
            expected[name] = expected.get(name, 0) + 1
        self.assertEqual({k["kernel"]: k["dispatches"] for k in profile["kernels"]}, expected)
        self.assertAlmostEqual(sum(k["seconds"] for k in profile["kernels"]), profile["seconds"], places=9)
        self.assertAlmostEqual(sum(k["share"] for k in profile["kernels"]), 1.0, places=6)
        shares = [k["seconds"] for k in profile["kernels"]]
        self.assertEqual(shares, sorted(shares, reverse=True))
        # Each kernel's specialisations apart: the schedule's full kernel names,
        # dispatches counted as the bundle's decode list has them, summing to the kernel's.
        expected_specialisations = {}
        for d in greedy:
            name = schedule["kernels"][d["kernel"]]["name"]
            expected_specialisations[name] = expected_specialisations.get(name, 0) + 1
        found = {}
        for k in profile["kernels"]:
            parts = k["specialisations"]
            self.assertTrue(all(p["name"].split(" (")[0] == k["kernel"] for p in parts))
            self.assertEqual(sum(p["dispatches"] for p in parts), k["dispatches"])
            self.assertAlmostEqual(sum(p["seconds"] for p in parts), k["seconds"], places=9)
            found.update({p["name"]: p["dispatches"] for p in parts})
        self.assertEqual(found, expected_specialisations)

    def test_decode_products_report_the_weights_they_read_and_how_fast(self):
        """Each decode product's specialisation (matvec_bf16 here: a bf16 bundle) with
        the bytes of weights its dispatches bind, K x N bf16 values each, by the shape
        its name states, and the rate it read them at; other kernels carry neither."""
        profile = self.report()["decode_profile"]
        products = 0
        for kernel in profile["kernels"]:
            for specialisation in kernel["specialisations"]:
                if not kernel["kernel"].startswith("matvec"):
                    self.assertNotIn("weight_bytes", specialisation)
                    continue
                products += specialisation["dispatches"]
                defines = dict(part.split("=") for part in specialisation["name"].split(" (")[1].rstrip(")").split(", "))
                want = specialisation["dispatches"] * int(defines["K"]) * int(defines["N"]) * 2
                self.assertEqual(specialisation["weight_bytes"], want, specialisation["name"])
                self.assertAlmostEqual(specialisation["weight_GBps"],
                                       want / specialisation["seconds"] / 1e9, delta=1e-9 * want)
        self.assertGreater(products, 0)

    def test_quantised_products_count_each_weight_byte_once(self):
        """A q4 product binds its weight's segment twice, as quants and as scales
        (whole where the tensor is not split, as none is here): its weight_bytes is
        still each bound tensor's size once a dispatch, by the bundle's own tensor
        table, decoded by flatc."""
        bundle = self.shared / "q4.ubundle"
        result = harness.run([harness.COMPILE, self.checkpoint, "-o", bundle, "-q", "--weights", "q4"])
        self.assertEqual(result.returncode, 0, result.stderr)
        result = harness.run([harness.EXEC, bundle, "--bench", "--json", "--allow-software-gpu",
                              "--bench-prefill", "4", "--bench-decode", "1", "--bench-contexts", "0"])
        self.assertEqual(result.returncode, 0, result.stderr)
        header = harness.bundle_header(bundle, self.shared)
        schedule, tensors = header["schedule"], header["tensors"]
        want, dispatches = {}, {}
        for d in schedule["decode"]:
            buffers = {b["buffer"] for b in d["bindings"] if schedule["buffers"][b["buffer"]]["kind"] == "Weight"}
            name = schedule["kernels"][d["kernel"]]["name"]
            want[name] = want.get(name, 0) + sum(int(tensors[schedule["buffers"][b]["tensor_index"]]["size"])
                                                 for b in buffers)
            dispatches[name] = dispatches.get(name, 0) + 1
        quantised = 0
        for kernel in json.loads(result.stdout)["decode_profile"]["kernels"]:
            if not kernel["kernel"].startswith("matvec_quant"):
                continue
            for specialisation in kernel["specialisations"]:
                name = specialisation["name"]
                self.assertEqual(specialisation["dispatches"], dispatches[name], name)
                self.assertEqual(specialisation["weight_bytes"], want[name], name)
                quantised += 1
        self.assertGreater(quantised, 0)

    def test_each_context_profiles_a_step_from_the_middle_of_its_range(self):
        """Each decode context profiles one step of its own, from the middle of the
        timed steps (its keys as many as an average step's): the same dispatches as
        the context-1 profile, kernel by kernel, its total the sum of its parts."""
        report = self.report()
        counts = {k["kernel"]: k["dispatches"] for k in report["decode_profile"]["kernels"]}
        for decode, context in zip(report["decode"], CONTEXTS):
            profile = decode["profile"]
            self.assertEqual(profile["position"], max(context, 1) + DECODE // 2, context)
            self.assertEqual(profile["dispatches"], report["decode_profile"]["dispatches"], context)
            self.assertEqual({k["kernel"]: k["dispatches"] for k in profile["kernels"]}, counts, context)
            self.assertAlmostEqual(sum(k["seconds"] for k in profile["kernels"]), profile["seconds"], places=9)

    def test_prefill_profile_covers_every_dispatch_of_a_chunk(self):
        """The prefill profile times each dispatch of one whole chunk (or the whole
        context, where that is shorter) with its logits row
        (no --dump-logits, greedy): as many as the bundle's prefill list holds without
        the other modes' dispatches, each under the name of the kernel that ran (a
        fallback where the device substituted one), and its total is the sum of its parts.
        Where the fallbacks run, the dispatches only the matrix units' kernels read
        (token_maxima) are left out."""
        report = self.report()
        profile = report["prefill_profile"]
        schedule = harness.bundle_header(self.bundle, self.shared)["schedule"]
        ran = {s["kernel"]: s["ran"] for s in report["kernel_substitutions"]}
        on_matrix_units = report["device"]["cooperative_matrix"]
        chunk = [d for d in schedule["prefill"] if d["condition"] not in ("DumpLogits", "SampledToken")
                 and (on_matrix_units or not d.get("for_matrix_units", False))]
        serving = [schedule["kernels"][d["kernel"]]["name"] for d in schedule["prefill"] if d.get("for_matrix_units")]
        self.assertTrue(serving and all(name.startswith("token_maxima (") for name in serving), serving)
        self.assertEqual(profile["tokens"], min(report["prefill"]["chunk"], report["bundle"]["context"]))
        self.assertEqual(profile["dispatches"], len(chunk))
        expected = {}
        for d in chunk:
            name = schedule["kernels"][d["kernel"]]["name"]
            name = ran.get(name, name).split(" (")[0]
            expected[name] = expected.get(name, 0) + 1
        self.assertEqual({k["kernel"]: k["dispatches"] for k in profile["kernels"]}, expected)
        self.assertAlmostEqual(sum(k["seconds"] for k in profile["kernels"]), profile["seconds"], places=9)

    def test_kernels_the_device_cannot_run_give_way_to_their_fallbacks(self):
        """On a device without cooperative-matrix units (llvmpipe) every kernel of the
        bundle that has a fallback (the prefill products on matrix units) is reported
        replaced by it, with the reason naming the missing feature and the device; no
        other kernel is. A device with them (the H200) replaces none."""
        report = self.report()
        kernels = harness.bundle_header(self.bundle, self.shared)["schedule"]["kernels"]
        with_fallback = {k["name"]: kernels[k["fallback"]]["name"] for k in kernels if k.get("fallback", -1) >= 0}
        self.assertTrue(with_fallback, "the bundle's prefill has no cooperative-matrix kernels")
        coop_kernels = ("matmul_bf16_coop", "matmul_quant_coop")
        self.assertTrue(all(name.split(" (")[0] in coop_kernels for name in with_fallback), with_fallback)
        substituted = {s["kernel"]: s["ran"] for s in report["kernel_substitutions"]}
        self.assertEqual(substituted, {} if report["device"]["cooperative_matrix"] else with_fallback)
        for s in report["kernel_substitutions"]:
            self.assertIn("cooperativeMatrix (VK_KHR_cooperative_matrix)", s["because"])
            self.assertIn(report["device"]["name"], s["because"])
        # The setup program's row bounds serve those kernels alone: where their
        # fallbacks run instead it is left out, else it runs within the set-up.
        schedule = harness.bundle_header(self.bundle, self.shared)["schedule"]
        self.assertTrue(schedule["setup"], "the bundle has no setup program")
        self.assertTrue(all(kernels[d["kernel"]]["name"].startswith("row_bounds (") for d in schedule["setup"]))
        load = report["load"]
        if report["device"]["cooperative_matrix"]:
            self.assertGreater(load["setup_seconds"], 0)
            self.assertLessEqual(load["setup_seconds"], load["resident_seconds"])
        else:
            self.assertEqual(load["setup_seconds"], 0)

    def test_pipeline_statistics_cover_each_module_run_or_say_why_not(self):
        """The driver's statistics of each compiled pipeline (VK_KHR_pipeline_executable_
        properties): one entry per module the device runs (every dispatched kernel, a
        fallback in place of what it stands in for, the setup program's kernels where
        it runs), each with its executables' numbers; on a device without the
        extension, a reason naming it instead."""
        report = self.report()
        statistics = report["pipeline_statistics"]
        if "skipped" in statistics:
            self.assertIn("VK_KHR_pipeline_executable_properties", statistics["skipped"])
            self.assertNotIn("modules", statistics)
            return
        schedule = harness.bundle_header(self.bundle, self.shared)["schedule"]
        ran = {s["kernel"]: s["ran"] for s in report["kernel_substitutions"]}
        dispatched = {schedule["kernels"][d["kernel"]]["name"] for d in schedule["prefill"] + schedule["decode"]}
        if report["device"]["cooperative_matrix"]:  # only the cooperative kernels read the row bounds
            dispatched |= {schedule["kernels"][d["kernel"]]["name"] for d in schedule["setup"]}
        self.assertEqual(sorted(m["kernel"] for m in statistics["modules"]),
                         sorted({ran.get(name, name) for name in dispatched}))
        for module in statistics["modules"]:
            self.assertTrue(module["executables"], module["kernel"])
            for executable in module["executables"]:
                self.assertTrue(executable["statistics"], module["kernel"])

    def test_launch_floor_is_the_steps_dispatches_at_the_measured_cost(self):
        """The launch floor of a decode step: its dispatch count times what one empty,
        dependent dispatch was measured to cost in the same run."""
        report = self.report()
        cost = report["dispatch_cost"]
        self.assertEqual(cost["dispatches"], 256)
        self.assertGreater(cost["seconds_per_dispatch"], 0)
        profile = report["decode_profile"]
        self.assertAlmostEqual(profile["launch_floor_seconds"],
                               profile["dispatches"] * cost["seconds_per_dispatch"], places=12)

    def test_a_context_beyond_the_model_is_skipped_with_its_reason(self):
        max_positions = text_config(self.checkpoint)["max_position_embeddings"]
        result = harness.run([harness.EXEC, self.bundle, "--bench", "--json", "--allow-software-gpu",
                              "--bench-prefill", "8", "--bench-decode", "2", "--bench-contexts", f"0,{max_positions}"])
        self.assertEqual(result.returncode, 0, result.stderr)
        decode = json.loads(result.stdout)["decode"]
        self.assertIn("tokens_per_second", decode[0])
        self.assertIn("exceeds the model's", decode[1]["skipped"])

    def test_prefill_after_a_context_starts_there(self):
        """--bench-prefill-context N: the timed prefill starts at position N, the cache
        holding N tokens before it; the bench sizes the context for both."""
        result = harness.run([harness.EXEC, self.bundle, "--bench", "--json", "--allow-software-gpu",
                              "--bench-prefill", "8", "--bench-prefill-context", "150", "--bench-decode", "2",
                              "--bench-contexts", "0"])
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual((report["prefill"]["tokens"], report["prefill"]["context"]), (8, 150))
        self.assertGreater(report["prefill"]["tokens_per_second"], 0)
        self.assertGreaterEqual(report["bundle"]["context"], 158)

    def test_the_smallest_run_fits_its_own_context(self):
        """One prompt token, one decode step at context 0: the context the bench sizes
        must still hold its warm-up and the profiled step."""
        result = harness.run([harness.EXEC, self.bundle, "--bench", "--json", "--allow-software-gpu",
                              "--bench-prefill", "1", "--bench-decode", "1", "--bench-contexts", "0"])
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["decode"][0]["tokens"], 1)
        self.assertGreater(report["decode_profile"]["dispatches"], 0)

    def test_text_report_names_each_figure_with_its_limit(self):
        result = harness.run([harness.EXEC, self.bundle, "--bench", "--allow-software-gpu",
                              "--bench-prefill", "8", "--bench-decode", "2", "--bench-contexts", "0"])
        self.assertEqual(result.returncode, 0, result.stderr)
        for fragment in ("to the first token", "roofline", "prefill  8 tokens after 0", "decode   context 0:",
                         "a step at position 2,",
                         "profile  one decode step", "launching them", "profile  one prefill chunk of", "peak     host RSS",
                         "kernels  compiled form"):
            self.assertIn(fragment, result.stdout)
        # The substitutions are named where there are any (llvmpipe: the
        # cooperative-matrix kernels), and not claimed where there are none.
        if self.report()["kernel_substitutions"]:
            self.assertIn("ran their fallback", result.stdout)
        else:
            self.assertNotIn("ran their fallback", result.stdout)

    def test_bench_flags_need_bench_and_exclude_other_modes(self):
        for args in (["--bench-prefill", "8"], ["--bench", "--prompt", "hi"], ["--bench", "--ctx", "64"],
                     ["--bench", "--bench-contexts", "x"]):
            result = harness.run([harness.EXEC, self.bundle, *args])
            self.assertCleanFailure(result, harness.EXIT_USAGE)


if __name__ == "__main__":
    unittest.main()
