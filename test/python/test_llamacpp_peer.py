"""Peer check against llama.cpp (skipped unless llama-cpp-python is installed).

Why: the writer and the NumPy reference come from the same hands; llama.cpp reading the same
file is the independent judge of layout, rope convention (llama: normal, qwen2: neox), GQA
grouping, biases and tied output. Tolerances are in compare_llamacpp.py's docstring (F32:
1e-4 abs with F32 KV cache and flash-attn off, measured ~2e-6; quantized: 0.3 abs, measured
~0.1, because llama.cpp also quantizes activations; top-1 may differ only at near ties).
"""
import numpy as np
import pytest

llama_cpp = pytest.importorskip("llama_cpp")

import compare_llamacpp  # noqa: E402
from make_random_gguf import main as make_random  # noqa: E402


@pytest.mark.parametrize("arch,wtype,tied", [("llama", "F32", False), ("llama", "Q8_0", False),
                                             ("qwen2", "F32", True)])
def test_llamacpp_agrees_with_reference(tmp_path, arch, wtype, tied):
    path = str(tmp_path / "m.gguf")
    make_random(["--shape", "tiny", "--arch", arch, "--type", wtype, "-o", path, "--seed", "3"]
                + (["--tied"] if tied else []))
    tokens = [int(t) for t in np.random.default_rng(1).integers(0, 300, 16)]
    assert compare_llamacpp.main([path, "--tokens", ",".join(map(str, tokens))]) == 0
