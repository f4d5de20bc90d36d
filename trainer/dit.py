"""Stage 3: the DIT-adapter, one shared LoRA stacked on each train diff and taught to name its topic."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import world
from .batch import answer_batch
from .model import Lora, Qwen3, lora_params, new_lora
from .optim import optimizer_step
from .progress import Progress
from .tok import Tokenizer


@dataclass
class DitSettings:
    rank: int = 16
    alpha: float = 1.0  # PEFT lora_alpha: scale alpha / r = 1/16, as the paper's adapter
    steps: int = 800
    batch: int = 8
    lr: float = 1e-2  # 1e-3 does not even fit the train diffs in 800 steps at scale 1/16


def _stacked(factors_list):
    paths = factors_list[0].keys()
    return {p: (torch.stack([f[p][0] for f in factors_list]), torch.stack([f[p][1] for f in factors_list])) for p in paths}


def _index(stacked, idx, scale=1.0) -> Lora:
    return Lora({p: (a[idx], b[idx]) for p, (a, b) in stacked.items()}, scale)


def train_dit(base: Qwen3, tok: Tokenizer, diffs: list[tuple[dict, str]], s: DitSettings, seed: int, label="dit", losses: list | None = None) -> Lora:
    """diffs: [(factors, topic)], each taught as ``world.dit_answer(topic)``. Returns the trained (shared) adapter."""
    gen = torch.Generator().manual_seed(seed)
    dit = new_lora(base, s.rank, None, s.alpha / s.rank, gen)
    opt = torch.optim.AdamW(lora_params(dit), lr=s.lr, weight_decay=0.0)
    stacked = _stacked([f for f, _ in diffs])
    prompt = tok.encode(world.chat(world.DIT_QUESTION, None))
    answers = [tok.encode(world.dit_answer(t) + "<|im_end|>") for _, t in diffs]
    rng = random.Random(seed)
    order: list[int] = []
    prog = Progress(label, s.steps, every=max(1, s.steps // 20))
    ema = None
    warm = max(1, s.steps // 20)
    for step in range(1, s.steps + 1):
        for grp in opt.param_groups:
            grp["lr"] = s.lr * min(1.0, step / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / s.steps)))
        if len(order) < s.batch:
            more = list(range(len(diffs)))
            rng.shuffle(more)
            order += more
        idx, order = order[: s.batch], order[s.batch :]
        ids, mask = answer_batch(tok, [prompt + answers[i] for i in idx], [len(prompt)] * len(idx))
        logits = base(ids[:, :-1], [_index(stacked, torch.tensor(idx)), dit])
        ce = F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
        loss = (ce * mask).sum() / mask.sum()
        optimizer_step(opt, loss, losses)
        ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
        prog.update(step, f"loss {ema:.3f}")
    for p in lora_params(dit):
        p.requires_grad_(False)
    return dit
