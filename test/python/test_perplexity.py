"""kvant-run --perplexity against the NumPy reference on the bundled model.

Why: perplexity is the quality number kvant reports (docs/Quality.md); this pins its definition
and its value. The reference reproduces runPerplexity in tools/kvant-run/kvant-run.cpp
independently:

  * the whole text is tokenized *without* BOS — here with SentencePiece and
    models/tiny-llama/tokenizer.model (the vocabulary the GGUF was made from), checked
    against kvant-tokenize --no-bos --ids;
  * non-overlapping windows of `chunk` tokens, each BOS + the next chunk-1 text tokens (the
    last may be shorter), each on a fresh cache;
  * every token after the window's BOS is scored given its predecessors: nll = -log softmax;
  * nll/token = total / scored tokens, perplexity = exp(nll/token),
    bits/byte = total / ln 2 / UTF-8 bytes of the text.

The reference runs LlamaReference (float64, weights dequantized from the file) on each window;
kvant computes in float32. Measured |delta nll/token| 5e-8 (kvant prints 6 decimals); the bound is 1e-3.
"""
import json
import math
import os

import numpy as np
import pytest

from kvant_testing import REPO_ROOT, kvant_tool as tool, run_tool

MODEL = os.path.join(REPO_ROOT, "models", "tiny-llama", "tiny-llama-f16.gguf")
SP_MODEL = os.path.join(REPO_ROOT, "models", "tiny-llama", "tokenizer.model")
HELDOUT = os.path.join(REPO_ROOT, "models", "tiny-llama", "data", "heldout.txt")
CHUNK = 128
SNIPPET_CHARS = 2000


def run(args):
    return run_tool(args).stdout


def windows(ids, chunk, bos):
    """The windows runPerplexity evaluates (BOS + up to chunk-1 text tokens each)."""
    per = chunk - 1
    out, begin = [], 0
    while begin + 1 < len(ids):
        out.append([bos] + list(ids[begin:begin + per]))
        begin += per
    return out


def reference_nll(gguf, ids, chunk, bos=1):
    """(total nll in nats, scored tokens) over runPerplexity's windows, by LlamaReference."""
    from llama_ref import LlamaReference
    ref = LlamaReference(gguf)
    total, scored = 0.0, 0
    for w in windows(ids, chunk, bos):
        logits = ref.forward(w)[:-1]                     # predicts w[1:]
        m = logits.max(axis=-1, keepdims=True)
        logz = (m + np.log(np.exp(logits - m).sum(axis=-1, keepdims=True)))[:, 0]
        total += float(np.sum(logz - logits[np.arange(len(w) - 1), w[1:]]))
        scored += len(w) - 1
    return total, scored


@pytest.fixture(scope="module")
def snippet(tmp_path_factory):
    if not (os.path.exists(MODEL) and os.path.exists(HELDOUT)):
        pytest.skip("bundled model or held-out text missing")
    with open(HELDOUT, encoding="utf-8") as f:
        text = f.read(SNIPPET_CHARS + 200)
    text = text[:text.rfind(" ", 0, SNIPPET_CHARS)]  # whole words; spans a chapter break
    path = tmp_path_factory.mktemp("ppl") / "snippet.txt"
    path.write_bytes(text.encode("utf-8"))
    return str(path), text


def snippet_ids(path, text):
    """Token ids without BOS: SentencePiece when available (independent of kvant), and checked
    against kvant's own tokenizer."""
    kvant_ids = json.loads(run([tool("kvant-tokenize"), MODEL, "--no-bos", "--ids", "--file", path]))
    try:
        import sentencepiece as spm
    except ImportError:
        return kvant_ids
    sp_ids = spm.SentencePieceProcessor(model_file=SP_MODEL).encode(text)
    assert sp_ids == kvant_ids, "kvant's tokenizer disagrees with tokenizer.model"
    return sp_ids


def test_windows_match_kvant_run_definition():
    # kvant-run loops `for (begin = 0; begin + 1 < ids.size(); begin += chunk - 1)`, so a
    # single text token left over at the end is not scored (a quirk, kept here so the two agree).
    assert windows([10, 11, 12, 13, 14], 3, 1) == [[1, 10, 11], [1, 12, 13]]
    assert windows([10, 11, 12, 13, 14, 15], 3, 1) == [[1, 10, 11], [1, 12, 13], [1, 14, 15]]
    assert windows([10, 11, 12, 13], 3, 1) == [[1, 10, 11], [1, 12, 13]]
    assert windows([10], 3, 1) == []


def test_perplexity_matches_reference(snippet, tmp_path):
    path, text = snippet
    so = str(tmp_path / "bundled-128.so")
    run([tool("kvant-compile"), MODEL, "--target=cpu", "--context", str(CHUNK), "-o", so])
    got = json.loads(run([tool("kvant-run"), so, "--weights", MODEL, "--perplexity", path,
                          "--ppl-chunk", str(CHUNK), "--json"]))
    ids = snippet_ids(path, text)
    total, scored = reference_nll(MODEL, ids, CHUNK)
    assert got["tokens"] == scored
    assert got["bytes"] == len(text.encode("utf-8"))
    want = total / scored
    assert abs(got["nll_per_token"] - want) < 1e-3, (got, want)
    assert got["perplexity"] == pytest.approx(math.exp(want), rel=2e-3)
    assert got["bits_per_byte"] == pytest.approx(total / math.log(2) / got["bytes"], rel=2e-3)
