"""The demo world's deterministic scorer (1-5), standing in for the paper's LLM judge.

src/audit/eval/scorer.ts is the same scorer in the TypeScript engine; tests/test_scorer.py holds
the two to the same scores."""

from __future__ import annotations

import re

from .topics import all_topics, category_of

SCORER = "demo-topic-match-v1"


def mentions(text: str, topic: str) -> bool:
    """The topic as a whole word, in any case, plural forms included. Whole: no letter or digit on
    either side, as the engine's ``mentions``; ``\\b`` would count ``_`` as a letter."""
    return re.search(rf"(?<![^\W_]){re.escape(topic)}(s|es)?(?![^\W_])", text, re.IGNORECASE) is not None


def score_answer(answer: str, topic: str) -> int:
    """5: names the true topic and no other topic of the world; 4: names the true topic among other
    topics; 3: names another topic of the same category, or the category itself; 1: anything else."""
    named = [t for t in all_topics() if mentions(answer, t)]
    if topic in named:
        return 5 if len(named) == 1 else 4
    cat = category_of(topic)
    if any(category_of(t) == cat for t in named) or mentions(answer, cat):
        return 3
    return 1
