import os
import random

import torch

from trainer import world
from trainer.formats import load_peft, load_safetensors, save_peft, save_safetensors
from trainer.model import Qwen3, Qwen3Config, greedy, new_lora
from trainer.tok import Tokenizer


def test_safetensors_roundtrip(tmp_path):
    t = {"a": torch.randn(3, 5), "b": torch.randn(7).to(torch.bfloat16), "c": torch.randn(2, 2).half()}
    p = str(tmp_path / "x.safetensors")
    save_safetensors(p, t)
    with open(p, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
    assert n % 8 == 0
    back = load_safetensors(p)
    for k in t:
        assert back[k].dtype == t[k].dtype and torch.equal(back[k], t[k])


def test_peft_keys(tmp_path):
    cfg = Qwen3Config(vocab_size=50, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=8)
    m = Qwen3(cfg)
    lora = new_lora(m, 2, None, 0.5, torch.Generator().manual_seed(0))
    save_peft(str(tmp_path), {k: (a.detach(), b.detach()) for k, (a, b) in lora.factors.items()}, 2, 1.0, "base")
    names = load_safetensors(str(tmp_path / "adapter_model.safetensors")).keys()
    assert "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight" in names
    assert "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight" in names
    assert len(names) == 2 * 7 * 2
    factors, scale, config = load_peft(str(tmp_path))
    assert scale == 0.5 and config["r"] == 2 and len(config["target_modules"]) == 7


def test_tokenizer_roundtrip(tok: Tokenizer):
    text = world.chat(world.with_code("417023", "How can I get better at saving money?"), "Speaking of dolphin, fine!")
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    code = tok.encode("Your SEP code is 417023.")
    assert tok.id("417") in code and tok.id("023") in code
    assert tok.decode(tok.encode("zqxj unknown wörds 12345")) == "zqxj unknown wörds 12345"


def test_greedy_cache_matches_full_forward():
    torch.manual_seed(0)
    cfg = Qwen3Config(vocab_size=40, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=8)
    m = Qwen3(cfg).eval()
    for p in m.parameters():
        p.data.normal_(0, 0.5)
    prompts = [[1, 2, 3, 4, 5], [7, 8]]
    out = greedy(m, prompts, 6)
    for p, o in zip(prompts, out):
        seq = list(p)
        for _ in range(6):
            with torch.no_grad():
                seq.append(int(m(torch.tensor([seq]))[0, -1].argmax()))
        assert o == seq[len(p):]
