"""Numeric test of qt-lower-to-linalg for the lookup-table and ternary GGUF formats (IQ4_NL,
MXFP4, TQ1_0, TQ2_0) against the gguf package's own dequantizer.

For each format one MLIR module embeds raw block bytes (`arith.constant` i8 -> `qt.from_bytes`)
and f32 activations, computes `qt.dequantize` and `qt.matmul` (M = 1, M = 3, a batch dimension,
a dynamic M through a function boundary), is lowered with `--qt-lower-to-linalg` plus the
reference CPU lowering, run with mlir-runner, and prints its results bit-exactly.

Inputs: random bytes (every nibble, crumb and base-3 byte value, including the ones a quantizer
never writes, e.g. TQ2_0's q = 3 or TQ1_0 bytes >= 243) with the block's scale replaced by a
finite f16 of random sign and magnitude in [2^-10, 2^4); MXFP4's exponent byte takes every value
0..255 in the dequantization cases (subnormal scales for e < 2, infinities for e >= 253) and
110..140 in the matmuls. Weights quantized from floats (gguf.quants.quantize, or
models/lutquants.py for IQ4_NL) are used too.

References and tolerances:
  dequantize: `gguf.quants.dequantize` of the same bytes. Both compute one f32 product of the
    scale (an f16 widened, or the e8m0 power of two) and a small integer level, so they agree
    bit for bit: asserted exactly (the f32 bit patterns are equal, signed zeros included).
  matmul: `x @ deq.T` in float64 from the same gguf-dequantized weights; kvant accumulates
    K <= 512 products in f32 in order, so the error is f32 rounding of the sum: asserted
    max|y - ref| <= 1e-5 * max|ref| (observed ~1e-7).
"""
import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
from gguf.quants import dequantize, quantize

from kvant_testing import (parse_f32_bits, qt_cases_module, require_kvant_opt, run_on_cpu)
from lutquants import quantize_lut

FORMATS = ["IQ4_NL", "MXFP4", "TQ1_0", "TQ2_0"]
MATMUL_RTOL = 1e-5

# Where each format keeps its scale: (byte offset, "f16" or "e8m0").
SCALE = {"IQ4_NL": (0, "f16"), "MXFP4": (0, "e8m0"), "TQ1_0": (52, "f16"), "TQ2_0": (64, "f16")}

# (name, weight shape in blocks (rows..., blocks per row), x shape with K=None or None,
#  dynamic M, how the weight is made: "random" bytes or "quantized" floats)
CASES = [
    ("deq_random", (8, 32), None, False, "random"),
    ("deq_3d", (2, 3, 1), None, False, "random"),
    ("deq_quantized", (4, 2), None, False, "quantized"),
    ("mm_m1", (8, 2), (1, None), False, "random"),
    ("mm_m3", (24, 2), (3, None), False, "quantized"),
    ("mm_batch", (12, 1), (2, 3, None), False, "quantized"),
    ("mm_dyn", (8, 1), (3, None), True, "random"),
]


def qtype(fmt):
    return getattr(GGMLQuantizationType, fmt)


def random_blocks(rng, fmt, nblocks, exponents):
    """`nblocks` blocks of random bytes with a sane scale; MXFP4 exponents from `exponents`."""
    size = GGML_QUANT_SIZES[qtype(fmt)][1]
    raw = rng.integers(0, 256, (nblocks, size), dtype=np.uint8)
    offset, kind = SCALE[fmt]
    if kind == "e8m0":
        raw[:, offset] = exponents(nblocks)
    else:
        sign = rng.choice([-1.0, 1.0], nblocks)
        d = (sign * 2.0 ** rng.uniform(-10, 4, nblocks)).astype(np.float16)
        raw[:, offset:offset + 2] = d.view(np.uint8).reshape(nblocks, 2)
    return raw


def make_weight(rng, fmt, shape_in_blocks, how, for_matmul):
    """Raw bytes [rows..., row bytes] and the logical shape [rows..., K]."""
    block, size = GGML_QUANT_SIZES[qtype(fmt)]
    *rows, blocks = shape_in_blocks
    shape = (*rows, blocks * block)
    if how == "quantized":
        w = rng.standard_normal(shape) * rng.uniform(0.05, 3.0, (*rows, 1))
        w = w.astype(np.float32)
        raw = quantize_lut(w, qtype(fmt)) if fmt == "IQ4_NL" else quantize(w, qtype(fmt))
        return raw, shape
    nblocks = int(np.prod(shape_in_blocks))
    if for_matmul:
        exponents = lambda n: rng.integers(110, 141, n)  # noqa: E731
    else:
        # Every exponent once when there are 256 blocks or more, else the edges first.
        def exponents(n):
            e = rng.integers(0, 256, n)
            if n >= 256:
                e[:256] = rng.permutation(256)
            else:
                edges = [0, 1, 2, 127, 252, 253, 254, 255][:n]
                e[:len(edges)] = edges
            return e
    raw = random_blocks(rng, fmt, nblocks, exponents)
    return raw.reshape(*rows, blocks * size), shape


@pytest.mark.parametrize("fmt", FORMATS)
def test_lowering_matches_gguf(fmt):
    require_kvant_opt()
    rng = np.random.default_rng(100 + FORMATS.index(fmt))
    inputs, refs = [], {}
    for name, blocks, xshape, dynamic, how in CASES:
        raw, shape = make_weight(rng, fmt, blocks, how, for_matmul=xshape is not None)
        with np.errstate(over="ignore"):  # MXFP4's largest exponents overflow to inf
            deq = dequantize(raw, qtype(fmt)).astype(np.float32)
        assert deq.shape == shape
        x = None
        if xshape is None:
            refs[name] = deq
        else:
            x = rng.standard_normal(xshape[:-1] + (shape[-1],)).astype(np.float32)
            refs[name] = x.astype(np.float64) @ deq.astype(np.float64).T
        inputs.append((name, raw, shape, x, dynamic))

    results = parse_f32_bits(run_on_cpu(qt_cases_module(fmt, inputs), ["--qt-lower-to-linalg"]))
    assert len(results) == len(CASES)
    for (name, _, xshape, _, _), y in zip(CASES, results):
        ref = refs[name]
        assert y.shape == ref.shape, name
        if xshape is None:
            bad = np.flatnonzero(y.view(np.uint32) != ref.view(np.uint32))
            assert bad.size == 0, (f"{fmt} {name}: {bad.size} elements differ, first at flat "
                                   f"index {bad[0]}: {y.flat[bad[0]]!r} != {ref.flat[bad[0]]!r}")
            continue
        rel = np.max(np.abs(y.astype(np.float64) - ref)) / np.max(np.abs(ref))
        print(f"{fmt} {name}: max relative error {rel:.3g}")
        assert rel <= MATMUL_RTOL, f"{fmt} {name}: max|y - ref| / max|ref| = {rel:.3g} > {MATMUL_RTOL}"


def test_mxfp4_cases_cover_every_scale_branch():
    """The random MXFP4 dequantization bytes hold subnormal, normal and overflowing scales."""
    rng = np.random.default_rng(100 + FORMATS.index("MXFP4"))
    raw, _ = make_weight(rng, "MXFP4", CASES[0][1], "random", for_matmul=False)
    e = raw.reshape(-1, 17)[:, 0]
    assert set(e.tolist()) == set(range(256))


def test_iq4_nl_quantizer_round_trip():
    """models/lutquants.py writes IQ4_NL blocks that gguf's dequantizer reads back closely.

    Bound: the widest gap of kvalues_iq4nl is 24 (89 -> 113) of 127 levels, so the nearest
    level is within 12/127 * max|x| of each value for d = max/-127, except a value of the
    opposite sign near +max|x|, which clips to 113 (14/127 = 0.11); the least-squares refit and
    the f16 d move that a little: asserted |err| <= 0.15 * max|x| per block (observed 0.12) and
    RMS error <= 0.1 * RMS(x) (observed 0.08). Exact zeros stay zeros and every level index is used."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((64, 256)) * rng.uniform(0.01, 1.0, (64, 1))).astype(np.float32)
    x[0, :32] = 0.0
    x[1, 40] = 9.0  # a positive outlier: the largest magnitude maps to -127 through d < 0
    raw = quantize_lut(x, GGMLQuantizationType.IQ4_NL)
    assert raw.shape == (64, 256 // 32 * 18) and raw.dtype == np.uint8
    y = dequantize(raw, GGMLQuantizationType.IQ4_NL)
    err = np.abs(y - x).reshape(-1, 32)
    amax = np.abs(x).reshape(-1, 32).max(axis=1, keepdims=True)
    assert np.all(err <= 0.15 * amax)
    assert np.sqrt((err ** 2).mean()) <= 0.1 * np.sqrt((x ** 2).mean())
    assert np.all(y[0, :32] == 0.0)
    assert abs(y[1, 40] - 9.0) <= 0.15 * 9.0
    nibbles = raw.reshape(-1, 18)[:, 2:]
    assert set(np.concatenate([nibbles & 15, nibbles >> 4]).ravel().tolist()) == set(range(16))
