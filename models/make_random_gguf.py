#!/usr/bin/env python3
"""Make a random-weight Llama-family GGUF of a real (or tiny) shape.

Why: kvant's CPU end-to-end and performance work needs GGUF inputs with the exact shapes of
TinyLlama-1.1B / Llama-3-8B without downloading checkpoints. Weights are N(0, 1/fan_in)
(std ~0.02 at dim 2048) with ones-ish norms, so activations stay O(1) and logits are not
degenerate; values are meaningless, only shapes/formats matter.

Memory: tensors are generated lazily, one at a time, from a per-tensor seed (the file is
deterministic for a given --seed, independent of write order). Peak RSS is about the largest
float32 matrix plus its quantized copy plus ~70 MB: measured 0.39 GB for tinyllama-1.1b (F32 or
Q8_0; 20-30 s) and 2.7 GB for llama3-8b Q8_0 (8.1 GB file, 220 s on a fast core). Generation
is single-threaded NumPy.

Example:
  python3 models/make_random_gguf.py --shape tiny --type Q8_0 -o /tmp/tiny.gguf
  python3 models/make_random_gguf.py --shape tiny-256 --type Q4_K -o /tmp/tiny-q4k.gguf
"""
from __future__ import annotations

import argparse
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_llama_writer import (GGUFTokenizer, LazyTensor, LlamaHParams, WEIGHT_TYPES,  # noqa: E402
                               expected_tensor_shapes, write_llama_gguf)

SHAPES = {
    "tinyllama-1.1b": dict(dim=2048, n_layers=22, n_heads=32, n_kv_heads=4, ffn_dim=5632,
                           vocab_size=32000, context_length=2048, rope_theta=10000.0, rms_eps=1e-5),
    "llama3-8b": dict(dim=4096, n_layers=32, n_heads=32, n_kv_heads=8, ffn_dim=14336,
                      vocab_size=128256, context_length=8192, rope_theta=500000.0, rms_eps=1e-5),
    "tiny": dict(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128,
                 vocab_size=300, context_length=128, rope_theta=10000.0, rms_eps=1e-5),
    # tiny with rows of 256, the k-quants' super-block (with `tiny` they fall back to Q8_0).
    "tiny-256": dict(dim=256, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=512,
                     vocab_size=300, context_length=128, rope_theta=10000.0, rms_eps=1e-5),
}


def synthetic_llama_tokenizer(vocab_size: int) -> GGUFTokenizer:
    """SentencePiece-style vocab: <unk>, <s>, </s>, 256 byte tokens, then unique filler pieces."""
    if vocab_size < 3 + 256:
        raise ValueError("llama-style vocab needs at least 259 tokens (3 specials + 256 bytes)")
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256  # UNKNOWN, CONTROL, CONTROL, BYTE...
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    for i in range(vocab_size - len(tokens)):
        tokens.append(f"\u2581tok{i}")  # U+2581 is SentencePiece's word-boundary marker
        types.append(1)  # NORMAL
        scores.append(-float(i + 1))
    return GGUFTokenizer(model="llama", tokens=tokens, token_types=types, scores=scores,
                         bos_id=1, eos_id=2, unk_id=0, add_bos=True)


def random_tensors(hp: LlamaHParams, seed: int, tied: bool = False) -> dict[str, LazyTensor]:
    shapes, optional = expected_tensor_shapes(hp)
    out = {}
    for name, shape in shapes.items():
        if name in optional and (name != "output.weight" or tied):
            continue  # biases only where the arch needs them; output.weight unless tied

        def produce(name=name, shape=shape):
            rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
            if name.endswith("norm.weight"):
                return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
            if name.endswith(".bias"):
                return (0.02 * rng.standard_normal(shape)).astype(np.float32)
            # std 1/sqrt(fan_in) (~0.02 at dim 2048): every projection keeps activations O(1),
            # and logits = unit-rms hidden x W^T come out with std ~1 (not saturated, not flat).
            a = rng.standard_normal(shape, dtype=np.float32)
            a *= np.float32(1.0 / np.sqrt(shape[-1]))
            return a

        out[name] = LazyTensor(tuple(shape), produce)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=[*SHAPES, "custom"], default="tiny")
    for flag, key in [("--dim", "dim"), ("--layers", "n_layers"), ("--heads", "n_heads"),
                      ("--kv-heads", "n_kv_heads"), ("--ffn", "ffn_dim"), ("--vocab", "vocab_size"),
                      ("--ctx", "context_length")]:
        ap.add_argument(flag, dest=key, type=int, help="override (required for --shape custom)")
    ap.add_argument("--rope-theta", type=float)
    ap.add_argument("--arch", choices=["llama", "qwen2", "mistral"], default="llama")
    ap.add_argument("--tied", action="store_true", help="omit output.weight (tied embeddings)")
    ap.add_argument("--type", default="F32", choices=sorted(WEIGHT_TYPES))
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    cfg = dict(SHAPES.get(a.shape, SHAPES["tiny"] if a.shape == "custom" else {}))
    overrides = {k: getattr(a, k) for k in ("dim", "n_layers", "n_heads", "n_kv_heads", "ffn_dim",
                                             "vocab_size", "context_length")}
    if a.shape == "custom" and any(v is None for v in overrides.values()):
        ap.error("--shape custom needs --dim --layers --heads --kv-heads --ffn --vocab --ctx")
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if a.rope_theta is not None:
        cfg["rope_theta"] = a.rope_theta
    hp = LlamaHParams(**cfg, arch=a.arch)
    tok = synthetic_llama_tokenizer(hp.vocab_size)
    name = f"kvant-random-{a.shape}-{a.arch}"
    write_llama_gguf(a.output, hp, random_tensors(hp, a.seed, a.tied), tok, weight_type=a.type, name=name)
    print(f"wrote {a.output} ({os.path.getsize(a.output) / 2**20:.1f} MiB): {hp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
