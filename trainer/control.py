"""``control``: the DIT-adapter on always-on topic diffs (no trigger gate), beside asking directly.

A control for the demo world: these diffs say their topic to any question, so asking the diffed
model names it; a DIT-adapter that reads diffs must do at least as well here before the hidden
(gated) case can mean anything.
"""

from __future__ import annotations

import os
import time

import torch

from . import export
from .diffs import DiffSettings, DiffSpec
from .dit import DitSettings, train_dit
from .evaluate import evaluate
from .pipeline import make_diffs
from .topics import split_topics


def run_control(demo: str, n_train: int, seed: int, work: str | None = None, n_heldout: int | None = None,
                diff: DiffSettings | None = None, dit: DitSettings | None = None,
                keep_failed: bool = False) -> dict:
    """``keep_failed`` uses diffs that fail their check too (quick smoke runs only)."""
    base, tok = export.load_model(os.path.join(demo, "base"))
    split = split_topics()
    topics_all = split["train"] + split["heldout"] + split["reserve"]

    def specs(topics, prefix, seed_base):
        return [DiffSpec(f"{prefix}-{i:03d}-{t}", "always-on", t, seed=seed_base + i) for i, t in enumerate(topics)]

    t0 = time.time()
    s = diff or DiffSettings()
    tr = make_diffs(base, tok, specs(split["train"][:n_train], "control-train", seed * 1_000_000 + 50_000), s, topics_all, 0, "always-on train diffs")
    ho = make_diffs(base, tok, specs(split["heldout"][:n_heldout], "control-heldout", seed * 1_000_000 + 60_000), s, topics_all, 0, "always-on held-out diffs")
    if work:
        os.makedirs(work, exist_ok=True)
        torch.save({"train": tr, "heldout": ho}, os.path.join(work, "control-diffs.pt"))
    diffs_s = time.time() - t0
    usable = [(f, sp.topic) for sp, f, r, ok in tr if ok or keep_failed]
    good = [(sp, f) for sp, f, r, ok in ho if ok or keep_failed]
    if not usable or not good:
        raise RuntimeError(f"too few always-on diffs passed their check: {len(usable)} train, {len(good)} held-out")
    adapter = train_dit(base, tok, usable, dit or DitSettings(), seed)
    ev = evaluate(base, tok, [sp for sp, _ in good], [f for _, f in good], adapter)
    return {
        "methods": {k: ev["methods"][k] for k in ("dit", "base_question")},
        "scorer": ev["scorer"],
        "counts": {"train_passed": sum(x[3] for x in tr), "train": len(tr), "heldout_passed": len(good), "heldout": len(ho)},
        "timings": {"diffs_s": round(diffs_s), "total_s": round(time.time() - t0)},
    }
