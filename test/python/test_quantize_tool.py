"""kvant-quantize against the `gguf` package: every target type, on the bundled model
(models/tiny-llama, dim 256, ffn 704: ffn_down's rows of 704 exercise the fallbacks) and on a
random model whose rows all fit 256-blocks.

Each output is read with gguf.GGUFReader and decoded with gguf.quants.dequantize:
* where gguf can quantize the type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, TQ1_0, TQ2_0,
  MXFP4: the package mirrors llama.cpp's reference quantizers), the bytes must equal
  gguf.quants.quantize of the decoded input;
* otherwise (the k-quants, IQ4_NL) every block's max |error| must stay within one step of the
  format's grid, relative to the block's max |x| (block = the 256-value super-block, or 32):
    Q2_K, Q4_K, Q5_K  x ~ s*q - m, q in 0..nmax (3, 15, 31): a sub-block spans at most
        2*absmax and the scale search stretches the grid to at most nmax-1 steps over it, so one
        step <= 2*absmax/(nmax-1): rounding takes half a step, the 6-bit (Q2_K: 4-bit) scales and
        minimums and least-squares clipping the other half -> 1.0, 0.143, 0.0667;
    Q3_K, Q6_K  x ~ s*q, q in -nmax..nmax-1 (4, 32), the searched grid maps the absmax to at
        least nmax-0.9 levels: one step <= absmax/(nmax-0.9) -> 0.323, 0.0322;
    IQ4_NL  levels -127..113 with gaps up to 24, scale >= absmax/120 (searched +-7 around
        127): one step <= 24/120*absmax -> 0.2;
  plus, as a regression guard, a ceiling on RMSE/RMS per tensor, ~10% above the measured values
  (RMSE_CEILING);
* the RMSE and max |error| the tool prints must match a NumPy recomputation (rtol 1e-5: printed
  with 7 significant digits, computed from the same float32 values);
* metadata is copied (general.file_type and general.quantization_version set), tensors keep their
  names, shapes and order, data offsets respect the alignment, and the totals add up.
"""
import os
import re

import numpy as np
import pytest
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import quants

from gguf_llama_writer import LlamaHParams, write_llama_gguf
from make_random_gguf import random_tensors, synthetic_llama_tokenizer
from kvant_testing import REPO_ROOT, kvant_tool, run_tool

BUNDLED = os.path.join(REPO_ROOT, "models", "tiny-llama", "tiny-llama-f16.gguf")
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
         "Q5_K", "Q6_K", "IQ4_NL", "TQ1_0", "TQ2_0", "MXFP4"]
# llama.cpp's fallback when a row is not a multiple of the block (then F16).
FALLBACK = {"TQ1_0": "Q4_0", "TQ2_0": "Q4_0", "Q2_K": "IQ4_NL", "Q3_K": "IQ4_NL", "Q4_K": "Q5_0",
            "Q5_K": "Q5_1", "Q6_K": "Q8_0"}
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9,
             "Q2_K": 10, "Q3_K": 11, "Q4_K": 14, "Q5_K": 16, "Q6_K": 18, "IQ4_NL": 25,
             "BF16": 32, "TQ1_0": 36, "TQ2_0": 37, "MXFP4": 38}
STEP_BOUND = {"Q2_K": 2 / 2, "Q4_K": 2 / 14, "Q5_K": 2 / 30, "Q3_K": 1 / 3.1, "Q6_K": 1 / 31.1,
              "IQ4_NL": 24 / 120}
RMSE_CEILING = {"Q2_K": 0.33, "Q3_K": 0.17, "Q4_K": 0.08, "Q5_K": 0.041, "Q6_K": 0.02,
                "IQ4_NL": 0.085}
LINE = re.compile(r"^  (\S+)\s+(\S+) -> (\S+)\s+(\S+)\s+(\d+) ->\s+(\d+) bytes  rmse (\S+)  "
                  r"max (\S+)(?:  \((.*)\))?$", re.M)
TOTAL = re.compile(r"^total: (\d+) -> (\d+) bytes .* ([0-9.]+) -> ([0-9.]+) bits/weight$", re.M)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("quantize")


def random_model(workdir, weight_type="F32"):
    path = os.path.join(workdir, f"random-{weight_type}.gguf")
    if not os.path.exists(path):
        hp = LlamaHParams(vocab_size=300, dim=256, n_layers=1, n_heads=4, n_kv_heads=2,
                          ffn_dim=512, context_length=64)
        write_llama_gguf(path, hp, random_tensors(hp, seed=3),
                         synthetic_llama_tokenizer(hp.vocab_size), weight_type=weight_type)
    return path


def quantize(src, dst, *args):
    """Runs kvant-quantize; returns {name: (in type, out type, bytes in, bytes out, rmse, max,
    note)} and the totals match."""
    out = run_tool([kvant_tool("kvant-quantize"), src, dst, "--threads", "2", *args]).stdout
    lines = {m[0]: (m[1], m[2], int(m[4]), int(m[5]), float(m[6]), float(m[7]), m[8] or "")
             for m in LINE.findall(out)}
    total = TOTAL.search(out)
    assert total, out
    return lines, total


def decode(tensor):
    return np.asarray(quants.dequantize(np.asarray(tensor.data), tensor.tensor_type),
                      dtype=np.float32).reshape(-1)


def raw_bytes(tensor):
    return np.asarray(tensor.data).view(np.uint8).tobytes()


def fields(reader):
    return {k: (f.types, f.contents()) for k, f in reader.fields.items() if not k.startswith("GGUF.")}


def expected_type(tensor, target):
    dims = [int(d) for d in tensor.shape]
    if len(dims) < 2:
        return tensor.tensor_type.name
    t = target
    if dims[0] % gguf.GGML_QUANT_SIZES[QT[t]][0]:
        t = FALLBACK.get(t, "F16")
        if dims[0] % gguf.GGML_QUANT_SIZES[QT[t]][0]:
            t = "F16"
    return t


def gguf_quantize(values, qtype):
    """gguf's own quantization of `values`, or None where gguf has no quantizer."""
    try:
        return np.asarray(quants.quantize(values, qtype)).view(np.uint8).tobytes()
    except NotImplementedError:
        return None


def check_output(src, dst, target, lines, total):
    rin, rout = gguf.GGUFReader(src), gguf.GGUFReader(dst)
    assert [t.name for t in rout.tensors] == [t.name for t in rin.tensors]
    # Metadata: copied, with the file type and quantization version set.
    fin, fout = fields(rin), fields(rout)
    assert fout.pop("general.file_type")[1] == FILE_TYPE[target]
    fin.pop("general.file_type", None)
    if "general.quantization_version" in fout:
        assert fout.pop("general.quantization_version")[1] == 2
        fin.pop("general.quantization_version", None)
    assert fout == fin
    alignment = rout.alignment

    bytes_in = bytes_out = elements = 0
    for tin, tout in zip(rin.tensors, rout.tensors):
        name = tin.name
        assert list(tout.shape) == list(tin.shape), name
        assert tout.data_offset % alignment == 0, name
        want_type = expected_type(tin, target)
        assert tout.tensor_type.name == want_type, name
        in_type, out_type, nin, nout, rmse, max_err, note = lines[name]
        assert (in_type, out_type) == (tin.tensor_type.name, want_type), name
        assert (nin, nout) == (tin.n_bytes, tout.n_bytes), name
        if want_type != target and len(tin.shape) >= 2:
            assert note.startswith("fallback: row of"), (name, note)
        bytes_in, bytes_out, elements = bytes_in + nin, bytes_out + nout, elements + tin.n_elements

        x, y = decode(tin), decode(tout)
        err = np.abs(y.astype(np.float64) - x)
        assert rmse == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-5, abs=1e-30), name
        assert max_err == pytest.approx(err.max(), rel=1e-5, abs=1e-30), name
        if tout.tensor_type == tin.tensor_type:
            assert raw_bytes(tout) == raw_bytes(tin), name
            continue
        rows = x.reshape(-1, int(tin.shape[0]))
        ref = gguf_quantize(rows, tout.tensor_type)
        if ref is not None:
            assert raw_bytes(tout) == ref, f"{name}: {want_type} bytes differ from gguf's"
            continue
        block = gguf.GGML_QUANT_SIZES[tout.tensor_type][0]
        absmax = np.abs(x.reshape(-1, block)).max(axis=1)
        block_err = err.reshape(-1, block).max(axis=1)
        bound = STEP_BOUND[want_type] * absmax * 1.01 + 1e-12
        assert np.all(block_err <= bound), \
            f"{name} {want_type}: block error/absmax {np.max(block_err / np.maximum(absmax, 1e-30)):.4f}"
        rel = np.sqrt(np.mean(err ** 2)) / np.sqrt(np.mean(x.astype(np.float64) ** 2))
        assert rel <= RMSE_CEILING[want_type], f"{name} {want_type}: RMSE/RMS {rel:.4f}"

    assert (int(total[1]), int(total[2])) == (bytes_in, bytes_out)
    assert float(total[3]) == pytest.approx(8 * bytes_in / elements, abs=1e-3)
    assert float(total[4]) == pytest.approx(8 * bytes_out / elements, abs=1e-3)


@pytest.mark.parametrize("target", TYPES)
def test_bundled_model(workdir, target):
    dst = os.path.join(workdir, f"bundled-{target}.gguf")
    lines, total = quantize(BUNDLED, dst, "--type", target)
    check_output(BUNDLED, dst, target, lines, total)


@pytest.mark.parametrize("target", TYPES)
def test_random_model(workdir, target):
    src = random_model(workdir)
    dst = os.path.join(workdir, f"random-{target}.gguf")
    lines, total = quantize(src, dst, "--type", target.lower())
    check_output(src, dst, target, lines, total)


@pytest.mark.parametrize("source", ["BF16", "Q8_0", "Q4_1", "Q5_0", "Q5_1"])
def test_quantized_inputs(workdir, source):
    """Inputs in other formats are decoded exactly as gguf decodes them."""
    src = random_model(workdir, source)
    dst = os.path.join(workdir, f"from-{source}.gguf")
    lines, total = quantize(src, dst, "--type", "Q4_0")
    check_output(src, dst, "Q4_0", lines, total)


def test_keep_rules_and_fallback(workdir):
    dst = os.path.join(workdir, "keep.gguf")
    lines, _ = quantize(BUNDLED, dst, "--type", "Q4_K",
                        "--keep", "token_embd.*=F16",
                        "--keep", r"blk\.1\.attn_q\.weight=Q5_0",
                        "--keep", r"blk\.1\..*=Q6_K",
                        "--keep", "output.weight=Q8_0")
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(dst).tensors}
    assert types["token_embd.weight"] == "F16"  # Unchanged: copied.
    assert lines["token_embd.weight"][6] == "--keep 'token_embd.*'"
    assert lines["token_embd.weight"][4] == 0.0
    assert types["blk.1.attn_q.weight"] == "Q5_0"  # The first matching rule wins.
    assert types["blk.1.attn_k.weight"] == "Q6_K"
    # Q6_K rows of 704 fall back to Q8_0, and the tool says why.
    assert types["blk.1.ffn_down.weight"] == "Q8_0"
    assert lines["blk.1.ffn_down.weight"][6] == (
        r"--keep 'blk\.1\..*'; fallback: row of 704 is not a multiple of Q6_K's block of 256")
    # Whole-name matching: 'output.weight' does not select blk.N.attn_output.weight.
    assert types["output.weight"] == "Q8_0"
    assert types["blk.0.attn_output.weight"] == "Q4_K"
    assert types["blk.0.ffn_down.weight"] == "Q5_0"
    assert lines["blk.0.ffn_down.weight"][6] == (
        "fallback: row of 704 is not a multiple of Q4_K's block of 256")
    assert types["blk.0.attn_norm.weight"] == "F32"
    assert lines["blk.0.attn_norm.weight"][6] == "1-D, unchanged"


@pytest.mark.parametrize("target", ["Q8_0", "Q4_0"])
def test_compiled_logits_match_gguf_quantizer(workdir, target):
    """kvant-compile + kvant-run give the same logits on the tool's file as on the file the
    gguf-based writer quantizes from the same float32 weights (same tensor bytes)."""
    src = random_model(workdir, "F32")
    mine = os.path.join(workdir, f"e2e-mine-{target}.gguf")
    theirs = random_model(workdir, target)
    quantize(src, mine, "--type", target)
    rm, rt = gguf.GGUFReader(mine), gguf.GGUFReader(theirs)
    for a, b in zip(rm.tensors, rt.tensors):
        assert (a.name, a.tensor_type) == (b.name, b.tensor_type)
        assert raw_bytes(a) == raw_bytes(b), a.name
    so = os.path.join(workdir, f"e2e-{target}.so")
    run_tool([kvant_tool("kvant-compile"), mine, "--target=cpu", "-o", so, "--context", "64",
              "--parallel=false"])
    tokens = "1,17,42,99,7,250,3"
    logits = []
    for path in (mine, theirs):
        dump = os.path.join(workdir, "logits.bin")
        run_tool([kvant_tool("kvant-run"), so, "--weights", path, "--tokens", tokens, "-n", "0",
                  "--dump-logits", dump])
        logits.append(np.fromfile(dump, dtype=np.float32))
    assert logits[0].size == 7 * 300 and np.all(np.isfinite(logits[0]))
    np.testing.assert_array_equal(logits[0], logits[1])
