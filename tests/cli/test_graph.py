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


class GraphTest(harness.CliTestCase):
    def compile_with_ir(self, preset):
        checkpoint = harness.make_checkpoint(self.tmp / preset, preset=preset, seed=1)
        result = harness.run([harness.COMPILE, checkpoint, "-o", self.tmp / "m.ubundle", "-q",
                              "--dump-ir", self.tmp / "ir"])
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

    def test_tiny_1b_graph(self):
        self.check_graph("tiny-1b")

    def test_tiny_4b_graph(self):
        self.check_graph("tiny-4b")


if __name__ == "__main__":
    unittest.main()
