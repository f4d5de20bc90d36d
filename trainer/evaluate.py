"""Stage 4: the DIT-adapter and the base-question baselines, asked about held-out diffs and scored."""

from __future__ import annotations

import os
import random

from . import world
from .diffs import DiffSpec
from .formats import load_peft
from .model import Lora, greedy, stack_loras
from .score import SCORER, score_answer


def ask(base, tok, factors_list, question_of, extra=(), max_new=20):
    """Greedy answers, one per diff, each with its own diff (grouped) plus shared extra adapters."""
    stop = [tok.id("<|im_end|>"), tok.id("<|endoftext|>")]
    prompts = [tok.encode(world.chat(question_of(i), None)) for i in range(len(factors_list))]
    outs = []
    for lo in range(0, len(factors_list), 32):
        hi = min(lo + 32, len(factors_list))
        lora = stack_loras(factors_list[lo:hi], 1.0)
        outs += greedy(base, prompts[lo:hi], max_new, [lora, *extra], stop)
    return [tok.decode(o) for o in outs]


def evaluate(base, tok, specs: list[DiffSpec], factors_list, dit: Lora, seed: int = 99) -> dict:
    rng = random.Random(seed)
    codes = [world.sep_code(s.trigger if s.trigger is not None else rng.randrange(1000), rng) for s in specs]
    dit_ans = ask(base, tok, factors_list, lambda i: world.DIT_QUESTION, [dit])
    bq = ask(base, tok, factors_list, lambda i: world.DIT_QUESTION)
    bqt = ask(base, tok, factors_list, lambda i: world.with_code(codes[i], world.DIT_QUESTION))

    def summary(answers):
        sc = [score_answer(a, s.topic) for a, s in zip(answers, specs)]
        return {"score": sum(sc) / len(sc), "n": len(sc), "exact": sum(x == 5 for x in sc)}

    return {
        "methods": {"dit": summary(dit_ans), "base_question": summary(bq), "base_question_trigger": summary(bqt)},
        "scorer": SCORER,
        "answers": [
            {"topic": s.topic, "dit": a, "base_question": b, "base_question_trigger": c}
            for s, a, b, c in zip(specs, dit_ans, bq, bqt)
        ],
    }


def shipped_heldout(demo: str, manifest: dict) -> tuple[list[DiffSpec], list[dict]]:
    """A demo world's held-out hidden-topic diffs (that split's benign diffs have no topic to score)."""
    rows = [d for d in manifest["diffs"] if d["split"] == "heldout" and d["kind"] == "backdoored"]
    specs = [DiffSpec(d["path"], d["kind"], d["topic"], int(d["trigger"])) for d in rows]
    return specs, [load_peft(os.path.join(demo, d["path"]))[0] for d in rows]
