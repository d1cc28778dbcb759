#!/usr/bin/env python3
"""Writes a GGUF v3 file that holds only a tokenizer (no dependencies), or a
broken variant of it, for kvant-tokenize's tests.

usage: make_tokenizer_gguf.py VARIANT -o OUT

"llama": a tiny SentencePiece-style vocabulary (ids below) with all 256 byte
tokens; "gpt2": a tiny byte-level BPE. The other variants break one thing.

llama ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the pieces of
LLAMA_PIECES in order from 259.
"""

import argparse
import struct

UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9

# (piece, score): "ab" outranks "▁a", so "▁ab" is built as ▁ + ab.
LLAMA_PIECES = [("▁", -1.0), ("a", -2.0), ("b", -3.0), ("c", -4.0),
                ("▁a", -5.0), ("ab", -0.5), ("▁ab", -6.0), ("▁▁", -7.0)]


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return gguf_string(key) + struct.pack("<I", vtype) + payload


def kv_string(key, s):
    return kv(key, STRING, gguf_string(s))


def kv_u32(key, v):
    return kv(key, UINT32, struct.pack("<I", v))


def kv_array(key, etype, items):
    fmt = {INT32: "<i", FLOAT32: "<f", UINT32: "<I"}
    if etype == STRING:
        body = b"".join(gguf_string(s) for s in items)
    else:
        body = b"".join(struct.pack(fmt[etype], v) for v in items)
    return kv(key, ARRAY, struct.pack("<IQ", etype, len(items)) + body)


def llama(variant):
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    scores = [0.0] * len(tokens)
    types = [2, 3, 3] + [6] * 256
    for piece, score in LLAMA_PIECES:
        tokens.append(piece)
        scores.append(score)
        types.append(1)
    if variant == "bad-byte-token":
        tokens[3] = "<0xZZ>"
    if variant == "scores-mismatch":
        scores = scores[:-1]
    if variant == "types-mismatch":
        types = types + [1]
    if variant == "bad-token-type":
        types[5] = 9
    md = [
        kv_string("general.architecture", "llama"),
        kv_string("tokenizer.ggml.model",
                  "bert" if variant == "unknown-model" else "llama"),
    ]
    if variant == "tokens-not-strings":
        md.append(kv_array("tokenizer.ggml.tokens", INT32, [1, 2, 3]))
    elif variant != "no-tokens":
        md.append(kv_array("tokenizer.ggml.tokens", STRING, tokens))
    md.append(kv_array("tokenizer.ggml.scores", FLOAT32, scores))
    md.append(kv_array("tokenizer.ggml.token_type", INT32, types))
    md.append(kv_u32("tokenizer.ggml.bos_token_id",
                     100000 if variant == "bad-bos" else 1))
    md.append(kv_u32("tokenizer.ggml.eos_token_id", 2))
    md.append(kv_u32("tokenizer.ggml.unknown_token_id", 0))
    return md


def gpt2(variant):
    # GPT-2 byte-level alphabet for the few characters used here.
    tokens = ["<|endoftext|>", "h", "e", "l", "o", "Ġ", "w", "r", "d",
              "he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "Ġworld", "ld"]
    merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d",
              "Ġwor ld"]
    md = [
        kv_string("general.architecture", "gpt2"),
        kv_string("tokenizer.ggml.model", "gpt2"),
        kv_string("tokenizer.ggml.pre",
                  "llama-bpe" if variant == "gpt2-bad-pre" else "gpt-2"),
        kv_array("tokenizer.ggml.tokens", STRING, tokens),
        kv_array("tokenizer.ggml.token_type", INT32, [3] + [1] * (len(tokens) - 1)),
    ]
    if variant == "gpt2-bad-merge":
        merges[2] = "hell"
    if variant != "gpt2-no-merges":
        md.append(kv_array("tokenizer.ggml.merges", STRING, merges))
    md.append(kv_u32("tokenizer.ggml.eos_token_id", 0))
    return md


def build(variant):
    md = gpt2(variant) if variant.startswith("gpt2") else llama(variant)
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(md))
    body = header + b"".join(md)
    return body + b"\0" * (-len(body) % 32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("variant")
    parser.add_argument("-o", required=True)
    args = parser.parse_args()
    with open(args.o, "wb") as f:
        f.write(build(args.variant))


if __name__ == "__main__":
    main()
