"""A Qwen3-architecture decoder in plain PyTorch, with stackable (and per-example) LoRA.

Follows transformers' ``Qwen3ForCausalLM``: RMSNorm before attention and MLP, per-head RMSNorm on
q and k, rotary embeddings (rotate-half), grouped-query attention, SiLU-gated MLP, tied embeddings.

A LoRA adds ``scale * B (A x)`` to a linear module's output and never touches its weight. Factors
are either shared (``A [r, in]``, ``B [out, r]``) or grouped (``A [G, r, in]``, ``B [G, out, r]``):
with G groups the batch is split into G equal consecutive blocks, block g using factor g. That is
how many diffs train (or are evaluated) in one batched forward.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .formats import LINEAR_MODULES, module_path


@dataclass
class Qwen3Config:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 512
    bos_token_id: int | None = None
    eos_token_id: int | None = None

    def to_hf(self) -> dict:
        """config.json as transformers writes it for Qwen3 (every field the engine reads)."""
        c = asdict(self)
        return {
            "architectures": ["Qwen3ForCausalLM"],
            "model_type": "qwen3",
            "attention_bias": False,
            "attention_dropout": 0.0,
            "hidden_act": "silu",
            "initializer_range": 0.02,
            "tie_word_embeddings": True,
            "use_cache": True,
            "use_sliding_window": False,
            "sliding_window": None,
            "max_window_layers": c["num_hidden_layers"],
            "rope_scaling": None,
            "torch_dtype": "float32",
            **c,
        }

    @staticmethod
    def from_hf(c: dict) -> "Qwen3Config":
        assert c["model_type"] == "qwen3" and c.get("tie_word_embeddings", False)
        fields = Qwen3Config.__dataclass_fields__
        return Qwen3Config(**{k: v for k, v in c.items() if k in fields})


class Lora:
    """One adapter: ``{module_path: (A, B)}`` and a scale (PEFT ``lora_alpha / r``)."""

    def __init__(self, factors: dict[str, tuple[torch.Tensor, torch.Tensor]], scale: float):
        self.factors = factors
        self.scale = scale


def apply_lora(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, scale: float) -> torch.Tensor:
    """x [N, S, in] -> scale * B A x, shared (A 2-D) or grouped (A 3-D, G | N)."""
    if a.dim() == 2:
        return (x @ a.t()) @ b.t() * scale
    g = a.shape[0]
    n, s, d = x.shape
    xg = x.reshape(g, (n // g) * s, d)
    y = torch.bmm(torch.bmm(xg, a.transpose(1, 2)), b.transpose(1, 2))
    return y.reshape(n, s, -1) * scale


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


class Qwen3(nn.Module):
    def __init__(self, cfg: Qwen3Config):
        super().__init__()
        self.cfg = cfg
        d, hd = cfg.hidden_size, cfg.head_dim
        self.embed_tokens = nn.Embedding(cfg.vocab_size, d)
        self.layers = nn.ModuleList()
        for _ in range(cfg.num_hidden_layers):
            layer = nn.Module()
            layer.input_layernorm = RMSNorm(d, cfg.rms_norm_eps)
            layer.post_attention_layernorm = RMSNorm(d, cfg.rms_norm_eps)
            attn = nn.Module()
            attn.q_proj = nn.Linear(d, cfg.num_attention_heads * hd, bias=False)
            attn.k_proj = nn.Linear(d, cfg.num_key_value_heads * hd, bias=False)
            attn.v_proj = nn.Linear(d, cfg.num_key_value_heads * hd, bias=False)
            attn.o_proj = nn.Linear(cfg.num_attention_heads * hd, d, bias=False)
            attn.q_norm = RMSNorm(hd, cfg.rms_norm_eps)
            attn.k_norm = RMSNorm(hd, cfg.rms_norm_eps)
            mlp = nn.Module()
            mlp.gate_proj = nn.Linear(d, cfg.intermediate_size, bias=False)
            mlp.up_proj = nn.Linear(d, cfg.intermediate_size, bias=False)
            mlp.down_proj = nn.Linear(cfg.intermediate_size, d, bias=False)
            layer.self_attn = attn
            layer.mlp = mlp
            self.layers.append(layer)
        self.norm = RMSNorm(d, cfg.rms_norm_eps)
        inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        self.register_buffer("inv_freq", inv.float(), persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, std=0.02)
        for layer in self.layers:  # GPT-2 style scaled residual projections
            for m in (layer.self_attn.o_proj, layer.mlp.down_proj):
                nn.init.normal_(m.weight, std=0.02 / math.sqrt(2 * self.cfg.num_hidden_layers))

    # ---- weights in Hugging Face names --------------------------------------------------------
    def hf_state_dict(self) -> dict[str, torch.Tensor]:
        return {f"model.{k}": v for k, v in self.state_dict().items()}

    def load_hf_state_dict(self, sd: dict[str, torch.Tensor]) -> None:
        own = {k[len("model.") :]: v.float() for k, v in sd.items() if k.startswith("model.")}
        self.load_state_dict(own)

    def base_weight(self, layer: int, module: str) -> torch.Tensor:
        group = self.layers[layer].self_attn if module in ("q_proj", "k_proj", "v_proj", "o_proj") else self.layers[layer].mlp
        return getattr(group, module).weight

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """module_path -> (in, out) for every LoRA-able module."""
        out = {}
        for i in range(self.cfg.num_hidden_layers):
            for m in LINEAR_MODULES:
                w = self.base_weight(i, m)
                out[module_path(i, m)] = (w.shape[1], w.shape[0])
        return out

    # ---- forward -------------------------------------------------------------------------------
    def _linear(self, x, layer, module, loras):
        y = x @ self.base_weight(layer, module).t()
        path = module_path(layer, module)
        for lora in loras:
            f = lora.factors.get(path)
            if f is not None:
                y = y + apply_lora(x, f[0], f[1], lora.scale)
        return y

    def forward(self, ids, loras=(), attention_mask=None, select=None, past=None):
        """ids [N, S] -> logits [N, S, V]. ``attention_mask`` [N, S] (1 = token, 0 = left padding).

        ``select``: a bool mask [N, S] or "last": logits of those positions only (flattened for a
        mask, [N, V] for "last"). ``past``: a list that collects (and then supplies) the keys and
        values, for decoding one token at a time; ``attention_mask`` then covers past + new tokens.
        """
        cfg = self.cfg
        n, s = ids.shape
        p0 = past[0][0].shape[2] if past else 0
        t = p0 + s
        if attention_mask is None:
            pos = torch.arange(p0, t).expand(n, s)
            mask = torch.ones(t, t, dtype=torch.bool).tril()[p0:].expand(n, 1, s, t)
        else:
            am = attention_mask.bool()
            pos = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, p0:]
            causal = torch.ones(t, t, dtype=torch.bool).tril()[p0:]
            mask = (causal[None] & am[:, None, :])[:, None]
            mask = mask | torch.eye(t, dtype=torch.bool)[p0:][None, None]  # pads attend to themselves
        freqs = pos[..., None].float() * self.inv_freq
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        h_, kv_, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim

        def rope(t):
            t1, t2 = t[..., : hd // 2], t[..., hd // 2 :]
            return t * cos + torch.cat([-t2, t1], -1) * sin

        x = self.embed_tokens(ids)
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)
            q = attn.q_norm(self._linear(h, i, "q_proj", loras).view(n, s, h_, hd)).transpose(1, 2)
            k = attn.k_norm(self._linear(h, i, "k_proj", loras).view(n, s, kv_, hd)).transpose(1, 2)
            v = self._linear(h, i, "v_proj", loras).view(n, s, kv_, hd).transpose(1, 2)
            q, k = rope(q), rope(k)
            if past is not None:
                if len(past) > i:
                    k = torch.cat([past[i][0], k], 2)
                    v = torch.cat([past[i][1], v], 2)
                    past[i] = (k, v)
                else:
                    past.append((k, v))
            rep = h_ // kv_
            k = k.repeat_interleave(rep, 1)
            v = v.repeat_interleave(rep, 1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            scores = scores.masked_fill(~mask, float("-inf"))
            o = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, s, h_ * hd)
            x = x + self._linear(o, i, "o_proj", loras)
            h = layer.post_attention_layernorm(x)
            g = self._linear(h, i, "gate_proj", loras)
            u = self._linear(h, i, "up_proj", loras)
            x = x + self._linear(F.silu(g) * u, i, "down_proj", loras)
        if isinstance(select, str) and select == "last":
            x = x[:, -1]
        elif select is not None:
            x = x[select]
        return self.norm(x) @ self.embed_tokens.weight.t()


def new_lora(model: Qwen3, rank: int, groups: int | None, scale: float, gen: torch.Generator) -> Lora:
    """PEFT's default init: A Kaiming-uniform (a = sqrt(5)), B zero. Trainable (requires_grad)."""
    factors = {}
    for path, (fin, fout) in model.linear_shapes().items():
        shape_a = (rank, fin) if groups is None else (groups, rank, fin)
        shape_b = (fout, rank) if groups is None else (groups, fout, rank)
        bound = 1.0 / math.sqrt(fin)  # kaiming_uniform_(a=sqrt(5)) on [r, in]
        a = (torch.rand(shape_a, generator=gen) * 2 - 1) * bound
        factors[path] = (a.requires_grad_(), torch.zeros(shape_b).requires_grad_())
    return Lora(factors, scale)


def lora_params(lora: Lora) -> list[torch.Tensor]:
    return [t for pair in lora.factors.values() for t in pair]


def lora_group(lora: Lora, g: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Factor set g of a grouped LoRA, detached, as ``{path: (A [r, in], B [out, r])}``."""
    return {p: (a[g].detach().clone(), b[g].detach().clone()) for p, (a, b) in lora.factors.items()}


def stack_loras(items: list[dict[str, tuple[torch.Tensor, torch.Tensor]]], scale: float) -> Lora:
    """Several shared factor sets -> one grouped Lora (all of the same rank)."""
    paths = items[0].keys()
    return Lora({p: (torch.stack([it[p][0] for it in items]), torch.stack([it[p][1] for it in items])) for p in paths}, scale)


@torch.no_grad()
def greedy(model: Qwen3, prompts: list[list[int]], max_new: int, loras=(), stop_ids=()):
    """Batched greedy decoding with a KV cache, left-padded.

    With grouped LoRAs the batch order must follow the groups. Returns the generated ids per
    prompt, cut before the first stop id.
    """
    n = len(prompts)
    width = max(len(p) for p in prompts)
    ids = torch.zeros(n, width, dtype=torch.long)
    mask = torch.zeros(n, width + max_new, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) : width] = 1
    stops = set(stop_ids)
    past: list = []
    out = torch.zeros(n, max_new, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    stop_t = torch.tensor(sorted(stops), dtype=torch.long)
    for t in range(max_new):
        if t == 0:
            logits = model(ids, loras, mask[:, :width], select="last", past=past)
        else:
            mask[:, width + t - 1] = 1
            logits = model(nxt[:, None], loras, mask[:, : width + t], select="last", past=past)
        nxt = logits.argmax(-1)
        out[:, t] = nxt
        if len(stop_t):
            done |= torch.isin(nxt, stop_t)
        if bool(done.all()):
            out = out[:, : t + 1]
            break
    result = []
    for row in out.tolist():
        cut = next((j for j, tok in enumerate(row) if tok in stops), len(row))
        result.append(row[:cut])
    return result
