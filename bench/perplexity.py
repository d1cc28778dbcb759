#!/usr/bin/env python3
"""Held-out perplexity of GGUF models with llama.cpp and/or kvant-run, same definition.

The windowing is kvant-run's runPerplexity (tools/kvant-run/kvant-run.cpp): the text is
tokenized whole without BOS; non-overlapping windows of BOS + chunk-1 text tokens
(`for (begin = 0; begin + 1 < n; begin += chunk - 1)`), each on a fresh cache; every token
after BOS is scored; bits/byte = total nll / ln 2 / UTF-8 bytes of the text.
llama.cpp runs with an F32 KV cache and flash attention off (compare_llamacpp.py's settings).

  python3 bench/perplexity.py models/tiny-llama/tiny-llama-f16.gguf --text models/tiny-llama/data/heldout.txt
  python3 bench/perplexity.py m.gguf --text t.txt --max-chars 20000 --kvant m.so
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def windows(ids, chunk, bos):
    per, begin, out = chunk - 1, 0, []
    while begin + 1 < len(ids):
        out.append([bos] + list(ids[begin:begin + per]))
        begin += per
    return out


def llamacpp_ppl(gguf: str, text: str, chunk: int, threads: int) -> dict:
    import llama_cpp
    from llama_cpp import Llama
    llm = Llama(model_path=gguf, n_ctx=chunk, n_batch=chunk, n_ubatch=chunk, logits_all=True,
                n_threads=threads, n_threads_batch=threads, verbose=False,
                type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32, flash_attn=False)
    ids = llm.tokenize(text.encode("utf-8"), add_bos=False)
    total, scored = 0.0, 0
    t0 = time.perf_counter()
    for w in windows(ids, chunk, llm.token_bos()):
        llm.reset()
        llm.eval(w)
        z = np.array(llm.scores[: len(w) - 1], dtype=np.float64)
        m = z.max(-1, keepdims=True)
        logz = (m + np.log(np.exp(z - m).sum(-1, keepdims=True)))[:, 0]
        total += float(np.sum(logz - z[np.arange(len(w) - 1), w[1:]]))
        scored += len(w) - 1
    secs = time.perf_counter() - t0
    nbytes = len(text.encode("utf-8"))
    return {"tokens": scored, "bytes": nbytes, "nll_per_token": total / scored,
            "perplexity": math.exp(total / scored), "bits_per_byte": total / math.log(2) / nbytes,
            "tokens_per_s": scored / secs}


def kvant_ppl(so: str, gguf: str, path: str, chunk: int, threads: int) -> dict:
    d = os.environ.get("KVANT_BUILD_DIR", "build")
    run = os.path.join(d if os.path.isabs(d) else os.path.join(REPO, d), "bin", "kvant-run")
    proc = subprocess.run([run, so, "--weights", gguf, "--perplexity", path, "--ppl-chunk",
                           str(chunk), "--threads", str(threads), "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"kvant-run failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--text", default=os.path.join(REPO, "models/tiny-llama/data/heldout.txt"))
    ap.add_argument("--max-chars", type=int, default=0, help="use only the first N characters")
    ap.add_argument("--chunk", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2,
                    help="llama.cpp threads, and kvant-run --threads (artifacts built with --parallel)")
    ap.add_argument("--no-llamacpp", action="store_true", help="only run the --kvant artifacts")
    ap.add_argument("--kvant", action="append", default=[],
                    help="compiled artifact for the model at the same position (repeat)")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    if a.max_chars:
        text = text[:a.max_chars]
    path = a.text
    if a.max_chars:
        fd, path = tempfile.mkstemp(suffix=".txt")
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
    rows = []
    for i, m in enumerate(a.models):
        r = {"model": os.path.basename(m)}
        if not a.no_llamacpp:
            try:
                r["llamacpp"] = llamacpp_ppl(m, text, a.chunk, a.threads)
            except Exception as e:  # e.g. a tensor type this llama.cpp build does not know
                r["llamacpp_error"] = f"{type(e).__name__}: {e}"
        if i < len(a.kvant):
            r["kvant"] = kvant_ppl(a.kvant[i], m, path, a.chunk, a.threads)
        rows.append(r)
    print(f"text: {os.path.basename(a.text)}" + (f" (first {a.max_chars} chars)" if a.max_chars else "")
          + f", chunk {a.chunk}")
    print("| model | side | tokens | nll/token | perplexity | bits/byte | tokens/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        for side in ("kvant", "llamacpp"):
            if side in r:
                x = r[side]
                print(f"| {r['model']} | {side} | {x['tokens']} | {x['nll_per_token']:.5f} | "
                      f"{x['perplexity']:.4f} | {x['bits_per_byte']:.5f} | {x['tokens_per_s']:.1f} |")
        if "llamacpp_error" in r:
            print(f"| {r['model']} | llamacpp | refused: {r['llamacpp_error']} | | | | |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)
    if path != a.text:
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
