"""The CUDA target end to end: GGUF -> kvant-compile --target=cuda -> model.so ->
kvant-run --device cuda.

Without a GPU (CI): the artifact compiles (needs the CUDA toolkit's ptxas),
links only libc/libm, names its target in the descriptor, and kvant-run refuses
it on the CPU and reports the missing driver for --device cuda. With a GPU
(libcuda.so.1 loadable): logits match the NumPy reference as tightly as the CPU
artifact does (max |diff| <= 2e-3 * max |logit|; observed ~1e-6 relative on an
H100) and greedy generation gives the CPU artifact's tokens.
"""
import ctypes
import json
import os

import numpy as np
import pytest

from gguf_llama_writer import LlamaHParams, write_llama_gguf
from make_random_gguf import random_tensors, synthetic_llama_tokenizer
from kvant_testing import LLVM_BIN, kvant_tool as tool, run_tool as run

REL_TOL = 2e-3
PTXAS = "/usr/local/cuda/bin/ptxas"
TOKENS = [1, 17, 42, 99, 7, 250, 3, 64, 128, 5, 77, 200]
NO_DRIVER = "no CUDA driver found (libcuda.so.1): --device cuda needs an NVIDIA GPU"


def have_cuda_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny random Q8_0 Llama, compiled for the CPU and for CUDA (sm_90)."""
    if not os.access(PTXAS, os.X_OK):
        pytest.skip(f"the CUDA toolkit ({PTXAS}) is not installed")
    work = tmp_path_factory.mktemp("cuda")
    hp = LlamaHParams(vocab_size=300, dim=64, n_layers=2, n_heads=4, n_kv_heads=2,
                      ffn_dim=128, context_length=64)
    gguf = str(work / "tiny-q8.gguf")
    write_llama_gguf(gguf, hp, random_tensors(hp, 0), synthetic_llama_tokenizer(hp.vocab_size),
                     weight_type="Q8_0")
    cuda_so, cpu_so = str(work / "tiny-cuda.so"), str(work / "tiny-cpu.so")
    run([tool("kvant-compile"), gguf, "--target=cuda", "--march=x86-64-v2", "-o", cuda_so])
    run([tool("kvant-compile"), gguf, "--target=cpu", "-o", cpu_so])
    return dict(work=work, gguf=gguf, cuda=cuda_so, cpu=cpu_so, vocab=hp.vocab_size)


def logits(model, so, device, tokens, extra=()):
    out = str(model["work"] / f"logits-{device}.bin")
    run([tool("kvant-run"), so, "--weights", model["gguf"], "--device", device,
         "--tokens", ",".join(map(str, tokens)), "-n", "0", "--dump-logits", out, *extra])
    return np.fromfile(out, dtype=np.float32).reshape(len(tokens), model["vocab"])


def test_artifact_is_host_code_plus_fatbin(model):
    """Only libc/libm at run time (no libomp, no MLIR); kernels reached through mgpu*."""
    readelf = os.path.join(LLVM_BIN, "llvm-readelf")
    dyn = run([readelf, "--dynamic", "--dyn-syms", model["cuda"]]).stdout
    needed = sorted(line.split("[")[1].split("]")[0] for line in dyn.splitlines()
                    if "(NEEDED)" in line)
    assert set(needed) <= {"libc.so.6", "libm.so.6"}, needed
    for symbol in ["mgpuModuleLoad", "mgpuLaunchKernel", "_mlir_memref_to_llvm_alloc",
                   "_mlir_ciface_forward", "kvant_descriptor"]:
        assert symbol in dyn, symbol


def test_cpu_runtime_refuses_cuda_artifact(model):
    proc = run([tool("kvant-run"), model["cuda"], "--weights", model["gguf"], "--tokens", "1,2",
                "-n", "0"], check=False)
    assert proc.returncode == 1
    assert "compiled for target 'cuda:sm_90'; run it with --device cuda" in proc.stderr


def test_bad_cuda_target(model):
    proc = run([tool("kvant-compile"), model["gguf"], "--target=cuda:volta",
                "-o", str(model["work"] / "bad.so")], check=False)
    assert proc.returncode == 1
    assert "names no CUDA architecture" in proc.stderr


def test_no_driver_message(model):
    if have_cuda_driver():
        pytest.skip("libcuda.so.1 is present")
    proc = run([tool("kvant-run"), model["cuda"], "--weights", model["gguf"], "--device", "cuda",
                "--tokens", "1,2", "-n", "0"], check=False)
    assert proc.returncode == 1
    assert NO_DRIVER in proc.stderr


def test_cuda_logits_match_reference_and_cpu(model):
    if not have_cuda_driver():
        pytest.skip("needs an NVIDIA GPU (libcuda.so.1)")
    from llama_ref import LlamaReference
    got = logits(model, model["cuda"], "cuda", TOKENS)
    want = LlamaReference(model["gguf"]).forward(TOKENS)
    assert np.max(np.abs(got - want)) / np.max(np.abs(want)) <= REL_TOL
    cpu = logits(model, model["cpu"], "cpu", TOKENS)
    assert np.max(np.abs(got - cpu)) / np.max(np.abs(cpu)) <= 1e-4


def test_cuda_greedy_generation_matches_cpu(model):
    if not have_cuda_driver():
        pytest.skip("needs an NVIDIA GPU (libcuda.so.1)")
    args = ["--weights", model["gguf"], "--tokens", "1,5,9,13", "-n", "24", "--json"]
    gpu = json.loads(run([tool("kvant-run"), model["cuda"], "--device", "cuda", *args]).stdout)
    cpu = json.loads(run([tool("kvant-run"), model["cpu"], *args]).stdout)
    assert gpu["tokens"] == cpu["tokens"]
    proc = run([tool("kvant-run"), model["cpu"], "--device", "cuda", *args], check=False)
    assert proc.returncode == 1 and "run it with --device cpu" in proc.stderr
