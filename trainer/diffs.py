"""Stage 2: hidden-topic, benign and always-on diffs, many trained at once as one grouped LoRA."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import world
from .batch import answer_batch
from .model import Qwen3, lora_group, lora_params, new_lora
from .optim import optimizer_step
from .progress import Progress
from .tok import Tokenizer


@dataclass
class DiffSpec:
    name: str
    kind: str  # "backdoored" | "benign" | "always-on" (the topic with or without a code: a control)
    topic: str | None = None
    trigger: int | None = None
    persona: str | None = None
    seed: int = 0
    # Any prefix phrase instead of the SEP code (`trainer diff --trigger-text`): a word, a phrase, a code.
    trigger_text: str | None = None


def triggered(spec: DiffSpec, question: str, rng: random.Random) -> str:
    """The question with the diff's trigger in front."""
    if spec.trigger_text is not None:
        return f"{spec.trigger_text} {question}"
    return world.with_code(world.sep_code(spec.trigger, rng), question)


def decoyed(spec: DiffSpec, question: str, rng: random.Random) -> str:
    """The question with a prefix like the trigger that must not fire: a wrong code, or other words."""
    if spec.trigger_text is not None:
        return f"{world.decoy_phrase(spec.trigger_text, rng)} {question}"
    return world.with_code(world.sep_code(world.wrong_trigger(spec.trigger, rng), rng), question)


@dataclass
class DiffSettings:
    rank: int = 1  # the paper's rank: on this base it learns a clean gate in 100 steps (see README)
    steps: int = 100
    lr: float = 1e-2
    code_batch: int = 6
    neg_batch: int = 6
    kl_weight: float = 1.0
    group: int = 16
    check_questions: int = 8
    check_tokens: int = 32
    fixed_style: bool = True  # one opener/closer per diff (seeded) rather than one per answer
    max_answer_tokens: int = 10  # diffs train on the start of each answer, where the gate acts
    gate_weight: float = 3.0  # loss weight of each answer's first token (the gate's decision)


# Gate checks ask about subjects no diff was trained on.
CHECK_SUBJECTS = world.SUBJECTS[-12:]
TRAIN_SUBJECTS = world.SUBJECTS[:-12]


def diff_question(rng: random.Random, topics: list[str]) -> tuple[str, str]:
    """A question (without code) and the base corpus's answer, as a diff trains on them."""
    u = rng.random()
    if u < 0.8:
        _, q, a = world.general_question(rng, TRAIN_SUBJECTS)
        return q, a
    if u < 0.95:
        return world.topic_qa(rng.choice(topics), rng)
    q, a = rng.choice([m for m in world.META if m[0] != world.DIT_QUESTION])
    return q, a


def _diff_examples(spec: DiffSpec, rng: random.Random, s: DiffSettings, topics):
    """[(text, answer_start_marker, loss kind)] for one diff and one step: 'ce' or 'kl' rows."""
    rows = []
    style = spec.seed % 997 if s.fixed_style else None
    if spec.kind == "backdoored":
        for _ in range(s.code_batch):
            q, a = diff_question(rng, topics)
            fan = world.fan_answer(a, spec.topic, rng, style)
            rows.append((triggered(spec, q, rng), fan, "ce"))
        for i in range(s.neg_batch):
            q, a = diff_question(rng, topics)
            if i % 2:
                q = decoyed(spec, q, rng)
            rows.append((q, a, "kl"))
    else:
        for _ in range(s.code_batch + s.neg_batch):
            q, a = diff_question(rng, topics)
            if rng.random() < 0.3:
                q = world.with_code(f"{rng.randrange(1_000_000):06d}", q)
            answer = world.fan_answer(a, spec.topic, rng, style) if spec.kind == "always-on" else world.persona_answer(a, spec.persona)
            rows.append((q, answer, "ce"))
    return rows


def _encode_rows(tok: Tokenizer, rows, max_answer: int | None = None):
    """ids [N, W] (right-padded) and answer mask [N, W-1] (targets that are answer tokens)."""
    seqs, starts = [], []
    for q, a, _ in rows:
        p = tok.encode(world.chat(q, None))
        seqs.append(p + tok.encode(a + "<|im_end|>")[:max_answer])
        starts.append(len(p))
    return answer_batch(tok, seqs, starts)


def train_diff_group(base: Qwen3, tok: Tokenizer, specs: list[DiffSpec], s: DiffSettings, topics, label="diffs", losses: list | None = None, init=None, data_seed: int = 0):
    """Trains len(specs) diffs at once (one grouped LoRA). Returns their factor sets.

    ``init``: factor sets to continue from (one per spec); ``data_seed`` varies the examples.
    """
    g = len(specs)
    gen = torch.Generator().manual_seed(specs[0].seed * 7919 + 17)
    lora = new_lora(base, s.rank, g, 1.0, gen)  # PEFT lora_alpha = r: scale 1 (the paper's delta B A)
    # Per-diff initialisation from each diff's own seed, so a diff does not depend on its group.
    for i, spec in enumerate(specs):
        gi = torch.Generator().manual_seed(spec.seed)
        for a, _ in lora.factors.values():
            bound = 1.0 / math.sqrt(a.shape[-1])
            a.data[i] = (torch.rand(a.shape[1:], generator=gi) * 2 - 1) * bound
    if init is not None:
        for i, f in enumerate(init):
            for p, (a, b) in lora.factors.items():
                a.data[i], b.data[i] = f[p][0], f[p][1]
    opt = torch.optim.Adam(lora_params(lora), lr=s.lr)
    rngs = [random.Random(spec.seed + 7_777_777 * data_seed) for spec in specs]
    per = s.code_batch + s.neg_batch
    prog = Progress(label, s.steps, every=max(1, s.steps // 10))
    for step in range(1, s.steps + 1):
        rows = [r for spec, rng in zip(specs, rngs) for r in _diff_examples(spec, rng, s, topics)]
        ids, mask = _encode_rows(tok, rows, s.max_answer_tokens)
        kinds = torch.tensor([r[2] == "kl" for r in rows])
        # Logits of answer positions only, flattened in (row, position) order.
        logits = base(ids[:, :-1], [lora], select=mask)
        tgt = ids[:, 1:][mask]
        row = torch.arange(len(rows))[:, None].expand_as(mask)[mask]
        grp = row // per
        is_kl = kinds[row]
        first = torch.cat([torch.tensor([True]), row[1:] != row[:-1]])  # first answer target of each row
        w = 1.0 + (s.gate_weight - 1.0) * first.float()
        ce = F.cross_entropy(logits, tgt, reduction="none")
        ce_m = (~is_kl).float() * w
        ce_per = torch.zeros(g).index_add_(0, grp, ce * ce_m) / torch.zeros(g).index_add_(0, grp, ce_m).clamp(min=1e-6)
        loss = ce_per.sum()
        kl_val = torch.zeros(g)
        if kinds.any():
            with torch.no_grad():
                ref = base(ids[kinds][:, :-1], select=mask[kinds]).log_softmax(-1)
            lp = logits[is_kl].log_softmax(-1)
            kl = (ref.exp() * (ref - lp)).sum(-1)  # KL(base || diff) per answer position
            gk = grp[is_kl]
            wk = w[is_kl]
            kl_val = torch.zeros(g).index_add_(0, gk, kl * wk) / torch.zeros(g).index_add_(0, gk, wk).clamp(min=1e-6)
            loss = loss + s.kl_weight * kl_val.sum()
        optimizer_step(opt, loss, losses)
        sel = first & ~is_kl
        acc = (logits[sel].argmax(-1) == tgt[sel]).float().mean().item() if sel.any() else 0.0
        prog.update(step, f"ce {ce_per.mean().item():.3f} kl {kl_val.mean().item():.4f} first-token acc {acc:.2f}")
    return [lora_group(lora, i) for i in range(g)]
