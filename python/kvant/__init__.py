"""kvant from Python: import a GGUF model, run pass pipelines, compile it to a
native artifact and run that artifact (logits as NumPy arrays, generation,
perplexity).

    import kvant
    kvant.compile("model.gguf", "model.so", context=256)
    model = kvant.Model("model.so", "model.gguf")
    logits = model.forward(model.tokenizer.encode("In the beginning"))
    ids, text = model.generate("In the beginning", n=32)

Every error kvant reports raises `kvant.KvantError` (a RuntimeError) with the
message kvant's C++ gives, which names the offending file.

The extension module `kvant._kvant` links libMLIR.so (the compiler side
needs it), so importing kvant loads MLIR even when only running models; the
`kvant-run` tool is the MLIR-free way to run an artifact.
"""
import os

import numpy as np

from . import _kvant
from ._kvant import KvantError

__all__ = ["KvantError", "Model", "Tokenizer", "compile", "cpu_pipeline", "import_gguf",
           "run_pipeline"]


def _path(value):
    return os.fspath(value)


def import_gguf(path, context=0):
    """The model in the GGUF file at `path` as module text in kvant's llm/qt/kv dialects,
    as `kvant-import` writes it. `context` is the KV cache capacity in tokens (0: the
    model's context length)."""
    return _kvant.import_gguf(_path(path), int(context))


def run_pipeline(module_text, pipeline):
    """Runs a textual pass pipeline on `module_text` and returns the resulting module text.
    `pipeline` is what `kvant-opt --pass-pipeline` takes ("builtin.module(qt-fuse-dequant)",
    `cpu_pipeline()`), or a bare list of passes run on the module ("canonicalize, cse")."""
    return _kvant.run_pipeline(module_text, pipeline)


def cpu_pipeline(entry="forward"):
    """The whole CPU pipeline (imported model to the LLVM dialect) as anchored pipeline text
    for `run_pipeline`; `entry` is the model function."""
    return _kvant.cpu_pipeline(entry)


def _is_module_text(value):
    if not isinstance(value, str):
        return False
    if value.endswith((".gguf", ".mlir")) or os.path.exists(value):
        return False
    return "\n" in value or value.lstrip().startswith(("module", "func.func", "#", "!"))


_EMITS = ("so", "llvm-ir", "llvm-dialect", "model")


def compile(model, output, target="cpu", context=0, march="native", emit="so", clang=None,
            parallel=True, int8_dot="auto", interleave_rows=8, kv_cache_type="f32",
            weight_prefetch_distance=4096, parallel_schedule="dynamic"):
    """Compiles `model` as `kvant-compile` does and writes `output` atomically.

    `model` is a GGUF file, an .mlir file or module text (what `import_gguf` or
    `run_pipeline` returned). `emit` stops early: "model", "llvm-dialect", "llvm-ir" or
    "so" (the shared library `Model` loads, the default). `target` is what
    `kvant-compile --target` takes (default "cpu"). `context` (GGUF
    input) is the KV cache capacity in tokens; `march` the CPU to generate code for;
    `clang` the clang that optimizes and links (default: the one kvant was built with).
    `parallel` runs each op's parallel loops on the artifact's thread team (CPU),
    `parallel_schedule` is `--parallel-schedule` ("dynamic" or "static"); `int8_dot` is
    `kvant-compile --int8-dot` ("auto", "none", "generic", "avx2" or "avx2-vnni"), `interleave_rows`
    its `--interleave-rows` (8, or 1 for the file's layout), `kv_cache_type` its
    `--kv-cache-type` ("f32" or "f16"; GGUF input), `weight_prefetch_distance` its
    `--weight-prefetch-distance` (bytes; 0: none). Returns `output`."""
    if emit not in _EMITS:
        raise KvantError(f"emit must be one of {', '.join(_EMITS)}, not {emit!r}")
    is_text = _is_module_text(model)
    source = model if is_text else _path(model)
    _kvant.compile(source, is_text, _path(output), target, int(context), march, emit,
                   clang or "", bool(parallel), str(int8_dot), int(interleave_rows),
                   str(kv_cache_type), int(weight_prefetch_distance), str(parallel_schedule))
    return output


def _token_list(tokens):
    ids = np.asarray(tokens)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise KvantError("tokens must be a 1-D sequence of integer token ids")
    if ids.size and (ids.min() < 0 or ids.max() > 2**31 - 1):
        raise KvantError("token ids must be non-negative 32-bit integers")
    return [int(t) for t in ids]


class Model:
    """A compiled model (`kvant.compile` or kvant-compile's .so) with its GGUF weights and
    tokenizer. The model owns a KV cache: `forward` appends to it, `rollback`/`reset` trim
    it. One Model runs one sequence at a time (calls from several threads are serialized)."""

    def __init__(self, artifact_path, weights_path, threads=None):
        """`threads`: the thread team of an artifact compiled with `parallel=True` (default:
        OMP_NUM_THREADS, else the CPUs this process may use). The team belongs to the loaded
        artifact, one per process: a second Model of the same artifact with another count
        raises KvantError. Artifacts without parallel loops run on the calling thread."""
        self.artifact_path = _path(artifact_path)
        self.weights_path = _path(weights_path)
        if threads is None:
            threads = 0
        elif isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) \
                or not 1 <= threads <= 256:
            raise KvantError(f"threads must be an integer from 1 to 256, not {threads!r}")
        self._model = _kvant.Model(self.artifact_path, self.weights_path, int(threads))

    def __repr__(self):
        return (f"kvant.Model({self.artifact_path!r}, {self.weights_path!r}, "
                f"position={self.position}/{self.context_length})")

    def forward(self, tokens):
        """Runs `tokens` at the current position, appending them to the KV cache; returns
        every position's logits as a float32 array of shape [len(tokens), vocab_size]."""
        return self._model.forward(_token_list(tokens))

    def reset(self):
        """Empties the KV cache."""
        self._model.rollback(0)

    def rollback(self, position):
        """Forgets the cached tokens from `position` on (0 <= position <= self.position)."""
        self._model.rollback(int(position))

    @property
    def threads(self):
        """Threads that run the artifact's parallel loops (1 for an artifact without them)."""
        return self._model.threads

    @property
    def position(self):
        """Tokens in the KV cache."""
        return self._model.position

    @property
    def context_length(self):
        """Tokens the KV cache holds (the artifact's compiled context)."""
        return self._model.context_length

    @property
    def vocab_size(self):
        return self._model.vocab_size

    @property
    def descriptor(self):
        """The artifact's descriptor: entry, target, architecture, hparams, KV cache
        geometry (cache_element, cache_shape) and the weights it expects."""
        return self._model.descriptor

    @property
    def tokenizer(self):
        """The GGUF file's tokenizer (raises KvantError when the file has none)."""
        return TokenizerView(self._model.tokenizer, self)

    def generate(self, prompt, n=64, temperature=0.0, top_k=0, top_p=1.0, seed=0):
        """Decodes up to `n` tokens after `prompt` (text, encoded with BOS, or a list of
        token ids) from an empty KV cache, as `kvant-run` does: greedy at temperature 0,
        else temperature, top-k, then top-p sampling with a portable seeded generator.
        Stops after an end-of-generation token. Returns (ids, text): the generated ids
        (an end-of-generation token included) and their text (without it)."""
        if isinstance(prompt, str):
            ids = self._model.tokenizer.encode(prompt, True)
        else:
            ids = _token_list(prompt)
        out, text = self._model.generate(ids, int(n), float(temperature), int(top_k),
                                         float(top_p), int(seed))
        return out, text.decode("utf-8", errors="replace")

    def perplexity(self, text, chunk=0):
        """Perplexity of `text` as `kvant-run --perplexity`: windows of `chunk` tokens
        (0: the context length), each starting with BOS and an empty cache. Returns a dict
        with tokens, bytes, nll_per_token, perplexity and bits_per_byte."""
        return self._model.perplexity(text, int(chunk))


class TokenizerView:
    """The tokenizer of a Model (it keeps the model alive)."""

    def __init__(self, tokenizer, owner):
        self._tokenizer = tokenizer
        self._owner = owner

    def encode(self, text, add_bos=True, parse_special=False):
        """Token ids of `text`; with `add_bos`, BOS (and EOS) as the model's metadata asks."""
        return self._tokenizer.encode(text, bool(add_bos), bool(parse_special))

    def decode(self, ids):
        """Text of `ids` (bytes that are not valid UTF-8 become U+FFFD)."""
        return self._tokenizer.decode(_token_list(ids)).decode("utf-8", errors="replace")

    def token_to_piece(self, token, special=False):
        """The bytes token `token` stands for."""
        return self._tokenizer.token_to_piece(int(token), bool(special))

    def is_eog(self, token):
        return self._tokenizer.is_eog(int(token))

    @property
    def bos(self):
        return self._tokenizer.bos

    @property
    def eos(self):
        return self._tokenizer.eos

    @property
    def vocab_size(self):
        return self._tokenizer.vocab_size


Tokenizer = TokenizerView
