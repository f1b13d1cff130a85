"""The Gemma 3 graph that unicorn-compile builds (--dump-ir), checked against the
checkpoint it came from: expectations are computed here from config.json and the
safetensors headers with transformers' rules, not taken from the compiler."""
import json
import math
import re
import struct
import unittest

import harness

UNICORN_OPT = harness.BINARY_DIR / "tools" / "unicorn-opt" / "unicorn-opt"
# `unicorn.weight @name : type from "file" at offset quant scheme` -> (name, scheme)
# --dump-ir's files: the graph, then the module after each pass of the pipeline.
PIPELINE_DUMPS = ["00-graph.mlir", "01-quantize.mlir", "02-fuse.mlir", "03-place.mlir", "04-plan-memory.mlir",
                  "05-schedule.mlir"]


def pipeline_passes(text):
    """The same passes in unicorn-opt, with the options unicorn-compile's defaults give
    them for a model with this text config: the prefill chunk is 128 tokens, fewer where
    a chunk's fused gate/up rows of float32 would exceed one 128 MiB binding (the logits
    get as many rows as one binding holds, whatever the chunk)."""
    widest_row = 4 * 2 * text["intermediate_size"]
    chunk = max(1, min(128, (1 << 27) // widest_row))
    return ["--unicorn-quantize=weights=bf16", "--unicorn-fuse", "--unicorn-place=target=igpu",
            f"--unicorn-plan-memory=prefill-chunk={chunk}", "--unicorn-schedule=min-row-slices=1"]
WEIGHT_QUANT = re.compile(r'^\s*unicorn\.weight @([\w.]+) : tensor<[^>]+> from "[^"]*" at \d+ quant (\w+)', re.M)
# unicorn.stacked_weight @"NAME" : tensor<...> = [@PART, ...] quant Q
STACKED_WEIGHT = re.compile(r'^\s*unicorn\.stacked_weight @"([^"]+)" : tensor<[^>]+> = \[([^\]]*)\] quant (\w+)', re.M)


def safetensors_offsets(checkpoint):
    """key -> (file name, absolute byte offset of the tensor's data)."""
    offsets = {}
    for path in sorted(checkpoint.glob("*.safetensors")):
        with open(path, "rb") as f:
            (header_size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(header_size))
        for key, entry in header.items():
            if key != "__metadata__":
                offsets[key] = (path.name, 8 + header_size + entry["data_offsets"][0])
    return offsets


def text_config(checkpoint):
    config = json.loads((checkpoint / "config.json").read_text())
    return config.get("text_config", config)


def sliding_layers(text):
    """transformers' rule: layer_types if given, else every sliding_window_pattern-th layer is global."""
    if "layer_types" in text:
        return [t == "sliding_attention" for t in text["layer_types"]]
    pattern = text.get("sliding_window_pattern", 6)
    return [(i + 1) % pattern != 0 for i in range(text["num_hidden_layers"])]


def bundle_tensor_table(bundle, work_dir):
    """name -> (dtype, quant) of every tensor the bundle stores."""
    return {t["name"]: (t["dtype"], t["quant"]) for t in harness.bundle_header(bundle, work_dir)["tensors"]}


def program_dispatches(schedule_ir, program):
    """(kernel symbol, barrier?, condition, for matrix units?) of each unicorn.dispatch of
    `program` in a 05-schedule.mlir dump."""
    body = re.search(r"unicorn\.program @" + program + r" \{\n(.*?)\n  \}", schedule_ir, re.S).group(1)
    dispatches = []
    for line in body.splitlines():
        match = re.match(r"\s*unicorn\.dispatch @(\w+) .*?( barrier)?( when (\w+))?( for_matrix_units)?$", line)
        dispatches.append((match.group(1), bool(match.group(2)), match.group(4) or "always", bool(match.group(5))))
    return dispatches


# schedule.fbs's DispatchCondition as flatc spells it -> the IR's spelling.
CONDITION_NAMES = {"Always": "always", "LogitsNeeded": "logits_needed", "DumpLogits": "dump_logits",
                   "OneLogitsRow": "one_logits_row", "GreedyToken": "greedy_token", "SampledToken": "sampled_token"}


class GraphTest(harness.CliTestCase):
    def compile_with_ir(self, preset, flags=(), untied_lm_head=False):
        checkpoint = harness.make_checkpoint(self.tmp / preset, preset=preset, seed=1,
                                             extra=["--with-lm-head"] if untied_lm_head else [])
        if untied_lm_head:  # the stored head becomes a weight of its own (text-only layout: top-level config)
            config = json.loads((checkpoint / "config.json").read_text())
            config["tie_word_embeddings"] = False
            (checkpoint / "config.json").write_text(json.dumps(config))
        result = harness.run([harness.COMPILE, checkpoint, "-o", self.tmp / "m.ubundle", "-q",
                              "--dump-ir", self.tmp / "ir", *flags])
        self.assertEqual(result.returncode, 0, result.stderr)
        return checkpoint, (self.tmp / "ir" / "00-graph.mlir").read_text()

    def check_graph(self, preset):
        checkpoint, ir = self.compile_with_ir(preset)
        text = text_config(checkpoint)
        layers = text["num_hidden_layers"]

        # Every text tensor is a weight symbol pointing at its bytes in the checkpoint.
        offsets = safetensors_offsets(checkpoint)
        weights = re.findall(r'unicorn\.weight @([\w.]+) : tensor<[^>]+> from "([^"]+)" at (\d+)', ir)
        self.assertEqual(len(weights), 13 * layers + 2)
        prefix = next(k for k in offsets if k.endswith("embed_tokens.weight"))[:-len("embed_tokens.weight")]
        for name, file_name, offset in weights:
            self.assertEqual(offsets[prefix + name], (file_name, int(offset)), name)

        # One attention per layer: window on sliding layers only, the query scale from
        # query_pre_attn_scalar (not head_dim), grouped heads as configured.
        attention = re.findall(r"unicorn\.attention .*\{([^}]*)\}", ir)
        self.assertEqual(len(attention), layers)
        for layer, (attributes, sliding) in enumerate(zip(attention, sliding_layers(text))):
            attrs = dict(re.findall(r"(\w+) = ([-\w.e+]+)", attributes))
            self.assertEqual(int(attrs["layer"]), layer)
            self.assertEqual(int(attrs.get("window", 0)), text["sliding_window"] if sliding else 0, layer)
            self.assertAlmostEqual(float(attrs["scale"]), text["query_pre_attn_scalar"] ** -0.5, places=12)
            self.assertEqual(int(attrs["num_heads"]), text["num_attention_heads"])
            self.assertEqual(int(attrs["num_kv_heads"]), text["num_key_value_heads"])

        # RoPE: local base on sliding layers, global base and linear factor on full layers.
        rope = re.findall(r"unicorn\.qk_norm_rope .*\{([^}]*)\}", ir)
        self.assertEqual(len(rope), 2 * layers)
        if "rope_parameters" in text:
            full = text["rope_parameters"]["full_attention"]
            global_base, factor = full["rope_theta"], full.get("factor", 1.0)
            local_base = text["rope_parameters"]["sliding_attention"]["rope_theta"]
        else:
            global_base, local_base = text.get("rope_theta", 1e6), text.get("rope_local_base_freq", 1e4)
            factor = (text.get("rope_scaling") or {}).get("factor", 1.0)
        for index, attributes in enumerate(rope):
            attrs = dict(re.findall(r"(\w+) = ([-\w.e+]+)", attributes))
            sliding = sliding_layers(text)[index // 2]
            self.assertEqual(float(attrs["rope_base"]), local_base if sliding else global_base)
            self.assertEqual(float(attrs.get("rope_linear_factor", 1.0)), 1.0 if sliding else factor)

        # Embedding scaled by sqrt(hidden); the LM head is the tied embedding.
        embed = re.search(r"unicorn\.embed .*scale = ([-\w.e+]+)", ir)
        self.assertAlmostEqual(float(embed.group(1)), math.sqrt(text["hidden_size"]), places=12)
        self.assertRegex(ir, r"unicorn\.lm_head %\w+, @embed_tokens\.weight")
        self.assertEqual(len(re.findall(r"unicorn\.rms_norm", ir)), 4 * layers + 1)

        # The dump is valid input for unicorn-opt (parse, verify, print).
        if UNICORN_OPT.exists():
            reparsed = harness.run([UNICORN_OPT, self.tmp / "ir" / "00-graph.mlir"])
            self.assertEqual(reparsed.returncode, 0, reparsed.stderr)

        # The builder marks nothing; under the default --weights bf16 the quantize pass
        # (dumped after it, then each later pass) leaves every weight so.
        self.assertEqual(sorted(p.name for p in (self.tmp / "ir").iterdir()), PIPELINE_DUMPS)
        quantized = (self.tmp / "ir" / "01-quantize.mlir").read_text()
        for dump in (ir, quantized):
            marks = WEIGHT_QUANT.findall(dump)
            self.assertEqual(len(marks), len(weights))
            self.assertEqual({scheme for _, scheme in marks}, {"none"})
        self.assertEqual(quantized, ir)

    def test_tiny_1b_graph(self):
        self.check_graph("tiny-1b")

    def test_each_dump_is_its_pass_run_by_unicorn_opt(self):
        """The pipeline is exactly the passes: unicorn-opt, running the pass on one dump,
        prints the next (tiny-4b: the multimodal layout, global layers with RoPE scaling)."""
        if not UNICORN_OPT.exists():
            self.skipTest("unicorn-opt is built in release builds only")
        checkpoint, _ = self.compile_with_ir("tiny-4b")
        for before, after, flag in zip(PIPELINE_DUMPS, PIPELINE_DUMPS[1:], pipeline_passes(text_config(checkpoint))):
            rerun = harness.run([UNICORN_OPT, self.tmp / "ir" / before, flag])
            self.assertEqual(rerun.returncode, 0, rerun.stderr)
            self.assertEqual(rerun.stdout.rstrip("\n"), (self.tmp / "ir" / after).read_text().rstrip("\n"), flag)

    def test_bundle_schedule_is_the_scheduled_ir(self):
        """What the bundle holds is the schedule pass's output, dispatch for dispatch:
        kernels, conditions, barriers and the matrix-units-only flag, of the setup,
        prefill and decode programs, decoded from the header by flatc."""
        self.compile_with_ir("tiny-1b", ["--weights", "q8"])
        schedule_ir = (self.tmp / "ir" / "05-schedule.mlir").read_text()
        schedule = harness.bundle_header(self.tmp / "m.ubundle", self.tmp)["schedule"]
        kernel_symbols = re.findall(r"^\s*unicorn\.kernel @(\w+) \"(\w+)\"", schedule_ir, re.M)
        self.assertEqual([k["name"].split(" ")[0] for k in schedule["kernels"]], [name for _, name in kernel_symbols])
        symbol_index = {symbol: index for index, (symbol, _) in enumerate(kernel_symbols)}
        for program in ("setup", "prefill", "decode"):
            expected = [(symbol_index[kernel], barrier, condition, for_matrix_units)
                        for kernel, barrier, condition, for_matrix_units in program_dispatches(schedule_ir, program)]
            stored = [(d["kernel"], d.get("barrier_before", False), CONDITION_NAMES[d.get("condition", "Always")],
                       d.get("for_matrix_units", False)) for d in schedule.get(program, [])]
            self.assertTrue(stored, program)
            self.assertEqual(stored, expected, program)
        # One arena for every activation, smaller than the values it holds side by side
        # (the other activation buffers are the schedule's scratch, e.g. the argmax's candidates).
        arenas = [b for b in schedule["buffers"] if b["kind"] == "Activation" and b["name"] == "act:arena"]
        self.assertEqual(len(arenas), 1)
        planned = re.findall(r"unicorn\.storage = #unicorn\.arena<offset = \d+, bytes = (\d+)",
                             (self.tmp / "ir" / "04-plan-memory.mlir").read_text())
        self.assertLess(arenas[0]["bytes"], sum(map(int, planned)))

    def test_tiny_4b_graph(self):
        self.check_graph("tiny-4b")

    def check_quantize_marks_what_the_bundle_quantises(self, preset, weights, stored, stored_dtype,
                                                       untied_lm_head=False):
        """--dump-ir's 01-quantize.mlir marks `weights` (q8/q4) on exactly the tensors the
        bundle stores as `stored` (its QuantScheme) in `stored_dtype`, and nothing on the rest."""
        checkpoint, graph = self.compile_with_ir(preset, ["--weights", weights], untied_lm_head)
        quantized = (self.tmp / "ir" / "01-quantize.mlir").read_text()
        marks = dict(WEIGHT_QUANT.findall(quantized))
        self.assertEqual(set(dict(WEIGHT_QUANT.findall(graph)).values()), {"none"}, "the builder marks nothing")

        # The IR against the bundle, tensor by tensor: same names, same decision. The
        # bundle stores each of the fuse pass's stacks instead of its parts, with their mark.
        stacks = {name: ([p.strip().lstrip("@") for p in parts.split(",")], quant)
                  for name, parts, quant in STACKED_WEIGHT.findall((self.tmp / "ir" / "02-fuse.mlir").read_text())}
        self.assertEqual(len(stacks), 2 * text_config(checkpoint)["num_hidden_layers"], "q|k|v and gate|up per layer")
        stored_marks = dict(marks)
        for name, (parts, quant) in stacks.items():
            self.assertEqual({marks[part] for part in parts}, {quant}, name)
            for part in parts:
                del stored_marks[part]
            stored_marks[name] = quant
        table = bundle_tensor_table(self.tmp / "m.ubundle", self.tmp)
        self.assertEqual(sorted(stored_marks), sorted(table))
        for name, scheme in stored_marks.items():
            self.assertIn(scheme, ("none", weights), name)
            self.assertEqual(table[name], (stored_dtype, stored) if scheme == weights else ("BF16", "None"), name)

        # And both against the policy in words: the projections, the embedding and an
        # untied LM head are quantised, every norm is not. Catches the pass and the
        # writer agreeing on a wrong rule.
        layers = text_config(checkpoint)["num_hidden_layers"]
        expected = {name for name in marks if name.endswith("_proj.weight")
                    or name in ("embed_tokens.weight", "lm_head.weight")}
        self.assertEqual("lm_head.weight" in marks, untied_lm_head)
        self.assertEqual(len([n for n in expected if n.endswith("_proj.weight")]), 7 * layers)
        self.assertEqual({name for name, scheme in marks.items() if scheme == weights}, expected)
        self.assertTrue(all(name.endswith("norm.weight") for name in set(marks) - expected))

        # The dump is what unicorn-opt's pass makes of the graph: the pipeline ran this
        # pass (unicorn-opt only ends its output with one more newline).
        if UNICORN_OPT.exists():
            rerun = harness.run([UNICORN_OPT, self.tmp / "ir" / "00-graph.mlir", f"--unicorn-quantize=weights={weights}"])
            self.assertEqual(rerun.returncode, 0, rerun.stderr)
            self.assertEqual(rerun.stdout.rstrip("\n"), quantized.rstrip("\n"))

    def test_q8_marks_match_the_bundle(self):
        self.check_quantize_marks_what_the_bundle_quantises("tiny-1b", "q8", "Q8Block32", "I8")

    def test_q4_marks_match_the_bundle_multimodal_layout(self):
        self.check_quantize_marks_what_the_bundle_quantises("tiny-4b", "q4", "Q4Block32", "I4")

    def test_q8_marks_match_the_bundle_with_an_untied_lm_head(self):
        self.check_quantize_marks_what_the_bundle_quantises("tiny-1b", "q8", "Q8Block32", "I8",
                                                           untied_lm_head=True)


if __name__ == "__main__":
    unittest.main()
