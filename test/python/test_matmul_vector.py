"""Numeric test of qt-lower-matmul-to-vector against the gguf dequantizer and NumPy.

Block formats: random float weights are quantized with `gguf.quants.quantize` (the bytes
llama.cpp stores) and embedded in an MLIR module (`arith.constant` i8 -> `qt.from_bytes`) with
float32 activations; `qt.matmul` runs for M = 1, M = 3, a batch dimension, a dynamic M through
a function boundary and N not a multiple of anything.
Float weights: a transposed-B `linalg.matmul` (what convert-llm-to-linalg emits for F32/F16
weights) with a non-zero destination, which the lowering must add, and a K of 48 (blocks of
16 elements).

The module goes through `--qt-lower-matmul-to-vector` and a CPU lowering that includes the
vector dialect (VECTOR_CPU_LOWERING, the CPU pipeline's order: forall to loops or to OpenMP,
vector to LLVM with reassociated f32 reductions), runs under mlir-runner and prints results
bit-exactly (f32 bits via printMemrefI32).

Reference and tolerance: `x @ deq.T` in float64 (plus the destination) from the gguf package's
dequantization of the same bytes (F16 weights: their exact f32 values). kvant decodes each
weight exactly as llama.cpp does and accumulates in f32 partial sums reduced as a tree, so the
error is f32 rounding of a K-term sum; asserted: max|y - ref| <= 1e-4 * max|ref|.

With `int8-dot` (generic: portable vector arith; avx2: vpmaddubsw/vpmaddwd), the activations
are quantized per block of 32 as llama.cpp's q8_0 (per 256 as q8_K for TQ2_0 and the k-quants) (d = amax/127,
q = roundeven(x * 127/amax),
computed in float32 as kvant does) and the reference uses those dequantized activations
(q * d) instead of x: the integer dot products are exact, so the same tolerance holds.
K-quant, ternary and lookup-table weights (Q4_K, Q5_K, Q6_K, TQ2_0, IQ4_NL, MXFP4) are random
bytes with finite scales: every bit pattern is a valid block, and the gguf package decodes them.
"""
import subprocess

import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
from gguf.quants import dequantize, quantize

from kvant_testing import (dense_hex, has_avx2, has_avx2_vnni, kvant_opt, parse_memrefs, mlir_runner, mlir_tensor_type, parse_f32_bits,
                           print_f32_bits, PRINT_I32_DECL, qt_cases_module, require_kvant_opt,
                           run_opt, vector_cpu_lowering, OPENMP_LIB, RUNNER_LIBS)
from llama_ref import ACTIVATION_BLOCK, quantize_activations

BLOCK_FORMATS = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]
# Formats of 256-element super-blocks, and where their f16 scales sit in a block.
SUPERBLOCK_FORMATS = {"Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,), "TQ2_0": (64,), "Q3_K": (108,),
                      "Q2_K": (80, 82), "TQ1_0": (52,)}


# How the lowering computes: f32 math (serial or OpenMP), or int8 dot products; the rows8
# modes store the weights with rows interleaved by 8 (qt-interleave-weights' layout).
MODES = ["serial", "openmp", "generic", "avx2", "rows8-avx2", "rows8-openmp", "vnni",
         "rows8-vnni"]
INTERLEAVE_FORMATS = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "TQ1_0", "TQ2_0",
                      "IQ4_NL", "MXFP4"}
RTOL = 1e-4


def run_vectorized(module, parallel=False, int8_dot="none"):
    """`int8_dot`: none (f32 math) or the qt-lower-int8-ops target after int8 activations."""
    lowering = vector_cpu_lowering(parallel)
    # After bufferization, as the CPU pipeline places it (lookups need it in every mode).
    target = int8_dot if int8_dot in ("avx2", "avx2-vnni") else "generic"
    lowering.insert(2, f"--qt-lower-int8-ops=target={target}")
    llvm_ir = run_opt(module, [f"--qt-lower-matmul-to-vector=int8-activations="
                               f"{'false' if int8_dot == 'none' else 'true'}",
                               "--qt-lower-to-linalg", *lowering])
    libs = list(RUNNER_LIBS)
    if parallel:
        libs.append(OPENMP_LIB)
    proc = subprocess.run([mlir_runner(), "-e", "main", "-entry-point-result=void",
                           "-shared-libs=" + ",".join(libs)],
                          input=llvm_ir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"mlir-runner failed:\n{proc.stderr}")
    return parse_f32_bits(proc.stdout)


def random_weight(rng, shape):
    """Normal values with a per-row magnitude spread, one all-zero block, one shifted block."""
    w = rng.standard_normal(shape) * rng.uniform(0.05, 3.0, (shape[0], 1))
    w[0, :32] = 0.0
    w[-1, -32:] += 2.5  # all-positive block: exercises the min of q4_1/q5_1
    return w.astype(np.float32)


def random_superblocks(rng, fmt, shape):
    """Random bytes of `shape` ([N, K]) weights in a 256-element format, with finite f16 scales."""
    qtype = getattr(GGMLQuantizationType, fmt)
    block_bytes = GGML_QUANT_SIZES[qtype][1]
    n, k = shape
    raw = rng.integers(0, 256, (n, k // 256, block_bytes), dtype=np.uint8)
    for offset in SUPERBLOCK_FORMATS[fmt]:
        scales = (rng.uniform(0.002, 0.05, (n, k // 256)) *
                  rng.choice([-1, 1], (n, k // 256))).astype(np.float16)
        raw[:, :, offset:offset + 2] = scales.view(np.uint8).reshape(n, k // 256, 2)
    return raw.reshape(n, -1)


def check(name, y, ref):
    assert y.shape == ref.shape, name
    rel = np.max(np.abs(y.astype(np.float64) - ref)) / np.max(np.abs(ref))
    print(f"{name}: max relative error {rel:.3g}")
    assert rel <= RTOL, f"{name}: max|y - ref| / max|ref| = {rel:.3g} > {RTOL}"


# (name, weight shape [N, K], x shape, dynamic M)
BLOCK_CASES = [
    ("m1", (40, 256), (1, 256), False),
    ("m1_odd_n", (37, 64), (1, 64), False),
    ("m3", (24, 128), (3, 128), False),
    # Prompt rows in a tile of 8, one of 4 and one alone.
    ("m13", (16, 64), (13, 64), False),
    ("batch", (16, 96), (2, 3, 96), False),
    ("dyn", (8, 64), (3, 64), True),
]


# Cases for 256-element formats: K a multiple of 256, M up to 13 (tiles of 8 and 4, one row
# left).
SUPERBLOCK_CASES = [
    ("m1", (24, 512), (1, 512), False),
    ("m6", (9, 256), (6, 256), False),
    ("m13", (16, 256), (13, 256), False),
    ("dyn", (8, 256), (5, 256), True),
]


def run_block_format(fmt, mode, cases, make_raw, seed):
    require_kvant_opt()
    if mode in ("avx2", "rows8-avx2") and not has_avx2():
        pytest.skip("this CPU has no AVX2")
    if mode in ("vnni", "rows8-vnni") and not has_avx2_vnni():
        pytest.skip("this CPU has no 256-bit VNNI")
    interleave = 8 if mode.startswith("rows8") else 1
    if interleave > 1 and fmt not in INTERLEAVE_FORMATS:
        pytest.skip(f"{fmt} has two scales per group: its rows are not interleaved")
    qtype = getattr(GGMLQuantizationType, fmt)
    rng = np.random.default_rng(seed)
    int8_dot = {"generic": "generic", "avx2": "avx2", "rows8-avx2": "avx2",
                "rows8-openmp": "generic", "vnni": "avx2-vnni",
                "rows8-vnni": "avx2-vnni"}.get(mode, "none")
    inputs, refs = [], {}
    for name, wshape, xshape, dynamic in cases:
        raw = make_raw(rng, wshape)
        deq = dequantize(raw, qtype).astype(np.float64)
        x = rng.standard_normal(xshape).astype(np.float32)
        inputs.append((name, raw, wshape, x, dynamic))
        xs = x.astype(np.float64)
        if int8_dot != "none":  # in float32 as kvant, dequantized in float64
            xs = quantize_activations(xs, ACTIVATION_BLOCK.get(fmt, 32))
        refs[name] = xs @ deq.T
    module = qt_cases_module(fmt, inputs, interleave)
    if interleave > 1:
        assert "interleave = 8" in module
    int8 = "true" if int8_dot != "none" else "false"
    lowered = run_opt(module, [f"--qt-lower-matmul-to-vector=int8-activations={int8}"])
    # Q2_K's per-16 mins need the int8 path's activation sums per 16.
    if fmt != "Q2_K" or int8 == "true":
        assert "qt.matmul" not in lowered, f"a {fmt} matmul was left to the reference lowering"
    results = run_vectorized(module, mode in ("openmp", "rows8-openmp"), int8_dot)
    assert len(results) == len(cases)
    for (name, *_), y in zip(cases, results):
        check(f"{fmt} {mode} {name}", y, refs[name])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", BLOCK_FORMATS)
def test_block_formats_match_gguf(fmt, mode):
    qtype = getattr(GGMLQuantizationType, fmt)
    run_block_format(fmt, mode, BLOCK_CASES,
                     lambda rng, shape: quantize(random_weight(rng, shape), qtype),
                     BLOCK_FORMATS.index(fmt) + 11)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", list(SUPERBLOCK_FORMATS))
def test_superblock_formats_match_gguf(fmt, mode):
    run_block_format(fmt, mode, SUPERBLOCK_CASES,
                     lambda rng, shape: random_superblocks(rng, fmt, shape),
                     list(SUPERBLOCK_FORMATS).index(fmt) + 31)


def random_lookup_blocks(rng, fmt, shape):
    """Random bytes of `shape` ([N, K]) weights in a 32-element lookup format (IQ4_NL: finite
    f16 d first; MXFP4: an e8m0 exponent byte around 2^0, and a few at the subnormal end)."""
    qtype = getattr(GGMLQuantizationType, fmt)
    block_bytes = GGML_QUANT_SIZES[qtype][1]
    n, k = shape
    raw = rng.integers(0, 256, (n, k // 32, block_bytes), dtype=np.uint8)
    if fmt == "IQ4_NL":
        d = rng.uniform(0.002, 0.05, (n, k // 32)).astype(np.float16)
        raw[:, :, 0:2] = d.view(np.uint8).reshape(n, k // 32, 2)
    else:
        raw[:, :, 0] = rng.integers(118, 131, (n, k // 32))
        raw[0, :2, 0] = [0, 1]  # ggml_e8m0_to_fp32_half's subnormal branch
    return raw.reshape(n, -1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", ["IQ4_NL", "MXFP4"])
def test_lookup_formats_match_gguf(fmt, mode):
    run_block_format(fmt, mode, BLOCK_CASES,
                     lambda rng, shape: random_lookup_blocks(rng, fmt, shape),
                     ["IQ4_NL", "MXFP4"].index(fmt) + 51)


def test_unknown_dot_target_is_an_error():
    require_kvant_opt()
    module = ("func.func @f(%a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> {\n"
              "  %d = qt.dot_i8 %a, %b : vector<32xi8> -> vector<8xi32>\n"
              "  return %d : vector<8xi32>\n}\n")
    proc = subprocess.run([kvant_opt(), "--qt-lower-int8-ops=target=sse9"],
                          input=module, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "unknown target 'sse9'" in proc.stderr


# (lhs_max, pairs, extreme): extreme pairs hold lhs_max against 127 everywhere, the bound the
# AVX2 lowering's 16-bit runs must respect (43 pairs of 3 * 127 * 2 fit, 44 would not).
DOT_SUM_CASES = [(3, 50, True), (3, 8, False), (2, 44, True), (100, 3, True), (15, 9, False)]


@pytest.mark.parametrize("target", ["generic", "avx2", "avx2-vnni"])
@pytest.mark.parametrize("lhs_max,pairs,extreme", DOT_SUM_CASES,
                         ids=[f"max{m}-{n}{'-extreme' if e else ''}" for m, n, e in DOT_SUM_CASES])
def test_dot_i8_sum_matches_numpy(target, lhs_max, pairs, extreme):
    """qt.dot_i8_sum against NumPy's exact integer sums, on every lowering."""
    require_kvant_opt()
    if target == "avx2" and not has_avx2():
        pytest.skip("the CPU has no AVX2")
    if target == "avx2-vnni" and not has_avx2_vnni():
        pytest.skip("the CPU has no 256-bit VNNI")
    rng = np.random.default_rng(lhs_max * 100 + pairs)
    if extreme:
        lhs = np.full((pairs, 32), lhs_max, np.int8)
        rhs = np.full((pairs, 32), 127, np.int8)
    else:
        lhs = rng.integers(0, lhs_max + 1, (pairs, 32)).astype(np.int8)
        rhs = rng.integers(-127, 128, (pairs, 32)).astype(np.int8)
    ref = (lhs.astype(np.int64) * rhs).reshape(pairs, 8, 4).sum(axis=(0, 2))
    vt = "vector<32xi8>"
    consts = "".join(f"    %l{i} = arith.constant {dense_hex(lhs[i])} : {vt}\n"
                     f"    %r{i} = arith.constant {dense_hex(rhs[i])} : {vt}\n"
                     for i in range(pairs))
    names = lambda p: ", ".join(f"%{p}{i}" for i in range(pairs))  # noqa: E731
    types = ", ".join([vt] * pairs)
    module = f"""module {{
  {PRINT_I32_DECL}
  func.func @main() {{
{consts}    %d = qt.dot_i8_sum {names('l')} x {names('r')} {{lhs_max = {lhs_max}}} : ({types}) x ({types}) -> vector<8xi32>
    %c0 = arith.constant 0 : index
    %m = memref.alloc() : memref<8xi32>
    vector.store %d, %m[%c0] : memref<8xi32>, vector<8xi32>
    %u = memref.cast %m : memref<8xi32> to memref<*xi32>
    call @printMemrefI32(%u) : (memref<*xi32>) -> ()
    memref.dealloc %m : memref<8xi32>
    return
  }}
}}
"""
    llvm_ir = run_opt(module, [f"--qt-lower-int8-ops=target={target}",
                               *vector_cpu_lowering(False)])
    proc = subprocess.run([mlir_runner(), "-e", "main", "-entry-point-result=void",
                           "-shared-libs=" + ",".join(RUNNER_LIBS)],
                          input=llvm_ir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (got,) = parse_memrefs(proc.stdout)
    assert np.array_equal(got, ref), f"{got} != {ref}"


# (name, weight dtype, M, N, K)
FLOAT_CASES = [
    ("f16_m1", "f16", 1, 40, 256),
    ("f16_m3", "f16", 3, 24, 64),
    ("f32_m1", "f32", 1, 17, 128),
    ("f16_k48", "f16", 2, 8, 48),
]


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "openmp"])
def test_float_weights_match_numpy(parallel):
    require_kvant_opt()
    rng = np.random.default_rng(7)
    helpers, body, refs = [], [], []
    maps = ("indexing_maps = [affine_map<(m, n, k) -> (m, k)>, "
            "affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]")
    for name, wdtype, m, n, k in FLOAT_CASES:
        w = rng.standard_normal((n, k)).astype(np.float16 if wdtype == "f16" else np.float32)
        x = rng.standard_normal((m, k)).astype(np.float32)
        acc = rng.standard_normal((m, n)).astype(np.float32)
        xtype, wtype = mlir_tensor_type((m, k), "f32"), mlir_tensor_type((n, k), wdtype)
        ytype, dx = mlir_tensor_type((m, n), "f32"), mlir_tensor_type(("?", k), "f32")
        dy = mlir_tensor_type(("?", n), "f32")
        # Dynamic M through a function boundary, as the model's token dimension.
        helpers.append(
            f"  func.func @{name}(%x: {dx}, %w: {wtype}, %acc: {dy}) -> {dy} {{\n"
            f"    %y = linalg.matmul {maps} ins(%x, %w : {dx}, {wtype})"
            f" outs(%acc : {dy}) -> {dy}\n"
            f"    return %y : {dy}\n  }}\n")
        body.append(
            f"    %{name}_x = arith.constant {dense_hex(x)} : {xtype}\n"
            f"    %{name}_w = arith.constant {dense_hex(w)} : {wtype}\n"
            f"    %{name}_a = arith.constant {dense_hex(acc)} : {ytype}\n"
            f"    %{name}_xd = tensor.cast %{name}_x : {xtype} to {dx}\n"
            f"    %{name}_ad = tensor.cast %{name}_a : {ytype} to {dy}\n"
            f"    %{name}_yd = func.call @{name}(%{name}_xd, %{name}_w, %{name}_ad)"
            f" : ({dx}, {wtype}, {dy}) -> {dy}\n"
            f"    %{name}_y = tensor.cast %{name}_yd : {dy} to {ytype}\n")
        body.append(print_f32_bits(name, f"%{name}_y", (m, n)))
        refs.append(acc.astype(np.float64) + x.astype(np.float64) @ w.astype(np.float64).T)
    module = ("module {\n  " + PRINT_I32_DECL + "\n" + "".join(helpers) +
              "  func.func @main() {\n" + "".join(body) + "    return\n  }\n}\n")
    lowered = run_opt(module, ["--qt-lower-matmul-to-vector"])
    assert "linalg.matmul" not in lowered, "a float matmul was not vectorized"
    results = run_vectorized(module, parallel)
    assert len(results) == len(FLOAT_CASES)
    for (name, *_), y, ref in zip(FLOAT_CASES, results, refs):
        check(name, y, ref)
