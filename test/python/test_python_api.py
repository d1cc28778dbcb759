"""The kvant Python package (python/): import, pipelines, compile, and running the artifact
from Python, checked against the NumPy reference (test/reference/llama_ref.py) with the
tolerances of test_e2e_cpu.py. Skips when the extension is not built or installed."""
import os

import numpy as np
import pytest

from gguf_llama_writer import LlamaHParams, write_llama_gguf
from make_random_gguf import random_tensors, synthetic_llama_tokenizer
from kvant_testing import import_kvant

REL_TOL = 2e-3
VOCAB = 300


@pytest.fixture(scope="module")
def kvant():
    return import_kvant()


def tiny_hparams(arch="llama", dim=64, ffn=128):
    return LlamaHParams(vocab_size=VOCAB, dim=dim, n_layers=2, n_heads=4, n_kv_heads=2,
                        ffn_dim=ffn, context_length=64, arch=arch)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("pyapi")


def make_model(workdir, weight_type="Q8_0", arch="llama"):
    hp = tiny_hparams(arch)
    path = os.path.join(workdir, f"tiny-{arch}-{weight_type}.gguf")
    if not os.path.exists(path):
        write_llama_gguf(path, hp, random_tensors(hp, 0), synthetic_llama_tokenizer(VOCAB),
                         weight_type=weight_type)
    return path


@pytest.fixture(scope="module")
def q8(kvant, workdir):
    """(gguf path, compiled .so path) of a random tiny Q8_0 model, with the portable int8
    dot products (the reference quantizes its activations the same way)."""
    path = make_model(workdir, "Q8_0")
    so = os.path.join(workdir, "q8.so")
    assert kvant.compile(path, so, int8_dot="generic") == so
    return path, so


def test_import_gguf_and_run_pipeline(kvant, workdir):
    module = kvant.import_gguf(make_model(workdir, "Q8_0"), context=32)
    assert "func.func @forward" in module and "qt.weight" in module
    assert "llm.attention" in module and "!kv.cache<" in module
    assert "capacity = 32" in module
    linalg = kvant.run_pipeline(module, "builtin.module(convert-llm-to-linalg)")
    assert "linalg.generic" in linalg and "qt.matmul" in linalg and "llm." not in linalg
    assert "kv.append" in linalg
    # A bare list of passes runs on the module.
    tensors = kvant.run_pipeline(module, "convert-llm-to-linalg, kv-lower-to-tensor, cse")
    assert "linalg.generic" in tensors and "kv." not in tensors
    pipeline = kvant.cpu_pipeline()
    assert pipeline.startswith("builtin.module(") and "kvant-bind-abi" in pipeline
    lowered = kvant.run_pipeline(module, pipeline)
    assert "llvm.func" in lowered and "llm." not in lowered


def test_pipeline_errors(kvant, workdir):
    module = kvant.import_gguf(make_model(workdir, "Q8_0"))
    with pytest.raises(kvant.KvantError, match="no-such-pass"):
        kvant.run_pipeline(module, "builtin.module(no-such-pass)")
    with pytest.raises(kvant.KvantError, match="cannot parse the module text"):
        kvant.run_pipeline("func.func @f( {", "canonicalize")
    assert issubclass(kvant.KvantError, RuntimeError)


def test_forward_matches_reference(kvant, q8):
    from llama_ref import LlamaReference
    path, so = q8
    model = kvant.Model(so, path)
    assert model.vocab_size == VOCAB and model.context_length == 64 and model.position == 0
    desc = model.descriptor
    assert desc["architecture"] == "llama" and desc["vocab_size"] == VOCAB
    assert {"name": "token_embd.weight", "type": "Q8_0", "dims": [64, VOCAB]} in desc["weights"]
    tokens = [1, 17, 42, 99, 7, 250, 3, 64, 128, 5, 77, 200]
    got = model.forward(tokens)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    assert got.shape == (len(tokens), VOCAB)
    assert model.position == len(tokens)
    want = LlamaReference(path, int8_activations=True).forward(tokens)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= REL_TOL, f"max relative logit error {err:.2e}"


def test_kv_cache_forward_rollback_reset(kvant, q8):
    path, so = q8
    model = kvant.Model(so, path)
    tokens = [1, 5, 9, 13, 21, 34]
    full = model.forward(tokens)
    model.reset()
    assert model.position == 0
    steps = np.concatenate([model.forward(tokens[:2])] + [model.forward([t]) for t in tokens[2:]])
    assert np.max(np.abs(steps - full)) / np.max(np.abs(full)) <= 1e-4
    model.rollback(3)
    again = model.forward(tokens[3:])
    assert np.max(np.abs(again - full[3:])) / np.max(np.abs(full)) <= 1e-4
    with pytest.raises(kvant.KvantError, match="cannot roll back"):
        model.rollback(100)
    model.reset()
    with pytest.raises(kvant.KvantError, match="65 tokens exceed the context of 64"):
        model.forward([5] * 65)
    with pytest.raises(kvant.KvantError):
        model.forward([VOCAB + 5])


def test_greedy_generate_matches_reference(kvant, q8):
    from llama_ref import LlamaReference
    path, so = q8
    model = kvant.Model(so, path)
    prompt = [1, 5, 9, 13]
    ids, text = model.generate(prompt, n=32)
    want = LlamaReference(path, int8_activations=True).generate_greedy(prompt, 32)
    assert 1 <= len(ids) <= 32
    assert ids == want[:len(ids)], f"kvant {ids}\nref   {want}"
    assert isinstance(text, str)
    # Sampling is deterministic for a seed.
    a = model.generate(prompt, n=16, temperature=0.8, top_k=40, top_p=0.9, seed=7)
    b = model.generate(prompt, n=16, temperature=0.8, top_k=40, top_p=0.9, seed=7)
    assert a == b
    with pytest.raises(kvant.KvantError, match="top"):
        model.generate(prompt, n=4, top_p=1.5)


def test_tokenizer_and_text_generation(kvant, q8):
    path, so = q8
    model = kvant.Model(so, path)
    tok = model.tokenizer
    # The synthetic vocabulary: specials, byte tokens, then "\u2581tok<i>" (no pieces to
    # merge text into, so text encodes to byte tokens).
    ids = tok.encode("hi")
    assert ids == [tok.bos] + [3 + b for b in "\u2581hi".encode()]
    assert tok.encode("hi", add_bos=False) == ids[1:]
    assert tok.decode([tok.bos, 259 + 1, 259 + 5]) == "tok1 tok5"
    assert tok.eos == 2 and tok.vocab_size == VOCAB and tok.is_eog(2)
    out, text = model.generate("hello", n=8)
    assert 1 <= len(out) <= 8 and isinstance(text, str)
    ppl = model.perplexity("hello world " * 20, chunk=32)
    assert ppl["tokens"] > 0 and np.isfinite(ppl["perplexity"]) and ppl["perplexity"] > 1
    assert ppl["bytes"] == len("hello world " * 20)


def test_compile_module_text_and_emit(kvant, workdir):
    path = make_model(workdir, "F32")
    module = kvant.import_gguf(path)
    fused = kvant.run_pipeline(module, "builtin.module(qt-fuse-dequant)")
    so = os.path.join(workdir, "from-text.so")
    kvant.compile(fused, so)
    model = kvant.Model(so, path)
    from llama_ref import LlamaReference
    tokens = [1, 2, 3, 4, 5, 6, 7, 8]
    want = LlamaReference(path).forward(tokens)
    got = model.forward(tokens)
    assert np.max(np.abs(got - want)) / np.max(np.abs(want)) <= REL_TOL
    ll = os.path.join(workdir, "model.ll")
    kvant.compile(path, ll, emit="llvm-ir", context=16)
    assert "kvant_descriptor" in open(ll).read()
    # kvant-compile's --kv-cache-type, --weight-prefetch-distance and --parallel-schedule.
    so16 = os.path.join(workdir, "kv-f16.so")
    kvant.compile(path, so16, kv_cache_type="f16", weight_prefetch_distance=0,
                  parallel_schedule="static")
    want16 = LlamaReference(path, kv_dtype=np.float16).forward(tokens)
    got16 = kvant.Model(so16, path).forward(tokens)
    assert np.max(np.abs(got16 - want16)) / np.max(np.abs(want16)) <= REL_TOL
    with pytest.raises(kvant.KvantError, match="--kv-cache-type must be f32 or f16"):
        kvant.compile(path, os.path.join(workdir, "never.so"), kv_cache_type="int3")
    with pytest.raises(kvant.KvantError, match="--parallel-schedule must be dynamic or static"):
        kvant.compile(path, os.path.join(workdir, "never.so"), parallel_schedule="guided")


def test_errors_name_the_file(kvant, workdir, tmp_path, monkeypatch):
    good = make_model(workdir, "F32")
    data = open(good, "rb").read()
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(kvant.KvantError, match=r"truncated\.gguf.*runs past the end of the file"):
        kvant.import_gguf(str(bad))
    with pytest.raises(kvant.KvantError, match=r"truncated\.gguf"):
        kvant.compile(bad, tmp_path / "x.so")
    assert not os.path.exists(tmp_path / "x.so")

    import gguf_llama_writer
    hp = tiny_hparams()
    tensors = {n: t.produce() for n, t in random_tensors(hp, 0).items()}
    tensors["blk.0.ffn_up.weight"] = np.zeros((160, 64), np.float32)
    original = gguf_llama_writer.expected_tensor_shapes

    def widened(h):
        shapes, optional = original(h)
        shapes = dict(shapes)
        shapes["blk.0.ffn_up.weight"] = (160, 64)
        return shapes, optional
    monkeypatch.setattr(gguf_llama_writer, "expected_tensor_shapes", widened)
    shape = str(tmp_path / "shape.gguf")
    write_llama_gguf(shape, hp, tensors, synthetic_llama_tokenizer(VOCAB), weight_type="F32")
    with pytest.raises(kvant.KvantError) as info:
        kvant.import_gguf(shape)
    assert "shape.gguf" in str(info.value)
    assert ("tensor 'blk.0.ffn_up.weight' has shape 160x64 but the llama hyperparameters "
            "require 128x64") in str(info.value)

    with pytest.raises(kvant.KvantError, match=r"none\.so: cannot load"):
        kvant.Model(tmp_path / "none.so", good)
    with pytest.raises(kvant.KvantError, match="target 'tpu' is not supported"):
        kvant.compile(good, tmp_path / "y.so", target="tpu")


def test_artifact_refuses_other_weights(kvant, workdir, q8):
    _, so = q8
    with pytest.raises(kvant.KvantError, match="was compiled for Q8_0"):
        kvant.Model(so, make_model(workdir, "F32"))


def test_model_threads(kvant, workdir, q8):
    """Model(threads=N) sizes the thread team of an artifact compiled with parallel loops; the
    team belongs to the loaded artifact (one per process), so a second Model of the same
    artifact keeps its size and another size is refused; an artifact without parallel loops
    runs on the calling thread. The logits do not depend on the thread count."""
    path, _ = q8
    tokens = [1, 17, 42, 99, 7, 250]
    team = os.path.join(workdir, "q8-team.so")
    kvant.compile(path, team, int8_dot="generic", parallel=True)
    # Three: more than this machine's CPUs, which is the default's count here.
    model = kvant.Model(team, path, threads=3)
    assert model.threads == 3
    three = model.forward(tokens)
    same = kvant.Model(team, path)
    assert same.threads == 3
    with pytest.raises(kvant.KvantError, match="already runs 3 threads in this process"):
        kvant.Model(team, path, threads=1)
    for bad in (0, -1, 257, 1.5, True):
        with pytest.raises(kvant.KvantError, match="threads must be an integer from 1 to 256"):
            kvant.Model(team, path, threads=bad)
    serial = os.path.join(workdir, "q8-serial.so")
    kvant.compile(path, serial, int8_dot="generic", parallel=False)
    one = kvant.Model(serial, path, threads=4)
    assert one.threads == 1
    np.testing.assert_allclose(one.forward(tokens), three, rtol=1e-5, atol=1e-6)
