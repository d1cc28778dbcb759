"""Bad model files get a clear message naming the file and a non-zero exit
from kvant-import, kvant-compile and kvant-run: never a crash, never a module
that would compute wrong numbers."""
import os
import subprocess

import gguf
import numpy as np

import gguf_llama_writer
from gguf_llama_writer import LlamaHParams, write_llama_gguf
from make_random_gguf import random_tensors, synthetic_llama_tokenizer
from kvant_testing import kvant_tool as tool


def hparams(dim=64, ffn=128):
    return LlamaHParams(vocab_size=300, dim=dim, n_layers=2, n_heads=4, n_kv_heads=2,
                        ffn_dim=ffn, context_length=64)


def write_model(path, tensors=None, weight_type="F32", shapes_patch=None, monkeypatch=None,
                hp=None):
    hp = hp or hparams()
    tensors = tensors if tensors is not None else {
        n: t.produce() for n, t in random_tensors(hp, 0).items()}
    if shapes_patch:
        original = gguf_llama_writer.expected_tensor_shapes

        def patched(h):
            shapes, optional = original(h)
            return shapes_patch(dict(shapes), set(optional))
        monkeypatch.setattr(gguf_llama_writer, "expected_tensor_shapes", patched)
    write_llama_gguf(path, hp, tensors, synthetic_llama_tokenizer(hp.vocab_size),
                     weight_type=weight_type)
    return path


def expect_failure(args, *fragments):
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    assert "Stack dump" not in proc.stderr and "Assertion" not in proc.stderr


def test_truncated_file(tmp_path):
    good = write_model(str(tmp_path / "good.gguf"))
    data = open(good, "rb").read()
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(data[: len(data) // 2])
    expect_failure([tool("kvant-import"), str(bad)], "truncated.gguf", "runs past the end of the file")
    expect_failure([tool("kvant-compile"), str(bad), "-o", str(tmp_path / "x.so")],
                   "truncated.gguf")


def test_corrupt_header(tmp_path):
    good = write_model(str(tmp_path / "good.gguf"))
    data = bytearray(open(good, "rb").read())
    data[8:16] = (1 << 62).to_bytes(8, "little")  # tensor count
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(bytes(data))
    expect_failure([tool("kvant-import"), str(bad)], "corrupt.gguf: at byte 8: tensor count")


def test_unknown_architecture(tmp_path):
    path = str(tmp_path / "gpt2.gguf")
    w = gguf.GGUFWriter(path, "gpt2")
    w.add_context_length(64)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    expect_failure([tool("kvant-import"), path], "unsupported architecture 'gpt2'")


def test_missing_tensor(tmp_path, monkeypatch):
    hp = hparams()
    tensors = {n: t.produce() for n, t in random_tensors(hp, 0).items()}
    del tensors["blk.1.ffn_up.weight"]

    def make_optional(shapes, optional):
        return shapes, optional | {"blk.1.ffn_up.weight"}
    path = write_model(str(tmp_path / "missing.gguf"), tensors, shapes_patch=make_optional,
                       monkeypatch=monkeypatch)
    expect_failure([tool("kvant-import"), path], "missing tensor 'blk.1.ffn_up.weight'")


def test_shape_mismatch(tmp_path, monkeypatch):
    hp = hparams()
    tensors = {n: t.produce() for n, t in random_tensors(hp, 0).items()}
    tensors["blk.0.ffn_up.weight"] = np.zeros((160, 64), np.float32)

    def widen(shapes, optional):
        shapes["blk.0.ffn_up.weight"] = (160, 64)
        return shapes, optional
    path = write_model(str(tmp_path / "shape.gguf"), tensors, shapes_patch=widen,
                       monkeypatch=monkeypatch)
    expect_failure([tool("kvant-import"), path],
                   "tensor 'blk.0.ffn_up.weight' has shape 160x64 but the llama "
                   "hyperparameters require 128x64")


def test_unsupported_tensor_type(tmp_path):
    path = str(tmp_path / "int.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_context_length(64)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_tensor("token_embd.weight", np.zeros((300, 64), np.int32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    expect_failure([tool("kvant-import"), path],
                   "tensor 'token_embd.weight' has type I32, which kvant cannot import")


def test_format_without_lowering(tmp_path, monkeypatch):
    """Q8_K (llama.cpp's activation format) imports (the IR knows it) but has no CPU lowering:
    a clear error. Its blocks are zero bytes: nothing reads them."""
    q8_k = gguf.GGMLQuantizationType.Q8_K
    block_bytes = gguf.GGML_QUANT_SIZES[q8_k][1]
    monkeypatch.setitem(gguf_llama_writer.WEIGHT_TYPES, "Q8_K",
                        (q8_k, gguf.LlamaFileType.MOSTLY_Q8_0))
    real_quantize = gguf_llama_writer._gguf_quantize
    monkeypatch.setattr(gguf_llama_writer, "_gguf_quantize",
                        lambda a, t: np.zeros((a.shape[0], a.shape[1] // 256 * block_bytes),
                                              np.uint8) if t == q8_k else real_quantize(a, t))
    # Rows of 256 so that the writer really stores Q8_K blocks.
    path = write_model(str(tmp_path / "q8k.gguf"), weight_type="Q8_K", hp=hparams(256, 256))
    expect_failure([tool("kvant-compile"), path, "-o", str(tmp_path / "q8k.so")],
                   "lowering of q8_k to linalg is not implemented yet")
    assert not os.path.exists(tmp_path / "q8k.so")


def test_run_rejects_bad_inputs(tmp_path):
    good = write_model(str(tmp_path / "good.gguf"))
    expect_failure([tool("kvant-run"), str(tmp_path / "none.so"), "--weights", good,
                    "--tokens", "1"], "none.so: cannot load")
    expect_failure([tool("kvant-run"), good, "--weights", good, "--tokens", "1"],
                   "cannot load")
    expect_failure([tool("kvant-run"), "x.so", "--weights", good, "--tokens", "1",
                    "--top-p", "1.5"], "top")
