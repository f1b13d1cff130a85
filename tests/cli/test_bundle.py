"""The bundle through the real tools: compile a generated checkpoint, then check
what unicorn-exec reports, and that every kind of damage to the file is caught
with one clear line and exit code 2 (DESIGN.md "The bundle")."""
import filecmp
import json
import shutil
import struct
import tempfile
import unittest
import pathlib

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
        cls.shared = pathlib.Path(tempfile.mkdtemp(prefix="unicorn-bundle-"))
        cls.checkpoint = harness.make_checkpoint(cls.shared / "ckpt", preset="tiny-1b", seed=3)
        cls.bundle = cls.shared / "model.ubundle"
        result = harness.run([harness.COMPILE, cls.checkpoint, "-o", cls.bundle, "-q"])
        if result.returncode != 0:
            raise RuntimeError(f"compile failed: {result.stderr}")

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
        # 9 tensors per layer (4 norms, q/k norms... counted below) + embedding + final norm.
        per_layer = 13  # q,k,v,o, q_norm,k_norm, gate,up,down, 4 layer norms
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
                args = ["--chat", messages[-1]["content"], "--json"]
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
        damaged = self.damaged_copy(lambda d: d.__setitem__(slice(8, 12), struct.pack("<I", 7)))
        self.assertCleanFailure(self.exec_(damaged, "--inspect"), harness.EXIT_INVALID_INPUT,
                                "bundle format 7, this runtime reads 1")

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
                     [self.bundle, "--inspect", "--tokenize", "x"], [self.bundle, "--prompt", "hi"],
                     [self.bundle, "--ids", "2,3"]]:
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

    def test_unimplemented_weight_format_is_a_usage_error(self):
        out = self.tmp / "q4.ubundle"
        self.assertCleanFailure(harness.run([harness.COMPILE, self.checkpoint, "-o", out, "--weights", "q4"]),
                                harness.EXIT_USAGE, "q4")
        self.assertNoFilesLeft(self.tmp)

    def test_unwritable_output_leaves_nothing(self):
        result = harness.run([harness.COMPILE, self.checkpoint, "-o", self.tmp / "missing-dir" / "x.ubundle"])
        self.assertCleanFailure(result, harness.EXIT_INVALID_INPUT, "missing-dir")
        self.assertNoFilesLeft(self.tmp)


if __name__ == "__main__":
    unittest.main()
