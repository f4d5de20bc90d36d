import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)
torch.set_num_threads(int(os.environ.get("DIT_TRAIN_THREADS", "2")))


@pytest.fixture(scope="session")
def cli():
    """The built TypeScript CLI (built once if dist/ is missing)."""
    path = os.path.join(ROOT, "dist", "cli.js")
    if not os.path.exists(path):
        subprocess.run(["node", "esbuild.mjs"], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="session")
def tok():
    import random

    from trainer import tok as T
    from trainer import world

    return T.Tokenizer.build(world.vocabulary_texts(random.Random(1), 500))
