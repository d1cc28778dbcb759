"""Numeric test of qt-lower-to-linalg's k-quant decoders (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against
the gguf package's dequantizers.

The weights are random bytes: every bit pattern of the quants and of the packed sub-block scales
and mins occurs, which a quantizer's output would not guarantee (e.g. the 6-bit scales'
top bits of Q4_K/Q5_K or Q3_K's high-bit mask). Only the f16 super-block factors (d, and dmin
where the format has one) are overwritten with finite values of moderate size, either sign. One
MLIR module per format embeds the bytes (`arith.constant` i8 -> `qt.from_bytes`) and computes
`qt.dequantize` (rank 2 and rank 3) and `qt.matmul` (M = 1, and M = 3 through a dynamic M); it is
lowered with `--qt-lower-to-linalg` plus the reference CPU lowering, run with mlir-runner, and its
results are printed bit-exactly.

References and tolerances:
  dequantize: `gguf.quants.dequantize` of the same bytes, which computes in float32 with the
    operations of llama.cpp's dequantize_row_q*_K in the same order (e.g. Q4_K: d*sc and
    dmin*m first, then (d*sc)*q - dmin*m, no fused multiply-add); kvant's decoders do the same
    float32 operations, so the results must be bit-identical (0 ulp).
  matmul: `x @ deq.T` in float64 from gguf's dequantized weights; kvant decodes the same values
    and accumulates in f32, so the error is f32 rounding of a K-term sum; asserted:
    max|y - ref| <= 1e-5 * max|ref|.
"""
import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
from gguf.quants import dequantize

from kvant_testing import (parse_f32_bits, qt_cases_module, require_kvant_opt, run_on_cpu)

MATMUL_RTOL = 1e-5

# Byte offsets of the f16 super-block factors in each format's block (llama.cpp's block_q*_K).
F16_FIELDS = {
    "Q2_K": (80, 82),  # d, dmin after scales[16], qs[64]
    "Q3_K": (108,),  # d after hmask[32], qs[64], scales[12]
    "Q4_K": (0, 2),  # d, dmin first
    "Q5_K": (0, 2),
    "Q6_K": (208,),  # d after ql[128], qh[64], scales[16]
}
FORMATS = list(F16_FIELDS)

# (name, weight shape, x shape or None for a dequantization, dynamic M)
CASES = [
    ("deq_2d", (4, 512), None, False),
    ("deq_3d", (2, 3, 256), None, False),
    ("mm_m1", (8, 512), (1, 512), False),
    ("mm_dyn", (16, 256), (3, 256), True),
]


def random_blocks(rng, fmt, shape):
    """Random raw bytes of a `fmt` tensor of `shape` ([..., rows, row bytes]) whose f16 factors
    are finite: magnitudes 2^-12..2 (normal f16) of either sign, and a few zeros."""
    block, block_bytes = GGML_QUANT_SIZES[getattr(GGMLQuantizationType, fmt)]
    blocks = int(np.prod(shape)) // block
    raw = rng.integers(0, 256, (blocks, block_bytes), dtype=np.uint8)
    for offset in F16_FIELDS[fmt]:
        magnitude = np.exp2(rng.uniform(-12, 1, blocks))
        value = (magnitude * rng.choice([-1.0, 1.0], blocks)).astype(np.float16)
        value[rng.random(blocks) < 0.05] = 0
        raw[:, offset:offset + 2] = value.view(np.uint8).reshape(blocks, 2)
    return raw.reshape(*shape[:-1], shape[-1] // block * block_bytes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_kquant_lowering_matches_gguf(fmt):
    require_kvant_opt()
    qtype = getattr(GGMLQuantizationType, fmt)
    rng = np.random.default_rng(100 + FORMATS.index(fmt))
    inputs, refs = [], {}
    for name, wshape, xshape, dynamic in CASES:
        raw = random_blocks(rng, fmt, wshape)
        deq = dequantize(raw, qtype)
        assert deq.dtype == np.float32 and deq.shape == wshape and np.all(np.isfinite(deq))
        if xshape is None:
            inputs.append((name, raw, wshape, None, dynamic))
            refs[name] = deq
        else:
            x = rng.standard_normal(xshape).astype(np.float32)
            inputs.append((name, raw, wshape, x, dynamic))
            refs[name] = x.astype(np.float64) @ deq.astype(np.float64).T

    results = parse_f32_bits(run_on_cpu(qt_cases_module(fmt, inputs), ["--qt-lower-to-linalg"]))
    assert len(results) == len(CASES)
    for (name, _, xshape, _), y in zip(CASES, results):
        ref = refs[name]
        assert y.shape == ref.shape, name
        if xshape is None:
            diff = np.flatnonzero(y.view(np.uint32) != ref.view(np.uint32))
            assert diff.size == 0, (f"{fmt} {name}: {diff.size} of {y.size} elements differ, "
                                    f"first at flat index {diff[0]}: kvant "
                                    f"{y.flat[diff[0]]!r}, gguf {ref.flat[diff[0]]!r}")
            continue
        rel = np.max(np.abs(y.astype(np.float64) - ref)) / np.max(np.abs(ref))
        print(f"{fmt} {name}: max relative error {rel:.3g}")
        assert rel <= MATMUL_RTOL, f"{fmt} {name}: max|y - ref| / max|ref| = {rel:.3g}"
