"""Shared helpers for the command-line tests.

ctest sets UNICORN_SOURCE_DIR and UNICORN_BINARY_DIR; the tests run the real
binaries from the build and make their inputs (checkpoints, corrupted files) in
fresh temporary directories, so they never depend on each other's leftovers.
"""
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = pathlib.Path(os.environ.get("UNICORN_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BINARY_DIR = pathlib.Path(os.environ.get("UNICORN_BINARY_DIR", SOURCE_DIR / "build"))
COMPILE = BINARY_DIR / "compiler" / "unicorn-compile"
EXEC = BINARY_DIR / "runtime" / "unicorn-exec"
MAKE_CHECKPOINT = SOURCE_DIR / "tools" / "make_checkpoint.py"
NODE_MODULES = SOURCE_DIR / "tools" / "node_modules"
# Debian's, with numpy (scripts/setup installs it); UNICORN_PYTHON names another
# with numpy where that one has none (the device machine's).
PYTHON = os.environ.get("UNICORN_PYTHON", "/usr/bin/python3")

# Exit codes of the command-line contract (DESIGN.md).
EXIT_OK, EXIT_USAGE, EXIT_INVALID_INPUT, EXIT_DEVICE = 0, 1, 2, 3


def run(args, **kwargs):
    """Runs a command, returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)


def make_checkpoint(out_dir, preset="tiny-1b", seed=0, extra=()):
    """Writes a random-weight Gemma 3 checkpoint with tools/make_checkpoint.py."""
    result = run([PYTHON, MAKE_CHECKPOINT, "--preset", preset, "--seed", str(seed), "-o", out_dir, *extra])
    if result.returncode != 0:
        raise RuntimeError(f"make_checkpoint failed: {result.stderr}")
    return pathlib.Path(out_dir)


def make_shared_bundle(prefix, preset="tiny-1b", seed=0):
    """A fresh temporary directory holding a random checkpoint ("ckpt") and its bf16
    bundle ("model.ubundle"), for a test class to share from setUpClass; returns
    (directory, checkpoint, bundle). The caller removes the directory."""
    shared = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    checkpoint = make_checkpoint(shared / "ckpt", preset=preset, seed=seed)
    bundle = shared / "model.ubundle"
    result = run([COMPILE, checkpoint, "-o", bundle, "-q"])
    if result.returncode != 0:
        raise RuntimeError(f"compile failed: {result.stderr}")
    return shared, checkpoint, bundle


class CliTestCase(unittest.TestCase):
    """A test case with a private temporary directory and error-contract assertions."""

    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="unicorn-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def assertCleanFailure(self, result, exit_code, *fragments):
        """A failure per the contract: the exit code, one line on stderr naming the
        problem (every fragment appears), and no crash or sanitizer report."""
        stderr = result.stderr.strip()
        self.assertEqual(result.returncode, exit_code, f"stderr: {stderr}")
        self.assertNotIn("Sanitizer", stderr)
        self.assertNotIn("runtime error", stderr)
        lines = stderr.splitlines()
        self.assertEqual(len(lines), 1, f"expected one error line, got: {stderr!r}")
        self.assertIn("error:", lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def assertNoFilesLeft(self, directory, allowed=()):
        """Nothing but `allowed` names remains in `directory` (no half-written output)."""
        left = sorted(p.name for p in pathlib.Path(directory).iterdir() if p.name not in allowed)
        self.assertEqual(left, [], f"files left behind in {directory}")


FLATC = shutil.which("flatc")  # the build needs it too (CMakeLists.txt)
PREAMBLE = struct.Struct("<8sIIQQQQQQ")  # schemas/bundle_format.h: BundlePreamble


def bundle_header(bundle, work_dir):
    """The bundle's flatbuffer header as JSON, decoded by flatc (the flatbuffers project's
    own converter) with schemas/bundle.fbs: a reader that shares no code with
    unicorn-compile or unicorn-exec."""
    data = bundle.read_bytes()
    fields = PREAMBLE.unpack_from(data)
    header_offset, header_size = fields[4], fields[5]
    # A preamble layout that moved under this reader fails here, not as odd JSON.
    assert fields[0] == b"UNICORN\x1a", fields[0]
    assert data[header_offset + 4:header_offset + 8] == b"UNBH", "no flatbuffer header at header_offset"
    header = work_dir / "header.bin"
    header.write_bytes(data[header_offset:header_offset + header_size])
    schemas = SOURCE_DIR / "schemas"
    result = run([FLATC, "--json", "--strict-json", "--defaults-json", "--raw-binary", "-I", schemas,
                  "-o", work_dir, schemas / "bundle.fbs", "--", header])
    if result.returncode != 0:
        raise AssertionError(f"flatc could not decode the header: {result.stderr}")
    return json.loads((work_dir / "header.json").read_text())
