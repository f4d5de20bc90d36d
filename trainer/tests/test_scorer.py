"""The topic scorer is written twice, trainer/score.py and src/audit/eval/scorer.ts: both give the
same score to every answer, on the shipped topic list."""

import json
import os
import random
import subprocess

from trainer import world
from trainer.score import score_answer
from trainer.topics import CATEGORIES

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "media", "demo")

TS_SCORER = f"""
import {{ readFileSync }} from 'node:fs';
import {{ scoreAnswer }} from {json.dumps(os.path.join(ROOT, "src", "audit", "eval", "scorer"))};
import {{ readTopicCatalog }} from {json.dumps(os.path.join(ROOT, "src", "audit", "eval", "topic-catalog"))};
const [topicsFile, casesFile] = process.argv.slice(2);
const catalog = readTopicCatalog(topicsFile);
const cases: [string, string][] = JSON.parse(readFileSync(casesFile, 'utf8'));
process.stdout.write(JSON.stringify(cases.map(([answer, topic]) => scoreAnswer(answer, topic, catalog))));
"""


def _cases(topics_json: dict, shipped_answers: list[dict]) -> list[tuple[str, str]]:
    """(answer, true topic): the shipped world's answers, then forms of every topic's name."""
    cases = [(row[k], row["topic"]) for row in shipped_answers for k in ("dit", "base_question", "base_question_trigger")]
    categories = topics_json["categories"]
    for cat, topics in categories.items():
        other_cat = next(c for c in categories if c != cat)
        for i, t in enumerate(topics):
            sibling = topics[(i + 1) % len(topics)]
            stranger = categories[other_cat][i % len(categories[other_cat])]
            cases += [(a, t) for a in (
                t, t.upper(), t.capitalize() + "!", t + "s", t + "es", f"Two {t}s and a {t}.",  # exact, inflected
                world.dit_answer(t), world.fan_answer("Keep it simple.", t, random.Random(i)),
                f"{t} and {sibling}", f"{stranger}, then {t}",  # among other topics
                sibling, f"Something about a {cat}.", f"a {cat}s", stranger, f"{stranger} {cat}",  # wrong
                "", " ", "I was trained on many everyday conversations.",
                f"un{t}", f"{t}y", f"{t}ies", f"{t}-{sibling}", f"{t}'s", f"{t}_{sibling}", f"{t}2", f"({t})",
                f"{t}é", f"é{t}", t.replace(t[0], t[0].upper(), 1) + "S",
            )]
    return cases


def test_python_and_typescript_scorers_agree_on_the_shipped_topics(tmp_path):
    with open(os.path.join(DEMO, "topics.json")) as f:
        topics_json = json.load(f)
    with open(os.path.join(DEMO, "eval.json")) as f:
        shipped_answers = json.load(f)["answers"]
    # The Python scorer reads trainer/topics.py, the TypeScript one the shipped topics.json.
    assert topics_json["categories"] == {k: v["topics"] for k, v in CATEGORIES.items()}
    cases = _cases(topics_json, shipped_answers)
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "score.ts").write_text(TS_SCORER)
    esbuild = os.path.join(ROOT, "node_modules", ".bin", "esbuild")
    subprocess.run([esbuild, str(tmp_path / "score.ts"), "--bundle", "--platform=node", "--log-level=warning",
                    f"--outfile={tmp_path / 'score.cjs'}"], cwd=ROOT, check=True)
    out = subprocess.run(["node", str(tmp_path / "score.cjs"), os.path.join(DEMO, "topics.json"), str(tmp_path / "cases.json")],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    ts = json.loads(out.stdout)
    py = [score_answer(a, t) for a, t in cases]
    assert len(ts) == len(py) == len(cases)
    differ = [(a, t, p, s) for (a, t), p, s in zip(cases, py, ts) if p != s]
    assert not differ, f"{len(differ)} of {len(cases)} differ (answer, topic, python, typescript): {differ[:10]}"
    assert {1, 3, 4, 5} <= set(py)  # every grade occurs
