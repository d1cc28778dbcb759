#!/usr/bin/env python3
"""Peer check: llama.cpp (via llama-cpp-python) logits vs the NumPy reference on one GGUF.

Why: llama_ref.py and gguf_llama_writer.py were written by the same project; agreement with
llama.cpp on the same file is the independent evidence that the GGUF layout, rope convention,
GQA grouping, norms and tied output match what the ecosystem means by "llama"/"qwen2".

Expected differences (measured on random tiny models, logits std ~1):
  * F32 weights, F32 KV cache, flash-attn off: ~2e-6 max abs (plain f32 rounding).
  * llama.cpp defaults (F16 KV cache, CPU flash-attn in f16): ~5e-3. llama_cpp.Llama here uses
    type_k/type_v = F32 and flash_attn off so the F32 check is tight.
  * Quantized weights: llama.cpp's CPU matmul also quantizes the *activations* (Q8_0 / Q8_K
    blocks) while the reference multiplies exact activations by the exactly dequantized
    weights, so ~0.1 max abs is normal. Top-1 may then differ only at near ties.

Usage: python3 test/reference/compare_llamacpp.py model.gguf --tokens 1,5,9,... [--threads 1]
       python3 test/reference/compare_llamacpp.py model.gguf --tokens ... --logits dump.f32
The second form compares against logits dumped elsewhere (raw little-endian float32 [T, V],
e.g. by a small libllama program on a machine where llama.cpp is built) instead of importing
llama_cpp.
Exit status 1 if max |diff| exceeds --atol (default: 1e-4 for all-F32 files, 0.3 otherwise) or a
top-1 mismatch is not a near tie (reference margin between the two tokens > 2 * max |diff|).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import LlamaReference  # noqa: E402


def llamacpp_logits(path: str, tokens: list[int], threads: int) -> np.ndarray:
    from llama_cpp import Llama
    import llama_cpp
    llm = Llama(model_path=path, n_ctx=max(16, len(tokens)), logits_all=True, n_threads=threads,
                n_threads_batch=threads, n_batch=max(16, len(tokens)), verbose=False,
                type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32, flash_attn=False)
    llm.reset()
    llm.eval(tokens)
    return np.array(llm.scores[: llm.n_tokens], dtype=np.float64)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--atol", type=float)
    ap.add_argument("--f32", action="store_true", help="reference in float32 (halves memory for big models)")
    ap.add_argument("--logits", help="raw float32 [T, V] llama.cpp logits file instead of llama_cpp")
    a = ap.parse_args(argv)
    tokens = [int(t) for t in a.tokens.split(",") if t.strip()]

    ref = LlamaReference(a.model, dtype=np.float32 if a.f32 else np.float64)
    want = ref.forward(tokens)
    if a.logits:
        got = np.fromfile(a.logits, dtype="<f4").astype(np.float64).reshape(len(tokens), -1)
    else:
        got = llamacpp_logits(a.model, tokens, a.threads)
    assert got.shape == want.shape, (got.shape, want.shape)
    diff = np.abs(got - want)
    top1 = (got.argmax(-1) == want.argmax(-1))
    all_f32 = all(str(t.name) == "F32" for t in ref.tensor_types.values())
    atol = a.atol if a.atol is not None else (1e-4 if all_f32 else 0.3)
    rows = np.arange(len(tokens))
    margin = want[rows, want.argmax(-1)] - want[rows, got.argmax(-1)]  # 0 where top-1 agrees
    near_tie = margin <= 2 * diff.max()
    print(f"{os.path.basename(a.model)}: T={len(tokens)} V={ref.vocab_size} arch={ref.arch} "
          f"logit std={want.std():.3f}")
    print(f"max|diff|={diff.max():.3e}  mean|diff|={diff.mean():.3e}  per-position max: "
          + " ".join(f"{d:.1e}" for d in diff.max(-1)))
    print(f"top-1 agreement: {int(top1.sum())}/{len(tokens)}"
          + (f" (mismatches at near ties, ref margins {np.round(margin[~top1], 4).tolist()})" if not top1.all() else ""))
    ok = diff.max() <= atol and bool(np.all(top1 | near_tie))
    print("OK" if ok else f"MISMATCH (atol {atol})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
