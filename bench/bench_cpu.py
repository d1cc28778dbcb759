#!/usr/bin/env python3
"""CPU benchmark: prefill and decode tokens/s of kvant and llama.cpp on the same GGUF.

For each weight format the same random-weight GGUF (models/make_random_gguf.py, cached in
bench/.cache/) is

  * compiled once with kvant-compile (timed, reported separately) and run with
    `kvant-run --tokens ... -n D --json`, which reports prefill and decode tokens/s;
  * loaded by llama.cpp (llama-cpp-python) and timed through the low-level API doing the
    same work: one llama_decode of the whole prompt (prefill), then D-1 single-token
    llama_decode calls with greedy argmax done outside (decode). kvant-run's "-n D" also
    makes D-1 decode forwards (the last sampled token is not fed back), so both sides count
    the same forwards.

Both sides are loaded (and kvant compiled and probed) first; then their repetitions
alternate (kvant, llama.cpp, kvant, ...), so that a change in the shared machine's load
lands on both medians rather than on one side.

The machine's memory read bandwidth is measured in the same run (build/bin/kvant-membw:
--threads threads streaming 1 GiB with vector loads, the best over software-prefetch
distances): once at the start (best of a few; also on one thread), and right before and
after every repetition of either side. The shared machine's bandwidth jumps between
levels (e.g. 50 and 78 GB/s) from one minute to the next, so each repetition's decode
is compared with the bandwidth around it: its fraction of the weight-streaming roofline
is decode tokens/s x weight bytes read per token / the mean of the samples before and
after it, counted only when those two agree within 10 % (the bandwidth held during the
repetition). The % roofline columns are the median over those repetitions (how many
counted in brackets). Until the eleventh session the fraction was the median decode
over the median of all samples, which mixes the levels. The fraction against the
start-of-run best is printed too.

Honesty notes printed with the results:
  * kvant's CPU code is young: matmuls against weights are vectorized GEMV loops
    (qt-lower-matmul-to-vector: int8 activations on AVX2, vpdpbusd where the CPU has VNNI,
    weights of 32-element block formats read as 8 interleaved rows that the artifact's
    repack function produces at load, prompt rows in tiles of 8 and 4 sharing each decoded
    block), attention is a vector loop over
    the cached keys with an online softmax (llm-lower-attention-to-vector), norms, rope and
    elementwise ops are reference linalg -> loops, and it runs on one thread unless
    compiled with --parallel
    (--kvant-parallel here: the artifact's thread team, then kvant-run --threads T).
    llama.cpp repacks Q4_0 and
    Q4_K into 8 interleaved rows at load too (its CPU_REPACK buffers). This benchmark exists
    to measure, not to look good.
  * When kvant is too slow to run the full prompt/decode in --kvant-budget seconds, its
    prompt and/or decode token counts are capped (printed). Its scalar loops cost about the
    same per token at these lengths, so capped rates are representative, but they are not
    the same measurement as llama.cpp's.

Usage:
  python3 bench/bench_cpu.py                                   # TinyLlama-1.1B, Q8_0+Q4_0, 2 threads
  python3 bench/bench_cpu.py --shape tiny --types F32,Q8_0 --reps 5 --json out.json
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "models"))


# ----------------------------------------------------------------------------- helpers
def build_dir() -> str:
    d = os.environ.get("KVANT_BUILD_DIR", "build")
    return d if os.path.isabs(d) else os.path.join(REPO, d)


def tool(name: str) -> str:
    path = os.path.join(build_dir(), "bin", name)
    if not os.access(path, os.X_OK):
        sys.exit(f"bench_cpu: {path} is not built (set KVANT_BUILD_DIR)")
    return path


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def ensure_gguf(cache: str, shape: str, wtype: str, seed: int) -> str:
    path = os.path.join(cache, f"{shape}-{wtype}.gguf")
    if not os.path.exists(path):
        log(f"making {path} (random weights; minutes for 1.1B) ...")
        from make_random_gguf import main as make_random
        tmp = path + ".part"
        rc = make_random(["--shape", shape, "--type", wtype, "-o", tmp, "--seed", str(seed)])
        if rc:
            sys.exit(f"bench_cpu: make_random_gguf failed for {shape} {wtype}")
        os.replace(tmp, path)
    return path


def weight_bytes_per_token(path: str) -> tuple[int, int, int]:
    """(bytes read per decoded token, total tensor bytes, parameter count).

    Every weight matrix is streamed once per token except token_embd, of which only one row is
    read (unless it doubles as the output head: tied embeddings, then it is streamed)."""
    from gguf import GGUFReader
    r = GGUFReader(path)
    names = {t.name for t in r.tensors}
    total = per_token = params = 0
    for t in r.tensors:
        n = int(t.n_bytes)
        total += n
        params += int(t.n_elements)
        if t.name == "token_embd.weight" and "output.weight" in names:
            rows = int(t.shape[-1]) if len(t.shape) > 1 else 1
            per_token += n // max(rows, 1)
        else:
            per_token += n
    return per_token, total, params


class BandwidthSampler:
    """Read bandwidth (GB/s) of `threads` threads streaming 1 GiB, on demand, so that
    samples can be taken between the repetitions being compared with them.

    Measured by build/bin/kvant-membw (bench/membw.c): plain vector loads, with and
    without software prefetching, the best rate over them. NumPy's reductions were used
    before the tenth session; on the Zen 5 machine np.sum read 32 GB/s on two threads
    while kvant's Q8_0 decode streamed 66 GB/s of weights (rooflines above 100 %)."""

    def __init__(self, threads: int, mib: int = 1024):
        self.threads = max(threads, 1)
        self.mib = mib
        self.tool = tool("kvant-membw")

    def _read(self, threads: int, passes: int) -> float:
        out = subprocess.run([self.tool, "--threads", str(threads), "--mib", str(self.mib),
                              "--passes", str(passes), "--json"],
                             check=True, capture_output=True, text=True).stdout
        return float(json.loads(out)["gb_per_s"])

    def sample(self, passes: int = 2) -> float:
        """Best of `passes` reads per prefetch distance (one pass over 1 GiB is ~20 ms)."""
        return self._read(self.threads, passes)

    def sample_one_thread(self, passes: int) -> float:
        return self._read(1, passes)


def measure_bandwidth(sampler: BandwidthSampler, reps: int = 5) -> dict:
    """Best-of-`reps` read bandwidth (GB/s) on one thread and on the sampler's threads."""
    best1 = sampler.sample_one_thread(reps)
    bestn = max(best1, sampler.sample(reps)) if sampler.threads > 1 else best1
    return {"gb_per_s_1thread": best1, "gb_per_s_nthreads": bestn, "threads": sampler.threads,
            "array_bytes": sampler.mib << 20, "reps": reps, "reader": "kvant-membw"}


def prompt_ids(n: int, vocab: int, seed: int = 7) -> list[int]:
    """BOS followed by ids drawn from the ordinary (non-special, non-byte) range."""
    rng = np.random.default_rng(seed)
    lo = 259 if vocab > 300 else 3
    return [1] + [int(t) for t in rng.integers(lo, vocab, n - 1)]


# ----------------------------------------------------------------------------- kvant
def kvant_compile(gguf: str, context: int, recompile: bool,
                  parallel: bool = False) -> tuple[str, float, bool]:
    """Artifact path, compile seconds, and whether it was reused from the cache."""
    so = gguf[: -len(".gguf")] + f"-ctx{context}" + ("-par" if parallel else "") + ".so"
    meta = so + ".json"
    compiler = tool("kvant-compile")
    fresh = (os.path.exists(so) and os.path.exists(meta)
             and os.path.getmtime(so) >= os.path.getmtime(compiler)
             and os.path.getmtime(so) >= os.path.getmtime(gguf))
    if fresh and not recompile:
        with open(meta) as f:
            return so, float(json.load(f)["compile_s"]), True
    log(f"kvant-compile {os.path.basename(gguf)} --context {context} ...")
    t = time.perf_counter()
    proc = subprocess.run([compiler, gguf, "--target=cpu", "--context", str(context), "-o", so]
                          + (["--parallel"] if parallel else ["--parallel=false"]), capture_output=True, text=True)
    secs = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"bench_cpu: kvant-compile failed:\n{proc.stderr}")
    with open(meta, "w") as f:
        json.dump({"compile_s": secs, "context": context}, f)
    log(f"  compiled in {secs:.1f} s")
    return so, secs, False


def kvant_run(so: str, gguf: str, prompt: list[int], n: int, threads: int = 0) -> dict:
    proc = subprocess.run([tool("kvant-run"), so, "--weights", gguf, "--tokens",
                           ",".join(map(str, prompt)), "-n", str(n), "--json"]
                          + (["--threads", str(threads)] if threads else []),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_cpu: kvant-run failed:\n{proc.stderr}")
    out = json.loads(proc.stdout)
    return {"prefill": out["prefill_tokens_per_s"], "decode": out["decode_tokens_per_s"],
            "generated": len(out["tokens"])}


def prepare_kvant(gguf: str, args, vocab: int):
    """Compiles and probes; returns (one repetition, metadata)."""
    context = max(128, -(-(args.prompt_tokens + args.decode_tokens) // 64) * 64)
    so, compile_s, cached = kvant_compile(gguf, context, args.recompile, args.kvant_parallel)
    threads = args.threads if args.kvant_parallel else 1
    P, D, reps = args.prompt_tokens, args.decode_tokens, args.reps
    notes = []
    # Probe with a short run to see whether the full measurement fits the budget.
    probe_p, probe_n = min(P, 8), min(D, 3)
    log(f"kvant probe: prompt {probe_p}, -n {probe_n}")
    t = time.perf_counter()
    probe = kvant_run(so, gguf, prompt_ids(probe_p, vocab), probe_n, threads)
    probe_wall = time.perf_counter() - t
    pre_s = 1.0 / max(probe["prefill"], 1e-9)
    dec_s = 1.0 / max(probe["decode"], 1e-9) if probe["decode"] > 0 else pre_s
    est = lambda p, d: p * pre_s + max(d - 1, 0) * dec_s  # noqa: E731
    budget = args.kvant_budget
    if dec_s > args.kvant_slow_token_s and D > args.kvant_slow_decode_cap:
        notes.append(f"decode capped {D} -> {args.kvant_slow_decode_cap} tokens "
                     f"({dec_s:.1f} s/token > {args.kvant_slow_token_s:g} s/token)")
        D = args.kvant_slow_decode_cap
    while reps > 1 and est(P, D) * reps > budget:
        reps -= 1
    if reps < args.reps:
        notes.append(f"repetitions {args.reps} -> {reps} (budget {budget:g} s)")
    if est(P, D) > budget:
        new_p = max(4, int((budget - max(D - 1, 0) * dec_s) / pre_s))
        if new_p < P:
            notes.append(f"prompt capped {P} -> {new_p} tokens ({pre_s:.1f} s/token prefill; "
                         f"budget {budget:g} s)")
            P = new_p
    log(f"kvant: prefill {pre_s:.2f} s/token, decode {dec_s:.2f} s/token (probe {probe_wall:.0f} s); "
        f"measuring prompt {P}, -n {D}, {reps} rep(s), est. {est(P, D) * reps:.0f} s")
    meta = {"compile_s": compile_s, "compile_cached": cached, "context": context,
            "prompt_tokens": P, "decode_tokens": D, "reps": reps, "threads": threads or 1,
            "parallel": args.kvant_parallel, "notes": notes}
    return (lambda: kvant_run(so, gguf, prompt_ids(P, vocab), D, threads)), meta


# Repetitions whose bandwidth samples before and after differ by more than this are
# left out of the paired roofline (the bandwidth changed during them).
STABLE_BANDWIDTH = 0.10


def summarize(meta: dict, runs: list[dict], per_tok: int) -> dict:
    """`meta` with the runs, their median rates and the paired roofline fraction: per
    repetition, decode bytes/s over the mean bandwidth of the samples around it, median over
    the repetitions whose two samples agree within STABLE_BANDWIDTH."""
    fractions = []
    for r in runs:
        before, after = r["bandwidth_before"], r["bandwidth_after"]
        if abs(before - after) <= STABLE_BANDWIDTH * max(before, after):
            fractions.append(r["decode"] * per_tok / ((before + after) / 2 * 1e9))
    return {**meta, "runs": runs,
            "prefill_tps": statistics.median(r["prefill"] for r in runs),
            "decode_tps": statistics.median(r["decode"] for r in runs),
            "roofline_paired": statistics.median(fractions) if fractions else None,
            "roofline_paired_reps": len(fractions)}


# ----------------------------------------------------------------------------- llama.cpp
def prepare_llamacpp(gguf: str, args, vocab: int):
    """Loads and warms up; returns (one repetition, metadata, close)."""
    import llama_cpp
    from llama_cpp import Llama
    P, D = args.prompt_tokens, args.decode_tokens
    n_ctx = P + D + 16
    llm = Llama(model_path=gguf, n_ctx=n_ctx, n_batch=max(P, 32), n_ubatch=max(P, 32),
                n_threads=args.threads, n_threads_batch=args.threads, logits_all=False,
                verbose=False)
    ctx, batch = llm._ctx, llm._batch
    n_vocab = llm.n_vocab()

    def last_logits() -> np.ndarray:
        ptr = llama_cpp.llama_get_logits_ith(ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(n_vocab,))

    def one_rep(prompt: list[int]) -> dict:
        ctx.kv_cache_clear()
        t0 = time.perf_counter()
        batch.set_batch(prompt, n_past=0, logits_all=False)
        ctx.decode(batch)
        nxt = int(np.argmax(last_logits()))  # reading the logits synchronises
        t1 = time.perf_counter()
        pos = len(prompt)
        for _ in range(D - 1):
            batch.set_batch([nxt], n_past=pos, logits_all=False)
            ctx.decode(batch)
            nxt = int(np.argmax(last_logits()))
            pos += 1
        t2 = time.perf_counter()
        return {"prefill": len(prompt) / (t1 - t0),
                "decode": (D - 1) / (t2 - t1) if D > 1 else 0.0}

    prompt = prompt_ids(P, vocab)
    one_rep(prompt[:8])  # warm-up: page in the weights, build the graphs
    meta = {"prompt_tokens": P, "decode_tokens": D, "reps": args.reps, "threads": args.threads,
            "version": llama_cpp.__version__, "kv_cache": "llama.cpp default (F16)",
            "flash_attn": "llama.cpp default"}
    close = (lambda: llm.close()) if hasattr(llm, "close") else (lambda: None)
    return (lambda: one_rep(prompt)), meta, close


# ----------------------------------------------------------------------------- main
def fmt_rate(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--shape", default="tinyllama-1.1b",
                    help="models/make_random_gguf.py shape (tinyllama-1.1b, llama3-8b, tiny)")
    ap.add_argument("--types", default="Q8_0,Q4_0", help="comma-separated weight formats")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--decode-tokens", type=int, default=32,
                    help="tokens generated (-n); D-1 decode forwards are timed")
    ap.add_argument("--reps", type=int, default=3, help="repetitions; the median is reported")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--cache", default=os.path.join(HERE, ".cache"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recompile", action="store_true", help="ignore cached kvant artifacts")
    ap.add_argument("--skip-kvant", action="store_true")
    ap.add_argument("--kvant-parallel", action="store_true",
                    help="compile with kvant-compile --parallel and run kvant-run --threads T "
                         "(default: kvant's default, one thread)")
    ap.add_argument("--skip-llamacpp", action="store_true")
    ap.add_argument("--kvant-budget", type=float, default=240.0,
                    help="seconds of kvant-run time per format before token counts are capped")
    ap.add_argument("--kvant-slow-token-s", type=float, default=5.0,
                    help="above this many s/token kvant's decode tokens are capped ...")
    ap.add_argument("--kvant-slow-decode-cap", type=int, default=8, help="... to this many")
    args = ap.parse_args(argv)
    if args.prompt_tokens < 2 or args.decode_tokens < 2:
        ap.error("--prompt-tokens and --decode-tokens must be >= 2")
    types = [t.strip() for t in args.types.split(",") if t.strip()]
    os.makedirs(args.cache, exist_ok=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    result = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_model(),
              "cores": os.cpu_count(), "shape": args.shape, "threads": args.threads,
              "prompt_tokens": args.prompt_tokens, "decode_tokens": args.decode_tokens,
              "reps": args.reps, "loadavg_start": loadavg(), "formats": {}}
    log(f"measuring memory bandwidth ({args.threads} threads) ...")
    sampler = BandwidthSampler(args.threads)
    bw = measure_bandwidth(sampler)
    result["bandwidth"] = bw
    peak_bw = bw["gb_per_s_nthreads"] * 1e9

    for wtype in types:
        gguf = ensure_gguf(args.cache, args.shape, wtype, args.seed)
        per_tok, total, params = weight_bytes_per_token(gguf)
        from gguf import GGUFReader
        vocab = len(GGUFReader(gguf).fields["tokenizer.ggml.tokens"].data)
        entry = {"file": os.path.relpath(gguf, REPO), "file_bytes": os.path.getsize(gguf),
                 "weight_bytes_per_token": per_tok, "tensor_bytes": total, "params": params,
                 "roofline_peak_decode_tps": peak_bw / per_tok}
        # Both sides are prepared first, then their repetitions alternate, so
        # that a change in the machine's load falls on both medians.
        sides = {}
        if not args.skip_kvant:
            log(f"kvant {wtype} ...")
            rep, meta = prepare_kvant(gguf, args, vocab)
            sides["kvant"] = (rep, meta, lambda: None)
        if not args.skip_llamacpp:
            log(f"llama.cpp {wtype} ...")
            sides["llamacpp"] = prepare_llamacpp(gguf, args, vocab)
        runs = {name: [] for name in sides}
        samples = []
        for i in range(max([m["reps"] for _, m, _ in sides.values()] or [0])):
            for name, (rep, meta, _) in sides.items():
                if i < meta["reps"]:
                    # The bandwidth right around this repetition.
                    before = sampler.sample(1)
                    run = rep()
                    after = sampler.sample(1)
                    run["bandwidth_before"], run["bandwidth_after"] = before, after
                    samples += [before, after]
                    runs[name].append(run)
        entry["bandwidth_samples_gb_per_s"] = samples
        entry["bandwidth_gb_per_s"] = statistics.median(samples)
        entry["roofline_decode_tps"] = entry["bandwidth_gb_per_s"] * 1e9 / per_tok
        for name, (_, meta, close) in sides.items():
            close()
            entry[name] = summarize(meta, runs[name], per_tok)
        result["formats"][wtype] = entry
    result["loadavg_end"] = loadavg()
    result["wall_s"] = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()

    # ------------------------------------------------------------------ report
    print(f"# kvant vs llama.cpp, CPU — {result['date']}")
    print(f"machine: {result['cpu']}, {result['cores']} cores; load average at start "
          f"{result['loadavg_start']}, at end {result['loadavg_end']}")
    print(f"model: random-weight {args.shape}; prompt {args.prompt_tokens} tokens, "
          f"{args.decode_tokens} generated (decode rate over {args.decode_tokens - 1} forwards); "
          f"median of {args.reps}, the two sides' repetitions alternating; llama.cpp threads {args.threads}, kvant "
          + (f"--parallel, --threads {args.threads}" if args.kvant_parallel
             else "1 thread (compiled without --parallel)"))
    print(f"memory read bandwidth at the start (kvant-membw, 1 GiB, best of {bw['reps']}): "
          f"{bw['gb_per_s_1thread']:.1f} GB/s on 1 thread, {bw['gb_per_s_nthreads']:.1f} GB/s "
          f"on {args.threads}; the % roofline below pairs each repetition with the bandwidth "
          f"sampled right before and after it ({args.threads} threads)")
    print()
    print("| format | weights read/token | bandwidth during | roofline decode | llama.cpp prefill | "
          "kvant prefill | ratio | llama.cpp decode | kvant decode | ratio | "
          "llama.cpp % roofline | kvant % roofline | kvant compile |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for wtype, e in result["formats"].items():
        lc, kv = e.get("llamacpp"), e.get("kvant")
        roof = e["roofline_decode_tps"]
        wb = e["weight_bytes_per_token"]
        size = f"{wb / 2**20:.0f} MiB" if wb >= 2**24 else f"{wb / 2**10:.0f} KiB"
        spread = e["bandwidth_samples_gb_per_s"]
        cells = [wtype, size, f"{e['bandwidth_gb_per_s']:.1f} GB/s "
                 f"({min(spread):.1f}-{max(spread):.1f})", f"{fmt_rate(roof)} tok/s"]
        lp = f"{fmt_rate(lc['prefill_tps'])} tok/s" if lc else "—"
        kp = f"{fmt_rate(kv['prefill_tps'])} tok/s" if kv else "—"
        rp = f"{kv['prefill_tps'] / lc['prefill_tps']:.2f}" if lc and kv else "—"
        ld = f"{fmt_rate(lc['decode_tps'])} tok/s" if lc else "—"
        kd = f"{fmt_rate(kv['decode_tps'])} tok/s" if kv else "—"
        rd = f"{kv['decode_tps'] / lc['decode_tps']:.2f}" if lc and kv else "—"
        def paired(side):
            if not side:
                return "—"
            if side["roofline_paired"] is None:
                return f"— (0/{len(side['runs'])})"
            return (f"{100 * side['roofline_paired']:.1f} % "
                    f"({side['roofline_paired_reps']}/{len(side['runs'])})")
        lr, kr = paired(lc), paired(kv)
        kc = (f"{kv['compile_s']:.0f} s" + (" (cached)" if kv["compile_cached"] else "")) if kv else "—"
        print("| " + " | ".join(cells + [lp, kp, rp, ld, kd, rd, lr, kr, kc]) + " |")
        if kv:
            peak_pct = 100 * kv["decode_tps"] / e["roofline_peak_decode_tps"]
            notes.append(f"{wtype}: kvant at {peak_pct:.1f} % of the roofline of the start-of-run "
                         f"best bandwidth ({bw['gb_per_s_nthreads']:.1f} GB/s)" +
                         (f", llama.cpp at {100 * lc['decode_tps'] / e['roofline_peak_decode_tps']:.1f} %"
                          if lc else ""))
            for n in kv["notes"]:
                notes.append(f"{wtype}: kvant {n}")
    print()
    print("ratio = kvant / llama.cpp (higher is better for kvant). bandwidth during = median "
          "of the samples taken before and after every repetition (their range in brackets); "
          "roofline decode = that / weight bytes read per token (all matrices incl. the output "
          "head; one embedding row). % roofline = median over the repetitions whose samples "
          "before and after agree within 10 % (how many in brackets) of decode tok/s x bytes "
          "per token / the mean of those two samples.")
    print("kvant's CPU code: vector GEMV with fused decode for weight matmuls (int8 activations "
          "on AVX2, vpdpbusd with VNNI; 32-element block formats read as 8 interleaved rows, "
          "repacked at load; prompt rows in tiles of 8 and 4 share each decoded weight block, "
          "meeting interleaved unsigned quants transposed by words), vector attention with "
          "an online softmax, reference loops for norms, rope and elementwise ops (run on "
          "the calling thread when small); parallel loops on the artifact's own thread team, "
          "each thread's share first, then helping the others (dynamic schedule). llama.cpp "
          "repacks Q4_0/Q4_K into 8 interleaved rows at load.")
    for n in notes:
        print(f"note: {n}")
    load1 = float(result["loadavg_start"].split()[0]) if result["loadavg_start"] != "?" else 0.0
    if args.threads >= (os.cpu_count() or 1) and load1 > 1.0:
        print(f"warning: the machine was busy (1-min load {load1:.2f}) and llama.cpp was given "
              f"every core; its spinning thread pool degrades badly when a core is taken.")
    sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
