"""Shared helpers for tests that compile MLIR with kvant-opt and run it on the CPU.

* `kvant_opt()` / `require_kvant_opt()`: the built tool (build dir from $KVANT_BUILD_DIR, default
  <repo>/build), or a clean pytest skip when it is not built.
* `run_on_cpu(module, passes)`: kvant-opt with `passes`, then the reference CPU lowering of
  docs (MLIR22.md), executed by mlir-runner; returns stdout.
* `dense_hex(array)`: an exact `dense<"0x...">` literal (raw little-endian bytes).
* `print_f32_bits(...)` / `parse_memrefs(stdout)`: print f32 tensors bit-exactly through
  printMemrefI32 (printMemrefF32 rounds to 6 significant digits) and read them back.
"""
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"
RUNNER_LIBS = [os.path.join(LLVM_LIB, "libmlir_runner_utils.so"),
               os.path.join(LLVM_LIB, "libmlir_c_runner_utils.so")]
OPENMP_LIB = os.path.join(LLVM_LIB, "libomp.so")

# Tensors to LLVM on the CPU: a correctness baseline, not a fast path.
CPU_LOWERING = [
    "--convert-elementwise-to-linalg",
    "--one-shot-bufferize=bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map",
    "--convert-linalg-to-loops",
    "--convert-scf-to-cf",
    "--expand-strided-metadata",
    "--lower-affine",
    "--finalize-memref-to-llvm",
    "--convert-arith-to-llvm",
    "--convert-math-to-llvm",
    "--convert-cf-to-llvm",
    "--convert-func-to-llvm",
    "--reconcile-unrealized-casts",
]

def vector_cpu_lowering(parallel):
    """Tensors with vector code to LLVM, as the CPU pipeline orders it."""
    loops = (["--scf-forall-to-parallel", "--convert-linalg-to-parallel-loops",
              "--convert-scf-to-openmp"] if parallel else
             ["--scf-forall-to-for", "--convert-linalg-to-loops"])
    return [
        "--convert-elementwise-to-linalg",
        "--one-shot-bufferize=bufferize-function-boundaries "
        "function-boundary-type-conversion=identity-layout-map",
        *loops,
        "--convert-vector-to-scf",
        "--expand-strided-metadata",
        "--lower-affine",
        "--convert-vector-to-llvm=reassociate-fp-reductions=1",
        "--finalize-memref-to-llvm",
        "--convert-scf-to-cf",
        "--convert-arith-to-llvm",
        "--convert-math-to-llvm",
        *(["--convert-openmp-to-llvm"] if parallel else []),
        "--convert-cf-to-llvm",
        "--convert-func-to-llvm",
        "--convert-ub-to-llvm",
        "--reconcile-unrealized-casts",
    ]


def cpu_flags():
    """The flags of /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(f.read().replace("\n", " ").split())
    except OSError:
        return set()


def has_avx2():
    """Whether this CPU runs AVX2 code (the int8 dot products' x86 form)."""
    return "avx2" in cpu_flags()


def has_avx2_vnni():
    """Whether this CPU runs kvant's avx2-vnni int8 form: AVX2 and 256-bit vpdpbusd (AVX-VNNI,
    or AVX512-VNNI with AVX512-VL)."""
    flags = cpu_flags()
    return "avx2" in flags and ("avx_vnni" in flags or {"avx512_vnni", "avx512vl"} <= flags)


PRINT_I32_DECL = ("func.func private @printMemrefI32(memref<*xi32>) "
                  "attributes {llvm.emit_c_interface}")


def build_dir():
    d = os.environ.get("KVANT_BUILD_DIR", "build")
    return d if os.path.isabs(d) else os.path.join(REPO_ROOT, d)


def kvant_opt():
    """Path of the built kvant-opt, or None."""
    path = os.path.join(build_dir(), "bin", "kvant-opt")
    return path if os.access(path, os.X_OK) else None


def mlir_runner():
    path = os.path.join(LLVM_BIN, "mlir-runner")
    return path if os.access(path, os.X_OK) else shutil.which("mlir-runner")


def require_kvant_opt():
    """kvant-opt's path; skips the calling test when it or mlir-runner is missing."""
    opt = kvant_opt()
    if opt is None:
        pytest.skip(f"kvant-opt is not built in {build_dir()} (set KVANT_BUILD_DIR)")
    if mlir_runner() is None or not all(os.path.exists(lib) for lib in RUNNER_LIBS):
        pytest.skip("mlir-runner or its runtime libraries are not installed")
    return opt


def kvant_tool(name):
    """Path of the built kvant tool `name` (kvant-compile, kvant-run, ...);
    skips the calling test when it is not built."""
    path = os.path.join(build_dir(), "bin", name)
    if not os.access(path, os.X_OK):
        pytest.skip(f"{name} is not built in {build_dir()}")
    return path


def run_tool(args, check=True):
    """Runs `args`; with `check`, a non-zero exit fails the test with stderr."""
    proc = subprocess.run(args, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def run_opt(module, passes):
    """kvant-opt `passes` on `module` (text); returns the output IR."""
    proc = subprocess.run([require_kvant_opt(), *passes], input=module, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise AssertionError(f"kvant-opt {' '.join(passes)} failed:\n{proc.stderr}")
    return proc.stdout


def run_on_cpu(module, passes=(), entry="main", lowering=None, openmp=False):
    """Runs `passes`, lowers to LLVM (by `lowering`, CPU_LOWERING unless given) and executes
    `entry` (returning nothing); returns stdout. `openmp` loads the OpenMP runtime."""
    llvm_ir = run_opt(module, [*passes, *(CPU_LOWERING if lowering is None else lowering)])
    libs = RUNNER_LIBS + ([OPENMP_LIB] if openmp else [])
    proc = subprocess.run([mlir_runner(), "-e", entry, "-entry-point-result=void",
                           "-shared-libs=" + ",".join(libs)],
                          input=llvm_ir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"mlir-runner failed:\n{proc.stderr}")
    return proc.stdout


def mlir_tensor_type(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def qt_matmul_ir(name, btype, xshape, yshape, wtype, dynamic):
    """IR computing `%{name}_y = qt.matmul(%{name}_x, qt.from_bytes(%{name}_b))`
    with static shapes `xshape` -> `yshape` and the weight type `wtype`. With
    `dynamic`, the matmul runs in a helper function whose leading dimension is
    `?`, so that a dynamic M crosses a function boundary. Returns (helper
    function text or "", text for the caller's body)."""
    xtype, ytype = mlir_tensor_type(xshape, "f32"), mlir_tensor_type(yshape, "f32")
    if not dynamic:
        return "", (f"    %{name}_w = qt.from_bytes %{name}_b : {btype} -> {wtype}\n"
                    f"    %{name}_y = qt.matmul %{name}_x, %{name}_w"
                    f" : {xtype}, {wtype} -> {ytype}\n")
    dx = mlir_tensor_type(("?",) + tuple(xshape[1:]), "f32")
    dy = mlir_tensor_type(("?",) + tuple(yshape[1:]), "f32")
    helper = (f"  func.func @{name}(%x: {dx}, %b: {btype}) -> {dy} {{\n"
              f"    %w = qt.from_bytes %b : {btype} -> {wtype}\n"
              f"    %y = qt.matmul %x, %w : {dx}, {wtype} -> {dy}\n"
              f"    return %y : {dy}\n  }}\n")
    body = (f"    %{name}_xd = tensor.cast %{name}_x : {xtype} to {dx}\n"
            f"    %{name}_yd = func.call @{name}(%{name}_xd, %{name}_b)"
            f" : ({dx}, {btype}) -> {dy}\n"
            f"    %{name}_y = tensor.cast %{name}_yd : {dy} to {ytype}\n")
    return helper, body


# Bytes of each member of ggml's block structs (ggml-common.h), in order: what
# `#qt.gguf<..., interleave = R>` stores field by field.
BLOCK_FIELDS = {
    "Q4_0": (2, 16), "Q4_1": (2, 2, 16), "Q5_0": (2, 4, 16), "Q5_1": (2, 2, 4, 16),
    "Q8_0": (2, 32), "IQ4_NL": (2, 16), "MXFP4": (1, 16),
    "Q2_K": (16, 64, 2, 2), "Q3_K": (32, 64, 12, 2), "Q4_K": (2, 2, 12, 128),
    "Q5_K": (2, 2, 12, 32, 128), "Q6_K": (128, 64, 16, 2),
    "TQ1_0": (48, 4, 2), "TQ2_0": (64, 2),
}


def interleave_blocks(raw, fmt, rows):
    """`raw` ([N, row bytes] of the GGUF block format `fmt`) in the layout
    `#qt.gguf<..., interleave = rows>`, written from that attribute's documentation: per
    group of `rows` rows and block b, the rows' blocks b field by field (BLOCK_FIELDS), each
    field holding the rows in order. Same shape."""
    fields = BLOCK_FIELDS[fmt]
    block_bytes = sum(fields)
    assert block_bytes == GGML_QUANT_SIZES[getattr(GGMLQuantizationType, fmt)][1], fmt
    n, row_bytes = raw.shape
    blocks = row_bytes // block_bytes
    grouped = raw.reshape(n // rows, rows, blocks, block_bytes).transpose(0, 2, 1, 3)
    starts = np.cumsum((0,) + fields[:-1])
    parts = [grouped[:, :, :, s:s + size].reshape(n // rows, blocks, rows * size)
             for s, size in zip(starts, fields)]
    return np.ascontiguousarray(np.concatenate(parts, axis=2)).reshape(n, row_bytes)


def qt_cases_module(fmt, cases, interleave=1):
    """A module whose @main computes and prints (bit-exactly, in order) one result per case
    of `cases`, each (name, raw, wshape, x, dynamic) with `raw` the bytes of a `wshape` weight
    in the GGUF format `fmt`: `qt.dequantize` of it when `x` is None, else
    `qt.matmul(x, weight)` (through a function with a dynamic M when `dynamic`). With
    `interleave` > 1, matmul weights whose row count it divides are stored with their rows
    interleaved (`#qt.gguf<fmt, interleave = R>`, bytes rearranged by interleave_blocks)."""

    def qtype(shape, rows=1):
        layout = f", interleave = {rows}" if rows > 1 else ""
        return ("!qt.tensor<" + "x".join(map(str, shape)) +
                f", #qt.gguf<{fmt.lower()}{layout}>>")

    helpers, body = [], []
    for name, raw, wshape, x, dynamic in cases:
        rows = interleave if x is not None and wshape[0] % interleave == 0 else 1
        if rows > 1:
            raw = interleave_blocks(raw, fmt, rows)
        btype = mlir_tensor_type(raw.shape, "i8")
        body.append(f"    %{name}_b = arith.constant {dense_hex(raw)} : {btype}\n")
        if x is None:
            out = mlir_tensor_type(wshape, "f32")
            body.append(f"    %{name}_w = qt.from_bytes %{name}_b : {btype} -> {qtype(wshape)}\n"
                        f"    %{name}_y = qt.dequantize %{name}_w : {qtype(wshape)} -> {out}\n")
            body.append(print_f32_bits(name, f"%{name}_y", wshape))
            continue
        yshape = x.shape[:-1] + (wshape[0],)
        body.append(f"    %{name}_x = arith.constant {dense_hex(x)} : "
                    f"{mlir_tensor_type(x.shape, 'f32')}\n")
        helper, matmul = qt_matmul_ir(name, btype, x.shape, yshape, qtype(wshape, rows),
                                      dynamic)
        helpers.append(helper)
        body.append(matmul)
        body.append(print_f32_bits(name, f"%{name}_y", yshape))
    return ("module {\n  " + PRINT_I32_DECL + "\n" + "".join(helpers) +
            "  func.func @main() {\n" + "".join(body) + "    return\n  }\n}\n")


def dense_hex(array):
    """An exact dense literal of `array` (its raw little-endian bytes)."""
    data = np.ascontiguousarray(array)
    if data.dtype.byteorder == ">":
        data = data.byteswap().view(data.dtype.newbyteorder("<"))
    return 'dense<"0x' + data.tobytes().hex().upper() + '">'


def print_f32_bits(name, value, shape):
    """MLIR lines printing the f32 tensor `value` (SSA name) of `shape` bit-exactly."""
    f32 = mlir_tensor_type(shape, "f32")
    i32 = mlir_tensor_type(shape, "i32")
    memref = "memref<" + "".join(f"{d}x" for d in shape) + "i32>"
    return (f"    %{name}_bits = arith.bitcast {value} : {f32} to {i32}\n"
            f"    %{name}_buf = bufferization.to_buffer %{name}_bits : {i32} to {memref}\n"
            f"    %{name}_any = memref.cast %{name}_buf : {memref} to memref<*xi32>\n"
            f"    func.call @printMemrefI32(%{name}_any) : (memref<*xi32>) -> ()\n")


_MEMREF = re.compile(r"Unranked Memref base@ = \S+ rank = (\d+) offset = \d+ "
                     r"sizes = \[([^\]]*)\] strides = \[[^\]]*\] data =")


def parse_memrefs(stdout, dtype=np.int32):
    """Every memref printed by printMemref* in `stdout`, in order, as arrays. `dtype` is one
    NumPy type for all of them or a sequence with one per memref (printMemrefI32 -> np.int32,
    printMemrefF32 -> np.float32)."""
    heads = list(_MEMREF.finditer(stdout))
    dtypes = list(dtype) if isinstance(dtype, (list, tuple)) else [dtype] * len(heads)
    assert len(dtypes) == len(heads), f"{len(heads)} memrefs printed, {len(dtypes)} types given"
    arrays = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(stdout)
        shape = tuple(int(s) for s in head.group(2).split(",") if s.strip())
        body = stdout[head.end():end]
        if np.issubdtype(dtypes[i], np.integer):
            values = [int(t) for t in re.findall(r"-?\d+", body)]
        else:
            values = [float(t) for t in
                      re.findall(r"-?(?:nan|inf|\d+(?:\.\d*)?(?:e[-+]?\d+)?)", body)]
        arr = np.array(values, dtype=dtypes[i])
        assert arr.size == int(np.prod(shape)), f"memref {i}: {arr.size} values for {shape}"
        arrays.append(arr.reshape(shape))
    return arrays


def parse_f32_bits(stdout):
    """The tensors printed by `print_f32_bits` (when nothing else was printed), as float32."""
    return [a.view(np.float32) for a in parse_memrefs(stdout, np.int32)]


def import_kvant():
    """The kvant Python package: the one built in <build dir>/python (scripts/setup.sh builds
    it with KVANT_ENABLE_PYTHON=ON), else an installed one (pip install ./python); skips the
    calling test when neither imports."""
    import importlib
    import sys
    staged = os.path.join(build_dir(), "python")
    if os.path.isdir(os.path.join(staged, "kvant")) and staged not in sys.path:
        sys.path.insert(0, staged)
    try:
        return importlib.import_module("kvant")
    except ImportError as e:
        pytest.skip(f"the kvant Python package is not importable ({e}); build with "
                    f"-DKVANT_ENABLE_PYTHON=ON or pip install ./python")
