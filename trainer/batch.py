"""Token sequences as one right-padded batch."""

from __future__ import annotations

import torch

from .tok import Tokenizer


def pad_right(seqs: list[list[int]], pad: int) -> torch.Tensor:
    w = max(len(s) for s in seqs)
    return torch.tensor([s + [pad] * (w - len(s)) for s in seqs])


def answer_batch(tok: Tokenizer, seqs: list[list[int]], starts: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """ids [N, W] padded with ``<|endoftext|>``, and the mask [N, W-1] of the targets that are
    answer tokens: target t predicts ids[t+1], and row i's answer is [starts[i], len)."""
    ids = pad_right(seqs, tok.id("<|endoftext|>"))
    nxt = torch.arange(ids.shape[1] - 1)[None] + 1
    st = torch.tensor(starts)[:, None]
    ln = torch.tensor([len(x) for x in seqs])[:, None]
    return ids, (nxt >= st) & (nxt < ln)
