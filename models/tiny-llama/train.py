#!/usr/bin/env python3
"""Train kvant's bundled tiny Llama model (PyTorch, CPU or CUDA).

The model is written directly in the GGUF / llama.cpp `llama` convention, so
export is a rename with no permutation:
  * RMSNorm (eps 1e-5) before attention and MLP, and before the output head;
  * rotary embedding in the "normal" (GPT-J) style: rotates adjacent pairs
    (x[2i], x[2i+1]) of each head by angle pos * theta^(-2i/head_dim),
    theta = 10000 -- what llama.cpp applies to attn_q / attn_k as stored;
  * grouped-query attention, causal;
  * SwiGLU MLP: down(silu(gate(x)) * up(x));
  * untied output head; no biases anywhere.

Input: data/train.npy and data/heldout.npy from prepare_corpus.py (uint16 ids,
every chapter as <s> ... </s>).  Output (in --out): ckpt.pt (float32 state
dict with GGUF tensor names + config), best held-out checkpoint; log.jsonl.

    python3 train.py --device cuda --out ckpt     # ~3.5 min on one H100
    python3 train.py --device cpu --steps 200 --out /tmp/tl   # smoke test
"""
import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Config:
    vocab_size: int = 4096
    dim: int = 256
    n_layers: int = 6
    n_heads: int = 8
    n_kv_heads: int = 4
    ffn_dim: int = 704
    context_length: int = 512
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5
    dropout: float = 0.0

    @property
    def head_dim(self):
        return self.dim // self.n_heads


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (xf * self.weight.float()).type_as(x)


def rope_tables(cfg, n_pos, device):
    hd = cfg.head_dim
    inv = cfg.rope_theta ** (-torch.arange(0, hd, 2, dtype=torch.float64, device=device) / hd)
    ang = torch.arange(n_pos, dtype=torch.float64, device=device)[:, None] * inv[None, :]
    return ang.cos().float(), ang.sin().float()          # [T, hd/2]


def apply_rope(x, cos, sin):
    """x: [B, H, T, hd]; rotate adjacent pairs (x[2i], x[2i+1])."""
    xf = x.float()
    x0, x1 = xf[..., 0::2], xf[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2).type_as(x)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.attn_norm = RMSNorm(cfg.dim, cfg.rms_eps)
        self.attn_q = nn.Linear(cfg.dim, cfg.n_heads * hd, bias=False)
        self.attn_k = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.attn_v = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.attn_output = nn.Linear(cfg.n_heads * hd, cfg.dim, bias=False)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.rms_eps)
        self.ffn_gate = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.ffn_up = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.ffn_down = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin):
        cfg = self.cfg
        B, T, _ = x.shape
        hd = cfg.head_dim
        h = self.attn_norm(x)
        q = self.attn_q(h).view(B, T, cfg.n_heads, hd).transpose(1, 2)
        k = self.attn_k(h).view(B, T, cfg.n_kv_heads, hd).transpose(1, 2)
        v = self.attn_v(h).view(B, T, cfg.n_kv_heads, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        rep = cfg.n_heads // cfg.n_kv_heads
        k = k.repeat_interleave(rep, dim=1)   # query head j uses kv head j // rep
        v = v.repeat_interleave(rep, dim=1)
        a = F.scaled_dot_product_attention(
            q, k, v, is_causal=True,
            dropout_p=cfg.dropout if self.training else 0.0)
        a = a.transpose(1, 2).reshape(B, T, cfg.n_heads * hd)
        x = x + F.dropout(self.attn_output(a), cfg.dropout, self.training)
        h = self.ffn_norm(x)
        m = self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))
        return x + F.dropout(m, cfg.dropout, self.training)


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blk = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.output_norm = RMSNorm(cfg.dim, cfg.rms_eps)
        self.output = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.apply(self._init)
        for b in self.blk:   # scaled init of residual projections (GPT-2)
            for w in (b.attn_output.weight, b.ffn_down.weight):
                nn.init.normal_(w, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, idx):
        T = idx.shape[1]
        cos, sin = rope_tables(self.cfg, T, idx.device)
        x = self.token_embd(idx)
        for b in self.blk:
            x = b(x, cos, sin)
        return self.output(self.output_norm(x)).float()

    def gguf_state_dict(self):
        """float32 tensors under their GGUF names ([out, in] layout)."""
        return {k: v.detach().float().cpu().contiguous() for k, v in self.state_dict().items()}


def load_checkpoint(path, device="cpu"):
    ck = torch.load(path, map_location=device, weights_only=False)
    cfg = Config(**ck["config"])
    model = Llama(cfg).to(device)
    model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    return model, ck


def doc_chunks(ids, ctx, bos):
    """Split a <s>...</s> stream into (input, target) chunks for evaluation.

    Each document is scored on its own: non-overlapping windows of `ctx`
    positions; every token after <s> (including </s>) is predicted once.
    """
    starts = np.flatnonzero(ids == bos).tolist() + [len(ids)]
    xs, ys = [], []
    for s, e in zip(starts[:-1], starts[1:]):
        doc = ids[s:e]
        for i in range(0, len(doc) - 1, ctx):
            x = doc[i:i + ctx]
            y = doc[i + 1:i + ctx + 1]
            xp = np.zeros(ctx, np.int64)
            yp = np.full(ctx, -100, np.int64)
            xp[:len(x)] = x
            yp[:len(y)] = y
            xs.append(xp)
            ys.append(yp)
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


@torch.no_grad()
def evaluate(model, xs, ys, device, batch=64, amp=None):
    """Returns (sum of NLL in nats, number of predicted tokens)."""
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, len(xs), batch):
        x, y = xs[i:i + batch].to(device), ys[i:i + batch].to(device)
        with amp() if amp else torch.autocast("cpu", enabled=False):
            logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(),
                               y.reshape(-1), ignore_index=-100, reduction="sum")
        tot += loss.item()
        n += int((y != -100).sum())
    model.train()
    return tot, n


@torch.no_grad()
def generate(model, ids, n_new, temperature=0.0, top_k=0, eos=2, gen=None):
    model.eval()
    ctx = model.cfg.context_length
    x = torch.tensor([ids], dtype=torch.long, device=next(model.parameters()).device)
    for _ in range(n_new):
        logits = model(x[:, -ctx:])[0, -1].float()
        if temperature <= 0:
            nxt = int(logits.argmax())
        else:
            logits = logits / temperature
            if top_k:
                kth = torch.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < kth, -float("inf"))
            nxt = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen))
        x = torch.cat([x, x.new_tensor([[nxt]])], dim=1)
        if nxt == eos:
            break
    return x[0].tolist()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "ckpt"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=32, help="sequences per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=704)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--time-limit", type=float, default=0,
                    help="finish the schedule within about this many seconds")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cuda else None

    train = np.load(os.path.join(args.data, "train.npy")).astype(np.int64)
    held = np.load(os.path.join(args.data, "heldout.npy")).astype(np.int64)
    held_bytes = os.path.getsize(os.path.join(args.data, "heldout.txt"))
    cfg = Config(vocab_size=int(max(train.max(), held.max())) + 1, dim=args.dim,
                 n_layers=args.layers, n_heads=args.heads, n_kv_heads=args.kv_heads,
                 ffn_dim=args.ffn, context_length=args.ctx, dropout=args.dropout)
    cfg.vocab_size = max(cfg.vocab_size, 4096)
    model = Llama(cfg).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"config {asdict(cfg)}  params {n_params:,}  train tokens {len(train):,}  "
          f"heldout tokens {len(held):,}  device {dev}", flush=True)
    hx, hy = doc_chunks(held, cfg.context_length, bos=1)
    # A fixed sample of training chunks, scored the same way, for comparison.
    tx, ty = doc_chunks(train, cfg.context_length, bos=1)
    sel = torch.from_numpy(np.sort(rng.choice(len(tx), size=min(len(tx), len(hx)), replace=False)))
    tx, ty = tx[sel], ty[sel]

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
                            **({"fused": True} if cuda else {}))

    def progress(step):
        """Fraction of the cosine schedule done: by steps, or by --time-limit
        if that comes first (the decay then still completes in time)."""
        p = (step - args.warmup) / max(1, args.steps - args.warmup)
        if args.time_limit:
            p = max(p, (time.time() - t0) / args.time_limit)
        return min(1.0, max(0.0, p))

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        p = progress(step)
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))

    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "log.jsonl"), "w")
    best = float("inf")
    T = cfg.context_length
    t0 = time.time()
    run_loss = None
    for step in range(args.steps + 1):
        last = step == args.steps or (step > args.warmup and progress(step) >= 1.0)
        if step % args.eval_every == 0 or last:
            hs, hn = evaluate(model, hx, hy, dev, amp=amp)
            ts, tn = evaluate(model, tx, ty, dev, amp=amp)
            rec = {"step": step, "time_s": round(time.time() - t0, 1),
                   "lr": lr_at(step), "train_loss_running": run_loss,
                   "train_loss": ts / tn, "heldout_loss": hs / hn,
                   "heldout_ppl": math.exp(hs / hn),
                   "heldout_bpb": hs / math.log(2) / held_bytes}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            if hs / hn < best:
                best = hs / hn
                torch.save({"config": asdict(cfg), "model": model.gguf_state_dict(),
                            "step": step, "metrics": rec, "args": vars(args)},
                           os.path.join(args.out, "ckpt.pt"))
        if last:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        starts = rng.integers(0, len(train) - T - 1, size=args.batch)
        xb = torch.from_numpy(np.stack([train[s:s + T] for s in starts])).to(dev, non_blocking=True)
        yb = torch.from_numpy(np.stack([train[s + 1:s + 1 + T] for s in starts])).to(dev, non_blocking=True)
        with amp() if amp else torch.autocast("cpu", enabled=False):
            logits = model(xb)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), yb.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        li = loss.item() if step % 10 == 0 else None
        if li is not None:
            run_loss = li if run_loss is None else 0.9 * run_loss + 0.1 * li
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr_at(step):.2e} "
                  f"{time.time() - t0:.1f}s", flush=True)
    print(f"done in {time.time() - t0:.1f}s; best heldout loss {best:.4f}", flush=True)

    # Samples from the best checkpoint.
    model, ck = load_checkpoint(os.path.join(args.out, "ckpt.pt"), dev)
    try:
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "tokenizer.model"))
        enc, dec = (lambda s: [1] + sp.encode(s)), sp.decode
    except ImportError:
        enc, dec = None, None
    prompts = json.load(open(os.path.join(args.data, "prompts.json"))) \
        if os.path.exists(os.path.join(args.data, "prompts.json")) else []
    samples = []
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    for p in prompts:
        ids = enc(p["text"]) if enc else p["ids"]
        for temp in (0.0, 0.8):
            out = generate(model, ids, 80, temperature=temp, top_k=40 if temp else 0, gen=gen)
            s = {"prompt": p["text"], "temperature": temp, "ids": out}
            if dec:
                s["text"] = dec(out)
            samples.append(s)
            print(json.dumps(s if dec else {k: s[k] for k in ("prompt", "temperature")}))
    json.dump(samples, open(os.path.join(args.out, "samples.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
