"""Write Llama-family models (llama / qwen2 / mistral) as GGUF files that llama.cpp can load.

Why this exists: kvant's end-to-end CPU tests need GGUF inputs whose contents we control
(bundled tiny trained model, random models of real shapes) without downloading checkpoints.
Only numpy and the `gguf` package are used, so the files follow exactly what gguf-py (the
library llama.cpp's own converter uses) writes.

Conventions (important for anyone implementing the graph on top of these files):
  * `tensors` are float32 numpy arrays in row-major [out_features, in_features] layout.
    GGUF stores dimensions reversed (ne0 = innermost = in_features); gguf.GGUFWriter does the
    reversal, so `attn_q.weight` [H*hd, D] appears in GGUF as ne = [D, H*hd].
  * Rope: arch "llama"/"mistral" use llama.cpp's *normal* rope, i.e. rotate adjacent pairs
    (x[2i], x[2i+1]) of each head *as stored*; no HF-style permutation is applied here.
    Arch "qwen2" uses *neox* rope, pairs (x[i], x[i + hd/2]).
  * "mistral" is written with general.architecture = "llama": llama.cpp has no separate
    "mistral" architecture for this graph (its converter also writes Mistral as llama).
  * 2-D weight matrices are stored in `weight_type`; 1-D tensors (norms, biases) stay F32.
    A matrix whose row length is not a multiple of the type's block size falls back
    (K-quants -> Q8_0 -> F16), as llama.cpp's quantizer does; the fallback is logged.

Memory: values of `tensors` may be `LazyTensor`s (shape + zero-arg producer). The file is then
written tensor by tensor (header first, then each tensor produced, quantized, written and
dropped), so peak memory is ~one float32 tensor plus its quantized copy.
"""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf.quants import quantize as _gguf_quantize

log = logging.getLogger("gguf_llama_writer")

ARCHES = ("llama", "qwen2", "mistral")


@dataclass
class LlamaHParams:
    vocab_size: int
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_dim: int
    context_length: int
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5
    arch: str = "llama"  # "llama" | "qwen2" | "mistral" (same graph; qwen2 adds q/k/v biases, neox rope)

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @property
    def gguf_arch(self) -> str:
        """Architecture string written to general.architecture (mistral -> llama)."""
        return "llama" if self.arch == "mistral" else self.arch


@dataclass
class GGUFTokenizer:
    model: str  # "llama" (SentencePiece-style, byte fallback) or "gpt2" (byte-level BPE)
    tokens: list[str]
    token_types: list[int]
    scores: list[float] | None = None  # llama
    merges: list[str] | None = None  # gpt2
    bos_id: int = 1
    eos_id: int = 2
    unk_id: int | None = 0
    pad_id: int | None = None
    pre: str | None = None  # gpt2 pre-tokenizer name, e.g. "default"
    add_bos: bool = True


@dataclass
class LazyTensor:
    """A tensor produced on demand, so big models never need all weights in memory at once."""
    shape: tuple[int, ...]
    produce: Callable[[], np.ndarray]


TensorLike = Union[np.ndarray, LazyTensor]

# weight_type name -> (ggml tensor type, general.file_type)
WEIGHT_TYPES: dict[str, tuple[QT, int]] = {
    "F32": (QT.F32, gguf.LlamaFileType.ALL_F32),
    "F16": (QT.F16, gguf.LlamaFileType.MOSTLY_F16),
    "BF16": (QT.BF16, gguf.LlamaFileType.MOSTLY_BF16),
    "Q8_0": (QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "Q4_0": (QT.Q4_0, gguf.LlamaFileType.MOSTLY_Q4_0),
    "Q4_1": (QT.Q4_1, gguf.LlamaFileType.MOSTLY_Q4_1),
    "Q5_0": (QT.Q5_0, gguf.LlamaFileType.MOSTLY_Q5_0),
    "Q5_1": (QT.Q5_1, gguf.LlamaFileType.MOSTLY_Q5_1),
    # gguf-py (0.19) cannot quantize K-quants; kquants.py supplies simple quantizers whose
    # output is checked against gguf-py's dequantizers. file_type: all-Qn_K is closest to
    # Qn_K_S.
    "Q2_K": (QT.Q2_K, gguf.LlamaFileType.MOSTLY_Q2_K),
    "Q3_K": (QT.Q3_K, gguf.LlamaFileType.MOSTLY_Q3_K_S),
    "Q4_K": (QT.Q4_K, gguf.LlamaFileType.MOSTLY_Q4_K_S),
    "Q5_K": (QT.Q5_K, gguf.LlamaFileType.MOSTLY_Q5_K_S),
    "Q6_K": (QT.Q6_K, gguf.LlamaFileType.MOSTLY_Q6_K),
    # Lookup-table and ternary formats; gguf-py quantizes all but IQ4_NL, which lutquants.py
    # supplies. MXFP4's only file type is llama.cpp's MOE one (MXFP4 experts, rest Q8_0).
    "IQ4_NL": (QT.IQ4_NL, gguf.LlamaFileType.MOSTLY_IQ4_NL),
    "TQ1_0": (QT.TQ1_0, gguf.LlamaFileType.MOSTLY_TQ1_0),
    "TQ2_0": (QT.TQ2_0, gguf.LlamaFileType.MOSTLY_TQ2_0),
    "MXFP4": (QT.MXFP4, gguf.LlamaFileType.MOSTLY_MXFP4_MOE),
}

_K_QUANTS = (QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K)
_FALLBACK = {t: QT.Q8_0 for t in _K_QUANTS}


def expected_tensor_shapes(hp: LlamaHParams) -> tuple[dict[str, tuple[int, ...]], set[str]]:
    """(every allowed name -> shape, the optional subset). Shapes are numpy [out, in] order.

    Optional: output.weight (absent = tied embeddings) and, except for qwen2 where they are
    required, the q/k/v biases (llama.cpp loads them for llama when present)."""
    if hp.arch not in ARCHES:
        raise ValueError(f"unknown arch {hp.arch!r}; expected one of {ARCHES}")
    if hp.dim % hp.n_heads or hp.n_heads % hp.n_kv_heads:
        raise ValueError("dim must be divisible by n_heads and n_heads by n_kv_heads")
    D, V, F, hd = hp.dim, hp.vocab_size, hp.ffn_dim, hp.head_dim
    q, kv = hp.n_heads * hd, hp.n_kv_heads * hd
    req: dict[str, tuple[int, ...]] = {"token_embd.weight": (V, D)}
    opt_shapes: dict[str, tuple[int, ...]] = {"output.weight": (V, D)}
    for i in range(hp.n_layers):
        b = f"blk.{i}."
        req.update({
            b + "attn_norm.weight": (D,), b + "attn_q.weight": (q, D), b + "attn_k.weight": (kv, D),
            b + "attn_v.weight": (kv, D), b + "attn_output.weight": (D, q), b + "ffn_norm.weight": (D,),
            b + "ffn_gate.weight": (F, D), b + "ffn_up.weight": (F, D), b + "ffn_down.weight": (D, F),
        })
        biases = {b + "attn_q.bias": (q,), b + "attn_k.bias": (kv,), b + "attn_v.bias": (kv,)}
        (req if hp.arch == "qwen2" else opt_shapes).update(biases)
    req["output_norm.weight"] = (D,)
    return {**req, **opt_shapes}, set(opt_shapes)


def _ordered_names(hp: LlamaHParams, present: set[str]) -> list[str]:
    shapes, _ = expected_tensor_shapes(hp)
    return [n for n in shapes if n in present]


def _choose_type(shape: tuple[int, ...], wanted: QT, name: str) -> QT:
    if len(shape) != 2:
        return QT.F32
    t = wanted
    while True:
        block = gguf.GGML_QUANT_SIZES[t][0]
        if shape[-1] % block == 0:
            return t
        nxt = _FALLBACK.get(t, QT.F16 if t not in (QT.F16, QT.F32) else QT.F32)
        log.warning("%s: row length %d not a multiple of %s block %d; using %s",
                    name, shape[-1], t.name, block, nxt.name)
        t = nxt


def _quantize(arr: np.ndarray, t: QT, rows_per_chunk: int = 2048) -> np.ndarray:
    """Quantize row chunks into one preallocated buffer (bounds temporaries for big matrices)."""
    fn = (lambda a: _kquants().quantize_k(a, t)) if t in _K_QUANTS else (lambda a: _gguf_quantize(a, t))
    if t == QT.IQ4_NL:
        fn = lambda a: _lutquants().quantize_lut(a, t)  # noqa: E731
    if arr.ndim != 2 or arr.shape[0] <= rows_per_chunk or t == QT.F32:
        return fn(arr)
    first = fn(arr[:rows_per_chunk])
    out = np.empty((arr.shape[0], first.shape[1]), dtype=first.dtype)
    out[:rows_per_chunk] = first
    for r in range(rows_per_chunk, arr.shape[0], rows_per_chunk):
        out[r:r + rows_per_chunk] = fn(arr[r:r + rows_per_chunk])
    return out


def _sibling(name: str):
    """Load models/<name>.py without requiring models/ on sys.path (once per process)."""
    import importlib.util
    import sys
    key = "kvant_" + name
    mod = sys.modules.get(key)
    if mod is None:
        spec = importlib.util.spec_from_file_location(
            key, os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[key] = mod
    return mod


def _kquants():
    return _sibling("kquants")


def _lutquants():
    return _sibling("lutquants")


def _nbytes(shape: tuple[int, ...], t: QT) -> int:
    block, tsize = gguf.GGML_QUANT_SIZES[t]
    n = int(np.prod(shape))
    return n // block * tsize


def _add_metadata(w: gguf.GGUFWriter, hp: LlamaHParams, tok: GGUFTokenizer, file_type: int, name: str):
    w.add_name(name)
    w.add_file_type(int(file_type))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(hp.context_length)
    w.add_embedding_length(hp.dim)
    w.add_block_count(hp.n_layers)
    w.add_feed_forward_length(hp.ffn_dim)
    w.add_head_count(hp.n_heads)
    w.add_head_count_kv(hp.n_kv_heads)
    w.add_rope_freq_base(float(hp.rope_theta))
    w.add_layer_norm_rms_eps(float(hp.rms_eps))
    w.add_rope_dimension_count(hp.head_dim)
    w.add_vocab_size(hp.vocab_size)

    if len(tok.tokens) != hp.vocab_size or len(tok.token_types) != hp.vocab_size:
        raise ValueError(f"tokenizer has {len(tok.tokens)} tokens / {len(tok.token_types)} types, "
                         f"vocab_size is {hp.vocab_size}")
    w.add_tokenizer_model(tok.model)
    if tok.model == "llama":
        if tok.scores is None or len(tok.scores) != hp.vocab_size:
            raise ValueError("llama tokenizer needs one score per token")
    elif tok.model == "gpt2":
        if not tok.merges:
            raise ValueError("gpt2 tokenizer needs merges")
        w.add_tokenizer_pre(tok.pre or "default")
    else:
        raise ValueError(f"unknown tokenizer model {tok.model!r}")
    w.add_token_list(tok.tokens)
    if tok.scores is not None:
        w.add_token_scores([float(s) for s in tok.scores])
    w.add_token_types([int(t) for t in tok.token_types])
    if tok.merges:
        w.add_token_merges(tok.merges)
    w.add_bos_token_id(tok.bos_id)
    w.add_eos_token_id(tok.eos_id)
    if tok.unk_id is not None:
        w.add_unk_token_id(tok.unk_id)
    if tok.pad_id is not None:
        w.add_pad_token_id(tok.pad_id)
    w.add_add_bos_token(tok.add_bos)


def write_llama_gguf(path, hp: LlamaHParams, tensors: dict[str, TensorLike], tokenizer: GGUFTokenizer,
                     weight_type: str = "F32", name: str = "kvant-model") -> None:
    """Validate names/shapes against `hp`, then write `path` atomically (temp file + os.replace)."""
    if weight_type not in WEIGHT_TYPES:
        raise ValueError(f"weight_type {weight_type!r} not in {sorted(WEIGHT_TYPES)}")
    wanted, file_type = WEIGHT_TYPES[weight_type]
    shapes, optional = expected_tensor_shapes(hp)
    missing = [n for n in shapes if n not in tensors and n not in optional]
    unknown = [n for n in tensors if n not in shapes]
    if missing or unknown:
        raise ValueError(f"tensor names: missing {missing[:5]}, unexpected {unknown[:5]}")
    for n, t in tensors.items():
        if tuple(t.shape) != shapes[n]:
            raise ValueError(f"{n}: shape {tuple(t.shape)} != expected {shapes[n]}")

    names = _ordered_names(hp, set(tensors))
    types = {n: _choose_type(shapes[n], wanted, n) for n in names}

    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".gguf", dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        w = gguf.GGUFWriter(tmp, hp.gguf_arch)
        _add_metadata(w, hp, tokenizer, file_type, name)
        for n in names:
            # tensor_dtype float32 => shape is taken as the logical (element) shape
            w.add_tensor_info(n, shapes[n], np.dtype(np.float32), _nbytes(shapes[n], types[n]), raw_dtype=types[n])
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        for n in names:
            t = tensors[n]
            arr = t.produce() if isinstance(t, LazyTensor) else t
            arr = np.ascontiguousarray(arr, dtype=np.float32)
            if tuple(arr.shape) != shapes[n]:
                raise ValueError(f"{n}: produced shape {arr.shape} != {shapes[n]}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{n}: non-finite values")
            w.write_tensor_data(_quantize(arr, types[n]))
            del arr
        w.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
