"""unicorn-compile on good and bad checkpoints, through the real command line.

The contract (DESIGN.md): exit 0 and an output file on success; on bad input exit 2
with exactly one stderr line containing "error:" that names the file or key, and
no output file left behind (the bundle is written to a temporary name and renamed
at the end), nor an existing one damaged.

Random-weight checkpoints come from tools/make_checkpoint.py, made once per class
into a private directory that the tests only read; each test that breaks something
works on its own copy.
"""
import json
import os
import pathlib
import shutil
import struct
import tempfile
import unittest

import harness
from harness import EXIT_INVALID_INPUT, EXIT_OK


def read_safetensors(path):
    """{key: (dtype, shape, bytes)} in file order, plus the __metadata__ dict."""
    blob = pathlib.Path(path).read_bytes()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for key, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        tensors[key] = (info["dtype"], list(info["shape"]), data[begin:end])
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes `tensors` ({key: (dtype, shape, bytes)}) back to back, trusting what it is given."""
    header = {"__metadata__": metadata}
    data = bytearray()
    for key, (dtype, shape, payload) in tensors.items():
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    header_bytes = json.dumps(header).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(header_bytes)) + header_bytes + bytes(data))


class CompileTestCase(harness.CliTestCase):
    """Shares one pristine checkpoint per preset across a class's tests."""

    PRESETS = {"tiny-1b": (), "tiny-4b": ()}

    @classmethod
    def setUpClass(cls):
        cls.pristine_root = pathlib.Path(tempfile.mkdtemp(prefix="unicorn-pristine-"))
        cls.pristine = {name: harness.make_checkpoint(cls.pristine_root / name, preset=name, extra=extra)
                        for name, extra in cls.PRESETS.items()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pristine_root, ignore_errors=True)

    def copy_checkpoint(self, name):
        """A private copy of a pristine checkpoint (hard links where possible: tests only replace files)."""
        target = self.tmp / name
        target.mkdir()
        for source in self.pristine[name].iterdir():
            try:
                os.link(source, target / source.name)
            except OSError:
                shutil.copyfile(source, target / source.name)
        return target

    def replace_file(self, path, content):
        """Replaces a (possibly hard-linked) file without touching the pristine copy."""
        path = pathlib.Path(path)
        path.unlink()
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)

    def compile(self, model_dir):
        """Runs unicorn-compile into a fresh, empty output directory; returns (result, out_dir, out_file)."""
        out_dir = pathlib.Path(tempfile.mkdtemp(prefix="out-", dir=self.tmp))
        out_file = out_dir / "model.ubundle"
        result = harness.run([harness.COMPILE, model_dir, "-o", out_file])
        return result, out_dir, out_file

    def assertRejected(self, model_dir, *fragments):
        """Exit 2, one line naming every fragment, and nothing left in the output directory."""
        result, out_dir, _ = self.compile(model_dir)
        self.assertCleanFailure(result, EXIT_INVALID_INPUT, *fragments)
        self.assertNoFilesLeft(out_dir)
        return result

    def rewrite_config(self, model_dir, **changes):
        config = json.loads((model_dir / "config.json").read_text())
        config.update(changes)
        self.replace_file(model_dir / "config.json", json.dumps(config))

    def edit_tensors(self, path, edit):
        """Rewrites a safetensors file (validly framed) after `edit(tensors)` changed its entries."""
        tensors, metadata = read_safetensors(path)
        edit(tensors)
        path.unlink()
        write_safetensors(path, tensors, metadata)


class CompileSucceedsTest(CompileTestCase):
    PRESETS = {}

    def assertCompiles(self, **checkpoint_args):
        model_dir = harness.make_checkpoint(self.tmp / "model", **checkpoint_args)
        result, out_dir, out_file = self.compile(model_dir)
        self.assertEqual(result.returncode, EXIT_OK, f"stderr: {result.stderr}")
        self.assertTrue(out_file.is_file(), "no output file")
        self.assertGreater(out_file.stat().st_size, 0)
        self.assertNoFilesLeft(out_dir, allowed=("model.ubundle",))  # no temp file beside it

    def test_tiny_1b(self):
        self.assertCompiles(preset="tiny-1b")

    def test_tiny_1b_float32_with_stored_lm_head(self):
        self.assertCompiles(preset="tiny-1b", extra=("--dtype", "f32", "--with-lm-head"))

    def test_tiny_4b_language_model_model_layout_two_shards(self):
        self.assertCompiles(preset="tiny-4b")

    def test_tiny_4b_model_language_model_layout_three_shards(self):
        self.assertCompiles(preset="tiny-4b", extra=("--key-layout", "model.language_model", "--shards", "3"))

    def test_tiny_4b_bare_layout_single_file(self):
        self.assertCompiles(preset="tiny-4b", extra=("--key-layout", "bare", "--shards", "1"))


class CorruptSafetensorsTest(CompileTestCase):
    PRESETS = {"tiny-1b": ()}

    def header_length(self):
        return struct.unpack("<Q", (self.pristine["tiny-1b"] / "model.safetensors").read_bytes()[:8])[0]

    def test_truncated_at_many_points(self):
        blob = (self.pristine["tiny-1b"] / "model.safetensors").read_bytes()
        header_end = 8 + self.header_length()
        cuts = {
            "empty file": 0,
            "inside the 8-byte length": 5,
            "right after the length": 8,
            "inside the JSON header": 8 + 40,
            "at the end of the header": header_end,
            "inside the first tensor": header_end + 3,
            "halfway": len(blob) // 2,
            "one byte short": len(blob) - 1,
        }
        model_dir = self.copy_checkpoint("tiny-1b")
        for what, cut in cuts.items():
            with self.subTest(cut=what):
                self.replace_file(model_dir / "model.safetensors", blob[:cut])
                self.assertRejected(model_dir, "model.safetensors")

    def test_corrupted_json_header(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        blob = bytearray((model_dir / "model.safetensors").read_bytes())
        blob[8 + 20:8 + 26] = b"\x00#{]:,"
        self.replace_file(model_dir / "model.safetensors", bytes(blob))
        self.assertRejected(model_dir, "model.safetensors", "JSON")

    def test_header_length_larger_than_file(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        blob = (model_dir / "model.safetensors").read_bytes()
        self.replace_file(model_dir / "model.safetensors", struct.pack("<Q", len(blob)) + blob[8:])
        self.assertRejected(model_dir, "model.safetensors", "header length")

    def test_header_length_near_two_to_the_64(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        blob = (model_dir / "model.safetensors").read_bytes()
        self.replace_file(model_dir / "model.safetensors", struct.pack("<Q", 2**64 - 8) + blob[8:])
        self.assertRejected(model_dir, "model.safetensors", "header length")

    def test_data_offsets_past_end_of_file(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        path = model_dir / "model.safetensors"
        blob = path.read_bytes()
        length = self.header_length()
        header = json.loads(blob[8:8 + length])
        last = max((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][1])
        header[last]["data_offsets"][1] += 1 << 40  # a terabyte past the end
        header_bytes = json.dumps(header).encode()
        header_bytes += b" " * (-len(header_bytes) % 8)
        self.replace_file(path, struct.pack("<Q", len(header_bytes)) + header_bytes + blob[8 + length:])
        self.assertRejected(model_dir, "model.safetensors", last)

    def test_overlapping_tensors(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        path = model_dir / "model.safetensors"
        blob = path.read_bytes()
        length = self.header_length()
        header = json.loads(blob[8:8 + length])
        # Point the final norm at the start of the embedding's bytes: same size, shared data.
        header["model.norm.weight"]["data_offsets"] = [0, header["model.norm.weight"]["data_offsets"][1] -
                                                       header["model.norm.weight"]["data_offsets"][0]]
        header_bytes = json.dumps(header).encode()
        self.replace_file(path, struct.pack("<Q", len(header_bytes)) + header_bytes + blob[8 + length:])
        self.assertRejected(model_dir, "model.safetensors", "overlaps")


class InvalidTensorsTest(CompileTestCase):
    PRESETS = {"tiny-1b": ()}

    def test_wrong_shape(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        key = "model.layers.3.self_attn.k_proj.weight"  # [32, 64] in tiny-1b

        def transpose(tensors):
            dtype, shape, payload = tensors[key]
            tensors[key] = (dtype, shape[::-1], payload)

        self.edit_tensors(model_dir / "model.safetensors", transpose)
        self.assertRejected(model_dir, key, "[64, 32]", "[32, 64]")

    def test_integer_dtype(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        key = "model.layers.0.input_layernorm.weight"  # [64] bf16 = 128 bytes = [32] I32

        def to_int32(tensors):
            tensors[key] = ("I32", [32], tensors[key][2])

        self.edit_tensors(model_dir / "model.safetensors", to_int32)
        self.assertRejected(model_dir, key, "I32")

    def test_missing_tensor(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        key = "model.layers.6.mlp.down_proj.weight"
        self.edit_tensors(model_dir / "model.safetensors", lambda tensors: tensors.pop(key))
        self.assertRejected(model_dir, key, "missing")

    def test_unexpected_tensor(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        key = "model.layers.7.input_layernorm.weight"  # tiny-1b has layers 0..6
        self.edit_tensors(model_dir / "model.safetensors",
                          lambda tensors: tensors.__setitem__(key, ("BF16", [64], bytes(128))))
        self.assertRejected(model_dir, key)

    def test_stored_lm_head_that_differs_from_the_tied_embedding(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.edit_tensors(model_dir / "model.safetensors",
                          lambda tensors: tensors.__setitem__("lm_head.weight", ("BF16", [262144, 64],
                                                                                 bytes(262144 * 64 * 2))))
        self.assertRejected(model_dir, "lm_head.weight")


class ShardedCheckpointTest(CompileTestCase):
    PRESETS = {"tiny-4b": ()}

    def test_missing_shard(self):
        model_dir = self.copy_checkpoint("tiny-4b")
        (model_dir / "model-00002-of-00002.safetensors").unlink()
        self.assertRejected(model_dir, "model-00002-of-00002.safetensors")

    def test_index_names_a_key_its_shard_lacks(self):
        model_dir = self.copy_checkpoint("tiny-4b")
        index = json.loads((model_dir / "model.safetensors.index.json").read_text())
        key = "language_model.model.layers.7.mlp.up_proj.weight"
        shard = index["weight_map"][key]
        self.edit_tensors(model_dir / shard, lambda tensors: tensors.pop(key))
        self.assertRejected(model_dir, shard, key)

    def test_truncated_second_shard(self):
        model_dir = self.copy_checkpoint("tiny-4b")
        path = model_dir / "model-00002-of-00002.safetensors"
        blob = path.read_bytes()
        self.replace_file(path, blob[:len(blob) - 100])
        self.assertRejected(model_dir, "model-00002-of-00002.safetensors")

    def test_index_not_json(self):
        model_dir = self.copy_checkpoint("tiny-4b")
        self.replace_file(model_dir / "model.safetensors.index.json", '{"weight_map": {')
        self.assertRejected(model_dir, "model.safetensors.index.json")


class InvalidConfigTest(CompileTestCase):
    PRESETS = {"tiny-1b": ()}

    def test_unknown_architecture(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.rewrite_config(model_dir, architectures=["LlamaForCausalLM"], model_type="llama")
        self.assertRejected(model_dir, "config.json", "LlamaForCausalLM")

    def test_gemma2_model_type(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.rewrite_config(model_dir, model_type="gemma2")
        self.assertRejected(model_dir, "config.json", "gemma2")

    def test_missing_config(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        (model_dir / "config.json").unlink()
        self.assertRejected(model_dir, "config.json")

    def test_config_not_json(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.replace_file(model_dir / "config.json", "this is not JSON {")
        self.assertRejected(model_dir, "config.json")

    def test_config_value_of_wrong_type(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.rewrite_config(model_dir, num_hidden_layers="seven")
        self.assertRejected(model_dir, "config.json", "num_hidden_layers")

    def test_config_shapes_disagree_with_weights(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.rewrite_config(model_dir, head_dim=16)
        self.assertRejected(model_dir, "head_dim", "expected [16]")

    def test_model_dir_does_not_exist(self):
        self.assertRejected(self.tmp / "no-such-model", "no-such-model")

    def test_failure_keeps_an_existing_output(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        (model_dir / "config.json").unlink()
        out_file = self.tmp / "existing.ubundle"
        out_file.write_bytes(b"previous bundle")
        result = harness.run([harness.COMPILE, model_dir, "-o", out_file])
        self.assertCleanFailure(result, EXIT_INVALID_INPUT, "config.json")
        self.assertEqual(out_file.read_bytes(), b"previous bundle")
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["existing.ubundle", "tiny-1b"])


class QuantizeRefusalTest(CompileTestCase):
    """--weights q8|q4 on a checkpoint whose matrices do not split into 32-element blocks
    along K: the quantize pass refuses it by name before a byte of the bundle is written."""
    PRESETS = {"tiny-1b": ()}
    FFN = 136  # = 4 * 32 + 8: a valid shape for the reader, K of every down_proj

    def widen_mlp(self, model_dir):
        def widen(tensors):
            for key, (dtype, shape, _) in list(tensors.items()):
                if key.endswith(("mlp.gate_proj.weight", "mlp.up_proj.weight")):
                    tensors[key] = (dtype, [self.FFN, shape[1]], bytes(self.FFN * shape[1] * 2))
                elif key.endswith("mlp.down_proj.weight"):
                    tensors[key] = (dtype, [shape[0], self.FFN], bytes(shape[0] * self.FFN * 2))

        self.rewrite_config(model_dir, intermediate_size=self.FFN)
        self.edit_tensors(model_dir / "model.safetensors", widen)

    def test_k_not_a_multiple_of_the_block_is_refused_naming_the_tensor(self):
        model_dir = self.copy_checkpoint("tiny-1b")
        self.widen_mlp(model_dir)
        # bf16 stores any shape: the checkpoint itself is fine.
        result = harness.run([harness.COMPILE, model_dir, "-o", self.tmp / "bf16.ubundle", "-q"])
        self.assertEqual(result.returncode, EXIT_OK, result.stderr)
        for weights in ("q8", "q4"):
            with self.subTest(weights=weights):
                out_dir = pathlib.Path(tempfile.mkdtemp(prefix="out-", dir=self.tmp))
                result = harness.run([harness.COMPILE, model_dir, "-o", out_dir / "model.ubundle", "-q",
                                      "--weights", weights, "--dump-ir", out_dir / "ir"])
                self.assertCleanFailure(result, EXIT_INVALID_INPUT, f"--weights {weights}",
                                        "layers.0.mlp.down_proj.weight", f"got {self.FFN}", "32-element block")
                # Every refused tensor is named (one per layer), gate/up (K = hidden) are not.
                self.assertEqual(result.stderr.count("down_proj.weight"), 7)
                self.assertNotIn("up_proj", result.stderr)
                # The graph was dumped; the pass failed, so neither its dump nor a bundle exists.
                self.assertNoFilesLeft(out_dir, allowed=("ir",))
                self.assertEqual([p.name for p in (out_dir / "ir").iterdir()], ["00-graph.mlir"])


if __name__ == "__main__":
    unittest.main()
