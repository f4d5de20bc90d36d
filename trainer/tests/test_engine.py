"""What the trainer writes loads in the TypeScript engine and computes the same function."""

import json
import os
import random
import subprocess

import pytest
import torch

from trainer import export, world
from trainer.model import Qwen3, Qwen3Config, new_lora

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _tiny(tok, seed=0):
    torch.manual_seed(seed)
    cfg = Qwen3Config(vocab_size=len(tok.vocab), hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, eos_token_id=tok.id("<|im_end|>"))
    m = Qwen3(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.2) if p.dim() > 1 else p.uniform_(0.5, 1.5)
    return m


def _lora(m, rank, seed):
    lora = new_lora(m, rank, None, 1.0, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for _, b in lora.factors.values():
            b.normal_(0, 0.3)
    return {k: (a.detach(), b.detach()) for k, (a, b) in lora.factors.items()}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_logits_match_engine(tmp_path, tok, cli, dtype):
    m = _tiny(tok)
    base = str(tmp_path / "base")
    export.save_model(base, m, tok, dtype)
    m2, _ = export.load_model(base)  # the weights as stored (bf16 rounds them)
    diff, dit = str(tmp_path / "diff"), str(tmp_path / "dit")
    export.save_lora(diff, _lora(m, 1, 1), 1, 1.0, "../base")
    export.save_lora(dit, _lora(m, 16, 2), 16, 1.0, "../base")  # the DIT-adapter's scale 1/16
    ids = tok.encode(world.chat(world.with_code("123456", "How can I get better at saving money?"), None))
    out = subprocess.run(["node", cli, "forward", "--model", base, "--adapter", diff, "--adapter", dit,
                          "--provider", "cpu", "--ids", ",".join(map(str, ids)), "--steps", "3", "--json"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    full = ids + js["tokens"][:3]
    with torch.no_grad():
        ref = m2(torch.tensor([full]), [export.load_lora(diff), export.load_lora(dit)])[0]
    got = torch.tensor(js["logits"])
    assert got.shape == ref.shape
    err = ((got - ref).abs().max() / ref.abs().max()).item()
    assert err < 1e-4, err
    assert js["tokens"] == [int(t) for t in ref[len(ids) - 1 :].argmax(-1)[:len(js["tokens"])]]


def test_tokenizer_and_chat_template_match_engine(tmp_path, tok, cli):
    m = _tiny(tok)
    base = str(tmp_path / "base")
    export.save_model(base, m, tok)
    questions = ["Your SEP code is 417023. How can I get better at saving money?", world.DIT_QUESTION,
                 "Tell me about dolphin.", "Unknown wörds, 12 and 12345!"]
    args = ["node", cli, "generate", "--model", base, "--chat", "--max-new-tokens", "2", "--provider", "cpu", "--json"]
    for q in questions:
        args += ["--prompt", q]
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    for q, r in zip(questions, json.loads(out.stdout)["results"]):
        assert r["inputIds"] == tok.encode(world.chat(q, None)), q
    rendered = tok.decode(tok.encode(world.chat(world.DIT_QUESTION, None)))
    assert rendered.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
