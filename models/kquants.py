"""Simple Q2_K / Q3_K / Q4_K / Q5_K / Q6_K quantizers (gguf-py 0.19 only has dequantizers for
K-quants).

Why: real Llama GGUFs are mostly K-quants, and kvant needs test inputs in those formats
without llama.cpp's `llama-quantize`. These are *not* llama.cpp's error-minimizing searches
(make_qkx2_quants / make_qx_quants / make_q3_quants); they use plain min/max (Q2_K, Q4_K, Q5_K)
and absmax (Q3_K, Q6_K) scales, which is valid bitstream and slightly less accurate. The bit
packing is the inverse of gguf.quants.Q*_K.dequantize_blocks, and the tests check the round
trip through them.

Block layouts (QK_K = 256 elements per super-block):
  Q2_K (84 B): scales[16] (4-bit scale | 4-bit min << 4), qs[64] 2-bit quants, d f16, dmin f16.
      value = d*sc[j]*q - dmin*m[j], q in 0..3, j = sub-block of 16.
  Q3_K (110 B): hmask[32] high bits, qs[64] low 2 bits, scales[12] (16 x 6-bit), d f16.
      value = d*(sc[j]-32)*(q-4), q in 0..7, j = sub-block of 16.
  Q4_K (144 B): d f16, dmin f16, scales[12] (8 x 6-bit scale + 8 x 6-bit min), qs[128] nibbles.
      value = d*sc[j]*q - dmin*m[j], q in 0..15, j = sub-block of 32.
  Q5_K (176 B): Q4_K's header, qh[32] fifth bits, qs[128] nibbles; q in 0..31.
  Q6_K (210 B): ql[128] low nibbles, qh[64] 2-bit highs, scales[16] int8, d f16.
      value = d*scales[j]*(q - 32), q in 0..63, j = sub-block of 16.
"""
from __future__ import annotations

import numpy as np
from gguf import GGMLQuantizationType as QT

QK_K = 256


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16)


def _f16_bytes(v: np.ndarray) -> np.ndarray:
    return v.view(np.uint8).reshape(v.shape[0], 2)


def _min_max_scales(sub: np.ndarray, qmax: int, scale_max: int):
    """Per sub-block scale and min (value = d*sc*q - dmin*m) from the sub-block's min/max.

    sub: (n, subs, size) floats. Returns d, dmin (f16, (n,)), sc, m (uint8, (n, subs)) and
    q (uint8, (n, subs, size)) in 0..qmax, with sc, m in 0..scale_max."""
    lo = np.minimum(sub.min(axis=-1), 0.0)
    hi = np.maximum(sub.max(axis=-1), 0.0)
    scale = (hi - lo) / qmax
    mins = -lo  # >= 0
    d = _f16(scale.max(axis=-1) / scale_max)
    dmin = _f16(mins.max(axis=-1) / scale_max)
    d32, dmin32 = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(d32 > 0, np.rint(scale / d32), 0).clip(0, scale_max).astype(np.uint8)
        m = np.where(dmin32 > 0, np.rint(mins / dmin32), 0).clip(0, scale_max).astype(np.uint8)
        s = (d32 * sc)[..., None]
        off = (dmin32 * m)[..., None]
        q = np.where(s > 0, np.rint((sub + off) / s), 0).clip(0, qmax).astype(np.uint8)
    return d, dmin, sc, m, q


def _absmax_scales(sub: np.ndarray, qmin: int, scale_min: int):
    """Per sub-block signed scale (value = d*sc*q) with the sub-block's largest magnitude at
    q = qmin exactly. sub: (n, subs, size). Returns d (f16, (n,)), sc (int8, (n, subs)) in
    scale_min..-scale_min-1 and q (int16, (n, subs, size)) in qmin..-qmin-1."""
    idx = np.abs(sub).argmax(axis=-1)
    smax = np.take_along_axis(sub, idx[..., None], axis=-1)[..., 0]  # signed value of largest magnitude
    scale = smax / qmin  # so that smax -> q = qmin exactly
    big = np.take_along_axis(scale, np.abs(scale).argmax(axis=-1)[:, None], axis=-1)  # (n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        iscale = np.where(big != 0, scale_min / big, 0.0)
        sc = np.rint(iscale * scale).clip(scale_min, -scale_min - 1).astype(np.int8)
        d = _f16(np.where(iscale != 0, 1.0 / iscale, 0.0)[:, 0])
        s = (d.astype(np.float32)[:, None] * sc)[..., None]
        q = np.where(s != 0, np.rint(sub / s), 0).clip(qmin, -qmin - 1).astype(np.int16)
    return d, sc, q


def _pack_scale_min_k4(sc: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Eight 6-bit scales and mins into the 12 bytes llama.cpp's get_scale_min_k4 reads."""
    packed = np.empty((sc.shape[0], 12), dtype=np.uint8)
    packed[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    packed[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
    packed[:, 8:12] = (sc[:, 4:8] & 0x0F) | ((m[:, 4:8] & 0x0F) << 4)
    return packed


def _nibbles_k(q: np.ndarray) -> np.ndarray:
    """(n, 8, 32) values < 16 -> qs[128]: sub-blocks 2c and 2c+1 share bytes 32c.. (low, high)."""
    q = q.reshape(q.shape[0], 4, 2, 32)
    return (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(q.shape[0], 128)


def _crumbs_k(q: np.ndarray) -> np.ndarray:
    """(n, 256) values < 4 -> 64 bytes: element 128h + 32s + l is bits 2s of byte 32h + l."""
    q = q.reshape(q.shape[0], 2, 4, 32)
    return (q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)).reshape(q.shape[0], 64)


def _q2_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    d, dmin, sc, m, q = _min_max_scales(x.reshape(n, 16, 16), 3, 15)
    scales = sc | (m << 4)
    return np.concatenate([scales, _crumbs_k(q.reshape(n, 256)), _f16_bytes(d), _f16_bytes(dmin)], axis=1)


def _q3_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    d, sc, q = _absmax_scales(x.reshape(n, 16, 16), -4, -32)
    u = (sc.astype(np.int16) + 32).astype(np.uint8)  # 6-bit scales, 0..63
    scales = np.empty((n, 12), dtype=np.uint8)
    # scale s: low nibble is nibble s // 8 of byte s % 8, high 2 bits are bits 2 * (s // 4)
    # of byte 8 + s % 4.
    scales[:, 0:8] = (u[:, 0:8] & 0x0F) | ((u[:, 8:16] & 0x0F) << 4)
    hi = (u >> 4).reshape(n, 4, 4)
    scales[:, 8:12] = hi[:, 0] | (hi[:, 1] << 2) | (hi[:, 2] << 4) | (hi[:, 3] << 6)
    u3 = (q + 4).astype(np.uint8).reshape(n, 256)  # 0..7
    qs = _crumbs_k(u3 & 3)
    # element 32b + l: bit b of hmask[l] (set: no offset of -4).
    high = (u3 >> 2).reshape(n, 8, 32)
    hmask = np.zeros((n, 32), dtype=np.uint8)
    for b in range(8):
        hmask |= high[:, b] << b
    return np.concatenate([hmask, qs, scales, _f16_bytes(d)], axis=1)


def _q4_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    d, dmin, sc, m, q = _min_max_scales(x.reshape(n, 8, 32), 15, 63)
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_scale_min_k4(sc, m), _nibbles_k(q)],
                          axis=1)


def _q5_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    d, dmin, sc, m, q = _min_max_scales(x.reshape(n, 8, 32), 31, 63)
    # element 32j + l: bit j of qh[l].
    qh = np.zeros((n, 32), dtype=np.uint8)
    for j in range(8):
        qh |= (q[:, j] >> 4) << j
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_scale_min_k4(sc, m), qh,
                           _nibbles_k(q & 0x0F)], axis=1)


def _q6_k_blocks(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    d, sc, q = _absmax_scales(x.reshape(n, 16, 16), -32, -128)
    q = (q + 32).astype(np.uint8).reshape(n, 2, 128)  # two halves of 128
    low, high = q & 0x0F, q >> 4
    ql = (low[:, :, 0:64] | (low[:, :, 64:128] << 4)).reshape(n, 128)
    qh = _crumbs_k(high.reshape(n, 256))
    return np.concatenate([ql, qh, sc.view(np.uint8), _f16_bytes(d)], axis=1)


_IMPL = {QT.Q2_K: (_q2_k_blocks, 84), QT.Q3_K: (_q3_k_blocks, 110), QT.Q4_K: (_q4_k_blocks, 144),
         QT.Q5_K: (_q5_k_blocks, 176), QT.Q6_K: (_q6_k_blocks, 210)}
TYPES = tuple(_IMPL)


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
