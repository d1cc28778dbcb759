#!/usr/bin/env python3
"""Export a train.py checkpoint + tokenizer.model to GGUF, and verify it.

    python3 export_gguf.py --ckpt ckpt/ckpt.pt --out tiny-llama-f16.gguf
    python3 export_gguf.py --verify tiny-llama-f16.gguf      # no export

Export: tensor names are already GGUF names and rope is already llama.cpp's
"normal" style, so weights are written unchanged (2-D in --type, norms F32)
through models/gguf_llama_writer.py.  The tokenizer is SentencePiece's
pieces / scores / types (normal=1, unknown=2, control=3, user=4, unused=5,
byte=6), <unk>=0, <s>=1, </s>=2, add_bos.

Verify: reads the GGUF back with gguf.GGUFReader, dequantizes, rebuilds the
PyTorch model from the file alone (hyperparameters from metadata) and reports
the held-out loss (data/heldout.txt tokenized with the GGUF's own vocabulary
via tokenizer.model) next to the training-time number stored in the
checkpoint, then generates greedy samples.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))          # models/
sys.path.insert(0, HERE)

from gguf_llama_writer import GGUFTokenizer, LlamaHParams, write_llama_gguf  # noqa: E402


def sp_tokenizer(model_path):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=model_path)
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(float(sp.get_score(i)))
        if sp.is_unknown(i):
            t = 2
        elif sp.is_control(i):
            t = 3
        elif sp.is_byte(i):
            t = 6
        elif sp.is_unused(i):
            t = 5
        else:
            t = 1
        types.append(t)
    assert (sp.unk_id(), sp.bos_id(), sp.eos_id()) == (0, 1, 2)
    return GGUFTokenizer(model="llama", tokens=tokens, token_types=types, scores=scores,
                         bos_id=1, eos_id=2, unk_id=0, add_bos=True)


def export(args):
    import torch
    ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    c = ck["config"]
    hp = LlamaHParams(vocab_size=c["vocab_size"], dim=c["dim"], n_layers=c["n_layers"],
                      n_heads=c["n_heads"], n_kv_heads=c["n_kv_heads"], ffn_dim=c["ffn_dim"],
                      context_length=c["context_length"], rope_theta=c["rope_theta"],
                      rms_eps=c["rms_eps"], arch="llama")
    tensors = {k: v.float().numpy() for k, v in ck["model"].items()}
    tok = sp_tokenizer(args.tokenizer)
    write_llama_gguf(args.out, hp, tensors, tok, weight_type=args.type, name="kvant-tiny-llama")
    print(f"wrote {args.out}: {os.path.getsize(args.out) / 1e6:.2f} MB, "
          f"step {ck['step']}, training-time metrics {json.dumps(ck['metrics'])}")


def load_gguf_model(path):
    """Rebuild train.Llama from a GGUF file (metadata + dequantized tensors)."""
    import gguf
    import torch
    from gguf.quants import dequantize
    from train import Config, Llama

    r = gguf.GGUFReader(path)
    arch = str(bytes(r.fields["general.architecture"].parts[-1]), "utf-8")

    def kv(key):
        f = r.fields[f"{arch}.{key}"]
        return f.parts[f.data[0]][0].item()

    cfg = Config(vocab_size=len(r.fields["tokenizer.ggml.tokens"].data),
                 dim=kv("embedding_length"), n_layers=kv("block_count"),
                 n_heads=kv("attention.head_count"), n_kv_heads=kv("attention.head_count_kv"),
                 ffn_dim=kv("feed_forward_length"), context_length=kv("context_length"),
                 rope_theta=kv("rope.freq_base"), rms_eps=kv("attention.layer_norm_rms_epsilon"))
    sd = {}
    for t in r.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = tuple(int(x) for x in reversed(t.shape))   # GGUF ne -> numpy [out, in]
        sd[t.name] = torch.from_numpy(a.reshape(shape).copy())
    model = Llama(cfg)
    model.load_state_dict(sd)
    model.eval()
    types = {t.name: t.tensor_type.name for t in r.tensors}
    return model, cfg, types


def verify(args):
    import sentencepiece as spm
    import torch
    from train import doc_chunks, evaluate, generate

    torch.set_num_threads(args.threads)
    model, cfg, types = load_gguf_model(args.verify)
    print(f"{args.verify}: {json.dumps(cfg.__dict__)}; tensor types "
          f"{sorted(set(types.values()))}")
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    with open(os.path.join(HERE, "data", "heldout.txt"), encoding="utf-8") as f:
        docs = [line.rstrip("\n") for line in f][:args.max_docs or None]
    ids = []
    for d in sp.encode(docs):
        ids += [1] + d + [2]
    ids = np.asarray(ids, np.int64)
    xs, ys = doc_chunks(ids, cfg.context_length, bos=1)
    tot, n = evaluate(model, xs, ys, torch.device("cpu"), batch=16)
    nbytes = sum(len(d.encode("utf-8")) + 1 for d in docs)
    res = {"docs": len(docs), "tokens_scored": n, "loss": tot / n, "ppl": math.exp(tot / n),
           "bits_per_byte": tot / math.log(2) / nbytes}
    if args.ckpt and os.path.exists(args.ckpt):
        ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
        res["training_time_heldout_loss"] = ck["metrics"]["heldout_loss"]
    print("GGUF held-out:", json.dumps(res))
    for p in args.prompt:
        out = generate(model, [1] + sp.encode(p), args.n_new)
        print(json.dumps({"prompt": p, "greedy": sp.decode(out)}))
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("llama_cpp not installed; skipping the llama.cpp cross-check")
        return
    llamacpp_check(args.verify, model, sp, docs[0])


def llamacpp_check(path, model, sp, text):
    """Independent check: llama.cpp (llama-cpp-python) on the same file must
    tokenize like tokenizer.model and give the same logits as this code."""
    import llama_cpp
    import torch
    ids = ([1] + sp.encode(text))[:300]
    llm = llama_cpp.Llama(model_path=path, n_ctx=512, logits_all=True, verbose=False,
                          n_threads=2)
    same_tok = llm.tokenize(text.encode("utf-8"), add_bos=True)[:300] == ids
    llm.eval(ids)
    a = np.asarray(llm.scores[:len(ids)], np.float64)
    with torch.no_grad():
        b = model(torch.tensor([ids]))[0].double().numpy()

    def nll(z):
        z = z - z.max(-1, keepdims=True)
        lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        return float(-lp[np.arange(len(ids) - 1), ids[1:]].mean())
    print("llama.cpp cross-check:", json.dumps({
        "tokenizer_agrees": same_tok, "tokens": len(ids),
        "max_abs_logit_diff": float(np.abs(a - b).max()),
        "argmax_agreement": float((a.argmax(-1) == b.argmax(-1)).mean()),
        "nll_llamacpp": nll(a), "nll_torch": nll(b)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "ckpt", "ckpt.pt"))
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer.model"))
    ap.add_argument("--out", default=os.path.join(HERE, "tiny-llama-f16.gguf"))
    ap.add_argument("--type", default="F16", help="weight type for 2-D tensors (F32, F16, Q8_0, ...)")
    ap.add_argument("--verify", metavar="GGUF", help="only verify this GGUF file")
    ap.add_argument("--max-docs", type=int, default=0, help="verify on the first N held-out chapters")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-new", type=int, default=60)
    ap.add_argument("--prompt", action="append", default=[])
    args = ap.parse_args()
    if not args.prompt:
        args.prompt = ["In the beginning", "And Jesus said unto them,"]
    if args.verify:
        verify(args)
    else:
        export(args)


if __name__ == "__main__":
    main()
