#!/usr/bin/env python3
"""kvant vs llama.cpp on the same GGUF and tokens: logits and greedy continuation.

For each model: compile it with kvant-compile (or take --artifact), run
`kvant-run --tokens ... -n N --json --dump-logits FILE` (prompt logits, then one row per
decoded token), and run llama.cpp (llama-cpp-python) on the same file with the settings of
compare_llamacpp.py: F32 K/V cache and flash attention off (llama.cpp's defaults, an F16 KV
cache and f16 flash attention, shift logits by ~5e-3).

Reported per model:
  * prefill: max |kvant - llama.cpp| over the prompt's logits, relative to max |logit|, and
    top-1 agreement;
  * decode: the same over kvant's decode rows, with llama.cpp fed kvant's tokens (teacher
    forcing, one batched eval);
  * greedy: kvant's N greedy tokens vs llama.cpp's own free-running greedy tokens (single-token
    evals, argmax outside) — steps identical before the first divergence.
    With --reference, also kvant vs the NumPy reference (test/reference/llama_ref.py).

Expected (see compare_llamacpp.py): all-F32 files agree to f32 rounding (~1e-6 relative).
With F16 or quantized weights llama.cpp also rounds the *activations* (to F16 for F16
weights, to Q8_0/Q8_K blocks for quantized ones) while kvant multiplies exact f32 activations
by the dequantized weights, so ~1e-2 relative is normal and top-1 / greedy may part at near
ties. A top-1 or greedy mismatch is accepted only at a near tie: kvant's margin between the two
tokens <= 2 * the max |diff| of that run.

Usage:
  python3 test/reference/compare_kvant_llamacpp.py models/tiny-llama/tiny-llama-f16.gguf \\
      --prompt "In the beginning God created the heaven and the earth."
  python3 test/reference/compare_kvant_llamacpp.py a.gguf b.gguf --tokens 1,5,9 --steps 32
Exit status 1 if a model exceeds --rtol (default 1e-4 all-F32, 3e-2 otherwise) or has a
mismatch that is not a near tie.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)


def build_dir() -> str:
    d = os.environ.get("KVANT_BUILD_DIR", "build")
    return d if os.path.isabs(d) else os.path.join(REPO, d)


def tool(name: str) -> str:
    path = os.path.join(build_dir(), "bin", name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is not built (set KVANT_BUILD_DIR)")
    return path


def run(args: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} ... failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def weight_types(path: str) -> set[str]:
    from gguf import GGUFReader
    return {t.tensor_type.name for t in GGUFReader(path).tensors if len(t.shape) > 1}


def kvant_side(gguf: str, so: str, prompt: list[int] | None, text: str | None, steps: int,
               workdir: str) -> dict:
    dump = os.path.join(workdir, os.path.basename(gguf) + ".logits")
    args = [tool("kvant-run"), so, "--weights", gguf, "-n", str(steps), "--json", "--dump-logits", dump]
    args += ["-p", text] if text is not None else ["--tokens", ",".join(map(str, prompt))]
    out = json.loads(run(args).stdout)
    logits = np.fromfile(dump, dtype="<f4")
    return {"prompt": out["prompt_tokens"], "tokens": out["tokens"], "logits": logits}


def llamacpp_side(gguf: str, prompt: list[int], forced: list[int], steps: int, threads: int,
                  text: str | None) -> dict:
    import llama_cpp
    from llama_cpp import Llama
    n_ctx = max(32, len(prompt) + max(steps, len(forced)) + 8)
    llm = Llama(model_path=gguf, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, n_threads=threads,
                n_threads_batch=threads, verbose=False, type_k=llama_cpp.GGML_TYPE_F32,
                type_v=llama_cpp.GGML_TYPE_F32, flash_attn=False)
    vocab = llm._model.vocab
    res = {}
    if text is not None:
        res["prompt"] = llm.tokenize(text.encode(), add_bos=True)
    # Teacher-forced: prompt + kvant's generated tokens (all but the last) in one eval.
    llm.reset()
    seq = list(prompt) + list(forced)
    llm.eval(seq)
    res["logits"] = np.array(llm.scores[: llm.n_tokens], dtype=np.float64)
    # Free-running greedy, one token per eval, argmax outside.
    llm.reset()
    llm.eval(prompt)
    greedy = []
    for _ in range(steps):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        greedy.append(nxt)
        if llama_cpp.llama_vocab_is_eog(vocab, nxt) or len(greedy) == steps:
            break
        llm.eval([nxt])
    res["greedy"] = greedy
    llm.close() if hasattr(llm, "close") else None
    return res


def near_tie_ok(ref_logits: np.ndarray, got_top: np.ndarray, tol: float) -> np.ndarray:
    """Per row: True where ref's top-1 equals got_top or the margin is within tol."""
    rows = np.arange(ref_logits.shape[0])
    margin = ref_logits[rows, ref_logits.argmax(-1)] - ref_logits[rows, got_top]
    return margin <= tol


def compare_one(gguf: str, args, workdir: str) -> dict:
    name = os.path.basename(gguf)
    types = weight_types(gguf)
    all_f32 = types == {"F32"}
    rtol = args.rtol if args.rtol is not None else (1e-4 if all_f32 else 3e-2)
    so = args.artifact
    if so is None:
        so = os.path.join(workdir, name[: -len(".gguf")] + ".so")
        if not os.path.exists(so):
            run([tool("kvant-compile"), gguf, "--target=cpu", "-o", so])
    if args.prompt is not None:
        kv = kvant_side(gguf, so, None, args.prompt, args.steps, workdir)
    else:
        if args.tokens:
            prompt = [int(t) for t in args.tokens.split(",") if t.strip()]
        else:
            from gguf import GGUFReader
            V = len(GGUFReader(gguf).fields["tokenizer.ggml.tokens"].data)
            rng = np.random.default_rng(args.seed)
            prompt = [1] + [int(t) for t in rng.integers(3, V, args.n_prompt - 1)]
        kv = kvant_side(gguf, so, prompt, None, args.steps, workdir)
    prompt, gen = kv["prompt"], kv["tokens"]
    T = len(prompt)
    rows = kv["logits"].size
    n_rows = T + max(len(gen) - 1, 0)
    # kvant-run stops at an end-of-generation token; it dumps a row per fed token.
    if rows % n_rows:
        n_rows = T + len(gen)  # defensive: a row for the last token too
    kl = kv["logits"].astype(np.float64).reshape(n_rows, -1)
    V = kl.shape[1]
    forced = gen[: n_rows - T]
    lc = llamacpp_side(gguf, prompt, forced, args.steps, args.threads, args.prompt)
    ll = lc["logits"]
    assert ll.shape == kl.shape, (ll.shape, kl.shape)
    scale = float(np.abs(ll).max())
    diff = np.abs(kl - ll)
    pre, dec = diff[:T], diff[T:]
    max_all = float(diff.max())
    top_k, top_l = kl.argmax(-1), ll.argmax(-1)
    agree = top_k == top_l
    tie_ok = near_tie_ok(kl, top_l, 2 * max_all)
    # Greedy: first divergence between kvant's and llama.cpp's free-running tokens.
    lg = lc["greedy"]
    same = 0
    while same < min(len(gen), len(lg)) and gen[same] == lg[same]:
        same += 1
    greedy_ok = same == min(len(gen), len(lg)) and len(gen) == len(lg)
    greedy_note = ""
    if not greedy_ok:
        row = T + same - 1  # kvant's logits row that produced token `same`
        if same < len(gen) and same < len(lg) and row < kl.shape[0]:
            m = kl[row, gen[same]] - kl[row, lg[same]]
            greedy_ok = m <= 2 * max_all
            greedy_note = f"diverge at step {same} (kvant margin {m:.3g})"
        else:
            greedy_note = f"lengths {len(gen)} vs {len(lg)}"
    r = {"model": name, "types": ",".join(sorted(types)), "prompt_tokens": T, "vocab": V,
         "prefill_max_abs": float(pre.max()), "prefill_rel": float(pre.max()) / scale,
         "decode_max_abs": float(dec.max()) if dec.size else 0.0,
         "decode_rel": (float(dec.max()) / scale) if dec.size else 0.0,
         "max_abs_logit": scale, "top1": f"{int(agree[:T].sum())}/{T}",
         "top1_decode": f"{int(agree[T:].sum())}/{len(agree) - T}",
         "greedy_same": f"{same}/{len(gen)}", "greedy_note": greedy_note,
         "kvant_greedy": gen, "llamacpp_greedy": lg, "rtol": rtol}
    if "prompt" in lc:
        r["tokenizer_match"] = bool(lc["prompt"] == prompt)
    ok = max_all / scale <= rtol and bool(np.all(agree | tie_ok)) and greedy_ok
    if "prompt" in lc and not r["tokenizer_match"]:
        ok = False
    if args.reference:
        from llama_ref import LlamaReference
        want = LlamaReference(gguf).forward(prompt + forced)
        r["ref_rel"] = float(np.abs(kl - want).max() / np.abs(want).max())
        r["llamacpp_ref_rel"] = float(np.abs(ll - want).max() / np.abs(want).max())
    r["ok"] = bool(ok)
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("models", nargs="+")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--tokens", help="comma-separated prompt ids (default: BOS + random ids)")
    g.add_argument("--prompt", help="prompt text, tokenized by kvant-run and checked against "
                                    "llama.cpp's tokenizer")
    ap.add_argument("--n-prompt", type=int, default=16, help="length of the random prompt")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=32, help="greedy tokens to generate")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rtol", type=float, help="max |diff| / max |logit| allowed")
    ap.add_argument("--artifact", help="a compiled .so to use (one model only)")
    ap.add_argument("--reference", action="store_true",
                    help="also compare with the NumPy reference (small models)")
    ap.add_argument("--workdir", help="where artifacts and dumps go (default: a temp dir)")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args(argv)
    if a.artifact and len(a.models) > 1:
        ap.error("--artifact takes one model")
    workdir = a.workdir or tempfile.mkdtemp(prefix="kvant-vs-llamacpp-")
    os.makedirs(workdir, exist_ok=True)
    results = [compare_one(m, a, workdir) for m in a.models]
    ref = a.reference
    print("| model | weights | prompt | prefill max abs | rel | decode max abs | rel | top-1 prefill | "
          "top-1 decode | greedy identical |" + (" kvant vs ref rel | llama.cpp vs ref rel |" if ref else "")
          + " ok |")
    print("|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if ref else "") + "---|")
    for r in results:
        cells = [r["model"], r["types"], str(r["prompt_tokens"]), f"{r['prefill_max_abs']:.2e}",
                 f"{r['prefill_rel']:.1e}", f"{r['decode_max_abs']:.2e}", f"{r['decode_rel']:.1e}",
                 r["top1"], r["top1_decode"],
                 r["greedy_same"] + (f" ({r['greedy_note']})" if r["greedy_note"] else "")]
        if ref:
            cells += [f"{r['ref_rel']:.1e}", f"{r['llamacpp_ref_rel']:.1e}"]
        cells.append("yes" if r["ok"] else f"NO (rtol {r['rtol']:g})")
        print("| " + " | ".join(cells) + " |")
    for r in results:
        if "tokenizer_match" in r:
            print(f"{r['model']}: kvant-run and llama.cpp tokenize the prompt "
                  + ("identically" if r["tokenizer_match"] else "DIFFERENTLY"))
        if not r["ok"] or r["greedy_note"]:
            print(f"{r['model']}: kvant greedy {r['kvant_greedy']}\n"
                  f"{' ' * len(r['model'])}  llama.cpp    {r['llamacpp_greedy']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
