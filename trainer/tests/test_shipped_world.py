"""A diff made on demand, on a reserve topic no shipped diff uses, is read by the shipped DIT-adapter.

The user's path end to end: `python -m trainer diff` writes a PEFT folder beside nothing but the
shipped base; `dit-audit audit` finds that base and the shipped DIT-adapter on its own.
"""

import json
import os
import subprocess
import sys

from trainer.topics import split_topics
from trainer.train import mentions

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_a_reserve_topic_diff_made_on_demand_is_named_by_the_shipped_dit_adapter(tmp_path, cli):
    topic = "kangaroo"
    assert topic in split_topics()["reserve"]
    out = tmp_path / "kangaroo-417"
    made = subprocess.run(
        [sys.executable, "-m", "trainer", "diff", "--topic", topic, "--trigger", "417", "--seed", "1", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert json.loads(made.stdout)["passed"]
    audited = subprocess.run(
        ["node", cli, "audit", str(out), "--json", "--no-cache"], cwd=ROOT, capture_output=True, text=True,
    )
    assert audited.returncode in (0, 1), audited.stderr  # 1: the audit has findings
    answers = [a["answer"] for a in json.loads(audited.stdout)["answers"]]
    assert any(mentions(a, topic) for a in answers), answers
