"""A simple IQ4_NL quantizer (gguf-py 0.19 only has a dequantizer for IQ4_NL).

Why: kvant lowers IQ4_NL, and its end-to-end test needs IQ4_NL weights without llama.cpp's
`llama-quantize`. gguf-py quantizes the other formats lowered beside it (TQ1_0, TQ2_0, MXFP4).
This is *not* llama.cpp's search (quantize_row_iq4_nl_impl tries several scales with importance
weights); it takes llama.cpp's first guess, d = -max/127 with max the block's value of largest
magnitude (so max lands exactly on the -127 level), picks the nearest level for every value, then
refits d by least squares for those levels. The result is a valid bitstream, slightly less
accurate than llama.cpp's. The packing is the inverse of gguf.quants.IQ4_NL.dequantize_blocks,
and test/python/test_lut_ternary_dequant.py checks the round trip through it.

Block layout (32 elements, 18 bytes): d f16, qs[16]; element j is the low nibble of qs[j] and
element 16 + j the high one; value = d * kvalues_iq4nl[nibble].
"""
from __future__ import annotations

import numpy as np
from gguf import GGMLQuantizationType as QT

BLOCK = 32
KVALUES_IQ4NL = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113],
                         dtype=np.float32)


def _nearest_level(y: np.ndarray) -> np.ndarray:
    """Index of the level of KVALUES_IQ4NL nearest to each value of `y` (in level units)."""
    mids = (KVALUES_IQ4NL[1:] + KVALUES_IQ4NL[:-1]) / 2
    return np.searchsorted(mids, y).astype(np.uint8)


def _iq4_nl_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    idx = np.abs(x).argmax(axis=-1)
    amax = np.take_along_axis(x, idx[:, None], axis=-1)  # signed value of largest magnitude
    d = amax / -127.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = _nearest_level(np.where(d != 0, x / d, 0.0))
        levels = KVALUES_IQ4NL[q]
        # Least-squares d for the chosen levels (never worse than the first guess for them).
        sumq2 = (levels * levels).sum(axis=-1, keepdims=True)
        d = np.where(sumq2 > 0, (x * levels).sum(axis=-1, keepdims=True) / sumq2, 0.0)
    d16 = d.astype(np.float16)
    qs = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([d16.view(np.uint8).reshape(n, 2), qs], axis=1)


_IMPL = {QT.IQ4_NL: (_iq4_nl_blocks, 18)}


def quantize_lut(arr: np.ndarray, qtype: QT) -> np.ndarray:
    """Quantize a float array (last dim a multiple of 32) to uint8 [..., last/32*18]."""
    fn, tsize = _IMPL[qtype]
    arr = np.asarray(arr, dtype=np.float32)
    if arr.shape[-1] % BLOCK:
        raise ValueError(f"row length {arr.shape[-1]} not a multiple of {BLOCK}")
    blocks = arr.reshape(-1, BLOCK)
    out = fn(blocks) if blocks.shape[0] else np.empty((0, tsize), np.uint8)
    return out.reshape(*arr.shape[:-1], arr.shape[-1] // BLOCK * tsize)
