"""Write and read model folders (config.json, model.safetensors, tokenizer files)."""

from __future__ import annotations

import json
import os

import torch

from .formats import load_peft, load_safetensors, read_json, save_peft, save_safetensors, write_json
from .model import Lora, Qwen3, Qwen3Config
from .tok import Tokenizer

_HERE = os.path.dirname(os.path.abspath(__file__))


def chat_template() -> str:
    with open(os.path.join(_HERE, "chat_template.jinja")) as f:
        return f.read()


def save_model(folder: str, model: Qwen3, tok: Tokenizer, dtype: torch.dtype = torch.float32) -> None:
    os.makedirs(folder, exist_ok=True)
    cfg = model.cfg.to_hf()
    cfg["torch_dtype"] = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}[dtype]
    write_json(os.path.join(folder, "config.json"), cfg)
    write_json(os.path.join(folder, "generation_config.json"), {
        "eos_token_id": [tok.id("<|im_end|>"), tok.id("<|endoftext|>")],
        "pad_token_id": tok.id("<|endoftext|>"),
        "do_sample": False,
    })
    save_safetensors(os.path.join(folder, "model.safetensors"), {k: v.to(dtype) for k, v in model.hf_state_dict().items()})
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tok.tokenizer_json(), f, ensure_ascii=False)
    write_json(os.path.join(folder, "tokenizer_config.json"), tok.tokenizer_config(chat_template()))


def load_model(folder: str) -> tuple[Qwen3, Tokenizer]:
    cfg = Qwen3Config.from_hf(read_json(os.path.join(folder, "config.json")))
    model = Qwen3(cfg)
    model.load_hf_state_dict(load_safetensors(os.path.join(folder, "model.safetensors")))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, Tokenizer.from_json(os.path.join(folder, "tokenizer.json"))


def load_lora(folder: str) -> Lora:
    factors, scale, _ = load_peft(folder)
    return Lora(factors, scale)


def save_lora(folder: str, factors, rank: int, alpha: float, base: str, dtype=torch.float32, extra=None) -> None:
    save_peft(folder, factors, rank, alpha, base, dtype, extra)
