"""Numeric test of convert-llm-to-linalg against NumPy references written here.

Every case is a small `@kernel` function holding one llm op (often behind dynamic token
counts), called from `@main` with random float32 inputs embedded bit-exactly
(`dense<"0x...">`). The module is lowered with `--convert-llm-to-linalg` and the reference CPU
lowering (kvant_testing.CPU_LOWERING), run with mlir-runner, and the f32 results are read back
bit-exactly (printMemrefI32 of their bits).

The references compute in float64 from the same float32 inputs, straight from the op
descriptions (dialects/llm/IR/LLMOps.td, LLMAttrs.td), independently of the C++ lowering.

Tolerance: max|y - ref| <= RTOL * max(1, max|ref|) with RTOL = 1e-5, i.e. relative to the
result's scale (elementwise relative error is meaningless for values near 0). kvant computes
in f32, so the measured error is f32 rounding (printed per case with `pytest -s`).
"""
import math
import subprocess
import zlib

import numpy as np
import pytest

from kvant_testing import (PRINT_I32_DECL, dense_hex, mlir_tensor_type, parse_f32_bits,
                           print_f32_bits, require_kvant_opt, run_on_cpu, vector_cpu_lowering)

RTOL = 1e-5
PASSES = ("--convert-llm-to-linalg",)

# How llm.attention is lowered: the reference linalg lowering, or llm-lower-attention-to-vector
# (the CPU pipeline's) run serially or on OpenMP threads.
ATTENTION_LOWERINGS = {
    "reference": dict(passes=PASSES),
    "vector": dict(passes=("--llm-lower-attention-to-vector", *PASSES),
                   lowering=vector_cpu_lowering(False)),
    "vector-openmp": dict(passes=("--llm-lower-attention-to-vector", *PASSES),
                          lowering=vector_cpu_lowering(True), openmp=True),
}


@pytest.fixture(params=list(ATTENTION_LOWERINGS))
def attention_lowering(request):
    return ATTENTION_LOWERINGS[request.param]


# ----------------------------------------------------------------------------------------------
# Harness
# ----------------------------------------------------------------------------------------------

def _element(array):
    return {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16", np.dtype(np.int32): "i32",
            np.dtype(np.int8): "i8", np.dtype(np.bool_): "i1"}[array.dtype]


def _literal(array):
    if array.dtype == np.bool_:  # i1 has no byte-per-element hex form
        return "dense<" + np.array2string(array, separator=", ").replace("True", "true") \
            .replace("False", "false") + ">"
    return dense_hex(array)


def run_kernel(kernel, args, results, passes=PASSES, lowering=None, openmp=False):
    """Runs `kernel` (text of `func.func @kernel`) on `args` and returns its f32 results.

    args: (value, kernel argument type) pairs; a value is a NumPy array (cast to the argument
    type when that is more dynamic) or a Python int for an `index`.
    results: (static shape, kernel result type) pairs.
    lowering, openmp: as run_on_cpu takes them.
    """
    require_kvant_opt()
    body, names, arg_types = [], [], []
    for i, (value, arg_type) in enumerate(args):
        if isinstance(value, int):
            body.append(f"    %a{i} = arith.constant {value} : index\n")
        else:
            static = mlir_tensor_type(value.shape, _element(value))
            body.append(f"    %c{i} = arith.constant {_literal(value)} : {static}\n")
            body.append(f"    %a{i} = tensor.cast %c{i} : {static} to {arg_type}\n")
        names.append(f"%a{i}")
        arg_types.append(arg_type)
    result_types = [t for _, t in results]
    body.append(f"    %r:{len(results)} = func.call @kernel({', '.join(names)}) : "
                f"({', '.join(arg_types)}) -> ({', '.join(result_types)})\n")
    for i, (shape, result_type) in enumerate(results):
        static = mlir_tensor_type(shape, "f32")
        body.append(f"    %s{i} = tensor.cast %r#{i} : {result_type} to {static}\n")
        body.append(print_f32_bits(f"p{i}", f"%s{i}", shape))
    module = (f"module {{\n  {PRINT_I32_DECL}\n{kernel}\n"
              f"  func.func @main() {{\n{''.join(body)}    return\n  }}\n}}\n")
    outputs = parse_f32_bits(run_on_cpu(module, passes, lowering=lowering, openmp=openmp))
    assert len(outputs) == len(results)
    return outputs


def check(name, got, ref):
    """Asserts the stated tolerance and reports the measured error."""
    assert got.shape == ref.shape, f"{name}: shape {got.shape} vs {ref.shape}"
    assert np.all(np.isfinite(got)), f"{name}: non-finite results"
    scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
    err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
    print(f"\n{name}: max abs error {err:.3g} (scale {scale:.3g}, relative {err / scale:.3g})")
    assert err <= RTOL * scale, f"{name}: max error {err} > {RTOL} * {scale}"


def rand(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def t(shape, element="f32"):
    """`t('?x4x8')` is `tensor<?x4x8xf32>`."""
    return f"tensor<{shape}x{element}>"


# ----------------------------------------------------------------------------------------------
# References (float64)
# ----------------------------------------------------------------------------------------------

def ref_rms_norm(x, w, eps):
    x = x.astype(np.float64)
    rms = np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float64(np.float32(eps)))
    return x / rms * w.astype(np.float64)


def ref_rope(x, pos, theta, style, rotary_dim=None, factors=None):
    x = x.astype(np.float64)
    r = rotary_dim or x.shape[-1]
    i = np.arange(r // 2, dtype=np.float64)
    freq = np.float64(np.float32(theta)) ** (-2.0 * i / r)
    if factors is not None:
        freq = freq / factors.astype(np.float64)
    angle = pos.astype(np.float64)[:, None, None] * freq[None, None, :]
    c, s = np.cos(angle), np.sin(angle)
    out = x.copy()
    if style == "normal":
        a, b = x[..., 0:r:2], x[..., 1:r:2]
        out[..., 0:r:2], out[..., 1:r:2] = a * c - b * s, a * s + b * c
    else:
        a, b = x[..., : r // 2], x[..., r // 2: r]
        out[..., : r // 2], out[..., r // 2: r] = a * c - b * s, a * s + b * c
    return out


def ref_attention(q, k, v, visible, offset=None, scale=None):
    """`visible(t, p, j)`: whether query t at position p sees key j. No visible key: zeros."""
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    T, Hq, D = q.shape
    S, Hkv, Dv = v.shape
    offset = S - T if offset is None else offset
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    out = np.zeros((T, Hq, Dv))
    for ti in range(T):
        mask = np.array([visible(ti, offset + ti, j) for j in range(S)], dtype=bool)
        if not mask.any():
            continue
        for h in range(Hq):
            g = h // (Hq // Hkv)
            s = scale * (k[mask, g, :] @ q[ti, h, :])
            p = np.exp(s - s.max())
            out[ti, h] = p @ v[mask, g, :] / p.sum()
    return out


def causal(t, p, j):
    return j <= p


def sliding(window):
    return lambda t, p, j: j <= p and p - j < window


def sink_window(sink, window, max_distance=None):
    def visible(t, p, j):
        if j > p:
            return False
        if p - j < window:
            return True
        return j < sink and (max_distance is None or p - j < max_distance)
    return visible


def block_sparse(block, local, glob):
    return lambda t, p, j: j <= p and (p // block - j // block < local or j // block < glob)


def tree(mask, offset):
    T = mask.shape[0]
    return lambda t, p, j: j < offset or (offset <= j < offset + T and bool(mask[t, j - offset]))


def tree_mask(parents):
    n = len(parents)
    m = np.zeros((n, n), dtype=bool)
    for i in range(n):
        j = i
        while j >= 0:
            m[i, j] = True
            j = parents[j]
    return m


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def ref_mlp(x, activation, up, down, gate=None):
    x = x.astype(np.float64)
    u = x @ up.astype(np.float64).T
    if activation == "gelu":
        h = gelu(u)
    else:
        g = x @ gate.astype(np.float64).T
        h = (silu(g) if activation == "swiglu" else gelu(g)) * u
    return h @ down.astype(np.float64).T


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def test_rms_norm(rng):
    x, w, x3 = rand(rng, 5, 32, scale=3.0), rand(rng, 32), rand(rng, 2, 3, 32)
    kernel = f"""
  func.func @kernel(%x: {t('?x32')}, %w: {t('32')}, %x3: {t('2x?x32')}) -> ({t('?x32')}, {t('2x?x32')}, {t('2x?x32')}) {{
    %y = llm.rms_norm %x, %w epsilon = 1.0e-5 : {t('?x32')}, {t('32')}
    %y3 = llm.rms_norm %x3, %w epsilon = 1.0e-6 : {t('2x?x32')}, {t('32')}
    // The f16 path: arithmetic in f32, result rounded to f16.
    %h = arith.truncf %x3 : {t('2x?x32')} to {t('2x?x32', 'f16')}
    %yh = llm.rms_norm %h, %w epsilon = 1.0e-6 : {t('2x?x32', 'f16')}, {t('32')}
    %y16 = arith.extf %yh : {t('2x?x32', 'f16')} to {t('2x?x32')}
    return %y, %y3, %y16 : {t('?x32')}, {t('2x?x32')}, {t('2x?x32')}
  }}"""
    y, y3, y16 = run_kernel(kernel, [(x, t('?x32')), (w, t('32')), (x3, t('2x?x32'))],
                            [((5, 32), t('?x32')), ((2, 3, 32), t('2x?x32')),
                             ((2, 3, 32), t('2x?x32'))])
    check("rms_norm", y, ref_rms_norm(x, w, 1e-5))
    check("rms_norm rank 3", y3, ref_rms_norm(x3, w, 1e-6))
    x16 = x3.astype(np.float16).astype(np.float32)
    ref16 = ref_rms_norm(x16, w, 1e-6)
    err16 = np.max(np.abs(y16 - ref16)) / max(1.0, np.max(np.abs(ref16)))
    print(f"\nrms_norm f16: relative error {err16:.3g} (f16 rounding, bound 1e-3)")
    assert err16 <= 1e-3


@pytest.mark.parametrize("style", ["normal", "neox"])
def test_rope(rng, style):
    x = rand(rng, 4, 3, 16)
    pos = np.array([0, 1, 17, 250], dtype=np.int32)
    factors = rng.uniform(1.0, 8.0, 4).astype(np.float32)
    kernel = f"""
  func.func @kernel(%x: {t('?x3x16')}, %p: {t('?', 'i32')}, %f: {t('4')}) -> ({t('?x3x16')}, {t('?x3x16')}) {{
    %full = llm.rope {style} %x, %p theta = 10000.0 : {t('?x3x16')}, {t('?', 'i32')}
    %part = llm.rope {style} %x, %p theta = 5.0e5 rotary_dim = 8 freq_factors(%f : {t('4')}) : {t('?x3x16')}, {t('?', 'i32')}
    return %full, %part : {t('?x3x16')}, {t('?x3x16')}
  }}"""
    full, part = run_kernel(kernel, [(x, t('?x3x16')), (pos, t('?', 'i32')), (factors, t('4'))],
                            [((4, 3, 16), t('?x3x16'))] * 2)
    check(f"rope {style}", full, ref_rope(x, pos, 10000.0, style))
    check(f"rope {style} rotary_dim=8 freq_factors", part,
          ref_rope(x, pos, 5.0e5, style, 8, factors))
    # Elements past rotary_dim pass through bit for bit.
    assert np.array_equal(part[..., 8:], x[..., 8:])


def attention_kernel(mask, qshape, kshape, vshape, extra="", extra_args=""):
    qt_, kt_, vt_ = t(qshape), t(kshape), t(vshape)
    ot = t(qshape[:qshape.rfind('x')] + vshape[vshape.rfind('x'):])
    return ot, f"""
  func.func @kernel(%q: {qt_}, %k: {kt_}, %v: {vt_}{extra_args}) -> {ot} {{
    %o = llm.attention {mask} %q, %k, %v {extra} : {qt_}, {kt_}, {vt_} -> {ot}
    return %o : {ot}
  }}"""


MASKS = [
    ("causal", "#llm.causal", causal),
    ("sliding_window", "#llm.sliding_window<3>", sliding(3)),
    ("sink_window", "#llm.sink_window<sink = 2, window = 3>", sink_window(2, 3)),
    ("sink_window max_distance", "#llm.sink_window<sink = 2, window = 3, max_distance = 6>",
     sink_window(2, 3, 6)),
    ("block_sparse", "#llm.block_sparse<block = 2, local = 2, global = 1>",
     block_sparse(2, 2, 1)),
    ("block_sparse no global", "#llm.block_sparse<block = 3, local = 1, global = 0>",
     block_sparse(3, 1, 0)),
]


@pytest.mark.parametrize("name,mask,visible", MASKS, ids=[m[0] for m in MASKS])
def test_attention_prefill(rng, attention_lowering, name, mask, visible):
    """Prefill (S = T = 10) with GQA: 4 query heads share 2 key/value heads."""
    q, k, v = rand(rng, 10, 4, 8, scale=2.0), rand(rng, 10, 2, 8, scale=2.0), rand(rng, 10, 2, 8)
    ot, kernel = attention_kernel(mask, "?x4x8", "?x2x8", "?x2x8")
    (o,) = run_kernel(kernel, [(q, t("?x4x8")), (k, t("?x2x8")), (v, t("?x2x8"))],
                      [((10, 4, 8), ot)], **attention_lowering)
    ref = ref_attention(q, k, v, visible)
    check(f"attention {name}", o, ref)
    if name != "causal":  # the case tells the mask apart from plain causal attention
        assert not np.allclose(ref, ref_attention(q, k, v, causal))


def test_attention_decode_offset(rng, attention_lowering):
    """T = 1 against a 16-slot cache holding 9 tokens; unwritten slots hold NaN and must not
    be read. Multi-head (Hq = Hkv), Dv != D, explicit scale; also T = 3 after 6."""
    k, v = rand(rng, 16, 3, 8), rand(rng, 16, 3, 4)
    q1, q3 = rand(rng, 1, 3, 8), rand(rng, 3, 3, 8)
    k[9:], v[9:] = np.nan, np.nan
    kernel = f"""
  func.func @kernel(%q1: {t('1x3x8')}, %q3: {t('?x3x8')}, %k: {t('16x3x8')}, %v: {t('16x3x4')}, %p1: index, %p3: index) -> ({t('1x3x4')}, {t('?x3x4')}) {{
    %o1 = llm.attention #llm.causal %q1, %k, %v offset(%p1) scale = 0.3 : {t('1x3x8')}, {t('16x3x8')}, {t('16x3x4')} -> {t('1x3x4')}
    %o3 = llm.attention #llm.sliding_window<4> %q3, %k, %v offset(%p3) : {t('?x3x8')}, {t('16x3x8')}, {t('16x3x4')} -> {t('?x3x4')}
    return %o1, %o3 : {t('1x3x4')}, {t('?x3x4')}
  }}"""
    o1, o3 = run_kernel(kernel, [(q1, t('1x3x8')), (q3, t('?x3x8')), (k, t('16x3x8')),
                                 (v, t('16x3x4')), (8, "index"), (6, "index")],
                        [((1, 3, 4), t('1x3x4')), ((3, 3, 4), t('?x3x4'))], **attention_lowering)
    check("attention decode offset", o1, ref_attention(q1, k[:9], v[:9], causal, 8, 0.3))
    check("attention window offset", o3, ref_attention(q3, k[:9], v[:9], sliding(4), 6))


def test_attention_wide_groups(rng, attention_lowering):
    """The vector widths of real models: 8 query heads per key/value head, head size 64, a
    40-slot cache holding 37 tokens (NaN after), three queries after 34, scores spread wide
    enough that many exponentials underflow."""
    q, k, v = rand(rng, 3, 16, 64, scale=2.0), rand(rng, 40, 2, 64), rand(rng, 40, 2, 64)
    k[37:], v[37:] = np.nan, np.nan
    qt_, kt_, ot = t('?x16x64'), t('40x2x64'), t('?x16x64')
    kernel = f"""
  func.func @kernel(%q: {qt_}, %k: {kt_}, %v: {kt_}, %p: index) -> {ot} {{
    %o = llm.attention #llm.causal %q, %k, %v offset(%p) : {qt_}, {kt_}, {kt_} -> {ot}
    return %o : {ot}
  }}"""
    (o,) = run_kernel(kernel, [(q, qt_), (k, kt_), (v, kt_), (34, "index")],
                      [((3, 16, 64), ot)], **attention_lowering)
    check("attention wide groups", o, ref_attention(q, k[:37], v[:37], causal, 34))


def test_attention_f16_cache(rng, attention_lowering):
    """An f16 key/value cache (f32 queries and result): the cache's values are read as f16 and
    computed in f32; the reference takes the same f16 values exactly."""
    q = rand(rng, 2, 4, 8)
    k, v = rand(rng, 12, 2, 8).astype(np.float16), rand(rng, 12, 2, 8).astype(np.float16)
    k[9:], v[9:] = np.nan, np.nan
    qt_, kt_, ot = t('?x4x8'), t('12x2x8', 'f16'), t('?x4x8')
    kernel = f"""
  func.func @kernel(%q: {qt_}, %k: {kt_}, %v: {kt_}, %p: index) -> {ot} {{
    %o = llm.attention #llm.sliding_window<5> %q, %k, %v offset(%p) : {qt_}, {kt_}, {kt_} -> {ot}
    return %o : {ot}
  }}"""
    (o,) = run_kernel(kernel, [(q, qt_), (k, kt_), (v, kt_), (7, "index")],
                      [((2, 4, 8), ot)], **attention_lowering)
    check("attention f16 cache", o, ref_attention(q, k[:9].astype(np.float32),
                                                  v[:9].astype(np.float32), sliding(5), 7))


def test_attention_tree(rng, attention_lowering):
    """Five draft nodes (parents -1, 0, 0, 1, 2) after a committed prefix of 4, cache of 12
    with NaN in the unwritten slots; GQA 4/2."""
    mask = tree_mask([-1, 0, 0, 1, 2])
    q, k, v = rand(rng, 5, 4, 8), rand(rng, 12, 2, 8), rand(rng, 12, 2, 8)
    k[9:], v[9:] = np.nan, np.nan
    ot, kernel = attention_kernel("#llm.tree", "5x4x8", "?x2x8", "?x2x8",
                                  f"tree_mask(%m : {t('5x5', 'i1')}) offset(%c)",
                                  f", %m: {t('5x5', 'i1')}, %c: index")
    (o,) = run_kernel(kernel, [(q, t("5x4x8")), (k, t("?x2x8")), (v, t("?x2x8")),
                               (mask, t('5x5', 'i1')), (4, "index")], [((5, 4, 8), ot)],
                      **attention_lowering)
    check("attention tree", o, ref_attention(q, k[:9], v[:9], tree(mask, 4), 4))


def test_attention_row_without_visible_key(rng, attention_lowering):
    """A tree mask row that hides the node itself with no prefix (offset 0): that query sees
    no key and yields zeros (LLMOps.td), not NaN; the other rows are unaffected."""
    mask = tree_mask([-1, 0, 1])
    mask[1, :] = False
    q, k, v = rand(rng, 3, 2, 4), rand(rng, 3, 2, 4), rand(rng, 3, 2, 4)
    ot, kernel = attention_kernel("#llm.tree", "3x2x4", "3x2x4", "3x2x4",
                                  f"tree_mask(%m : {t('3x3', 'i1')}) offset(%c)",
                                  f", %m: {t('3x3', 'i1')}, %c: index")
    (o,) = run_kernel(kernel, [(q, t("3x2x4")), (k, t("3x2x4")), (v, t("3x2x4")),
                               (mask, t('3x3', 'i1')), (0, "index")], [((3, 2, 4), ot)],
                      **attention_lowering)
    assert np.all(o[1] == 0.0)
    check("attention empty row", o, ref_attention(q, k, v, tree(mask, 0), 0))


@pytest.mark.parametrize("activation", ["swiglu", "geglu", "gelu"])
def test_mlp(rng, activation):
    x = rand(rng, 2, 3, 16)
    gate, up = rand(rng, 24, 16, scale=0.4), rand(rng, 24, 16, scale=0.4)
    down = rand(rng, 16, 24, scale=0.4)
    gate_arg = f"gate(%g : {t('24x16')}) " if activation != "gelu" else ""
    kernel = f"""
  func.func @kernel(%x: {t('2x?x16')}, %g: {t('24x16')}, %u: {t('24x16')}, %d: {t('16x24')}) -> {t('2x?x16')} {{
    %y = llm.mlp {activation} %x {gate_arg}up(%u : {t('24x16')}) down(%d : {t('16x24')}) : {t('2x?x16')}
    return %y : {t('2x?x16')}
  }}"""
    (y,) = run_kernel(kernel, [(x, t('2x?x16')), (gate, t('24x16')), (up, t('24x16')),
                               (down, t('16x24'))], [((2, 3, 16), t('2x?x16'))])
    check(f"mlp {activation}", y, ref_mlp(x, activation, up, down, gate))


def test_linear(rng):
    x, x3 = rand(rng, 5, 24), rand(rng, 2, 3, 24)
    w, b = rand(rng, 12, 24), rand(rng, 12)
    kernel = f"""
  func.func @kernel(%x: {t('?x24')}, %x3: {t('2x?x24')}, %w: {t('12x24')}, %b: {t('12')}) -> ({t('?x12')}, {t('2x?x12')}, {t('?x12')}) {{
    %y = llm.linear %x, %w : {t('?x24')}, {t('12x24')} -> {t('?x12')}
    %y3 = llm.linear %x3, %w, %b : {t('2x?x24')}, {t('12x24')}, {t('12')} -> {t('2x?x12')}
    // An f16 weight: the matmul extends it to the f32 accumulator.
    %w16 = arith.truncf %w : {t('12x24')} to {t('12x24', 'f16')}
    %y16 = llm.linear %x, %w16, %b : {t('?x24')}, {t('12x24', 'f16')}, {t('12')} -> {t('?x12')}
    return %y, %y3, %y16 : {t('?x12')}, {t('2x?x12')}, {t('?x12')}
  }}"""
    y, y3, y16 = run_kernel(kernel, [(x, t('?x24')), (x3, t('2x?x24')), (w, t('12x24')),
                                     (b, t('12'))],
                            [((5, 12), t('?x12')), ((2, 3, 12), t('2x?x12')),
                             ((5, 12), t('?x12'))])
    w64 = w.astype(np.float64)
    check("linear", y, x.astype(np.float64) @ w64.T)
    check("linear rank 3 + bias", y3, x3.astype(np.float64) @ w64.T + b)
    w16 = w.astype(np.float16).astype(np.float64)
    check("linear f16 weight + bias", y16, x.astype(np.float64) @ w16.T + b)


def test_logits(rng):
    h, hb = rand(rng, 5, 16), rand(rng, 2, 4, 16)
    w = rand(rng, 40, 16)
    kernel = f"""
  func.func @kernel(%h: {t('?x16')}, %hb: {t('2x?x16')}, %w: {t('40x16')}) -> ({t('?x40')}, {t('40')}, {t('2x40')}) {{
    %all = llm.logits %h, %w : {t('?x16')}, {t('40x16')} -> {t('?x40')}
    %last = llm.logits %h, %w last_only : {t('?x16')}, {t('40x16')} -> {t('40')}
    %lastb = llm.logits %hb, %w last_only : {t('2x?x16')}, {t('40x16')} -> {t('2x40')}
    return %all, %last, %lastb : {t('?x40')}, {t('40')}, {t('2x40')}
  }}"""
    all_, last, lastb = run_kernel(kernel, [(h, t('?x16')), (hb, t('2x?x16')), (w, t('40x16'))],
                                   [((5, 40), t('?x40')), ((40,), t('40')),
                                    ((2, 40), t('2x40'))])
    w64 = w.astype(np.float64)
    check("logits", all_, h.astype(np.float64) @ w64.T)
    check("logits last_only", last, h[-1].astype(np.float64) @ w64.T)
    check("logits last_only batched", lastb, hb[:, -1].astype(np.float64) @ w64.T)


def test_embedding(rng):
    table = rand(rng, 50, 8)
    tokens = np.array([3, 0, 49, 3, 17], dtype=np.int32)
    tokens2 = np.array([[1, 2, 3], [49, 48, 0]], dtype=np.int32)
    kernel = f"""
  func.func @kernel(%w: {t('50x8')}, %t: {t('?', 'i32')}, %t2: {t('2x3', 'i32')}) -> ({t('?x8')}, {t('2x3x8')}) {{
    %e = llm.embedding %w, %t : {t('50x8')}, {t('?', 'i32')} -> {t('?x8')}
    %e2 = llm.embedding %w, %t2 : {t('50x8')}, {t('2x3', 'i32')} -> {t('2x3x8')}
    return %e, %e2 : {t('?x8')}, {t('2x3x8')}
  }}"""
    e, e2 = run_kernel(kernel, [(table, t('50x8')), (tokens, t('?', 'i32')),
                                (tokens2, t('2x3', 'i32'))],
                       [((5, 8), t('?x8')), ((2, 3, 8), t('2x3x8'))])
    assert np.array_equal(e, table[tokens]) and np.array_equal(e2, table[tokens2])
    check("embedding", e, table[tokens].astype(np.float64))


def _has_qt_lowering():
    opt = require_kvant_opt()
    return "qt-lower-to-linalg" in subprocess.run([opt, "--help"], capture_output=True,
                                                  text=True).stdout


def test_quantized_embedding_and_linear(rng):
    """Q8_0 table and weight: embedding gathers the rows' bytes and dequantizes them,
    linear becomes qt.matmul; both lowered further by qt-lower-to-linalg."""
    if not _has_qt_lowering():
        pytest.skip("kvant-opt has no qt-lower-to-linalg")
    gguf_quants = pytest.importorskip("gguf.quants")
    from gguf import GGMLQuantizationType
    fmt = GGMLQuantizationType.Q8_0
    table = rand(rng, 20, 64)
    raw = gguf_quants.quantize(table, fmt).view(np.int8)
    deq = gguf_quants.dequantize(raw.view(np.uint8), fmt).astype(np.float64)
    tokens = np.array([4, 19, 0, 4], dtype=np.int32)
    x = rand(rng, 3, 64)
    qtype = "!qt.tensor<20x64, #qt.gguf<q8_0>>"
    kernel = f"""
  func.func @kernel(%b: {t('20x68', 'i8')}, %t: {t('?', 'i32')}, %x: {t('?x64')}) -> ({t('?x64')}, {t('?x20')}) {{
    %w = qt.from_bytes %b : {t('20x68', 'i8')} -> {qtype}
    %e = llm.embedding %w, %t : {qtype}, {t('?', 'i32')} -> {t('?x64')}
    %y = llm.linear %x, %w : {t('?x64')}, {qtype} -> {t('?x20')}
    return %e, %y : {t('?x64')}, {t('?x20')}
  }}"""
    args = [(raw, t('20x68', 'i8')), (tokens, t('?', 'i32')), (x, t('?x64'))]
    e, y = run_kernel(kernel, args, [((4, 64), t('?x64')), ((3, 20), t('?x20'))],
                      passes=PASSES + ("--qt-lower-to-linalg",))
    check("embedding q8_0", e, deq[tokens])
    check("linear q8_0", y, x.astype(np.float64) @ deq.T)
