#!/usr/bin/env python3
"""CPU GEMV benchmark: weight GB/s of kvant's generated matmul code vs the machine's read
bandwidth measured in the same run.

For each weight format (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, TQ2_0: `qt.matmul`; F16, F32: a transposed-B
`linalg.matmul`, as convert-llm-to-linalg emits) and shape [N, K], one function

    gemv(x: f32[M, K], w: bytes of [N, K], y: f32[M, N])    (M = 1 by default)

is compiled through kvant-opt (the CPU pipeline's passes from the matmul on: `vector` runs
qt-lower-matmul-to-vector first, `reference` only the element-wise linalg lowering that the
pipeline used before it), mlir-translate and clang -O3 -march=native into a shared object,
loaded with ctypes and timed (median of several batches, each long enough to span >= 50 ms).
Weights are random bytes with valid f16 scales (the speed does not depend on the values).

The read bandwidth is build/bin/kvant-membw's (1 GiB, the same threads, best of 3), measured before and
after the kernels; the ratio printed is kernel weight GB/s over the higher of the two. Other
tenants share this machine: repeat a run before trusting one number.

Usage:
  python3 bench/gemv_cpu.py                       # Q8_0, Q4_0, F16; 5632x2048 and 32000x2048
  python3 bench/gemv_cpu.py --types Q8_0,Q5_1 --shapes 4096x4096 --threads 2 --reference
  python3 bench/gemv_cpu.py --types Q4_K --shapes 32000x2048 --threads 2 \
      --variants int8/pf=0,int8/pf=2048 --rounds 12 --seconds 4   # prefetch on/off, alternating
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LLVM_BIN = "/usr/lib/llvm-22/bin"

# Bytes per block of 32 weights.
BLOCK_BYTES = {"Q8_0": 34, "Q4_0": 18, "Q4_1": 20, "Q5_0": 22, "Q5_1": 24}
# 256-element blocks: bytes per block, byte offsets of their f16 scales.
SUPERBLOCKS = {"Q4_K": (144, (0, 2)), "Q5_K": (176, (0, 2)), "Q6_K": (210, (208,)),
               "Q2_K": (84, (80, 82)), "Q3_K": (110, (108,)), "TQ2_0": (66, (64,))}
FLOAT_BYTES = {"F16": 2, "F32": 4}


def build_dir() -> str:
    d = os.environ.get("KVANT_BUILD_DIR", "build")
    return d if os.path.isabs(d) else os.path.join(REPO, d)


def weight_bytes(fmt: str, n: int, k: int) -> int:
    if fmt in FLOAT_BYTES:
        return n * k * FLOAT_BYTES[fmt]
    if fmt in SUPERBLOCKS:
        return n * (k // 256) * SUPERBLOCKS[fmt][0]
    return n * (k // 32) * BLOCK_BYTES[fmt]


def module_text(fmt: str, m: int, n: int, k: int, interleave: int = 1) -> str:
    """gemv(x, w, y) in destination-passing style on memrefs."""
    xt, yt = f"{m}x{k}xf32", f"{m}x{n}xf32"
    if fmt in FLOAT_BYTES:
        wt = f"{n}x{k}x{fmt.lower()}"
        body = (f"    %w = bufferization.to_tensor %wm restrict : memref<{wt}> to tensor<{wt}>\n"
                f"    %zero = arith.constant 0.0 : f32\n"
                f"    %e = tensor.empty() : tensor<{yt}>\n"
                f"    %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<{yt}>) -> tensor<{yt}>\n"
                f"    %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, "
                f"affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] "
                f"ins(%x, %w : tensor<{xt}>, tensor<{wt}>) outs(%acc : tensor<{yt}>) "
                f"-> tensor<{yt}>\n")
    else:
        wt = f"{n}x{weight_bytes(fmt, n, k) // n}xi8"
        layout = f", interleave = {interleave}" if interleave > 1 else ""
        q = f"!qt.tensor<{n}x{k}, #qt.gguf<{fmt.lower()}{layout}>>"
        body = (f"    %b = bufferization.to_tensor %wm restrict : memref<{wt}> to tensor<{wt}>\n"
                f"    %w = qt.from_bytes %b : tensor<{wt}> -> {q}\n"
                f"    %y = qt.matmul %x, %w : tensor<{xt}>, {q} -> tensor<{yt}>\n")
    return ("module {\n"
            f"  func.func @gemv(%xm: memref<{xt}>, %wm: memref<{wt}>, %ym: memref<{yt}>) {{\n"
            f"    %x = bufferization.to_tensor %xm restrict : memref<{xt}> to tensor<{xt}>\n"
            + body +
            f"    bufferization.materialize_in_destination %y in restrict writable %ym"
            f" : (tensor<{yt}>, memref<{yt}>) -> ()\n"
            "    return\n  }\n}\n")


# variant -> (qt-lower-matmul-to-vector options or None for the reference lowering, rows
# interleaved in the weight's layout)
VARIANTS = {
    "vector": ("int8-activations=false", 1),   # f32 activations
    "int8": ("int8-activations=true", 1),      # q8_0/q8_K activations, qt.dot_i8
    "rows8": ("int8-activations=true", 8),     # the same on rows interleaved by 8
    "reference": (None, 1),
}


def split_variant(variant: str) -> tuple[str, int | None]:
    """'int8' or 'int8/pf=N' (prefetch-distance N bytes; the pass's default without it)."""
    name, _, option = variant.partition("/pf=")
    return name, (int(option) if option else None)


def passes(variant: str, parallel: bool) -> list[str]:
    name, prefetch = split_variant(variant)
    options = VARIANTS[name][0]
    if options and prefetch is not None:
        options += f" prefetch-distance={prefetch}"
    head = [f"--qt-lower-matmul-to-vector={options}"] if options else []
    loops = (["--scf-forall-to-parallel", "--convert-linalg-to-parallel-loops",
              "--convert-scf-to-openmp"] if parallel else
             ["--scf-forall-to-for", "--convert-linalg-to-loops"])
    return [*head, "--qt-lower-to-linalg", "--canonicalize", "--cse",
            "--one-shot-bufferize", "--buffer-deallocation-pipeline",
            f"--qt-lower-int8-ops=target={int8_target()}", *loops,
            "--convert-vector-to-scf", "--expand-strided-metadata", "--lower-affine",
            "--convert-vector-to-llvm=reassociate-fp-reductions=1",
            "--finalize-memref-to-llvm", "--convert-scf-to-cf", "--convert-math-to-llvm",
            "--convert-arith-to-llvm", "--convert-cf-to-llvm",
            "--convert-func-to-llvm=use-bare-ptr-memref-call-conv=1",
            # After the functions: it would convert them with memref descriptors.
            *(["--convert-openmp-to-llvm"] if parallel else []),
            "--convert-ub-to-llvm", "--reconcile-unrealized-casts"]


def compile_gemv(fmt, m, n, k, variant, parallel, workdir) -> str:
    stem = os.path.join(workdir, f"{fmt}_{m}x{n}x{k}_{variant.replace('/', '_')}_{int(parallel)}")
    opt = os.path.join(build_dir(), "bin", "kvant-opt")
    text = module_text(fmt, m, n, k, VARIANTS[split_variant(variant)[0]][1])
    llvm = subprocess.run([opt, *passes(variant, parallel)], input=text,
                          capture_output=True, text=True)
    if llvm.returncode:
        sys.exit(f"kvant-opt failed for {fmt} {variant}:\n{llvm.stderr}")
    ir = subprocess.run([os.path.join(LLVM_BIN, "mlir-translate"), "--mlir-to-llvmir"],
                        input=llvm.stdout, capture_output=True, text=True)
    if ir.returncode:
        sys.exit(f"mlir-translate failed:\n{ir.stderr}")
    with open(stem + ".ll", "w") as f:
        f.write(ir.stdout)
    # The thread team kvant-compile links into artifacts, as bitcode from the build.
    omp = [os.path.join(build_dir(), "lib", "Compiler", "ThreadTeam.bc")] if parallel else []
    subprocess.run([os.path.join(LLVM_BIN, "clang"), "-O3", "-march=native", "-shared", "-fPIC",
                    "-Wno-override-module", stem + ".ll", "-o", stem + ".so", *omp], check=True)
    return stem + ".so"


def int8_target() -> str:
    """qt-lower-int8-ops' target for this CPU, as kvant-compile's --int8-dot=auto picks it:
    avx2-vnni with 256-bit vpdpbusd (AVX-VNNI, or AVX512-VNNI with AVX512-VL), else avx2."""
    with open("/proc/cpuinfo") as f:
        flags = set(next(line for line in f if line.startswith("flags")).split())
    if "avx2" not in flags:
        return "generic"
    if "avx_vnni" in flags or {"avx512_vnni", "avx512vl"} <= flags:
        return "avx2-vnni"
    return "avx2"


def random_weights(fmt, n, k, rng) -> np.ndarray:
    if fmt in FLOAT_BYTES:
        dtype = np.float16 if fmt == "F16" else np.float32
        return rng.standard_normal((n, k)).astype(dtype)
    if fmt in SUPERBLOCKS:
        size, offsets = SUPERBLOCKS[fmt]
        blocks = rng.integers(0, 256, (n, k // 256, size), dtype=np.uint8)
        for offset in offsets:
            scales = (rng.random((n, k // 256)) * 0.01).astype(np.float16)
            blocks[:, :, offset:offset + 2] = scales.view(np.uint8).reshape(n, k // 256, 2)
        return blocks.reshape(n, -1)
    blocks = rng.integers(0, 256, (n, k // 32, BLOCK_BYTES[fmt]), dtype=np.uint8)
    scales = (rng.random((n, k // 32, 2)) * 0.01).astype(np.float16)
    header = 4 if fmt in ("Q4_1", "Q5_1") else 2
    blocks[:, :, :header] = scales.view(np.uint8).reshape(n, k // 32, 4)[:, :, :header]
    return blocks.reshape(n, -1)


def time_call(fn, args, seconds) -> float:
    """Median seconds per call over batches of >= 50 ms, for about `seconds` in all."""
    fn(*args)
    start = time.perf_counter()
    fn(*args)
    once = max(time.perf_counter() - start, 1e-7)
    per_batch = max(1, int(0.05 / once))
    samples = []
    deadline = time.perf_counter() + seconds
    while len(samples) < 3 or (time.perf_counter() < deadline and len(samples) < 50):
        start = time.perf_counter()
        for _ in range(per_batch):
            fn(*args)
        samples.append((time.perf_counter() - start) / per_batch)
    return statistics.median(samples)


def read_bandwidth(threads: int) -> float:
    """GB/s that `threads` threads read 1 GiB at (build/bin/kvant-membw, bench/membw.c: vector
    loads, the best over software-prefetch distances), best of 3 passes."""
    out = subprocess.run([os.path.join(build_dir(), "bin", "kvant-membw"), "--threads", str(threads),
                          "--passes", "3", "--json"], check=True, capture_output=True,
                         text=True).stdout
    return float(json.loads(out)["gb_per_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--types", default="Q8_0,Q4_0,F16")
    ap.add_argument("--shapes", default="5632x2048,32000x2048", help="NxK,...")
    ap.add_argument("--m", type=int, default=1, help="activation rows (1 = decode)")
    ap.add_argument("--threads", type=int, default=1,
                    help="> 1: parallel row loop on the artifacts' thread team of that many threads")
    ap.add_argument("--variants", default="vector,int8,rows8",
                    help="vector (f32 activations), int8 (int8 activations), rows8 (int8 "
                         "on rows interleaved by 8), reference (element-wise; slow); "
                         "NAME/pf=BYTES sets qt-lower-matmul-to-vector's prefetch-distance "
                         "(0: none)")
    ap.add_argument("--reference", action="store_true",
                    help="also time the element-wise reference lowering (slow)")
    ap.add_argument("--seconds", type=float, default=1.0, help="timing per kernel")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate the variants this many times (median); --seconds is "
                         "split between the rounds")
    args = ap.parse_args()
    parallel = args.threads > 1
    if parallel:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    variants = args.variants.split(",") + (["reference"] if args.reference else [])
    for v in variants:
        if split_variant(v)[0] not in VARIANTS:
            sys.exit(f"unknown variant '{v}'; expected one of {', '.join(VARIANTS)}")
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    rng = np.random.default_rng(0)

    bw_before = read_bandwidth(args.threads)
    print(f"read bandwidth (kvant-membw, 1 GiB, {args.threads} thread(s)): {bw_before:.1f} GB/s")
    rows = []
    with tempfile.TemporaryDirectory(prefix="kvant-gemv-") as workdir:
        for fmt in args.types.split(","):
            for n, k in shapes:
                w = random_weights(fmt, n, k, rng)
                x = rng.standard_normal((args.m, k)).astype(np.float32)
                y = np.zeros((args.m, n), dtype=np.float32)
                call_args = [a.ctypes.data_as(ctypes.c_void_p) for a in (x, w, y)]
                fns = {}
                for variant in variants:
                    lib = ctypes.CDLL(compile_gemv(fmt, args.m, n, k, variant, parallel,
                                                   workdir))
                    fns[variant] = lib.gemv
                    fns[variant].restype = None
                    fns[variant].argtypes = [ctypes.c_void_p] * 3
                # The variants take turns (median of rounds): other tenants' load moves
                # between minutes, and a variant timed only in a busy one would look slower.
                times = {variant: [] for variant in variants}
                for r in range(args.rounds):
                    for variant in (variants if r % 2 == 0 else variants[::-1]):
                        seconds = args.seconds / args.rounds
                        if split_variant(variant)[0] == "reference":
                            seconds /= 2
                        times[variant].append(time_call(fns[variant], call_args, seconds))
                for variant in variants:
                    t = statistics.median(times[variant])
                    gbs = weight_bytes(fmt, n, k) / t / 1e9
                    rows.append((fmt, f"{n}x{k}", variant, t * 1e3, gbs))
                    print(f"{fmt:5} {n:>6}x{k:<5} {variant:9} {t * 1e3:9.3f} ms "
                          f"{gbs:7.2f} GB/s", flush=True)
    bw_after = read_bandwidth(args.threads)
    bw = max(bw_before, bw_after)
    print(f"read bandwidth after: {bw_after:.1f} GB/s; ratios use {bw:.1f} GB/s")
    print(f"\n{'type':5} {'shape':>12} {'variant':9} {'ms':>9} {'GB/s':>7} {'of bw':>6}"
          f"   (M={args.m}, threads={args.threads})")
    for fmt, shape, variant, ms, gbs in rows:
        print(f"{fmt:5} {shape:>12} {variant:9} {ms:9.3f} {gbs:7.2f} {gbs / bw:6.0%}")


if __name__ == "__main__":
    main()
