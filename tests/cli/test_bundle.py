"""The bundle through the real tools: compile a generated checkpoint, then check
what unicorn-exec reports, and that every kind of damage to the file is caught
with one clear line and exit code 2 (DESIGN.md "The bundle")."""
import filecmp
import json
import math
import shutil
import struct
import tempfile
import unittest
import pathlib

import numpy as np

import harness

PREAMBLE = struct.Struct("<8sIIQQQQQQ")  # schemas/bundle_format.h: BundlePreamble


def read_preamble(path):
    with open(path, "rb") as f:
        fields = PREAMBLE.unpack(f.read(PREAMBLE.size))
    names = ["magic", "format_version", "schema_hash", "file_size", "header_offset", "header_size",
             "header_xxh64", "weights_offset", "reserved"]
    return dict(zip(names, fields))


class BundleTest(harness.CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.shared, cls.checkpoint, cls.bundle = harness.make_shared_bundle("unicorn-bundle-", seed=3)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, ignore_errors=True)

    def damaged_copy(self, mutate):
        """A copy of the good bundle with `mutate(bytearray)` applied."""
        data = bytearray(self.bundle.read_bytes())
        mutate(data)
        path = self.tmp / "damaged.ubundle"
        path.write_bytes(bytes(data))
        return path

    def exec_(self, bundle, *args):
        return harness.run([harness.EXEC, bundle, *args])

    # --- what a good bundle says about itself -------------------------------------------

    def test_inspect_reports_the_checkpoint_config(self):
        result = self.exec_(self.bundle, "--inspect", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        config = json.loads((self.checkpoint / "config.json").read_text())
        text = config.get("text_config", config)
        model = report["model"]
        for key in ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "sliding_window"]:
            self.assertEqual(model[key], text[key], key)
        self.assertEqual(model["query_pre_attn_scalar"], text["query_pre_attn_scalar"])
        self.assertEqual(len(model["layer_pattern"]), text["num_hidden_layers"])
        self.assertEqual(report["required_devices"], ["igpu"])
        self.assertTrue(report["chat_template"]["present"])
        self.assertEqual(report["file"]["bytes"], self.bundle.stat().st_size)
        # Tensors per layer, + embedding + final norm: the fuse pass stacks q|k|v and
        # gate|up (each stack one tensor instead of its parts).
        per_layer = 10  # q+k+v, o, q_norm, k_norm, gate+up, down, 4 layer norms
        self.assertEqual(report["weights"]["tensors"], per_layer * text["num_hidden_layers"] + 2)
        self.assertEqual(list(report["weights"]["by_dtype"]), ["bf16"])

    def test_inspect_text_names_model_and_devices(self):
        result = self.exec_(self.bundle, "--inspect")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Gemma3ForCausalLM", result.stdout)
        self.assertIn("needs      igpu", result.stdout)

    def test_verify_checks_every_weight(self):
        result = self.exec_(self.bundle, "--verify")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("OK", result.stdout)

    def test_segments_are_64k_aligned(self):
        p = read_preamble(self.bundle)
        self.assertEqual(p["weights_offset"] % 65536, 0)
        self.assertEqual(p["file_size"], self.bundle.stat().st_size)
        self.assertEqual(p["file_size"] % 65536, 0)

    # --- tokenizer and chat template through the command line ------------------------------
    # The library tests compare every reference string; these pin the CLI path
    # (bundle -> tokenizer tables -> --tokenize/--chat output) to the same oracle.

    def test_tokenize_matches_transformers(self):
        corpus = json.loads((harness.SOURCE_DIR / "tests/data/tokenizer_corpus.json").read_text())["strings"]
        reference = json.loads((harness.SOURCE_DIR / "tests/data/tokenizer_reference_hf.json").read_text())["ids"]
        # Every 11th string: ASCII, code, CJK, emoji, special tokens and long inputs all occur.
        for index in range(0, len(corpus), 11):
            text = corpus[index]["text"]
            if "\0" in text:
                continue  # a NUL cannot pass through argv; the library tests cover it
            with self.subTest(index=index):
                result = self.exec_(self.bundle, "--tokenize", text, "--json")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(json.loads(result.stdout)["ids"], reference[index])

    def test_chat_matches_transformers(self):
        conversations = json.loads((harness.SOURCE_DIR / "tests/data/chat_conversations.json").read_text())
        reference = {c["id"]: c for c in json.loads(
            (harness.SOURCE_DIR / "tests/data/chat_reference_hf.json").read_text())["cases"]}
        for conversation_name, with_system in [("user_only", False), ("system_user", True)]:
            with self.subTest(conversation=conversation_name):
                messages = conversations["conversations"][conversation_name]
                messages = messages["messages"] if isinstance(messages, dict) else messages
                args = ["--chat", messages[-1]["content"], "--show-prompt", "--json"]
                if with_system:
                    args += ["--system", messages[0]["content"]]
                result = self.exec_(self.bundle, *args)
                self.assertEqual(result.returncode, 0, result.stderr)
                output = json.loads(result.stdout)
                self.assertEqual(output["prompt"], reference[f"gemma3/{conversation_name}/gen"]["rendered"])
                tokenized = self.exec_(self.bundle, "--tokenize", output["prompt"], "--json")
                self.assertEqual(output["ids"], json.loads(tokenized.stdout)["ids"])
                self.assertEqual(output["ids"][0], 2, "the template's <bos> must become the BOS id")

    # --- determinism ------------------------------------------------------------------------

    def test_same_input_gives_identical_bytes(self):
        # A second copy of the checkpoint in another directory: no path may leak into the bundle.
        other_checkpoint = self.tmp / "elsewhere" / "ckpt"
        shutil.copytree(self.checkpoint, other_checkpoint)
        second = self.tmp / "again.ubundle"
        result = harness.run([harness.COMPILE, other_checkpoint, "-o", second, "-q"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(filecmp.cmp(self.bundle, second, shallow=False), "bundles differ")

    def test_different_weights_give_different_bytes(self):
        other = harness.make_checkpoint(self.tmp / "ckpt4", preset="tiny-1b", seed=4)
        second = self.tmp / "seed4.ubundle"
        self.assertEqual(harness.run([harness.COMPILE, other, "-o", second, "-q"]).returncode, 0)
        self.assertFalse(filecmp.cmp(self.bundle, second, shallow=False))

    # --- damage is caught -------------------------------------------------------------------

    def test_truncation_is_caught_at_every_region(self):
        p = read_preamble(self.bundle)
        size = p["file_size"]
        for cut in [0, 7, 63, 64, 64 + p["header_size"] // 2, p["weights_offset"], size // 2, size - 1]:
            with self.subTest(cut=cut):
                damaged = self.damaged_copy(lambda d: d.__delitem__(slice(cut, None)))
                self.assertCleanFailure(self.exec_(damaged, "--inspect"), harness.EXIT_INVALID_INPUT,
                                        str(damaged))

    def test_truncation_message_gives_both_sizes(self):
        size = self.bundle.stat().st_size
        damaged = self.damaged_copy(lambda d: d.__delitem__(slice(size - 4096, None)))
        result = self.exec_(damaged, "--inspect")
        self.assertCleanFailure(result, harness.EXIT_INVALID_INPUT, "truncated", str(size - 4096), str(size))

    def test_header_bit_flips_are_caught(self):
        p = read_preamble(self.bundle)
        for position in [p["header_offset"], p["header_offset"] + 17, p["header_offset"] + p["header_size"] - 1]:
            with self.subTest(position=position):
                damaged = self.damaged_copy(lambda d: d.__setitem__(position, d[position] ^ 0x10))
                self.assertCleanFailure(self.exec_(damaged, "--inspect"), harness.EXIT_INVALID_INPUT,
                                        "header checksum")

    def test_weight_bit_flip_is_caught_by_verify(self):
        p = read_preamble(self.bundle)
        position = p["weights_offset"] + 5
        damaged = self.damaged_copy(lambda d: d.__setitem__(position, d[position] ^ 0x01))
        # Structure is intact, so inspection works; --verify reads the weights and names the tensor.
        self.assertEqual(self.exec_(damaged, "--inspect").returncode, 0)
        self.assertCleanFailure(self.exec_(damaged, "--verify"), harness.EXIT_INVALID_INPUT, "checksum mismatch",
                                "tensor '")

    def test_other_format_version_is_named(self):
        # The runtime reads the version its compiler writes: the good bundle's.
        current = read_preamble(self.bundle)["format_version"]
        other = current + 5
        damaged = self.damaged_copy(lambda d: d.__setitem__(slice(8, 12), struct.pack("<I", other)))
        self.assertCleanFailure(self.exec_(damaged, "--inspect"), harness.EXIT_INVALID_INPUT,
                                f"bundle format {other}, this runtime reads {current}")

    def test_other_schema_is_named(self):
        def flip_schema(d):
            d[12] ^= 0xFF
        self.assertCleanFailure(self.exec_(self.damaged_copy(flip_schema), "--inspect"),
                                harness.EXIT_INVALID_INPUT, "schema")

    def test_not_a_bundle(self):
        for name, content in [("empty", b""), ("text", b"hello, I am not a bundle\n" * 10),
                              ("safetensors", (self.checkpoint / "config.json").read_bytes())]:
            with self.subTest(name=name):
                path = self.tmp / f"{name}.ubundle"
                path.write_bytes(content)
                self.assertCleanFailure(self.exec_(path, "--inspect"), harness.EXIT_INVALID_INPUT,
                                        "not a Unicorn bundle")

    def test_appended_data_is_caught(self):
        damaged = self.damaged_copy(lambda d: d.extend(b"\0" * 100))
        self.assertCleanFailure(self.exec_(damaged, "--inspect"), harness.EXIT_INVALID_INPUT, "appended")

    def test_missing_bundle_file(self):
        self.assertCleanFailure(self.exec_(self.tmp / "nope.ubundle", "--inspect"), harness.EXIT_INVALID_INPUT,
                                "nope.ubundle")

    # --- usage --------------------------------------------------------------------------------

    def test_usage_errors_exit_1(self):
        for args in [[], ["--inspect"], [self.bundle, "--no-such-flag"], [self.bundle],
                     [self.bundle, "--inspect", "--tokenize", "x"], [self.bundle, "--ids", "2,x"],
                     [self.bundle, "--ids", "2,3", "--top-k", "5"],  # sampling flags need --temperature > 0
                     [self.bundle, "--ids", "2,3", "--temperature", "0.7", "--top-p", "1.5"],
                     [self.bundle, "--inspect", "--logits-out", "x.f32"]]:
            with self.subTest(args=args):
                self.assertCleanFailure(harness.run([harness.EXEC, *args]), harness.EXIT_USAGE)

    def test_help_exits_0_and_names_the_modes(self):
        for tool in [harness.EXEC, harness.COMPILE]:
            result = harness.run([tool, "--help"])
            self.assertEqual(result.returncode, 0)
            self.assertIn("Usage", result.stdout)
        self.assertIn("--tokenize", harness.run([harness.EXEC, "--help"]).stdout)

    def test_npu_target_is_refused_naming_the_missing_compiler(self):
        out = self.tmp / "npu.ubundle"
        result = harness.run([harness.COMPILE, self.checkpoint, "-o", out, "--target", "npu+igpu"])
        self.assertCleanFailure(result, harness.EXIT_DEVICE, "AIE")
        self.assertFalse(out.exists())

    def test_unknown_weight_format_is_a_usage_error(self):
        out = self.tmp / "q2.ubundle"
        self.assertCleanFailure(harness.run([harness.COMPILE, self.checkpoint, "-o", out, "--weights", "q2"]),
                                harness.EXIT_USAGE, "q2")
        self.assertNoFilesLeft(self.tmp)

    def test_bad_matvec_launch_is_a_usage_error(self):
        out = self.tmp / "launch.ubundle"
        # ROWSxWG[xGROUPS]: GROUPS a power of two dividing ROWS, no fourth field.
        for bad in ["quant=4", "quant=0x64", "fast=4x64", "quant=4x64x3", "quant=4x64x8", "quant=4x64x2x1",
                    "quant=4x64x"]:
            with self.subTest(launch=bad):
                self.assertCleanFailure(harness.run([harness.COMPILE, self.checkpoint, "-o", out,
                                                     "--matvec-launch", bad]), harness.EXIT_USAGE, bad)
        self.assertNoFilesLeft(self.tmp)

    def test_matvec_row_groups_reach_the_decode_kernels(self):
        """--matvec-launch's third field specialises the decode products it names: the
        bf16 matvecs carry ROW_GROUPS=8 in the bundle (the LM head too, its rows per workgroup
        widened), and no other kernel does."""
        out = self.tmp / "groups.ubundle"
        result = harness.run([harness.COMPILE, self.checkpoint, "-o", out, "-q", "--matvec-launch", "bf16=8x64x8"])
        self.assertEqual(result.returncode, 0, result.stderr)
        kernels = [k["name"] for k in harness.bundle_header(out, self.tmp)["schedule"]["kernels"]]
        grouped = [name for name in kernels if "ROW_GROUPS=8" in name]
        self.assertTrue(grouped)
        self.assertTrue(all(name.startswith("matvec_bf16 ") for name in grouped), grouped)

    def test_unwritable_output_leaves_nothing(self):
        result = harness.run([harness.COMPILE, self.checkpoint, "-o", self.tmp / "missing-dir" / "x.ubundle"])
        self.assertCleanFailure(result, harness.EXIT_INVALID_INPUT, "missing-dir")
        self.assertNoFilesLeft(self.tmp)


# --- quantised weights (--weights q8 | q4) ----------------------------------------------------
# The layout is schemas/bundle.fbs (enum QuantScheme); everything below is written from
# that text: quants of an [N, K] matrix first, scales at the next 256-byte boundary.
SCHEMES = {"q8": {"name": "q8_block32", "dtype": "i8", "qmax": 127},
           "q4": {"name": "q4_block32", "dtype": "i4", "qmax": 7}}
LINEAR_SUFFIXES = ("_proj.weight",)


def bf16_round(values):
    """float32 -> bf16 bit patterns (uint16), round to nearest even (no NaN in these tests)."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def quantise_reference(weights, qmax):
    """The format's definition in numpy: (quants as ints [N, K], bf16 scale bits [N, K/32])."""
    n, k = weights.shape
    blocks = weights.reshape(n, k // 32, 32)
    scale_bits = bf16_round(np.abs(blocks).max(axis=2) / np.float32(qmax))
    scales = bf16_to_f32(scale_bits)[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = (blocks / scales).astype(np.float64)  # float32 IEEE division, then exact widening
    rounded = np.sign(quotient) * np.floor(np.abs(quotient) + 0.5)  # halves away from zero
    quants = np.where(scales == 0, 0, np.clip(rounded, -qmax, qmax)).astype(np.int64)
    return quants.reshape(n, k), scale_bits


def stored_bytes(shape, scheme):
    """Segment size of a tensor stored under `scheme` (None: bf16), from the schema's formula."""
    if scheme is None:
        return math.prod(shape) * 2
    n, k = shape
    quants = n * k if scheme == "q8" else n * k // 2
    return (quants + 255) // 256 * 256 + (n * (k // 32) * 2 + 3) // 4 * 4


def read_embedding(checkpoint):
    """The tiny-1b checkpoint's embedding as float32, read from model.safetensors."""
    return read_tensor(checkpoint, "model.embed_tokens.weight")


def read_tensor(checkpoint, key):
    """One tensor of a tiny-1b checkpoint (one model.safetensors) as float32."""
    blob = (checkpoint / "model.safetensors").read_bytes()
    header_size = struct.unpack("<Q", blob[:8])[0]
    entry = json.loads(blob[8:8 + header_size])[key]
    begin, end = (8 + header_size + offset for offset in entry["data_offsets"])
    if entry["dtype"] == "BF16":
        return bf16_to_f32(np.frombuffer(blob[begin:end], dtype=np.uint16)).reshape(entry["shape"])
    return np.frombuffer(blob[begin:end], dtype=np.float32).reshape(entry["shape"])


class QuantisedBundleTest(harness.CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.shared = pathlib.Path(tempfile.mkdtemp(prefix="unicorn-quant-"))
        cls.checkpoint = harness.make_checkpoint(cls.shared / "ckpt", preset="tiny-1b", seed=3)
        cls.bundles = {}
        for weights in ["bf16", "q8", "q4"]:
            cls.bundles[weights] = cls.shared / f"{weights}.ubundle"
            result = harness.run([harness.COMPILE, cls.checkpoint, "-o", cls.bundles[weights], "--weights", weights,
                                  "-q"])
            if result.returncode != 0:
                raise RuntimeError(f"compile --weights {weights} failed: {result.stderr}")
        cls.config = json.loads((cls.checkpoint / "config.json").read_text())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, ignore_errors=True)

    def inspect(self, bundle):
        result = harness.run([harness.EXEC, bundle, "--inspect", "--json"])
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def tensor_shapes(self):
        """(name, shape) of every tensor a tiny-1b bundle stores, from its config."""
        c = self.config
        hidden, ffn, head_dim = c["hidden_size"], c["intermediate_size"], c["head_dim"]
        q_width, kv_width = c["num_attention_heads"] * head_dim, c["num_key_value_heads"] * head_dim
        shapes = [("embed_tokens.weight", (c["vocab_size"], hidden)), ("norm.weight", (hidden,))]
        for i in range(c["num_hidden_layers"]):
            p = f"layers.{i}."
            shapes += [(p + n, (hidden,)) for n in ["input_layernorm.weight", "post_attention_layernorm.weight",
                                                    "pre_feedforward_layernorm.weight",
                                                    "post_feedforward_layernorm.weight"]]
            shapes += [(p + "self_attn.q_norm.weight", (head_dim,)), (p + "self_attn.k_norm.weight", (head_dim,))]
            # q|k|v and gate|up are stored stacked (the fuse pass's stacked weights).
            shapes += [(p + "self_attn.q_proj+k_proj+v_proj.weight", (q_width + 2 * kv_width, hidden)),
                       (p + "self_attn.o_proj.weight", (hidden, q_width)),
                       (p + "mlp.gate_proj+up_proj.weight", (2 * ffn, hidden)),
                       (p + "mlp.down_proj.weight", (hidden, ffn))]
        return shapes

    def test_inspect_reports_schemes_and_sizes(self):
        shapes = self.tensor_shapes()
        quantised = [name for name, _ in shapes if name.endswith(LINEAR_SUFFIXES) or name == "embed_tokens.weight"]
        kept = len(shapes) - len(quantised)
        self.assertEqual(len(quantised), 4 * self.config["num_hidden_layers"] + 1)
        for weights, scheme in SCHEMES.items():
            with self.subTest(weights=weights):
                report = self.inspect(self.bundles[weights])["weights"]
                self.assertEqual(report["tensors"], len(shapes))
                self.assertEqual({k: v["tensors"] for k, v in report["by_scheme"].items()},
                                 {"none": kept, scheme["name"]: len(quantised)})
                self.assertEqual({k: v["tensors"] for k, v in report["by_dtype"].items()},
                                 {"bf16": kept, scheme["dtype"]: len(quantised)})
                expected = sum(stored_bytes(shape, weights if name in quantised else None) for name, shape in shapes)
                self.assertEqual(report["bytes"], expected)
                text = harness.run([harness.EXEC, self.bundles[weights], "--inspect"]).stdout
                self.assertIn(f"{len(quantised)} {scheme['name']}", text)
        self.assertEqual(list(self.inspect(self.bundles["bf16"])["weights"]["by_scheme"]), ["none"])

    def test_verify_passes(self):
        for weights in SCHEMES:
            with self.subTest(weights=weights):
                result = harness.run([harness.EXEC, self.bundles[weights], "--verify"])
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("OK", result.stdout)

    def test_quantised_bundles_are_deterministic_and_differ_from_bf16(self):
        other_checkpoint = self.tmp / "elsewhere" / "ckpt"
        shutil.copytree(self.checkpoint, other_checkpoint)
        for weights in SCHEMES:
            with self.subTest(weights=weights):
                again = self.tmp / f"again-{weights}.ubundle"
                result = harness.run([harness.COMPILE, other_checkpoint, "-o", again, "--weights", weights, "-q"])
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue(filecmp.cmp(self.bundles[weights], again, shallow=False), "bundles differ")
                self.assertFalse(filecmp.cmp(self.bundles[weights], self.bundles["bf16"], shallow=False))
        self.assertLess(self.bundles["q4"].stat().st_size, self.bundles["q8"].stat().st_size)
        self.assertLess(self.bundles["q8"].stat().st_size, self.bundles["bf16"].stat().st_size)

    def test_embedding_bytes_follow_the_format_definition(self):
        weights = read_embedding(self.checkpoint)
        for name in SCHEMES:
            with self.subTest(weights=name):
                self.assertEmbeddingFollowsTheDefinition(self.bundles[name], name, weights)

    def test_f32_checkpoint_is_quantised_from_its_f32_values(self):
        checkpoint = harness.make_checkpoint(self.tmp / "ckpt-f32", preset="tiny-1b", seed=5, extra=["--dtype", "f32"])
        weights = read_embedding(checkpoint)
        self.assertEqual(weights.dtype, np.float32)
        bundle = self.tmp / "f32-q4.ubundle"
        result = harness.run([harness.COMPILE, checkpoint, "-o", bundle, "--weights", "q4", "-q"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEmbeddingFollowsTheDefinition(bundle, "q4", weights)

    def test_stacked_weights_are_their_parts_rows(self):
        """A stack's segment is its parts' rows in turn, each stored as the part alone
        would be: bf16 bytes as converted, q8/q4 rows quantised one by one (the
        definition applied to the stacked matrix)."""
        parts = {"layers.2.self_attn.q_proj+k_proj+v_proj.weight": ["q_proj", "k_proj", "v_proj"],
                 "layers.2.mlp.gate_proj+up_proj.weight": ["gate_proj", "up_proj"]}
        for stack, names in parts.items():
            section = "self_attn" if "self_attn" in stack else "mlp"
            weights = np.concatenate([read_tensor(self.checkpoint, f"model.layers.2.{section}.{part}.weight")
                                      for part in names])
            for name in ["bf16", *SCHEMES]:
                with self.subTest(stack=stack, weights=name):
                    entry = next(t for t in harness.bundle_header(self.bundles[name], self.tmp)["tensors"]
                                 if t["name"] == stack)
                    self.assertEqual([int(d) for d in entry["shape"]], list(weights.shape))
                    start = int(entry["offset"])
                    if name == "bf16":
                        stored = np.frombuffer(self.bundles[name].read_bytes(), dtype="<u2", count=weights.size,
                                               offset=start)
                        np.testing.assert_array_equal(stored, bf16_round(weights).ravel())
                    else:
                        self.assertSegmentFollowsTheDefinition(self.bundles[name], name, weights, start)

    def assertEmbeddingFollowsTheDefinition(self, bundle, name, weights):
        # Tensors are sorted by name and laid out in that order: "embed_tokens.weight"
        # comes first, so its segment starts at weights_offset.
        self.assertSegmentFollowsTheDefinition(bundle, name, weights, read_preamble(bundle)["weights_offset"])

    def assertSegmentFollowsTheDefinition(self, bundle, name, weights, start):
        scheme = SCHEMES[name]
        n, k = weights.shape
        data = bundle.read_bytes()
        quant_bytes = n * k if name == "q8" else n * k // 2
        scales_at = start + (quant_bytes + 255) // 256 * 256
        raw = np.frombuffer(data, dtype=np.uint8, count=quant_bytes, offset=start)
        if name == "q8":
            quants = raw.view(np.int8).astype(np.int64).reshape(n, k)
        else:  # even k in the low nibble, offset binary
            quants = np.stack([raw & 15, raw >> 4], axis=1).astype(np.int64).reshape(n, k) - 8
        self.assertFalse(data[start + quant_bytes:scales_at].strip(b"\0"), "padding is not zero")
        scale_bits = np.frombuffer(data, dtype="<u2", count=n * k // 32, offset=scales_at).reshape(n, k // 32)

        expected_quants, expected_scales = quantise_reference(weights, scheme["qmax"])
        np.testing.assert_array_equal(scale_bits, expected_scales)
        np.testing.assert_array_equal(quants, expected_quants)

        dequantised = quants.reshape(n, k // 32, 32) * bf16_to_f32(scale_bits)[:, :, None]
        error = dequantised.reshape(n, k) - weights
        half_scale = np.repeat(bf16_to_f32(scale_bits), 32, axis=1) / 2
        self.assertTrue(np.all(np.abs(error) <= half_scale))
        relative_rms = float(np.sqrt(np.mean(error ** 2) / np.mean(weights.astype(np.float64) ** 2)))
        self.assertLess(relative_rms, 0.01 if name == "q8" else 0.15)

    def test_truncated_quantised_bundle_fails_cleanly(self):
        data = self.bundles["q4"].read_bytes()
        p = read_preamble(self.bundles["q4"])
        for cut in [p["weights_offset"] + 100, len(data) // 2, len(data) - 1]:
            with self.subTest(cut=cut):
                path = self.tmp / "truncated.ubundle"
                path.write_bytes(data[:cut])
                for mode in ["--inspect", "--verify"]:
                    self.assertCleanFailure(harness.run([harness.EXEC, path, mode]), harness.EXIT_INVALID_INPUT,
                                            "truncated", str(path))

    def test_nan_weight_is_refused_when_quantising(self):
        checkpoint = self.tmp / "ckpt-nan"
        shutil.copytree(self.checkpoint, checkpoint)
        path = checkpoint / "model.safetensors"
        blob = bytearray(path.read_bytes())
        header_size = struct.unpack("<Q", blob[:8])[0]
        entry = json.loads(blob[8:8 + header_size])["model.embed_tokens.weight"]
        row, k = 1000, entry["shape"][1]
        position = 8 + header_size + entry["data_offsets"][0] + (row * k + 5) * 2
        blob[position:position + 2] = struct.pack("<H", 0x7FC0)  # bf16 quiet NaN
        path.write_bytes(bytes(blob))
        out_dir = self.tmp / "out"
        out_dir.mkdir()
        result = harness.run([harness.COMPILE, checkpoint, "-o", out_dir / "nan.ubundle", "--weights", "q4", "-q"])
        self.assertCleanFailure(result, harness.EXIT_INVALID_INPUT, "model.embed_tokens.weight", f"row {row}", "NaN")
        self.assertNoFilesLeft(out_dir)

    def test_scale_bit_flip_is_caught_by_verify(self):
        data = bytearray(self.bundles["q8"].read_bytes())
        p = read_preamble(self.bundles["q8"])
        n, k = self.config["vocab_size"], self.config["hidden_size"]
        position = p["weights_offset"] + (n * k + 255) // 256 * 256 + 1  # high byte of the first scale
        data[position] ^= 0x01
        path = self.tmp / "flipped.ubundle"
        path.write_bytes(bytes(data))
        self.assertCleanFailure(harness.run([harness.EXEC, path, "--verify"]), harness.EXIT_INVALID_INPUT,
                                "checksum mismatch", "embed_tokens.weight")


if __name__ == "__main__":
    unittest.main()
