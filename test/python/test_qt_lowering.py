"""Numeric test of qt-lower-to-linalg against the gguf package's own dequantizer.

For each GGUF block format, random float weights are quantized with `gguf.quants.quantize`
(the raw block bytes llama.cpp stores); one MLIR module per format embeds those bytes
(`arith.constant` i8 -> `qt.from_bytes`) and float32 activations, and computes
`qt.dequantize` and `qt.matmul` (M = 1, M = 3, a batch dimension, and a dynamic M through a
function boundary). It is lowered with `--qt-lower-to-linalg` plus the reference CPU lowering,
run with mlir-runner, and its results are printed bit-exactly (f32 bits via printMemrefI32).

References and tolerances:
  dequantize: `gguf.quants.dequantize` of the same bytes. Both compute one f32 operation from
    an f16 scale (and f16 min) and a small integer, so they agree exactly; asserted:
    max|y - ref| <= 1e-6 * max|ref|.
  matmul: `x @ deq.T` in float64 from the same dequantized weights; kvant accumulates in f32,
    so the error is f32 rounding of a K-term sum; asserted: max|y - ref| <= 1e-4 * max|ref|.
"""
import numpy as np
import pytest
from gguf import GGMLQuantizationType
from gguf.quants import dequantize, quantize

from kvant_testing import (parse_f32_bits, qt_cases_module, require_kvant_opt, run_on_cpu)

FORMATS = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]
DEQUANT_RTOL = 1e-6
MATMUL_RTOL = 1e-4

# (name, weight shape, x shape or None for a dequantization, dynamic M)
CASES = [
    ("deq_2d", (16, 128), None, False),
    ("deq_3d", (2, 4, 64), None, False),
    ("mm_m1", (8, 64), (1, 64), False),
    ("mm_m3", (40, 256), (3, 256), False),
    ("mm_batch", (40, 256), (2, 3, 256), False),
    ("mm_dyn", (8, 64), (3, 64), True),
]


def random_weight(rng, shape):
    """Normal values with a per-row magnitude spread, one all-zero block, one shifted block."""
    w = rng.standard_normal(shape) * rng.uniform(0.05, 3.0, shape[:-1] + (1,))
    w = w.reshape(-1, shape[-1])
    w[0, :32] = 0.0
    w[-1, -32:] += 2.5  # all-positive block: exercises the min of q4_1/q5_1
    return w.reshape(shape).astype(np.float32)


@pytest.mark.parametrize("fmt", FORMATS)
def test_lowering_matches_gguf(fmt):
    require_kvant_opt()
    qtype = getattr(GGMLQuantizationType, fmt)
    rng = np.random.default_rng(FORMATS.index(fmt) + 1)
    inputs, refs = [], {}
    for name, wshape, xshape, dynamic in CASES:
        raw = quantize(random_weight(rng, wshape), qtype)
        deq = dequantize(raw, qtype).astype(np.float32)
        assert deq.shape == wshape
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
        rel = np.max(np.abs(y.astype(np.float64) - ref)) / np.max(np.abs(ref))
        rtol = DEQUANT_RTOL if xshape is None else MATMUL_RTOL
        print(f"{fmt} {name}: max relative error {rel:.3g}")
        assert rel <= rtol, f"{fmt} {name}: max|y - ref| / max|ref| = {rel:.3g} > {rtol}"
