"""Round-trip tests for models/gguf_llama_writer.py: write, read back with gguf.GGUFReader.

Why: the compiler's GGUF loader and the NumPy reference both trust these files; a wrong
dimension order, tensor type or metadata key would silently produce a different model.

Tolerances (per quant block of the flattened row, relative to that block's max |x| or
its range max-min; derived from the format's step size plus f16 scale rounding, ~1-2% slack):
  F32 exact | F16 |err| <= 2^-11 |x| + 2^-25 (subnormal half-step) | BF16 |err| <= 2^-8 |x|
  Q8_0 <= absmax * (0.5/127 + 2^-10)       (d = absmax/127 in f16, round to nearest)
  Q4_0 <= absmax/8 * 1.01                  (d = -max/8; the opposite extreme clips at +7)
  Q5_0 <= absmax/16 * 1.01                 (same scheme with 5 bits)
  Q4_1 <= range/30 * 1.02 + absmax * 2^-10 (d = range/15, f16 min)
  Q5_1 <= range/62 * 1.02 + absmax * 2^-10
  Q4_K <= absmax * 0.1, RMS <= 0.1 * RMS(x)  (simple min/max quantizer of kquants.py, 256-blocks)
  Q5_K <= absmax * 0.05, RMS <= 0.05 * RMS(x) (same with 5 bits: half a step is <= absmax/31)
  Q2_K <= absmax * 0.4, RMS <= 0.35 * RMS(x) (2 bits: half a step is <= absmax/3; ~0.32 RMS on
                                               normal data is what min/max 2-bit rounding gives)
  Q6_K <= absmax * 0.04, RMS <= 0.03 * RMS(x)
  Q3_K <= absmax * 0.3, RMS <= 0.2 * RMS(x)  (absmax scale at q = -4: the opposite extreme clips
                                               at +3, an error of absmax/4)
"""
import os

import numpy as np
import pytest
import gguf
from gguf import GGMLQuantizationType as QT
from gguf.quants import dequantize

from gguf_llama_writer import GGUFTokenizer, LlamaHParams, write_llama_gguf

ALL_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
             "Q5_K", "Q6_K"]
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9,
             "Q2_K": 10, "Q3_K": 11, "Q4_K": 14, "Q5_K": 16, "Q6_K": 18, "BF16": 32}


def tokenizer(vocab):
    toks = ["<unk>", "<s>", "</s>"] + [f"t{i}" for i in range(vocab - 3)]
    return GGUFTokenizer(model="llama", tokens=toks, token_types=[2, 3, 3] + [1] * (vocab - 3),
                         scores=[0.0] * 3 + [-float(i) for i in range(vocab - 3)])


def shapes(hp, biases=False, tied=False):
    """Hand-written expected names/shapes (numpy [out, in]); deliberately not the writer's table."""
    D, F, V = hp.dim, hp.ffn_dim, hp.vocab_size
    hd = D // hp.n_heads
    q, kv = hp.n_heads * hd, hp.n_kv_heads * hd
    s = {"token_embd.weight": (V, D), "output_norm.weight": (D,)}
    if not tied:
        s["output.weight"] = (V, D)
    for i in range(hp.n_layers):
        p = f"blk.{i}."
        s.update({p + "attn_norm.weight": (D,), p + "ffn_norm.weight": (D,), p + "attn_q.weight": (q, D),
                  p + "attn_k.weight": (kv, D), p + "attn_v.weight": (kv, D), p + "attn_output.weight": (D, q),
                  p + "ffn_gate.weight": (F, D), p + "ffn_up.weight": (F, D), p + "ffn_down.weight": (D, F)})
        if biases:
            s.update({p + "attn_q.bias": (q,), p + "attn_k.bias": (kv,), p + "attn_v.bias": (kv,)})
    return s


def random_model(hp, seed=0, **kw):
    rng = np.random.default_rng(seed)
    # per-row scale spread so blocks see different magnitudes; a few exact zeros / outliers
    out = {}
    for n, shp in shapes(hp, **kw).items():
        a = rng.standard_normal(shp).astype(np.float32)
        if len(shp) == 2:
            a *= rng.uniform(0.01, 1.0, (shp[0], 1)).astype(np.float32)
            a[0, :32] = 0.0
            a[-1, 5] = 7.5
        out[n] = a
    return out


def read(path):
    r = gguf.GGUFReader(path)
    meta = {f.name: f.contents() for f in r.fields.values()}
    return r, meta, {t.name: t for t in r.tensors}


HP = LlamaHParams(vocab_size=300, dim=256, n_layers=1, n_heads=4, n_kv_heads=2, ffn_dim=512, context_length=64)


def check_error(name, x, y, wtype):
    block = {"F32": 1, "F16": 1, "BF16": 1}.get(wtype) or gguf.GGML_QUANT_SIZES[QT[wtype]][0]
    err = np.abs(y.astype(np.float64) - x).reshape(-1, block)
    xb = x.astype(np.float64).reshape(-1, block)
    amax = np.abs(xb).max(axis=1, keepdims=True)
    rng_ = xb.max(axis=1, keepdims=True) - xb.min(axis=1, keepdims=True)
    bound = {
        "F32": 0.0 * amax, "F16": 2.0**-11 * np.abs(xb) + 2.0**-25, "BF16": 2.0**-8 * np.abs(xb) + 1e-38,
        "Q8_0": amax * (0.5 / 127 + 2.0**-10), "Q4_0": amax / 8 * 1.01, "Q5_0": amax / 16 * 1.01,
        "Q4_1": rng_ / 30 * 1.02 + amax * 2.0**-10, "Q5_1": rng_ / 62 * 1.02 + amax * 2.0**-10,
        "Q2_K": amax * 0.4, "Q3_K": amax * 0.3, "Q4_K": amax * 0.1, "Q5_K": amax * 0.05,
        "Q6_K": amax * 0.04,
    }[wtype]
    worst = (err - bound).max()
    assert worst <= 0, f"{name} {wtype}: error exceeds bound by {worst}"
    rms_tol = {"Q2_K": 0.35, "Q3_K": 0.2, "Q4_K": 0.1, "Q5_K": 0.05, "Q6_K": 0.03}.get(wtype)
    if rms_tol:
        assert np.sqrt((err**2).mean()) <= rms_tol * np.sqrt((xb**2).mean()), name


@pytest.mark.parametrize("wtype", ALL_TYPES)
def test_round_trip(tmp_path, wtype):
    t = random_model(HP)
    path = tmp_path / f"m-{wtype}.gguf"
    write_llama_gguf(path, HP, t, tokenizer(HP.vocab_size), weight_type=wtype, name="rt")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # temp file renamed, nothing left
    r, meta, tens = read(path)
    assert meta["general.architecture"] == "llama"
    assert meta["general.name"] == "rt"
    assert meta["general.file_type"] == FILE_TYPE[wtype]
    for k, v in {"context_length": 64, "embedding_length": 256, "block_count": 1, "feed_forward_length": 512,
                 "attention.head_count": 4, "attention.head_count_kv": 2, "rope.dimension_count": 64}.items():
        assert meta["llama." + k] == v, k
    assert meta["llama.rope.freq_base"] == pytest.approx(10000.0)
    assert meta["llama.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-5)
    assert meta["tokenizer.ggml.model"] == "llama"
    assert meta["tokenizer.ggml.tokens"][:4] == ["<unk>", "<s>", "</s>", "t0"]
    assert len(meta["tokenizer.ggml.scores"]) == 300 and meta["tokenizer.ggml.scores"][5] == -2.0
    assert meta["tokenizer.ggml.token_type"][:4] == [2, 3, 3, 1]
    assert (meta["tokenizer.ggml.bos_token_id"], meta["tokenizer.ggml.eos_token_id"]) == (1, 2)
    assert meta["tokenizer.ggml.add_bos_token"] is True

    assert set(tens) == set(t)
    for name, x in t.items():
        rt = tens[name]
        # GGUF ne order is reversed: ne0 = in_features (numpy last dim)
        assert [int(d) for d in rt.shape] == list(reversed(x.shape)), name
        expect_type = QT[wtype] if x.ndim == 2 else QT.F32
        assert rt.tensor_type == expect_type, name
        y = dequantize(rt.data, rt.tensor_type)
        assert y.shape == x.shape, name
        check_error(name, x, y, wtype)
        if x.ndim == 2 and wtype != "F32":
            assert not np.array_equal(y, x), f"{name}: {wtype} should be lossy"


def test_kquant_fallback_for_short_rows(tmp_path):
    """dim 64 / ffn 96: rows are not 256-multiples -> Q8_0; a 96-wide row is Q8_0-compatible too."""
    hp = LlamaHParams(vocab_size=40, dim=64, n_layers=1, n_heads=4, n_kv_heads=4, ffn_dim=96, context_length=16)
    write_llama_gguf(tmp_path / "f.gguf", hp, random_model(hp), tokenizer(40), weight_type="Q4_K")
    _, _, tens = read(tmp_path / "f.gguf")
    assert tens["blk.0.ffn_down.weight"].tensor_type == QT.Q8_0
    assert tens["blk.0.attn_q.weight"].tensor_type == QT.Q8_0
    hp2 = LlamaHParams(vocab_size=40, dim=48, n_layers=1, n_heads=4, n_kv_heads=4, ffn_dim=80, context_length=16)
    write_llama_gguf(tmp_path / "g.gguf", hp2, random_model(hp2), tokenizer(40), weight_type="Q4_0")
    _, _, tens = read(tmp_path / "g.gguf")
    assert tens["blk.0.ffn_down.weight"].tensor_type == QT.F16  # 80 % 32 != 0
    assert tens["blk.0.attn_q.weight"].tensor_type == QT.F16  # 48 % 32 != 0


def test_qwen2_biases_tied_and_gpt2_tokenizer(tmp_path):
    hp = LlamaHParams(vocab_size=50, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128,
                      context_length=32, rope_theta=1e6, rms_eps=1e-6, arch="qwen2")
    t = random_model(hp, biases=True, tied=True)
    tok = GGUFTokenizer(model="gpt2", tokens=[f"b{i}" for i in range(50)], token_types=[1] * 50,
                        merges=["b b1", "b2 b3"], bos_id=0, eos_id=1, unk_id=None, pad_id=1, pre="default",
                        add_bos=False)
    write_llama_gguf(tmp_path / "q.gguf", hp, t, tok, weight_type="Q8_0")
    _, meta, tens = read(tmp_path / "q.gguf")
    assert meta["general.architecture"] == "qwen2"
    assert meta["qwen2.rope.freq_base"] == pytest.approx(1e6)
    assert meta["qwen2.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-6)
    assert meta["tokenizer.ggml.model"] == "gpt2" and meta["tokenizer.ggml.pre"] == "default"
    assert meta["tokenizer.ggml.merges"] == ["b b1", "b2 b3"]
    assert "tokenizer.ggml.unknown_token_id" not in meta and meta["tokenizer.ggml.padding_token_id"] == 1
    assert "output.weight" not in tens
    b = tens["blk.1.attn_k.bias"]
    assert b.tensor_type == QT.F32 and np.array_equal(b.data, t["blk.1.attn_k.bias"])


def test_mistral_is_written_as_llama(tmp_path):
    hp = LlamaHParams(vocab_size=40, dim=64, n_layers=1, n_heads=4, n_kv_heads=1, ffn_dim=64,
                      context_length=16, arch="mistral")
    write_llama_gguf(tmp_path / "m.gguf", hp, random_model(hp), tokenizer(40))
    _, meta, _ = read(tmp_path / "m.gguf")
    assert meta["general.architecture"] == "llama" and meta["llama.attention.head_count_kv"] == 1


@pytest.mark.parametrize("break_it", ["shape", "missing", "extra", "qwen2-no-bias", "vocab"])
def test_rejects_bad_input_without_leaving_files(tmp_path, break_it):
    hp = LlamaHParams(vocab_size=40, dim=64, n_layers=1, n_heads=4, n_kv_heads=2, ffn_dim=64, context_length=16)
    t, tok = random_model(hp), tokenizer(40)
    if break_it == "shape":
        t["blk.0.attn_k.weight"] = t["blk.0.attn_k.weight"].T.copy()
    elif break_it == "missing":
        del t["blk.0.ffn_up.weight"]
    elif break_it == "extra":
        t["blk.1.attn_norm.weight"] = np.ones(64, np.float32)
    elif break_it == "qwen2-no-bias":
        hp.arch = "qwen2"
    else:
        tok = tokenizer(39)
    with pytest.raises(ValueError):
        write_llama_gguf(tmp_path / "bad.gguf", hp, t, tok)
    assert os.listdir(tmp_path) == []
