"""The runtime's tokenizer and sampler (lib/Runtime) through kvant-tokenize.

Tokenizers are trained here on text from Debian's license files plus some
generated multilingual text, written into GGUF files with the `gguf` package
the way llama.cpp's converter writes them, and compared with the library that
trained them:

* "llama": a SentencePiece BPE model with byte_fallback, identity
  normalisation and a dummy prefix (as Llama's), against sentencepiece.
* "gpt2": a byte-level BPE trained with HF `tokenizers` (GPT-2 regex
  pre-tokenizer, no prefix space), against tokenizers.

The sampler is checked through `kvant-tokenize --sample`.

Binaries come from $KVANT_BUILD_DIR/bin (default <repo>/build/bin).
"""
import glob
import math
import os
import random
import subprocess
import tempfile

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KVANT_BUILD_DIR", os.path.join(ROOT, "build"))
TOOL = os.path.join(BUILD, "bin", "kvant-tokenize")

if not os.path.exists(TOOL):
    pytest.skip(f"kvant-tokenize is not built ({TOOL} missing; set KVANT_BUILD_DIR)",
                allow_module_level=True)


def run(*args, input_bytes=None, check=True):
    proc = subprocess.run([TOOL, *args], input=input_bytes, capture_output=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"kvant-tokenize {args} failed: {proc.stderr.decode()}")
    return proc


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

MULTILINGUAL = [
    "Les élèves étudient à l'école près du café.",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein, schön und größer.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "敏捷的棕色狐狸跳过了懒狗。我们今天学习中文。",
    "素早い茶色の狐が怠惰な犬を飛び越える。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘는다.",
    "El niño comió piña y jalapeño en España.",
]


def training_text():
    lines = []
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                lines += [l.rstrip("\n") for l in f if l.strip()]
    rng = random.Random(7)
    for _ in range(300):
        lines.append(rng.choice(MULTILINGUAL))
        lines.append(" ".join(str(rng.randint(0, 10**rng.randint(1, 6))) for _ in range(5)))
    if len(lines) < 500:  # No license files: generated English-like text.
        words = "the of and to a in is that for it as was with be by on not he".split()
        for _ in range(3000):
            lines.append(" ".join(rng.choice(words) for _ in range(12)))
    return lines


def make_strings():
    """Strings to compare: fixed edge cases, license lines and random mixes."""
    fixed = [
        "", " ", "  ", "   ", "\n", "\n\n", "\t", " \n ", "a", "Hello world",
        "Hello world ", " Hello world", "  Hello   world  ", "Hello\nworld",
        "Hello\n\nworld\n", "line one\r\nline two", "tab\tseparated\tvalues",
        "I'm sure they're fine, we'll see; don't worry: it's ok I've said.",
        "THE QUICK BROWN FOX", "numbers 123 4567 89012 3.14159 -42 1e10",
        "emoji 😀 and 👍🏽 and 👨‍👩‍👧 family", "🚀🚀🚀", "mixed 中文 text",
        "naïve café résumé", "Ǆemal ʼ", "e\u0301 combining", "zero\u200bwidth",
        "nbsp\u00a0here", "ideographic\u3000space", "snowman ☃ ✓ ∑ ∞ ≠",
        "def f(x):\n    return x ** 2  # square\n", "<s> not special </s>",
        "a" * 300, "ab " * 100, "https://example.com/path?q=1&r=2#frag",
        "'s 've 're", "''quoted'' \"double\"", "Ω≈ç√∫˜µ≤≥÷", "¡¿ ¼ ½ ² ³",
        "१२३ ٤٥٦", "Ꭰ Ꭱ ᏣᎳᎩ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ﬁ ligature", "ÅÄÖ åäö",
    ] + MULTILINGUAL
    rng = random.Random(1234)
    lines = training_text()
    sampled = [rng.choice(lines) for _ in range(150)]
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;:'!?-\n\t") + \
        list("éüßøñçжщλπ中文日本語한국😀🎉👍→€£") + ["  ", "'s", "'ll"]
    randoms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
               for _ in range(150)]
    return fixed + sampled + randoms


STRINGS = make_strings()


def encode_batch(model, strings, *flags):
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as f:
        f.write(b"\0".join(s.encode() for s in strings))
        path = f.name
    try:
        out = run(model, *flags, "--batch", path).stdout.decode()
    finally:
        os.unlink(path)
    lines = out.split("\n")[:-1]
    assert len(lines) == len(strings)
    return [[int(t) for t in l.split(",")] if l else [] for l in lines]


def decode_batch(model, id_lists):
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as f:
        f.write("\n".join(",".join(map(str, ids)) for ids in id_lists).encode())
        path = f.name
    try:
        out = run(model, "--decode-batch", path).stdout
    finally:
        os.unlink(path)
    texts = out.split(b"\0")[:-1]
    assert len(texts) == len(id_lists)
    return [t.decode("utf-8", errors="surrogateescape") for t in texts]


def report(name, agree, total, mismatches):
    print(f"\n{name}: {agree}/{total} strings agree")
    for s, ours, theirs in mismatches[:5]:
        print(f"  {s!r}\n    kvant: {ours}\n    ref:   {theirs}")


# ---------------------------------------------------------------------------
# SentencePiece ("llama")
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spm(tmp_path_factory):
    pytest.importorskip("sentencepiece")
    return build_spm(str(tmp_path_factory.mktemp("spm") / "spm.gguf"))


def build_spm(path):
    """Trains a SentencePiece BPE model; returns it and its GGUF at `path`."""
    import sentencepiece as spmlib
    import io
    model = io.BytesIO()
    spmlib.SentencePieceTrainer.train(
        sentence_iterator=iter(training_text()), model_writer=model,
        model_type="bpe", vocab_size=1200, byte_fallback=True,
        character_coverage=0.9995, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True,
        split_digits=True, allow_whitespace_only_pieces=True,
        user_defined_symbols=["<tool>"],
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1,
        minloglevel=2)
    sp = spmlib.SentencePieceProcessor(model_proto=model.getvalue())

    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i):
            t = gguf.TokenType.CONTROL
        elif sp.is_unused(i):
            t = gguf.TokenType.UNUSED
        elif sp.is_byte(i):
            t = gguf.TokenType.BYTE
        elif tokens[-1] == "<tool>":
            t = gguf.TokenType.USER_DEFINED
        else:
            t = gguf.TokenType.NORMAL
        types.append(t)

    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return sp, path


def test_spm_info(spm):
    sp, path = spm
    out = run(path, "--info").stdout.decode()
    assert out == f"model llama, {sp.get_piece_size()} tokens, bos 1, eos 2, unk 0\n"


def test_spm_matches_sentencepiece(spm):
    sp, path = spm
    ours = encode_batch(path, STRINGS, "--no-bos")
    mismatches = []
    for s, ids in zip(STRINGS, ours):
        ref = sp.encode(s)
        if ids != ref:
            mismatches.append((s, ids, ref))
    report("llama/sentencepiece", len(STRINGS) - len(mismatches), len(STRINGS), mismatches)
    assert not mismatches


def test_spm_bos_and_special(spm):
    sp, path = spm
    assert encode_batch(path, ["Hello"])[0] == [1] + sp.encode("Hello")
    assert encode_batch(path, [""])[0] == [1]
    # "<s>" is text unless special tokens are parsed.
    assert encode_batch(path, ["<s>Hi"], "--no-bos")[0] == sp.encode("<s>Hi")
    assert encode_batch(path, ["<s>Hi"], "--no-bos", "--parse-special")[0] == \
        [1] + sp.encode("Hi")
    # User-defined symbols are always atomic.
    tool = sp.piece_to_id("<tool>")
    assert tool in encode_batch(path, ["call<tool>now"], "--no-bos")[0]


def test_spm_roundtrip(spm):
    sp, path = spm
    ids = encode_batch(path, STRINGS)
    decoded = decode_batch(path, ids)
    bad = [(s, d) for s, d in zip(STRINGS, decoded) if s != d]
    assert not bad, bad[:5]
    # sentencepiece decodes our ids to the same text.
    for s, i in zip(STRINGS, ids):
        assert sp.decode(i[1:]) == s


def test_spm_byte_fallback_streams(spm):
    sp, path = spm
    text = "emoji 😀 中文 ok"
    ids = encode_batch(path, [text], "--no-bos")[0]
    byte_ids = [i for i in ids if sp.is_byte(i)]
    assert byte_ids, "the emoji should fall back to byte tokens"
    out = run(path, "--stream", ",".join(map(str, ids))).stdout.decode().split()
    chunks = [bytes.fromhex(c) for c in out]
    for c in chunks:
        c.decode("utf-8")  # Every chunk is whole UTF-8 characters.
    assert b"".join(chunks).decode() == text


def test_spm_long_prompt_is_fast(spm):
    sp, path = spm
    text = " ".join(training_text())[:200000]
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as f:
        f.write(text.encode())
    try:
        import time
        start = time.time()
        out = run(path, "--no-bos", "--ids", "--file", f.name).stdout.decode()
        elapsed = time.time() - start
    finally:
        os.unlink(f.name)
    ids = [int(t) for t in out.strip()[1:-1].split(",")]
    assert ids == sp.encode(text)
    assert elapsed < 10, f"200 kB took {elapsed:.1f} s"


# ---------------------------------------------------------------------------
# Byte-level BPE ("gpt2")
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bpe(tmp_path_factory):
    pytest.importorskip("tokenizers")
    return build_bpe(str(tmp_path_factory.mktemp("bpe") / "bpe.gguf"))


def build_bpe(path):
    """Trains a byte-level BPE with HF tokenizers; returns it and its GGUF."""
    import json
    import tokenizers as tk
    tok = tk.Tokenizer(tk.models.BPE())
    tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=1500, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_text(), trainer)

    model = json.loads(tok.to_str())["model"]
    vocab = model["vocab"]
    tokens = [None] * len(vocab)
    for text, i in vocab.items():
        tokens[i] = text
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    eot = vocab["<|endoftext|>"]
    types = [gguf.TokenType.CONTROL if i == eot else gguf.TokenType.NORMAL
             for i in range(len(tokens))]

    w = gguf.GGUFWriter(path, "gpt2")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tok, path


def test_bpe_matches_tokenizers_ascii(bpe):
    tok, path = bpe
    ascii_strings = [s for s in STRINGS if s.isascii()]
    ours = encode_batch(path, ascii_strings)
    mismatches = [(s, o, tok.encode(s).ids) for s, o in zip(ascii_strings, ours)
                  if o != tok.encode(s).ids]
    report("gpt2/tokenizers (ASCII)", len(ascii_strings) - len(mismatches),
           len(ascii_strings), mismatches)
    assert not mismatches


def test_bpe_matches_tokenizers_unicode(bpe):
    """Non-ASCII text depends on the approximate Unicode classes of the
    pre-tokenizer (see Tokenizer.cpp); the common scripts, emoji and
    punctuation agree."""
    tok, path = bpe
    strings = [s for s in STRINGS if not s.isascii()]
    ours = encode_batch(path, strings)
    mismatches = [(s, o, tok.encode(s).ids) for s, o in zip(strings, ours)
                  if o != tok.encode(s).ids]
    report("gpt2/tokenizers (non-ASCII)", len(strings) - len(mismatches),
           len(strings), mismatches)
    assert not mismatches


def test_bpe_special_and_roundtrip(bpe):
    tok, path = bpe
    eot = tok.token_to_id("<|endoftext|>")
    assert encode_batch(path, ["a<|endoftext|>b"], "--parse-special")[0] == \
        tok.encode("a<|endoftext|>b").ids
    assert eot not in encode_batch(path, ["a<|endoftext|>b"])[0]
    ids = encode_batch(path, STRINGS)
    assert decode_batch(path, ids) == STRINGS
    for s, i in zip(STRINGS, ids):
        assert tok.decode(i) == s
    # Streaming a multi-byte character split over byte tokens.
    ids = encode_batch(path, ["🚀 x"])[0]
    chunks = [bytes.fromhex(c) for c in
              run(path, "--stream", ",".join(map(str, ids))).stdout.decode().split()]
    for c in chunks:
        c.decode("utf-8")
    assert b"".join(chunks).decode() == "🚀 x"


# ---------------------------------------------------------------------------
# Sampler
# ---------------------------------------------------------------------------

LOGITS = [1.0, 2.5, 0.3, 2.0, -1.0]


def sample(logits=LOGITS, count=1, **params):
    args = ["--sample", ",".join(map(str, logits)), "--count", str(count)]
    for k, v in params.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    return [int(x) for x in run(*args).stdout.split()]


def softmax(x, t=1.0):
    x = np.asarray(x, dtype=np.float64) / t
    e = np.exp(x - x.max())
    return e / e.sum()


def test_greedy_is_argmax():
    rng = np.random.default_rng(0)
    for _ in range(20):
        logits = rng.normal(size=50).round(3)
        assert sample(list(logits), temperature=0) == [int(np.argmax(logits))]
        assert sample(list(logits), temperature=0.8, top_k=1, seed=3) == \
            [int(np.argmax(logits))]
    assert sample([1, 3, 3, 2], temperature=0) == [1]  # Lowest id on ties.


def test_seed_reproducible():
    a = sample(count=200, temperature=1.0, seed=42)
    b = sample(count=200, temperature=1.0, seed=42)
    c = sample(count=200, temperature=1.0, seed=43)
    assert a == b
    assert a != c


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_frequencies_match_softmax(temperature):
    n = 20000
    draws = sample(count=n, temperature=temperature, seed=7)
    counts = np.bincount(draws, minlength=len(LOGITS))
    p = softmax(LOGITS, temperature)
    sigma = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= 3 * sigma + 1), (counts, n * p)


def test_top_k_and_top_p():
    n = 5000
    draws = set(sample(count=n, temperature=1.0, top_k=2, seed=1))
    assert draws == {1, 3}
    # softmax(LOGITS): 0.507 (id 1), 0.308 (id 3), 0.113 (id 0), ... The
    # nucleus is {1} for top_p 0.5, {1, 3} for 0.75 and {1, 3, 0} for 0.9.
    p = softmax(LOGITS)
    assert list(np.argsort(-p)[:3]) == [1, 3, 0]
    assert 0.5 < p[1] < 0.75 < p[1] + p[3] < 0.9 < p[1] + p[3] + p[0]
    assert set(sample(count=n, temperature=1.0, top_p=0.5, seed=2)) == {1}
    assert set(sample(count=n, temperature=1.0, top_p=0.75, seed=2)) == {1, 3}
    assert set(sample(count=n, temperature=1.0, top_p=0.9, seed=2)) == {0, 1, 3}
    # Renormalised within the nucleus.
    draws = sample(count=n, temperature=1.0, top_p=0.75, seed=5)
    frac = draws.count(1) / n
    expected = p[1] / (p[1] + p[3])
    assert abs(frac - expected) < 3 * math.sqrt(expected * (1 - expected) / n) + 1e-3


@pytest.mark.parametrize("args,message", [
    (["--temperature", "-1"], "temperature must be a finite number >= 0"),
    (["--top-p", "0"], "top_p must be in (0, 1]"),
    (["--top-p", "1.5"], "top_p must be in (0, 1]"),
    (["--top-k", "-3"], "top_k must be >= 0"),
])
def test_invalid_params(args, message):
    proc = run("--sample", "1,2", *args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr.decode()


def test_nll():
    logits = [0.5, -1.0, 3.0, 2.0]
    for target in range(4):
        out = float(run("--nll", ",".join(map(str, logits)), "--target",
                        str(target)).stdout)
        ref = -np.log(softmax(logits)[target])
        assert abs(out - ref) < 1e-9
    # Stable for large logits.
    out = float(run("--nll", "1000,999,-1000", "--target", "1").stdout)
    assert abs(out - (-np.log(softmax([1000, 999, -1000])[1]))) < 1e-9
