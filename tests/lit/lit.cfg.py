# lit configuration for the unicorn dialect and pass tests. Loaded through the
# lit.site.cfg.py that CMake writes into the build tree, which says where the
# tools are; run `lit BUILD/tests/lit` (or `ctest -R '^lit$'`).
import os

import lit.formats

if not hasattr(config, "unicorn_tools_dir"):
    lit_config.fatal("run lit on the build tree (BUILD/tests/lit), not the sources")

config.name = "unicorn"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.unicorn_obj_root, "tests", "lit")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in"]

# RUN lines name the tools; find this build's unicorn-opt and LLVM 22's
# FileCheck/not before anything else on PATH.
config.environment["PATH"] = os.pathsep.join(
    [config.unicorn_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
for directory, tool in ((config.unicorn_tools_dir, "unicorn-opt"),
                        (config.llvm_tools_dir, "FileCheck")):
    if not os.path.exists(os.path.join(directory, tool)):
        lit_config.fatal(f"{tool} not found in {directory}: build it first")
