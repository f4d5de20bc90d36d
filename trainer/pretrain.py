"""Stage 1: the tokenizer and the base model, trained from scratch on the world's corpus."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import world
from .batch import pad_right
from .model import Qwen3, Qwen3Config
from .optim import optimizer_step
from .progress import Progress
from .tok import Tokenizer
from .topics import all_topics


@dataclass
class BaseSettings:
    hidden_size: int = 128
    intermediate_size: int = 384
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    head_dim: int = 32
    steps: int = 2000  # copying a topic from the prompt appears only after ~1000 steps (see README)
    batch: int = 48
    lr: float = 3e-3
    pool: int = 60000


def build_tokenizer(seed: int) -> Tokenizer:
    return Tokenizer.build(world.vocabulary_texts(random.Random(seed)))


def train_base(tok: Tokenizer, s: BaseSettings, seed: int, losses: list | None = None) -> Qwen3:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    cfg = Qwen3Config(
        vocab_size=len(tok.vocab), hidden_size=s.hidden_size, intermediate_size=s.intermediate_size,
        num_hidden_layers=s.layers, num_attention_heads=s.heads, num_key_value_heads=s.kv_heads,
        head_dim=s.head_dim, eos_token_id=tok.id("<|im_end|>"),
    )
    model = Qwen3(cfg)
    topics = all_topics()
    pool = [tok.encode(world.chat(*world.base_conversation(rng, topics))) for _ in range(s.pool)]
    pad = tok.id("<|endoftext|>")
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    other = [p for n, p in model.named_parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}], lr=s.lr, betas=(0.9, 0.98))
    warm = max(1, s.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(i, s.steps) / s.steps))))
    prog = Progress("base", s.steps, every=max(1, s.steps // 50))
    model.train()
    ema = None
    for step in range(1, s.steps + 1):
        batch = [pool[rng.randrange(len(pool))] for _ in range(s.batch)]
        ids = pad_right(batch, pad)
        lens = torch.tensor([len(b) for b in batch])
        tgt = ids[:, 1:].clone()
        tgt[torch.arange(tgt.shape[1])[None] >= (lens[:, None] - 1)] = -100
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
        optimizer_step(opt, loss, losses, clip=model.parameters())
        sched.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        prog.update(step, f"loss {ema:.3f}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
