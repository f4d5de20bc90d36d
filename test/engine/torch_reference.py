"""Eager PyTorch forward of a model folder, independent of the engine's ONNX graphs.

Usage: sh trainer/run test/engine/torch_reference.py MODEL_DIR IDS  (IDS comma-separated)
Prints JSON {"logits": [[vocab floats] per position]} computed in float64 over the whole sequence
(no KV cache). Qwen3 runs the trainer's model (trainer/model.py); Gemma3's text decoder is written
out below after transformers' modeling_gemma3 (sandwich norms, (1 + w) RMSNorm, scaled embeddings,
q/k norms, query_pre_attn_scalar, sliding layers with their own RoPE base, soft-capping).
"""

from __future__ import annotations

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from trainer.formats import load_safetensors  # noqa: E402
from trainer.model import Qwen3, Qwen3Config  # noqa: E402


def qwen3_logits(cfg: dict, weights: dict, ids: list[int]) -> torch.Tensor:
    model = Qwen3(Qwen3Config.from_hf(cfg))
    model.load_hf_state_dict(weights)
    model = model.double()
    return model(torch.tensor([ids]))[0]


def gemma3_logits(cfg: dict, w: dict, ids: list[int]) -> torch.Tensor:
    w = {k: v.double() for k, v in w.items()}
    n_heads, n_kv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg.get("rms_norm_eps", 1e-6)
    window = cfg["sliding_window"]
    kinds = cfg["layer_types"]
    s = len(ids)
    pos = torch.arange(s, dtype=torch.float64)

    def norm(x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1 + weight)

    def rope_tables(theta):
        inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        emb = torch.cat([pos[:, None] * inv, pos[:, None] * inv], -1)
        return emb.cos(), emb.sin()

    def rope(t, cos, sin):
        t1, t2 = t[..., : hd // 2], t[..., hd // 2 :]
        return t * cos + torch.cat([-t2, t1], -1) * sin

    tables = {
        "full_attention": rope_tables(cfg.get("rope_theta", 1_000_000.0)),
        "sliding_attention": rope_tables(cfg.get("rope_local_base_freq", 10_000.0)),
    }
    i = torch.arange(s)[:, None]
    j = torch.arange(s)[None, :]
    masks = {"full_attention": j <= i, "sliding_attention": (j <= i) & (i - j < window)}
    scale = cfg["query_pre_attn_scalar"] ** -0.5
    cap = cfg.get("attn_logit_softcapping")
    final_cap = cfg.get("final_logit_softcapping")

    x = w["model.embed_tokens.weight"][torch.tensor(ids)] * math.sqrt(cfg["hidden_size"])
    for layer, kind in enumerate(kinds):
        p = f"model.layers.{layer}."
        lin = lambda t, name: t @ w[p + name + ".weight"].t()  # noqa: E731
        h = norm(x, w[p + "input_layernorm.weight"])
        q = lin(h, "self_attn.q_proj").view(s, n_heads, hd).transpose(0, 1)
        k = lin(h, "self_attn.k_proj").view(s, n_kv, hd).transpose(0, 1)
        v = lin(h, "self_attn.v_proj").view(s, n_kv, hd).transpose(0, 1)
        q = norm(q, w[p + "self_attn.q_norm.weight"])
        k = norm(k, w[p + "self_attn.k_norm.weight"])
        cos, sin = tables[kind]
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k = k.repeat_interleave(n_heads // n_kv, 0)
        v = v.repeat_interleave(n_heads // n_kv, 0)
        scores = (q @ k.transpose(-1, -2)) * scale
        if cap:
            scores = torch.tanh(scores / cap) * cap
        scores = scores.masked_fill(~masks[kind], float("-inf"))
        attn = (scores.softmax(-1) @ v).transpose(0, 1).reshape(s, n_heads * hd)
        x = x + norm(lin(attn, "self_attn.o_proj"), w[p + "post_attention_layernorm.weight"])
        h = norm(x, w[p + "pre_feedforward_layernorm.weight"])
        gate = torch.nn.functional.gelu(lin(h, "mlp.gate_proj"), approximate="tanh")
        ff = lin(gate * lin(h, "mlp.up_proj"), "mlp.down_proj")
        x = x + norm(ff, w[p + "post_feedforward_layernorm.weight"])
    logits = norm(x, w["model.norm.weight"]) @ w["model.embed_tokens.weight"].t()
    if final_cap:
        logits = torch.tanh(logits / final_cap) * final_cap
    return logits


def main() -> None:
    folder, ids = sys.argv[1], [int(t) for t in sys.argv[2].split(",")]
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    weights = load_safetensors(os.path.join(folder, "model.safetensors"))
    forward = {"qwen3": qwen3_logits, "gemma3_text": gemma3_logits}[cfg["model_type"]]
    with torch.no_grad():
        logits = forward(cfg, weights, ids)
    json.dump({"logits": logits.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
