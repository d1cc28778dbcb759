# -*- Python -*-
# Configuration of kvant's lit suite.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "KVANT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "README.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "Inputs", "python", "reference"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kvant_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.shlib_ext))
config.substitutions.append(("%kvant_src_root", config.kvant_src_root))
config.substitutions.append(("%kvant_lib_dir", config.kvant_lib_dir))
config.substitutions.append(("%python", config.python_executable))

# FileCheck variables captured in one CHECK-LABEL block stay there.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.kvant_tools_dir, config.llvm_tools_dir]
tools = [
    "kvant-opt",
    "kvant-gguf-info",
    "kvant-quantize",
    "kvant-tokenize",
    "kvant-membw",
    "mlir-translate",
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.kvant_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# GPU execution tests need an NVIDIA driver; compile-only GPU tests need ptxas.
if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
if any(os.path.exists(p) for p in ["/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                                    "/usr/lib64/libcuda.so.1"]):
    config.available_features.add("cuda")
