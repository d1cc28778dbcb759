"""End to end on the CPU: GGUF -> kvant-compile -> model.so -> kvant-run, checked
against the independent NumPy reference (test/reference/llama_ref.py, which
dequantizes with the `gguf` package and shares no code with kvant).

Tolerances: the compiled code dequantizes exactly as gguf does and computes in
float32, the reference in float64, so logits agree to float32 rounding of a
few layers: max |diff| <= 2e-3 * max |logit| (observed ~1e-6 relative).
Greedy generation must give identical tokens for 32 steps.

Block-format matmuls run either on float activations (`--int8-dot=none`) or,
as kvant-compile does by default on AVX2 machines, on activations quantized to
int8 blocks (`generic` / `avx2`); the reference then quantizes the same
activations the same way (LlamaReference(int8_activations=True)). The two
compute the quantized activations in float32 and float64, so now and then one
lands on the other side of a rounding boundary, which moves that token's logits
(and, through attention, later ones) by ~1e-3 to 1e-2 relative: one quant step
of one activation, more for ternary weights, whose every weight is +-d. The
int8 modes therefore assert max |diff| <= 2e-2 * max |logit| over a 12-token
prompt, and that at least half of 6 one-token prompts agree to 1e-4 (observed:
~2e-7 without a flip): a flip moves only its own prompt there, while in one
12-token prompt a flip at token t moves every token from t on, which made
"half of the 12 tokens" fail whenever a flip came early (a different f32
summation order, e.g. of the interleaved-row GEMVs, moves where flips fall).
The kernels themselves are checked exactly in test_matmul_vector.py; a wrong
decoder is off by O(1) on every token.
"""
import json
import os
import re

import gguf
import numpy as np
import pytest

from gguf_llama_writer import LlamaHParams, write_llama_gguf
from make_random_gguf import random_tensors, synthetic_llama_tokenizer
from kvant_testing import REPO_ROOT, has_avx2, has_avx2_vnni, import_kvant, kvant_tool as tool, run_tool as run

REL_TOL = 2e-3
INT8_REL_TOL, INT8_TOKEN_TOL = 2e-2, 1e-4
# The k-quants' (and TQ1_0's, TQ2_0's) blocks are 256 wide: their models get rows of 256
# (tiny_hparams).
K_QUANTS = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "TQ1_0", "TQ2_0"]
FORMATS = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "MXFP4",
           *K_QUANTS]
FLOAT_FORMATS = {"F32", "F16", "BF16"}


# What kvant-compile's --int8-dot=auto picks here (the tests' default compile).
AUTO_INT8_DOT = "avx2-vnni" if has_avx2_vnni() else "avx2" if has_avx2() else "none"
# The int8 dot products this machine runs: x86 AVX2 where present, else portable.
INT8_DOT = "avx2" if has_avx2() else "generic"
# Every int8 form this machine runs (avx2-vnni too where the CPU has VNNI).
INT8_DOTS = [INT8_DOT] + (["avx2-vnni"] if has_avx2_vnni() else [])


def tiny_hparams(arch="llama", weight_type="F32"):
    width = 256 if weight_type in K_QUANTS else 64
    return LlamaHParams(vocab_size=300, dim=width, n_layers=2, n_heads=4, n_kv_heads=2,
                        ffn_dim=2 * width, context_length=64, arch=arch)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e")


def make_model(workdir, weight_type, arch="llama", seed=0):
    hp = tiny_hparams(arch, weight_type)
    path = os.path.join(workdir, f"tiny-{arch}-{weight_type}.gguf")
    if not os.path.exists(path):
        write_llama_gguf(path, hp, random_tensors(hp, seed), synthetic_llama_tokenizer(hp.vocab_size),
                         weight_type=weight_type)
        if weight_type in K_QUANTS:
            # Every matrix in the format itself, none fallen back to Q8_0.
            types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(path).tensors
                     if len(t.shape) == 2}
            assert set(types.values()) == {weight_type}, types
    return path


def compile_model(gguf_path, int8_dot="auto"):
    so = gguf_path[:-len(".gguf")] + f"-{int8_dot}.so"
    if not os.path.exists(so):
        run([tool("kvant-compile"), gguf_path, "--target=cpu", f"--int8-dot={int8_dot}",
             "-o", so])
    return so


def reference(path, int8_dot="auto"):
    from llama_ref import LlamaReference
    mode = AUTO_INT8_DOT if int8_dot == "auto" else int8_dot
    return LlamaReference(path, int8_activations=mode != "none")


def relative_token_errors(got, want):
    """Per token (row): max |got - want| / max |want|."""
    return np.max(np.abs(got - want), axis=-1) / np.max(np.abs(want))


def check_logits(got, want, int8_dot, name):
    """The max-error tolerance of this file's docstring for `int8_dot` (auto: what it
    picks)."""
    mode = AUTO_INT8_DOT if int8_dot == "auto" else int8_dot
    per_token = relative_token_errors(got, want)
    err = np.max(per_token)
    print(f"{name}: max relative logit error {err:.2e}, per token {np.round(per_token, 8)}")
    tol = REL_TOL if mode == "none" else INT8_REL_TOL
    assert err <= tol, f"{name}: max relative logit error {err:.2e}"


def check_single_tokens(so, path, int8_dot, workdir, name):
    """Int8 activations: at least half of 6 one-token prompts within INT8_TOKEN_TOL."""
    ref = reference(path, int8_dot)
    errors = []
    for token in [1, 42, 99, 250, 3, 128]:
        got = kvant_logits(so, path, [token], workdir, 300)
        errors.append(relative_token_errors(got, ref.forward([token]))[0])
    print(f"{name}: one-token prompts, relative errors {np.round(errors, 8)}")
    assert np.median(errors) <= INT8_TOKEN_TOL, \
        f"{name}: fewer than half of the one-token prompts within {INT8_TOKEN_TOL}: {errors}"


def kvant_logits(so, gguf_path, tokens, workdir, vocab, threads=None):
    out = os.path.join(workdir, "logits.bin")
    run([tool("kvant-run"), so, "--weights", gguf_path, "--tokens", ",".join(map(str, tokens)),
         "-n", "0", "--dump-logits", out, *(["--threads", str(threads)] if threads else [])])
    return np.fromfile(out, dtype=np.float32).reshape(len(tokens), vocab)


@pytest.mark.parametrize("int8_dot", ["none", *INT8_DOTS])
@pytest.mark.parametrize("weight_type", FORMATS)
def test_prefill_logits_match_reference(workdir, weight_type, int8_dot):
    if weight_type in FLOAT_FORMATS and int8_dot != "none":
        pytest.skip("float weights never use int8 activations")
    path = make_model(workdir, weight_type)
    so = compile_model(path, int8_dot)
    tokens = [1, 17, 42, 99, 7, 250, 3, 64, 128, 5, 77, 200]
    got = kvant_logits(so, path, tokens, workdir, 300)
    want = reference(path, int8_dot).forward(tokens)
    check_logits(got, want, int8_dot, f"{weight_type} int8-dot={int8_dot}")
    assert (np.argmax(got, axis=1) == np.argmax(want, axis=1)).mean() >= 0.9
    if int8_dot != "none":
        check_single_tokens(so, path, int8_dot, workdir, f"{weight_type} int8-dot={int8_dot}")


@pytest.mark.parametrize("weight_type", ["F32", "Q8_0"])
def test_greedy_generation_matches_reference(workdir, weight_type):
    path = make_model(workdir, weight_type)
    so = compile_model(path)
    prompt = [1, 5, 9, 13]
    proc = run([tool("kvant-run"), so, "--weights", path, "--tokens", ",".join(map(str, prompt)),
                "-n", "32", "--json"])
    out = json.loads(proc.stdout)
    got = out["tokens"]
    # The reported rates are the token counts over the reported times.
    assert out["load_s"] > 0 and out["prefill_s"] > 0
    assert out["prefill_tokens_per_s"] == pytest.approx(len(prompt) / out["prefill_s"], rel=0.01)
    assert out["decoded_tokens"] == len(got) - 1
    if out["decoded_tokens"]:
        assert out["decode_tokens_per_s"] == pytest.approx(
            out["decoded_tokens"] / out["decode_s"], rel=0.01)
    want = list(reference(path).generate_greedy(prompt, 32))
    # kvant-run stops early at an end-of-generation token; compare what it made.
    assert len(got) >= 1
    assert got == want[:len(got)], f"kvant {got}\nref   {want}"


def test_qwen2_biases_and_neox_rope(workdir):
    """Through the Python package (kvant.compile, kvant.Model), not the tools."""
    from llama_ref import LlamaReference
    kvant = import_kvant()
    path = make_model(workdir, "F32", arch="qwen2")
    so = kvant.compile(path, path[:-len(".gguf")] + "-py.so")
    tokens = [1, 2, 3, 4, 5, 6, 7, 8]
    got = kvant.Model(so, path).forward(tokens)
    want = LlamaReference(path).forward(tokens)
    assert np.max(np.abs(got - want)) / np.max(np.abs(want)) <= REL_TOL


def test_incremental_decode_equals_prefill(workdir):
    """Decoding token by token through the KV cache gives prefill's logits."""
    path = make_model(workdir, "Q8_0")
    so = compile_model(path)
    steps_file = os.path.join(workdir, "steps.bin")
    proc = run([tool("kvant-run"), so, "--weights", path, "--tokens", "1", "-n", "6",
                "--json", "--dump-logits", steps_file])
    generated = json.loads(proc.stdout)["tokens"]
    steps = np.fromfile(steps_file, dtype=np.float32).reshape(-1, 300)
    sequence = [1] + generated[:len(steps) - 1]
    assert len(steps) == len(sequence) >= 2
    full = kvant_logits(so, path, sequence, workdir, 300)
    assert np.max(np.abs(full - steps)) / np.max(np.abs(full)) <= 1e-4


def descriptor_of(so):
    """The kvant_descriptor text inside the artifact `so`."""
    data = open(so, "rb").read()
    start = data.index(b"kvant-artifact ")
    return data[start:data.index(b"\0", start)].decode()


def test_interleaved_rows_repacked_at_load(workdir):
    """The default int8 artifact reads its matmul weights with rows interleaved by 8, which
    the runtime produces at load with the artifact's repack entry point; --interleave-rows=1
    reads the file's layout. Both equal the reference; the output head (300 rows, not a
    multiple of 8) and the token embedding keep the file's layout."""
    path = make_model(workdir, "Q4_0")
    rows8 = compile_model(path, INT8_DOT)
    rows1 = path[:-len(".gguf")] + f"-{INT8_DOT}-rows1.so"
    run([tool("kvant-compile"), path, f"--int8-dot={INT8_DOT}", "--interleave-rows=1",
         "-o", rows1])
    text = descriptor_of(rows8)
    assert "\nrepack _mlir_ciface_forward_repack\n" in text
    assert "Q4_0 64x128 interleave8 blk.0.ffn_up.weight" in text, text
    assert "interleave8 output.weight" not in text and "interleave8 token_embd" not in text
    assert "repack" not in descriptor_of(rows1) and "interleave8" not in descriptor_of(rows1)
    ref = reference(path, INT8_DOT)
    for so in (rows8, rows1):
        for token in (1, 42, 250):
            got = kvant_logits(so, path, [token], workdir, 300)
            err = relative_token_errors(got, ref.forward([token]))[0]
            assert err <= INT8_TOKEN_TOL, f"{os.path.basename(so)} token {token}: {err:.2e}"


def assert_compile_refused(workdir, path, options, message):
    """kvant-compile with `options` exits with 1, says `message`, and writes no output."""
    never = os.path.join(workdir, "never.so")
    proc = run([tool("kvant-compile"), path, *options, "-o", never], check=False)
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr, proc.stderr
    assert not os.path.exists(never)


def test_int8_dot_option_checked(workdir):
    """Unknown forms, and x86 forms the --march CPU cannot run, are refused before LLVM would
    fail to select their intrinsics."""
    path = make_model(workdir, "Q8_0")
    assert_compile_refused(workdir, path, ["--int8-dot=neon"],
                           "unknown --int8-dot 'neon' (expected auto, none, generic, avx2 or "
                           "avx2-vnni)")
    assert_compile_refused(workdir, path, ["--int8-dot=avx2-vnni", "--march=x86-64-v3"],
                           "--int8-dot=avx2-vnni needs a CPU with AVX2 and AVX-VNNI (or "
                           "AVX512-VNNI with AVX512-VL); --march=x86-64-v3 has none")
    assert_compile_refused(workdir, path, ["--int8-dot=avx2", "--march=x86-64-v2"],
                           "--int8-dot=avx2 needs a CPU with AVX2; --march=x86-64-v2 has none")


@pytest.mark.skipif(not has_avx2_vnni(), reason="the CPU has no 256-bit VNNI")
@pytest.mark.parametrize("weight_type", ["Q8_0", "Q4_0", "Q4_K", "TQ2_0"])
def test_vnni_logits_equal_avx2(workdir, weight_type):
    """avx2-vnni computes the same exact integer dots as avx2 in fewer instructions: the
    logits are bit for bit the same."""
    path = make_model(workdir, weight_type)
    tokens = [1, 17, 42, 99, 7, 250, 3, 64, 128, 5, 77, 200, 9]
    avx2 = kvant_logits(compile_model(path, "avx2"), path, tokens, workdir, 300)
    vnni = kvant_logits(compile_model(path, "avx2-vnni"), path, tokens, workdir, 300)
    np.testing.assert_array_equal(vnni, avx2)


@pytest.mark.parametrize("weight_type", ["Q4_0", "Q4_K"])
def test_outline_matmuls_same_logits(workdir, weight_type):
    """--outline-matmuls lowers each distinct matmul once, in a function every layer calls
    (the artifact's IR has one qt_matmul function per weight shape and calls it per layer);
    each call computes what the inline matmul did, so the logits are bit for bit the same
    (prompt tiles and single rows: 13 tokens, then decode-sized prompts of 1)."""
    path = make_model(workdir, weight_type)
    base = path[:-len(".gguf")]
    run([tool("kvant-compile"), path, "--outline-matmuls", "--emit=llvm-ir", "-o",
         f"{base}-outlined.ll"])
    text = open(f"{base}-outlined.ll").read()
    defined = set(re.findall(r"^define internal .*@(qt_matmul_\w+)\(", text, re.M))
    hp = tiny_hparams("llama", weight_type)
    # q/o, k/v, gate/up and down (the output head's weight is another shape).
    assert len(defined) >= 4 and len(defined) < 7 * hp.n_layers, defined
    run([tool("kvant-compile"), path, "--outline-matmuls", "-o", f"{base}-outlined.so"])
    for tokens in ([1, 17, 42, 99, 7, 250, 3, 64, 128, 5, 77, 200, 9], [42]):
        inline = kvant_logits(compile_model(path), path, tokens, workdir, 300)
        outlined = kvant_logits(f"{base}-outlined.so", path, tokens, workdir, 300)
        np.testing.assert_array_equal(outlined, inline)


def test_outline_matmuls_refused_for_cuda(workdir):
    path = make_model(workdir, "Q4_0")
    assert_compile_refused(workdir, path, ["--target=cuda", "--outline-matmuls"],
                           "--outline-matmuls is a CPU option")


def test_interleave_rows_option_checked(workdir):
    path = make_model(workdir, "Q8_0")
    assert_compile_refused(workdir, path, ["--interleave-rows=4"],
                           "--interleave-rows must be 1 (the file's layout) or 8, got 4")


def test_weight_prefetch_option(workdir):
    """Decode's GEMVs prefetch the weights by default (llvm.prefetch in the artifact's IR),
    --weight-prefetch-distance=0 leaves them to the hardware prefetcher, a negative distance
    is refused. The prefetches change no number: both artifacts' logits are identical."""
    path = make_model(workdir, "Q4_K")
    base = path[:-len(".gguf")]
    for distance in ("default", "0"):
        option = [] if distance == "default" else [f"--weight-prefetch-distance={distance}"]
        run([tool("kvant-compile"), path, *option, "--emit=llvm-ir", "-o",
             f"{base}-pf-{distance}.ll"])
        run([tool("kvant-compile"), path, *option, "-o", f"{base}-pf-{distance}.so"])
    assert "@llvm.prefetch" in open(f"{base}-pf-default.ll").read()
    assert "@llvm.prefetch" not in open(f"{base}-pf-0.ll").read()
    tokens = [1, 42, 250, 7]
    with_prefetch = kvant_logits(f"{base}-pf-default.so", path, tokens, workdir, 300)
    without = kvant_logits(f"{base}-pf-0.so", path, tokens, workdir, 300)
    np.testing.assert_array_equal(with_prefetch, without)
    assert_compile_refused(workdir, path, ["--weight-prefetch-distance=-1"],
                           "--weight-prefetch-distance must be 0 (no prefetching) or a positive")


def test_thread_team(workdir):
    """Parallel artifacts carry their own thread team (lib/Artifact/ThreadTeam.c, checked on
    its own by test/Runtime/thread-team.test): they need no OpenMP library, only libc and libm,
    and export none of the OpenMP entry points their regions call, so another OpenMP runtime
    in the process cannot take those calls. Logits are bitwise the same on 1, 2 and 3 threads,
    with the dynamic schedule (the default) and the static one: each output element is computed
    whole by one thread, however the rows are split."""
    path = make_model(workdir, "Q8_0")
    so = compile_model(path)
    ir = path[:-len(".gguf")] + "-team.ll"
    run([tool("kvant-compile"), path, "--emit=llvm-ir", "-o", ir])
    text = open(ir).read()
    assert "call void (ptr, i32, ptr, ...) @__kmpc_fork_call" in text
    assert "define hidden void @__kmpc_fork_call" in text
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", run(["readelf", "-d", so]).stdout)
    assert needed and set(needed) <= {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2"}, needed
    exported = run(["nm", "-D", "--defined-only", so]).stdout
    assert "__kmpc" not in exported, exported
    # The runtime sizes the team through the one entry point the team exports.
    assert " kvant_thread_team_size" in exported, exported
    static = path[:-len(".gguf")] + "-static.so"
    run([tool("kvant-compile"), path, "--parallel-schedule=static", "-o", static])
    tokens = [1, 42, 250, 7, 99, 3]
    one = kvant_logits(so, path, tokens, workdir, 300, threads=1)
    # kvant-run --threads sizes the team (3: more than the default on a 2-CPU machine) and
    # says so; an artifact without parallel loops runs on the calling thread.
    def run_threads(artifact, threads):
        out = run([tool("kvant-run"), artifact, "--weights", path, "--tokens", "1,42", "-n", "2",
                   "--json", "--threads", str(threads)]).stdout
        return json.loads(out)["threads"]
    assert run_threads(so, 3) == 3
    serial = path[:-len(".gguf")] + "-serial.so"
    run([tool("kvant-compile"), path, "--parallel=false", "-o", serial])
    assert run_threads(serial, 3) == 1
    for threads in (2, 3):
        np.testing.assert_array_equal(kvant_logits(so, path, tokens, workdir, 300, threads), one)
        np.testing.assert_array_equal(kvant_logits(static, path, tokens, workdir, 300, threads),
                                      one)
    # The default schedule is dynamic (kvant-omp-schedule); static is the option.
    assert "call i32 @__kmpc_dispatch_next_8u(" in text
    static_ir = path[:-len(".gguf")] + "-static.ll"
    run([tool("kvant-compile"), path, "--parallel-schedule=static", "--emit=llvm-ir", "-o",
         static_ir])
    assert "call i32 @__kmpc_dispatch_next_8u(" not in open(static_ir).read()
    assert_compile_refused(workdir, path, ["--parallel-schedule=guided"],
                           "--parallel-schedule must be dynamic or static, got 'guided'")


def test_f16_kv_cache(workdir):
    """--kv-cache-type=f16: the descriptor records an F16 cache, which the runtime sizes; keys
    and values are rounded to f16 as they are stored, so the logits follow a reference that
    rounds them the same way (to float32 rounding), differ from the f32 cache's, and greedy
    generation (through the cache, one token at a time) gives the reference's tokens."""
    from llama_ref import LlamaReference
    path = make_model(workdir, "F32")
    base = path[:-len(".gguf")]
    f16, f32 = f"{base}-kv-f16.so", f"{base}-kv-f32.so"
    run([tool("kvant-compile"), path, "--kv-cache-type=f16", "-o", f16])
    run([tool("kvant-compile"), path, "-o", f32])
    assert "\ncache F16 " in descriptor_of(f16) and "\ncache F32 " in descriptor_of(f32)
    tokens = [1, 42, 250, 7, 99, 3, 128, 64, 17, 200, 5, 11]
    ref16 = LlamaReference(path, kv_dtype=np.float16).forward(tokens)
    ref32 = LlamaReference(path).forward(tokens)
    got16 = kvant_logits(f16, path, tokens, workdir, 300)
    got32 = kvant_logits(f32, path, tokens, workdir, 300)
    err16 = np.max(relative_token_errors(got16, ref16))
    print(f"f16 cache: max relative error {err16:.2e} against the f16-cache reference, "
          f"{np.max(relative_token_errors(got16, ref32)):.2e} against the f32 one")
    assert err16 <= REL_TOL
    assert np.max(relative_token_errors(got16, ref16)) < np.max(relative_token_errors(got16, ref32))
    assert not np.array_equal(got16, got32)
    ref = LlamaReference(path, kv_dtype=np.float16)
    want = ref.generate_greedy(tokens[:4], 16)
    out = run([tool("kvant-run"), f16, "--weights", path, "--tokens", "1,42,250,7", "-n", "16",
               "--json"]).stdout
    assert json.loads(out)["tokens"] == want


def test_kv_cache_type_checked(workdir):
    path = make_model(workdir, "Q8_0")
    assert_compile_refused(workdir, path, ["--kv-cache-type=bf8"],
                           "--kv-cache-type must be f32 or f16, got 'bf8'")
    assert_compile_refused(workdir, path, ["--kv-cache-type=f16", "--target=cuda"],
                           "--kv-cache-type=f16 is supported on the CPU target only")
    proc = run([tool("kvant-import"), path, "--kv-cache-type=i4", "-o",
                os.path.join(workdir, "never.mlir")], check=False)
    assert proc.returncode == 1
    assert "unsupported KV cache type 'i4' (expected f32 or f16)" in proc.stderr


def test_artifact_refuses_other_shapes(workdir):
    """One artifact serves files of the same shapes and formats, and no other."""
    q8 = make_model(workdir, "Q8_0")
    q4 = make_model(workdir, "Q4_0")
    proc = run([tool("kvant-run"), compile_model(q8), "--weights", q4, "--tokens", "1,2"],
               check=False)
    assert proc.returncode == 1
    assert "was compiled for Q8_0" in proc.stderr and "recompile" in proc.stderr


def test_prompt_longer_than_context(workdir):
    path = make_model(workdir, "F32")
    so = compile_model(path)
    tokens = ",".join(["5"] * 65)
    proc = run([tool("kvant-run"), so, "--weights", path, "--tokens", tokens, "-n", "1"],
               check=False)
    assert proc.returncode == 1
    assert "65 tokens exceed the context of 64" in proc.stderr


def test_bundled_model_generates_text(workdir):
    gguf_path = os.path.join(REPO_ROOT, "models", "tiny-llama", "tiny-llama-f16.gguf")
    if not os.path.exists(gguf_path):
        pytest.skip("bundled model missing")
    so = os.path.join(workdir, "bundled.so")
    run([tool("kvant-compile"), gguf_path, "--context", "128", "-o", so])
    proc = run([tool("kvant-run"), so, "--weights", gguf_path, "-p", "In the beginning",
                "-n", "24", "--json"])
    out = json.loads(proc.stdout)
    assert len(out["tokens"]) >= 8
    words = out["text"].split()
    assert len(words) >= 4, out["text"]
