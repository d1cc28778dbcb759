"""End to end on the CPU for the lookup-table and ternary formats (IQ4_NL, MXFP4, TQ1_0,
TQ2_0): a random Llama GGUF whose matrices (token embedding and output included) are in the
format -> kvant-compile -> kvant-run --dump-logits, checked against the independent NumPy
reference (test/reference/llama_ref.py, which dequantizes with the `gguf` package).

The shape is test_e2e_cpu.py's tiny model widened to rows of 256 (dim 256, ffn 512, one layer)
so that TQ1_0/TQ2_0's 256-element blocks fit every matrix instead of falling back to F16.
Weights come from gguf.quants.quantize (models/lutquants.py for IQ4_NL).

Tolerance: as test_e2e_cpu.py, the compiled code dequantizes exactly as gguf does and computes
in float32, the reference in float64: max |diff| <= 2e-3 * max |logit| (observed ~1e-6), and
the argmax of at least 90% of the positions agrees.
"""
import os

import gguf
import numpy as np
import pytest

from gguf_llama_writer import LlamaHParams, write_llama_gguf
from make_random_gguf import random_tensors, synthetic_llama_tokenizer
from kvant_testing import kvant_tool as tool, run_tool as run

REL_TOL = 2e-3
FORMATS = ["IQ4_NL", "MXFP4", "TQ1_0", "TQ2_0"]
HP = LlamaHParams(vocab_size=300, dim=256, n_layers=1, n_heads=4, n_kv_heads=2, ffn_dim=512,
                  context_length=64)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-lut")


@pytest.mark.parametrize("weight_type", FORMATS)
def test_prefill_logits_match_reference(workdir, weight_type):
    from llama_ref import LlamaReference
    compile_tool, run_tool = tool("kvant-compile"), tool("kvant-run")
    path = os.path.join(workdir, f"wide-{weight_type}.gguf")
    write_llama_gguf(path, HP, random_tensors(HP, seed=3), synthetic_llama_tokenizer(HP.vocab_size),
                     weight_type=weight_type)
    # Every matrix really is in the format (no fallback for short rows).
    types = {t.name: t.tensor_type for t in gguf.GGUFReader(path).tensors if len(t.shape) == 2}
    assert set(types.values()) == {getattr(gguf.GGMLQuantizationType, weight_type)}, types

    so = path[:-len(".gguf")] + ".so"
    # Float activations: this file checks the reference lowering's decoders
    # (test_e2e_cpu.py runs TQ2_0 with int8 activations too).
    run([compile_tool, path, "--target=cpu", "--int8-dot=none", "-o", so])
    tokens = [1, 17, 42, 99, 7, 250, 3, 64]
    out = os.path.join(workdir, f"logits-{weight_type}.bin")
    run([run_tool, so, "--weights", path, "--tokens", ",".join(map(str, tokens)), "-n", "0",
         "--dump-logits", out])
    got = np.fromfile(out, dtype=np.float32).reshape(len(tokens), HP.vocab_size)
    want = LlamaReference(path).forward(tokens)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    print(f"{weight_type}: max relative logit error {err:.2e}")
    assert err <= REL_TOL, f"{weight_type}: max relative logit error {err:.2e}"
    assert (np.argmax(got, axis=1) == np.argmax(want, axis=1)).mean() >= 0.9
