"""Simple Q4_K / Q6_K quantizers (gguf-py 0.19 only has dequantizers for K-quants).

Why: real Llama GGUFs are mostly K-quants, and kvant needs test inputs in those formats
without llama.cpp's `llama-quantize`. These are *not* llama.cpp's error-minimizing searches
(make_qkx2_quants / make_qx_quants); they use plain min/max (Q4_K) and absmax (Q6_K) scales,
which is valid bitstream and slightly less accurate. The bit packing is the inverse of
gguf.quants.Q4_K/Q6_K.dequantize_blocks, and the tests check the round trip through them.

Block layouts (QK_K = 256 elements per super-block):
  Q4_K (144 B): d f16, dmin f16, scales[12] (8 x 6-bit scale + 8 x 6-bit min), qs[128] nibbles.
      value = d*sc[j]*q - dmin*m[j], q in 0..15, j = sub-block of 32.
  Q6_K (210 B): ql[128] low nibbles, qh[64] 2-bit highs, scales[16] int8, d f16.
      value = d*scales[j]*(q - 32), q in 0..63, j = sub-block of 16.
"""
from __future__ import annotations

import numpy as np
from gguf import GGMLQuantizationType as QT

QK_K = 256


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16)


def _q4_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    sub = x.reshape(n, 8, 32)
    lo = np.minimum(sub.min(axis=-1), 0.0)
    hi = np.maximum(sub.max(axis=-1), 0.0)
    scale = (hi - lo) / 15.0  # (n, 8)
    mins = -lo  # >= 0
    d = _f16(scale.max(axis=-1) / 63.0)
    dmin = _f16(mins.max(axis=-1) / 63.0)
    d32, dmin32 = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(d32 > 0, np.rint(scale / d32), 0).clip(0, 63).astype(np.uint8)
        m = np.where(dmin32 > 0, np.rint(mins / dmin32), 0).clip(0, 63).astype(np.uint8)
        s = (d32 * sc)[..., None]
        off = (dmin32 * m)[..., None]
        q = np.where(s > 0, np.rint((sub + off) / s), 0).clip(0, 15).astype(np.uint8)  # (n, 8, 32)

    packed = np.empty((n, 12), dtype=np.uint8)
    packed[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    packed[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
    packed[:, 8:12] = (sc[:, 4:8] & 0x0F) | ((m[:, 4:8] & 0x0F) << 4)
    q = q.reshape(n, 4, 2, 32)
    qs = (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(n, 128)
    return np.concatenate([d.view(np.uint8).reshape(n, 2), dmin.view(np.uint8).reshape(n, 2), packed, qs], axis=1)


def _q6_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    sub = x.reshape(n, 16, 16)
    idx = np.abs(sub).argmax(axis=-1)
    smax = np.take_along_axis(sub, idx[..., None], axis=-1)[..., 0]  # signed value of largest magnitude
    scale = smax / -32.0  # so that smax -> q = -32 exactly
    big = np.take_along_axis(scale, np.abs(scale).argmax(axis=-1)[:, None], axis=-1)  # (n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        iscale = np.where(big != 0, -128.0 / big, 0.0)
        sc = np.rint(iscale * scale).clip(-128, 127).astype(np.int8)
        d = _f16(np.where(iscale != 0, 1.0 / iscale, 0.0)[:, 0])
        s = (d.astype(np.float32)[:, None] * sc)[..., None]
        q = np.where(s != 0, np.rint(sub / s), 0).clip(-32, 31).astype(np.int16) + 32
    q = q.astype(np.uint8).reshape(n, 2, 128)  # two halves of 128
    low, high = q & 0x0F, q >> 4
    ql = (low[:, :, 0:64] | (low[:, :, 64:128] << 4)).reshape(n, 128)
    h = high.reshape(n, 2, 4, 32)
    qh = (h[:, :, 0] | (h[:, :, 1] << 2) | (h[:, :, 2] << 4) | (h[:, :, 3] << 6)).reshape(n, 64)
    return np.concatenate([ql, qh, sc.view(np.uint8), d.view(np.uint8).reshape(n, 2)], axis=1)


_IMPL = {QT.Q4_K: (_q4_k_blocks, 144), QT.Q6_K: (_q6_k_blocks, 210)}


def quantize_k(arr: np.ndarray, qtype: QT) -> np.ndarray:
    """Quantize float array (last dim multiple of 256) to uint8 of shape [..., last/256*bytes]."""
    fn, tsize = _IMPL[qtype]
    arr = np.asarray(arr, dtype=np.float32)
    if arr.shape[-1] % QK_K:
        raise ValueError(f"row length {arr.shape[-1]} not a multiple of {QK_K}")
    rows = arr.reshape(-1, QK_K)
    out = np.concatenate([fn(c) for c in np.array_split(rows, max(1, rows.shape[0] // 4096))], axis=0) \
        if rows.shape[0] else np.empty((0, tsize), np.uint8)
    return out.reshape(*arr.shape[:-1], arr.shape[-1] // QK_K * tsize)
