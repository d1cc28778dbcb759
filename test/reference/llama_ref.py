#!/usr/bin/env python3
"""Independent NumPy reference for Llama-family GGUF models (llama / mistral-as-llama / qwen2).

Why: kvant's compiled CPU pipeline needs an oracle that shares nothing with its own loader
or with models/gguf_llama_writer.py. This file only uses gguf.GGUFReader (parse) and
gguf.quants.dequantize (decode blocks), and implements the graph the way llama.cpp does:

    x = token_embd[tokens]
    per layer:  h = rmsnorm(x) * attn_norm
                q,k,v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv); rope(q), rope(k)
                x += softmax(q k^T / sqrt(hd) + causal) v  Wo^T      (GQA: q head h uses kv head h // (H/KVH))
                h = rmsnorm(x) * ffn_norm
                x += (silu(h Wg^T) * (h Wu^T)) Wd^T
    logits = (rmsnorm(x) * output_norm) Wout^T        (Wout = token_embd when output.weight is absent)

rope: "normal" (general.architecture == llama) rotates (x[2i], x[2i+1]); "neox" (qwen2)
rotates (x[i], x[i + n_rot/2]); theta_i = pos * base^(-2i/n_rot); dims >= n_rot pass through.

Precision: weights are dequantized exactly (the file's values), then all math runs in float64
by default (`dtype=np.float32` is available for big models to halve memory). Logits are
returned in that dtype. All weights are held dequantized: 8 (f64) or 4 (f32) bytes per
parameter plus the mmapped file (a Llama-3-8B-shaped Q8_0 file in f32 peaked at ~46 GB RSS).

`int8_activations=True` mirrors kvant-compile's int8-dot mode (and llama.cpp's vec_dot with
q8 activations): before each matmul with a weight of a format in INT8_DOT_TYPES, the activation
row is quantized per block of 32 (256 for TQ1_0, TQ2_0 and the k-quants, as llama.cpp's q8_K) in float32 (d = amax/127,
q = roundeven(x * 127/amax)) and replaced by q * d.

Validated against llama.cpp (test/reference/compare_llamacpp.py) on random models: max |diff|
~2e-6 (tiny, F32) and 6.5e-6 (TinyLlama-1.1B shape, F32) with llama.cpp's KV cache in F32.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

# Weight formats whose matmuls kvant computes with int8 activations (qt-lower-matmul-to-vector's
# group decoders).
INT8_DOT_TYPES = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                  "Q6_K", "TQ1_0", "TQ2_0", "IQ4_NL", "MXFP4"}


# Activation blocks: 256 (llama.cpp's q8_K) for formats whose 256-element blocks have one scale
# (times small integer scales per sub-block).
ACTIVATION_BLOCK = {"TQ1_0": 256, "TQ2_0": 256, "Q2_K": 256, "Q3_K": 256, "Q4_K": 256, "Q5_K": 256,
                    "Q6_K": 256}


def quantize_activations(x, block=32):
    """Rows of x quantized per `block` as q8_0/q8_K (float32 scale math), then dequantized."""
    shape = x.shape
    blocks = np.asarray(x, dtype=np.float32).reshape(-1, block)
    amax = np.max(np.abs(blocks), axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        inverse = np.where(amax != 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint(blocks * inverse)
    d = (amax / np.float32(127)).astype(np.float32)
    return (q.astype(np.float64) * d.astype(np.float64)).reshape(shape).astype(x.dtype)


NEOX_ARCHES = {"qwen2", "qwen2moe", "qwen3", "phi3", "gemma", "gemma2", "stablelm", "gptneox"}


class LlamaReference:
    def __init__(self, path, dtype=np.float64, int8_activations=False, kv_dtype=None):
        self.dtype = np.dtype(dtype)
        self.int8_activations = int8_activations
        # A narrower KV cache (np.float16): keys and values are rounded to it when stored.
        self.kv_dtype = None if kv_dtype is None else np.dtype(kv_dtype)
        r = GGUFReader(path)
        self.meta = {f.name: f.contents() for f in r.fields.values() if not f.name.startswith("tokenizer.ggml.")}
        a = self.arch = self.meta["general.architecture"]
        self.dim = int(self.meta[f"{a}.embedding_length"])
        self.n_layers = int(self.meta[f"{a}.block_count"])
        self.n_heads = int(self.meta[f"{a}.attention.head_count"])
        self.n_kv_heads = int(self.meta.get(f"{a}.attention.head_count_kv", self.n_heads))
        self.head_dim = self.dim // self.n_heads
        self.n_rot = int(self.meta.get(f"{a}.rope.dimension_count", self.head_dim))
        self.rope_base = float(self.meta.get(f"{a}.rope.freq_base", 10000.0))
        self.eps = float(self.meta[f"{a}.attention.layer_norm_rms_epsilon"])
        self.neox = a in NEOX_ARCHES
        self.tensor_types = {t.name: t.tensor_type for t in r.tensors}
        self.w = {}
        for t in r.tensors:
            arr = dequantize(t.data, t.tensor_type)
            # GGUF ne = [ne0 (innermost), ne1]; numpy shape is reversed: [ne1, ne0] = [out, in]
            expect = tuple(int(d) for d in reversed(t.shape.tolist()))
            assert arr.shape == expect, (t.name, arr.shape, expect)
            self.w[t.name] = np.asarray(arr, dtype=self.dtype)
        if "output.weight" not in self.w:
            self.w["output.weight"] = self.w["token_embd.weight"]  # tied embeddings
            self.tensor_types["output.weight"] = self.tensor_types["token_embd.weight"]
        self.vocab_size = self.w["token_embd.weight"].shape[0]
        self.reset()

    # ---------------------------------------------------------------- building blocks
    def _rmsnorm(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def _rope(self, x, positions):
        """x: [T, heads, hd]; positions: [T]. Returns rotated copy."""
        n = self.n_rot
        inv = self.rope_base ** (-np.arange(0, n, 2, dtype=np.float64) / n)  # [n/2]
        ang = np.asarray(positions, dtype=np.float64)[:, None] * inv[None, :]  # [T, n/2]
        cos = np.cos(ang)[:, None, :].astype(self.dtype)
        sin = np.sin(ang)[:, None, :].astype(self.dtype)
        out = x.copy()
        if self.neox:
            a, b = x[..., : n // 2], x[..., n // 2 : n]
            out[..., : n // 2] = a * cos - b * sin
            out[..., n // 2 : n] = a * sin + b * cos
        else:
            a, b = x[..., 0:n:2], x[..., 1:n:2]
            out[..., 0:n:2] = a * cos - b * sin
            out[..., 1:n:2] = a * sin + b * cos
        return out

    def _matmul(self, h, name):
        """h @ W^T for the weight `name`, with int8 activations where kvant uses them."""
        kind = self.tensor_types[name].name
        if self.int8_activations and kind in INT8_DOT_TYPES:
            h = quantize_activations(h, ACTIVATION_BLOCK.get(kind, 32))
        return h @ self.w[name].T

    def _proj(self, h, name):
        y = self._matmul(h, name + ".weight")
        if name + ".bias" in self.w:
            y = y + self.w[name + ".bias"]
        return y

    def _qkv(self, i, x, positions):
        T, hd = x.shape[0], self.head_dim
        h = self._rmsnorm(x, self.w[f"blk.{i}.attn_norm.weight"])
        q = self._proj(h, f"blk.{i}.attn_q").reshape(T, self.n_heads, hd)
        k = self._proj(h, f"blk.{i}.attn_k").reshape(T, self.n_kv_heads, hd)
        v = self._proj(h, f"blk.{i}.attn_v").reshape(T, self.n_kv_heads, hd)
        k, v = self._rope(k, positions), v
        if self.kv_dtype is not None:
            k = k.astype(self.kv_dtype).astype(self.dtype)
            v = v.astype(self.kv_dtype).astype(self.dtype)
        return self._rope(q, positions), k, v

    def _attend(self, q, k, v, q_pos):
        """q: [T, H, hd]; k, v: [S, KVH, hd] for positions 0..S-1; q_pos: [T] absolute positions."""
        group = self.n_heads // self.n_kv_heads
        k = np.repeat(k, group, axis=1)  # kv head j serves q heads j*group .. j*group+group-1
        v = np.repeat(v, group, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(self.head_dim)
        mask = np.arange(k.shape[0])[None, :] > np.asarray(q_pos)[:, None]  # [T, S]
        s = np.where(mask[None], -np.inf, s)
        s = s - s.max(axis=-1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=-1, keepdims=True)
        return np.einsum("hts,shd->thd", p, v).reshape(q.shape[0], -1)

    def _ffn(self, i, x):
        h = self._rmsnorm(x, self.w[f"blk.{i}.ffn_norm.weight"])
        g = self._matmul(h, f"blk.{i}.ffn_gate.weight")
        u = self._matmul(h, f"blk.{i}.ffn_up.weight")
        return self._matmul(g / (1.0 + np.exp(-g)) * u, f"blk.{i}.ffn_down.weight")

    def _logits(self, x):
        return self._matmul(self._rmsnorm(x, self.w["output_norm.weight"]), "output.weight")

    def _check_tokens(self, tokens):
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.ndim != 1 or tokens.size == 0 or tokens.min() < 0 or tokens.max() >= self.vocab_size:
            raise ValueError(f"tokens must be a non-empty list of ids in [0, {self.vocab_size})")
        return tokens

    # ---------------------------------------------------------------- public API
    def forward(self, tokens) -> np.ndarray:
        """Full causal prefill without cache: logits [T, V] for every position."""
        tokens = self._check_tokens(tokens)
        pos = np.arange(tokens.size)
        x = self.w["token_embd.weight"][tokens]
        for i in range(self.n_layers):
            q, k, v = self._qkv(i, x, pos)
            x = x + self._matmul(self._attend(q, k, v, pos), f"blk.{i}.attn_output.weight")
            x = x + self._ffn(i, x)
        return self._logits(x)

    def reset(self):
        """Clear the KV cache (start a new sequence)."""
        self.cache_k = [np.zeros((0, self.n_kv_heads, self.head_dim), self.dtype) for _ in range(self.n_layers)]
        self.cache_v = [np.zeros((0, self.n_kv_heads, self.head_dim), self.dtype) for _ in range(self.n_layers)]

    @property
    def n_past(self) -> int:
        return self.cache_k[0].shape[0] if self.n_layers else 0

    def decode(self, tokens) -> np.ndarray:
        """Append `tokens` (one or more) after the cached ones; returns their logits [len, V]."""
        tokens = self._check_tokens(tokens)
        pos = self.n_past + np.arange(tokens.size)
        x = self.w["token_embd.weight"][tokens]
        for i in range(self.n_layers):
            q, k, v = self._qkv(i, x, pos)
            self.cache_k[i] = np.concatenate([self.cache_k[i], k])
            self.cache_v[i] = np.concatenate([self.cache_v[i], v])
            x = x + self._matmul(self._attend(q, self.cache_k[i], self.cache_v[i], pos),
                                 f"blk.{i}.attn_output.weight")
            x = x + self._ffn(i, x)
        return self._logits(x)

    def generate_greedy(self, prompt_ids, n: int) -> list[int]:
        """Greedy-decode n tokens after the prompt (fresh cache); returns only the new ids."""
        self.reset()
        logits = self.decode(prompt_ids)[-1]
        out = []
        for _ in range(n):
            nxt = int(np.argmax(logits))
            out.append(nxt)
            if len(out) < n:
                logits = self.decode([nxt])[-1]
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--tokens", default="1", help="comma-separated prompt token ids")
    ap.add_argument("--n", type=int, default=8, help="number of greedy tokens")
    ap.add_argument("--top", type=int, default=5, help="top logits to print for the last prompt position")
    ap.add_argument("--f32", action="store_true", help="compute in float32 instead of float64")
    a = ap.parse_args(argv)
    ref = LlamaReference(a.model, dtype=np.float32 if a.f32 else np.float64)
    prompt = [int(t) for t in a.tokens.split(",") if t.strip()]
    last = ref.forward(prompt)[-1]
    top = np.argsort(-last)[: a.top]
    print(f"arch={ref.arch} layers={ref.n_layers} dim={ref.dim} heads={ref.n_heads}/{ref.n_kv_heads} "
          f"vocab={ref.vocab_size} rope={'neox' if ref.neox else 'normal'}")
    print("top logits (last prompt position):", ", ".join(f"{int(t)}:{last[t]:.6f}" for t in top))
    print("greedy:", ",".join(str(t) for t in ref.generate_greedy(prompt, a.n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
