"""Tests for test/reference/llama_ref.py, the NumPy oracle kvant's CPU pipeline is checked against.

Why each test can fail:
  * loop check: a second, deliberately different formulation (scalar loops, rope as complex
    multiplication, explicit GQA head index) computed from the *original* numpy weights, not
    from the file; catches layout (transpose), rope pairing, GQA grouping, bias and tied-output bugs.
  * KV-cache decode vs full prefill; prefix causality; greedy = argmax chain of forward.
  * GQA model == same model with K/V heads explicitly duplicated into MHA.
Tolerances: float64 paths agree to 1e-9 (abs, logits are O(1)); float32 paths to 1e-4.
"""
import cmath
import math
import subprocess
import sys
import os

import numpy as np
import pytest

from gguf_llama_writer import GGUFTokenizer, LlamaHParams, write_llama_gguf
from llama_ref import LlamaReference


def tok(v):
    return GGUFTokenizer(model="llama", tokens=[f"t{i}" for i in range(v)], token_types=[1] * v,
                         scores=[0.0] * v)


def make_weights(hp, seed, biases=False, tied=False):
    rng = np.random.default_rng(seed)
    D, F, V = hp.dim, hp.ffn_dim, hp.vocab_size
    hd = D // hp.n_heads
    q, kv = hp.n_heads * hd, hp.n_kv_heads * hd
    w = {"token_embd.weight": rng.standard_normal((V, D)),
         "output_norm.weight": 1 + 0.2 * rng.standard_normal(D)}
    if not tied:
        w["output.weight"] = rng.standard_normal((V, D)) / math.sqrt(D)
    for i in range(hp.n_layers):
        p = f"blk.{i}."
        w.update({p + "attn_norm.weight": 1 + 0.2 * rng.standard_normal(D),
                  p + "ffn_norm.weight": 1 + 0.2 * rng.standard_normal(D),
                  p + "attn_q.weight": rng.standard_normal((q, D)) / math.sqrt(D),
                  p + "attn_k.weight": rng.standard_normal((kv, D)) / math.sqrt(D),
                  p + "attn_v.weight": rng.standard_normal((kv, D)) / math.sqrt(D),
                  p + "attn_output.weight": rng.standard_normal((D, q)) / math.sqrt(q),
                  p + "ffn_gate.weight": rng.standard_normal((F, D)) / math.sqrt(D),
                  p + "ffn_up.weight": rng.standard_normal((F, D)) / math.sqrt(D),
                  p + "ffn_down.weight": rng.standard_normal((D, F)) / math.sqrt(F)})
        if biases:
            w.update({p + "attn_q.bias": 0.3 * rng.standard_normal(q),
                      p + "attn_k.bias": 0.3 * rng.standard_normal(kv),
                      p + "attn_v.bias": 0.3 * rng.standard_normal(kv)})
    return {k: v.astype(np.float32) for k, v in w.items()}


def save(tmp_path, name, hp, w, wtype="F32"):
    path = tmp_path / name
    write_llama_gguf(path, hp, w, tok(hp.vocab_size), weight_type=wtype)
    return str(path)


def loop_model(hp, w, tokens):
    """Scalar-loop Llama forward in float64, independent of llama_ref's vectorized code."""
    D, H, KVH = hp.dim, hp.n_heads, hp.n_kv_heads
    hd = D // H
    W = {k: v.astype(np.float64) for k, v in w.items()}
    out_w = W.get("output.weight", W["token_embd.weight"])

    def rms(v, g):
        s = math.sqrt(sum(a * a for a in v) / len(v) + hp.rms_eps)
        return [a / s * b for a, b in zip(v, g)]

    def matvec(m, v, bias=None):
        r = [sum(m[o, i] * v[i] for i in range(len(v))) for o in range(m.shape[0])]
        return [a + b for a, b in zip(r, bias)] if bias is not None else r

    def rope(vec, pos):
        vec = list(vec)
        for i in range(hd // 2):
            rot = cmath.exp(1j * pos * hp.rope_theta ** (-2 * i / hd))
            a, b = (i, i + hd // 2) if hp.arch == "qwen2" else (2 * i, 2 * i + 1)
            z = complex(vec[a], vec[b]) * rot
            vec[a], vec[b] = z.real, z.imag
        return vec

    xs = [list(W["token_embd.weight"][t]) for t in tokens]
    for L in range(hp.n_layers):
        p = f"blk.{L}."
        ks, vs, qs = [], [], []
        for pos, x in enumerate(xs):
            h = rms(x, W[p + "attn_norm.weight"])
            q = matvec(W[p + "attn_q.weight"], h, W.get(p + "attn_q.bias"))
            k = matvec(W[p + "attn_k.weight"], h, W.get(p + "attn_k.bias"))
            v = matvec(W[p + "attn_v.weight"], h, W.get(p + "attn_v.bias"))
            qs.append([rope(q[j * hd:(j + 1) * hd], pos) for j in range(H)])
            ks.append([rope(k[j * hd:(j + 1) * hd], pos) for j in range(KVH)])
            vs.append([v[j * hd:(j + 1) * hd] for j in range(KVH)])
        new = []
        for t, x in enumerate(xs):
            att = []
            for head in range(H):
                kvh = head * KVH // H  # consecutive q heads share one kv head
                sc = [sum(a * b for a, b in zip(qs[t][head], ks[s][kvh])) / math.sqrt(hd) for s in range(t + 1)]
                m = max(sc)
                e = [math.exp(c - m) for c in sc]
                att += [sum(e[s] * vs[s][kvh][d] for s in range(t + 1)) / sum(e) for d in range(hd)]
            x = [a + b for a, b in zip(x, matvec(W[p + "attn_output.weight"], att))]
            h = rms(x, W[p + "ffn_norm.weight"])
            g = matvec(W[p + "ffn_gate.weight"], h)
            u = matvec(W[p + "ffn_up.weight"], h)
            act = [gi / (1 + math.exp(-gi)) * ui for gi, ui in zip(g, u)]
            new.append([a + b for a, b in zip(x, matvec(W[p + "ffn_down.weight"], act))])
        xs = new
    return np.array([matvec(out_w, rms(x, W["output_norm.weight"])) for x in xs])


@pytest.mark.parametrize("arch,biases,tied", [("llama", False, False), ("qwen2", True, True),
                                              ("llama", False, True)])
def test_matches_scalar_loops(tmp_path, arch, biases, tied):
    hp = LlamaHParams(vocab_size=11, dim=16, n_layers=1, n_heads=4, n_kv_heads=2, ffn_dim=24,
                      context_length=16, rope_theta=100.0, rms_eps=1e-5, arch=arch)
    w = make_weights(hp, 1, biases=biases, tied=tied)
    ref = LlamaReference(save(tmp_path, "m.gguf", hp, w))
    tokens = [3, 7, 1, 3, 10, 0]  # repeated token at positions 0/3 exercises rope
    got, want = ref.forward(tokens), loop_model(hp, w, tokens)
    assert got.shape == (6, 11)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_rope_convention_matters(tmp_path):
    """Same weights under llama (normal) vs qwen2 (neox) rope must differ beyond position 0."""
    hp = LlamaHParams(vocab_size=11, dim=16, n_layers=1, n_heads=4, n_kv_heads=2, ffn_dim=24,
                      context_length=16, rope_theta=100.0)
    w = make_weights(hp, 2, biases=True)
    a = LlamaReference(save(tmp_path, "a.gguf", hp, w)).forward([1, 2, 3])
    hp.arch = "qwen2"
    b = LlamaReference(save(tmp_path, "b.gguf", hp, w)).forward([1, 2, 3])
    np.testing.assert_allclose(a[0], b[0], atol=1e-12)  # position 0: rope is identity
    assert np.abs(a[1:] - b[1:]).max() > 1e-3


TINY = LlamaHParams(vocab_size=97, dim=64, n_layers=2, n_heads=8, n_kv_heads=2, ffn_dim=96, context_length=64)


@pytest.mark.parametrize("wtype,dtype,atol", [("F32", np.float64, 1e-9), ("Q8_0", np.float64, 1e-9),
                                              ("Q4_K", np.float32, 1e-4)])
def test_decode_matches_prefill(tmp_path, wtype, dtype, atol):
    hp = LlamaHParams(**{**TINY.__dict__, "dim": 256, "n_heads": 4, "ffn_dim": 256}) if wtype == "Q4_K" else TINY
    ref = LlamaReference(save(tmp_path, "m.gguf", hp, make_weights(hp, 3), wtype), dtype=dtype)
    tokens = list(np.random.default_rng(0).integers(0, hp.vocab_size, 12))
    full = ref.forward(tokens)
    ref.reset()
    inc = np.concatenate([ref.decode(tokens[:5])] + [ref.decode([t]) for t in tokens[5:]])
    assert ref.n_past == 12
    np.testing.assert_allclose(inc, full, rtol=0, atol=atol)
    # causality: the prefix's logits do not depend on later tokens
    np.testing.assert_allclose(ref.forward(tokens[:4]), full[:4], rtol=0, atol=atol)


def test_generate_greedy_is_argmax_chain(tmp_path):
    ref = LlamaReference(save(tmp_path, "m.gguf", TINY, make_weights(TINY, 4)))
    prompt = [5, 17, 42]
    gen = ref.generate_greedy(prompt, 6)
    assert len(gen) == 6
    logits = ref.forward(prompt + gen)
    assert [int(i) for i in logits[len(prompt) - 1:-1].argmax(axis=-1)] == gen


def test_gqa_equals_expanded_mha(tmp_path):
    w = make_weights(TINY, 5)
    group = TINY.n_heads // TINY.n_kv_heads
    hd = TINY.dim // TINY.n_heads
    mha_hp = LlamaHParams(**{**TINY.__dict__, "n_kv_heads": TINY.n_heads})
    mha = dict(w)
    for i in range(TINY.n_layers):
        for kind in ("attn_k", "attn_v"):
            m = w[f"blk.{i}.{kind}.weight"].reshape(TINY.n_kv_heads, hd, TINY.dim)
            mha[f"blk.{i}.{kind}.weight"] = np.repeat(m, group, axis=0).reshape(TINY.n_heads * hd, TINY.dim)
    tokens = [1, 50, 2, 96, 7, 7, 30]
    a = LlamaReference(save(tmp_path, "gqa.gguf", TINY, w)).forward(tokens)
    b = LlamaReference(save(tmp_path, "mha.gguf", mha_hp, mha)).forward(tokens)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    assert a.std() > 0.1  # logits are not degenerate


def test_cli_on_random_model(tmp_path):
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    out = tmp_path / "tiny.gguf"
    subprocess.run([sys.executable, os.path.join(root, "models", "make_random_gguf.py"), "--shape", "tiny",
                    "--type", "Q8_0", "-o", str(out), "--seed", "1"], check=True, capture_output=True)
    r = subprocess.run([sys.executable, os.path.join(root, "test", "reference", "llama_ref.py"), str(out),
                        "--tokens", "1,2,3", "--n", "4"], check=True, capture_output=True, text=True)
    greedy = [int(t) for t in r.stdout.split("greedy:")[1].strip().split(",")]
    ref = LlamaReference(str(out))
    assert greedy == ref.generate_greedy([1, 2, 3], 4)
    assert ref.vocab_size == 300 and ref.n_kv_heads == 2
    assert len(set(ref.forward(list(range(3, 40))).argmax(-1).tolist())) > 5  # logits vary with input
