#!/usr/bin/env python3
"""Writes a small GGUF v3 file byte by byte (no dependencies), or a corrupt
variant of it, so that the reader's checks can be exercised one by one.

usage: make_gguf.py VARIANT -o OUT
"""

import argparse
import struct

ALIGN = 32
UINT32, FLOAT32, BOOL, STRING, ARRAY = 4, 6, 7, 8, 9


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return gguf_string(key) + struct.pack("<I", vtype) + payload


def build(variant):
    magic = b"GGUF" if variant != "bad-magic" else b"GGML"
    version = {"version1": 1, "big-endian": 0x03000000}.get(variant, 3)

    metadata = [
        kv("general.architecture", STRING, gguf_string("llama")),
        kv("llama.block_count", UINT32, struct.pack("<I", 1)),
        kv("llama.rope.freq_base", FLOAT32, struct.pack("<f", 10000.0)),
        kv("general.flag", BOOL, struct.pack("<B", 1 if variant != "bad-bool" else 7)),
        kv("tokenizer.ggml.tokens", ARRAY,
           struct.pack("<IQ", STRING, 3) + b"".join(gguf_string(t) for t in ["a", "b", "c"])),
    ]
    if variant == "unknown-value-type":
        metadata.append(kv("general.weird", 99, b""))
    if variant == "bad-alignment":
        metadata.append(kv("general.alignment", UINT32, struct.pack("<I", 24)))
    if variant == "duplicate-key":
        metadata.append(kv("llama.block_count", UINT32, struct.pack("<I", 2)))
    if variant == "huge-array":
        metadata.append(kv("general.big", ARRAY, struct.pack("<IQ", UINT32, 1 << 60)))

    # (name, dims innermost first, ggml type, bytes)
    f32 = struct.pack("<32f", *[float(i) for i in range(32)])
    q8_block = struct.pack("<e", 0.5) + bytes(range(32))
    tensors = [("norm.weight", [8, 4], 0, f32), ("w.weight", [32, 2], 8, q8_block * 2)]
    if variant == "bad-type":
        tensors[1] = ("w.weight", [32, 2], 77, q8_block * 2)
    if variant == "bad-row":
        tensors[1] = ("w.weight", [30, 2], 8, q8_block * 2)
    if variant == "bad-dims":
        tensors[1] = ("w.weight", [32, 1, 1, 1, 2], 8, q8_block * 2)
    if variant == "zero-dim":
        tensors[1] = ("w.weight", [32, 0], 8, b"")
    if variant == "q8_1":  # A type the reader knows but kvant-quantize cannot decode.
        tensors[1] = ("w.weight", [32, 2], 9, (q8_block + bytes(6)) * 2)
    if variant == "duplicate-tensor":
        tensors[1] = ("norm.weight", [32, 2], 8, q8_block * 2)

    infos, data = b"", b""
    for name, dims, ggml_type, payload in tensors:
        offset = len(data)
        if variant == "misaligned" and name == "w.weight":
            offset += 4
        infos += gguf_string(name) + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<q", d) for d in dims)
        infos += struct.pack("<IQ", ggml_type, offset)
        data += payload + b"\0" * (-len(payload) % ALIGN)

    n_tensors = len(tensors) if variant != "huge-count" else 1 << 40
    header = magic + struct.pack("<IQQ", version, n_tensors, len(metadata))
    body = header + b"".join(metadata) + infos
    if variant == "bad-string-length":
        # Make the first key's length absurd.
        body = header + struct.pack("<Q", 1 << 50) + b"".join(metadata)[8:] + infos
    body += b"\0" * (-len(body) % ALIGN)
    blob = body + data
    if variant == "truncated-data":
        blob = blob[:-40]
    if variant == "truncated-header":
        blob = blob[:60]
    if variant == "empty":
        blob = b""
    return blob


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("variant")
    parser.add_argument("-o", required=True)
    args = parser.parse_args()
    with open(args.o, "wb") as f:
        f.write(build(args.variant))


if __name__ == "__main__":
    main()
