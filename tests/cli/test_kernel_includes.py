"""codegen_spirv/expand_kernel_includes.cmake, which the build runs on every SPIR-V
dialect kernel before mlir-translate: a line "// include: NAME" becomes the file NAME
beside the kernel; a missing or nested include is an error naming the file, and no
output is written then. The builtin kernels expand to modules with no include left.
"""
import pathlib
import shutil
import tempfile
import unittest

import harness

SCRIPT = harness.SOURCE_DIR / "codegen_spirv" / "expand_kernel_includes.cmake"
KERNELS = harness.SOURCE_DIR / "codegen_spirv" / "kernels"
CMAKE = shutil.which("cmake")


class KernelIncludeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="unicorn-includes-"))
        self.addCleanup(shutil.rmtree, self.tmp)

    def expand(self, source):
        out = self.tmp / "out.mlir"
        return harness.run([CMAKE, f"-DIN={source}", f"-DOUT={out}", "-P", SCRIPT]), out

    def test_an_include_line_becomes_the_file_beside_the_kernel(self):
        (self.tmp / "frame.mlir").write_text("  frame line 1\n  frame line 2\n")
        kernel = self.tmp / "kernel.mlir"
        kernel.write_text("before\n  // include: frame.mlir\nafter; with a semicolon\n")
        result, out = self.expand(kernel)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(out.read_text(), "before\n  frame line 1\n  frame line 2\n\nafter; with a semicolon\n")
        kernel.write_text("// include: frame.mlir\nafter\n")
        result, out = self.expand(kernel)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(out.read_text(), "  frame line 1\n  frame line 2\n\nafter\n")

    def assertRefusedNaming(self, include, named):
        """A kernel including `include` fails to expand, naming `named`, and writes nothing."""
        kernel = self.tmp / "kernel.mlir"
        kernel.write_text(f"before\n// include: {include}\nafter\n")
        result, out = self.expand(kernel)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(named, result.stderr)
        self.assertFalse(out.exists())

    def test_a_missing_include_is_an_error_naming_it(self):
        self.assertRefusedNaming("absent.mlir", "absent.mlir")

    def test_an_included_file_may_not_include(self):
        (self.tmp / "inner.mlir").write_text("inner\n")
        (self.tmp / "frame.mlir").write_text("// include: inner.mlir\nframe\n")
        self.assertRefusedNaming("frame.mlir", "frame.mlir")

    def test_the_builtin_kernels_expand_whole(self):
        frame = (KERNELS / "matmul_coop_frame.mlir").read_text()
        for name in ["matmul_bf16_coop.mlir", "matmul_quant_coop.mlir"]:
            with self.subTest(kernel=name):
                result, out = self.expand(KERNELS / name)
                self.assertEqual(result.returncode, 0, result.stderr)
                text = out.read_text()
                self.assertNotIn("// include:", text)
                self.assertIn(frame, text)


if __name__ == "__main__":
    unittest.main()
