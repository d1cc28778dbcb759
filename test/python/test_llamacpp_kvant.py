"""kvant against llama.cpp on the same GGUF (skipped unless llama-cpp-python is installed and
kvant-compile / kvant-run are built).

Why: test_e2e_cpu.py checks kvant against the project's own NumPy reference, and
test_llamacpp_peer.py checks that reference against llama.cpp; this closes the triangle by
comparing the compiled artifact directly with the ecosystem's implementation: prompt logits,
decode logits (teacher-forced) and a free-running 32-step greedy continuation. Tolerances are
in compare_kvant_llamacpp.py's docstring (F32: 1e-4 of max |logit|, measured ~1e-6; quantized:
3e-2, because llama.cpp also quantizes the activations; top-1/greedy may part only at near ties).
"""
import os

import pytest

pytest.importorskip("llama_cpp")

import compare_kvant_llamacpp  # noqa: E402
from kvant_testing import build_dir  # noqa: E402
from make_random_gguf import main as make_random  # noqa: E402


def _require_tools():
    for name in ("kvant-compile", "kvant-run"):
        if not os.access(os.path.join(build_dir(), "bin", name), os.X_OK):
            pytest.skip(f"{name} is not built in {build_dir()}")


@pytest.mark.parametrize("wtype", ["F32", "Q8_0"])
def test_kvant_agrees_with_llamacpp(tmp_path, wtype):
    _require_tools()
    path = str(tmp_path / f"tiny-{wtype}.gguf")
    make_random(["--shape", "tiny", "--type", wtype, "-o", path, "--seed", "5"])
    rc = compare_kvant_llamacpp.main([path, "--steps", "32", "--workdir", str(tmp_path),
                                      "--json", str(tmp_path / "r.json")])
    assert rc == 0, (tmp_path / "r.json").read_text()
