#!/usr/bin/env python3
"""PyTorch eager baseline for the engine benchmark: a Hugging Face Qwen3 checkpoint with a PEFT
LoRA stack, prefill then greedy decode with a preallocated KV cache, timed, printed as JSON.

The forward follows transformers' modeling_qwen3 (eager attention) step by step, since transformers
is not installable here: RMSNorm in float32 cast back, per-head q/k norm, default RoPE, GQA, SiLU
MLP, tied or untied LM head. Only stdlib, numpy and torch (Debian's python3-torch, 1.13, which
installs for /usr/bin/python3; a pyenv python3 on PATH may not see it).

  /usr/bin/python3 bench/torch_qwen3.py --model DIR [--adapter DIR]... [--dtype bf16|f32]
      [--threads N] [--prompt-len 64] [--steps 64] [--seed S | --ids 1,2,3] [--warmup 1]
      [--dump-logits FILE] [--json]

`--steps N` decode forwards, as bench/engine.ts counts them: the prefill picks token 1, each step
feeds the last token and picks the next, so `tokens` holds N greedy tokens and the dump holds
prompt + N rows (the fixtures' layout: prompt rows, then one row per fed greedy token).
"""

import argparse
import json
import os
import re
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"bf16": torch.bfloat16, "f32": torch.float32}
# Stored dtype -> (dtype read from the file, dtype it is viewed as). numpy has no bfloat16, so
# BF16 is read as int16 and reinterpreted by torch.
STORED = {
    "BF16": (torch.int16, torch.bfloat16),
    "F16": (torch.float16, torch.float16),
    "F32": (torch.float32, torch.float32),
    "F64": (torch.float64, torch.float64),
}
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
LORA_KEY = re.compile(
    r"^base_model\.model\.model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])(?:\.[\w-]+)?\.weight$"
)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class SafetensorsFile:
    """One .safetensors file: 8-byte little-endian header length, JSON header, data."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        self.entries = header
        self.data_start = 8 + n

    def read(self, name, dtype):
        """The tensor as an owned `dtype` tensor.

        Read with readinto rather than mapped: a mapping keeps the file's pages resident beside
        the converted copies, which would inflate the peak RSS this baseline reports.
        """
        e = self.entries[name]
        if e["dtype"] not in STORED:
            raise ValueError(f"{self.path}: {name} has unsupported dtype {e['dtype']}")
        raw_dtype, view_dtype = STORED[e["dtype"]]
        start, end = e["data_offsets"]
        raw = torch.empty(int(np.prod(e["shape"], dtype=np.int64)), dtype=raw_dtype)
        if end > start:
            buf = memoryview(raw.numpy()).cast("B")
            if len(buf) != end - start:
                raise ValueError(f"{self.path}: {name} offsets do not match its shape")
            with open(self.path, "rb") as f:
                f.seek(self.data_start + start)
                if f.readinto(buf) != len(buf):
                    raise ValueError(f"{self.path}: {name} is truncated")
        t = raw.view(view_dtype).reshape(e["shape"])
        return t if t.dtype == dtype else t.to(dtype)


class Checkpoint:
    """A checkpoint folder's tensors by name: model.safetensors or a sharded index."""

    def __init__(self, folder):
        index = os.path.join(folder, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                weight_map = json.load(f)["weight_map"]
            files = {s: SafetensorsFile(os.path.join(folder, s)) for s in sorted(set(weight_map.values()))}
            self.where = {name: files[s] for name, s in weight_map.items()}
        else:
            single = SafetensorsFile(os.path.join(folder, "model.safetensors"))
            self.where = {name: single for name in single.entries}

    def __contains__(self, name):
        return name in self.where

    def read(self, name, dtype):
        if name not in self.where:
            raise KeyError(f"checkpoint has no tensor {name}")
        return self.where[name].read(name, dtype)


def targets(cfg, layer, module):
    """Whether PEFT would have wrapped this module, from target_modules and layers_to_transform."""
    layers = cfg.get("layers_to_transform")
    if layers is not None:
        if isinstance(layers, int):
            layers = [layers]
        if layer not in layers:
            return False
    tm = cfg.get("target_modules")
    if tm is None or tm == "all-linear":
        return True
    if isinstance(tm, str):
        group = "self_attn" if module in LINEAR[:4] else "mlp"
        return re.fullmatch(tm, f"model.layers.{layer}.{group}.{module}") is not None
    return module in tm


def pattern_value(patterns, layer, module, default):
    """PEFT's rank_pattern / alpha_pattern: a key matches a module name by its end."""
    group = "self_attn" if module in LINEAR[:4] else "mlp"
    name = f"model.layers.{layer}.{group}.{module}"
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?{key}$", name):
            return value
    return default


def load_lora_stack(folders, dtype):
    """{(layer, module): (A [R, in], B [out, R])}: every adapter's factors concatenated along the
    rank with its scale folded into B, so one pair of thin matmuls computes Σ scale·B(A x)."""
    pieces = {}
    for folder in folders:
        with open(os.path.join(folder, "adapter_config.json")) as f:
            cfg = json.load(f)
        if cfg.get("peft_type", "LORA") != "LORA":
            raise ValueError(f"{folder}: peft_type {cfg.get('peft_type')} is not LORA")
        if cfg.get("fan_in_fan_out"):
            raise ValueError(f"{folder}: fan_in_fan_out is not supported")
        st = SafetensorsFile(os.path.join(folder, "adapter_model.safetensors"))
        factors = {}
        for name in st.entries:
            m = LORA_KEY.match(name)
            if m:
                factors.setdefault((int(m.group(1)), m.group(2)), {})[m.group(3)] = name
        if not factors:
            raise ValueError(f"{folder}: no lora_A/lora_B tensors in the PEFT layout")
        for (layer, module), ab in sorted(factors.items()):
            if module not in LINEAR or not targets(cfg, layer, module):
                continue
            if set(ab) != {"A", "B"}:
                raise ValueError(f"{folder}: layer {layer} {module} lacks lora_A or lora_B")
            a = st.read(ab["A"], torch.float32)
            b = st.read(ab["B"], torch.float32)
            r = pattern_value(cfg.get("rank_pattern"), layer, module, cfg["r"])
            alpha = pattern_value(cfg.get("alpha_pattern"), layer, module, cfg.get("lora_alpha", r))
            scale = alpha / r**0.5 if cfg.get("use_rslora") else alpha / r
            pieces.setdefault((layer, module), []).append((a, b * scale))
    return {
        key: (torch.cat([a for a, _ in ps]).to(dtype), torch.cat([b for _, b in ps], dim=1).to(dtype))
        for key, ps in pieces.items()
    }


def rms_norm(x, weight, eps):
    # transformers' Qwen3RMSNorm: statistics in float32, cast back, then scaled in the weight's dtype.
    dtype = x.dtype
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Qwen3:
    def __init__(self, folder, dtype, adapters):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        if cfg.get("model_type") != "qwen3":
            raise ValueError(f"{folder}: model_type {cfg.get('model_type')!r} is not qwen3")
        scaling = cfg.get("rope_scaling")
        if scaling and scaling.get("rope_type", scaling.get("type", "default")) != "default":
            raise ValueError(f"{folder}: rope_scaling {scaling} is not supported (default RoPE only)")
        if cfg.get("attention_bias"):
            raise ValueError(f"{folder}: attention_bias is not supported")
        self.cfg = cfg
        self.dtype = dtype
        self.layers_n = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // self.heads
        self.groups = self.heads // self.kv_heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = float(cfg.get("rope_theta", 10000.0))
        self.vocab = cfg["vocab_size"]

        ck = Checkpoint(folder)
        self.embed = ck.read("model.embed_tokens.weight", dtype)
        # Qwen3Config's default is untied; transformers would leave a missing lm_head random.
        tied = cfg.get("tie_word_embeddings", False)
        if not tied and "lm_head.weight" not in ck:
            raise ValueError(f"{folder}: tie_word_embeddings is false but there is no lm_head.weight")
        self.lm_head = self.embed if tied else ck.read("lm_head.weight", dtype)
        self.norm = ck.read("model.norm.weight", dtype)
        self.layers = []
        for i in range(self.layers_n):
            p = f"model.layers.{i}."
            layer = {m: ck.read(f"{p}{'self_attn' if m in LINEAR[:4] else 'mlp'}.{m}.weight", dtype) for m in LINEAR}
            for n in ("input_layernorm", "post_attention_layernorm"):
                layer[n] = ck.read(f"{p}{n}.weight", dtype)
            layer["q_norm"] = ck.read(f"{p}self_attn.q_norm.weight", dtype)
            layer["k_norm"] = ck.read(f"{p}self_attn.k_norm.weight", dtype)
            self.layers.append(layer)
        lora = load_lora_stack(adapters, dtype)
        for (i, m), ab in lora.items():
            if i >= self.layers_n:
                raise ValueError(f"adapter targets layer {i}, the model has {self.layers_n}")
            self.layers[i][f"lora_{m}"] = ab
        self.lora_modules = len(lora)
        self.lora_rank = sum(a.shape[0] for a, _ in lora.values())

        tensors = [self.embed, self.norm] + [t for layer in self.layers for t in _flat(layer.values())]
        if not tied:
            tensors.append(self.lm_head)
        self.params = sum(t.numel() for t in tensors)
        self.weight_bytes = sum(t.numel() * t.element_size() for t in tensors)

    def rope_tables(self, length):
        # transformers' default RoPE: inverse frequencies and angles in float32, cos/sin cast to dtype.
        d = self.head_dim
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
        freqs = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        # [length, 1, head_dim]: broadcast over the heads of a [T, heads, head_dim] tensor.
        self.cos = emb.cos().to(self.dtype)[:, None, :]
        self.sin = emb.sin().to(self.dtype)[:, None, :]

    def new_cache(self, length):
        self.rope_tables(length)
        shape = (self.kv_heads, length, self.head_dim)
        return [(torch.empty(shape, dtype=self.dtype), torch.empty(shape, dtype=self.dtype)) for _ in self.layers]

    def linear(self, layer, module, x):
        y = F.linear(x, layer[module])
        lora = layer.get(f"lora_{module}")
        if lora is not None:
            y += F.linear(F.linear(x, lora[0]), lora[1])
        return y

    def forward(self, ids, pos, cache, all_rows):
        """Logits (float32) of the `ids` fed at positions pos…; every row or the last only."""
        t = ids.shape[0]
        end = pos + t
        kvh, g, hd = self.kv_heads, self.groups, self.head_dim
        cos, sin = self.cos[pos:end], self.sin[pos:end]
        scaling = hd**-0.5
        mask = None
        if t > 1:
            # Causal: row i (position pos + i) sees keys 0 … pos + i.
            mask = torch.ones(t, end, dtype=torch.bool).triu(pos + 1)
        h = F.embedding(ids, self.embed)
        for layer, (kc, vc) in zip(self.layers, cache):
            r = rms_norm(h, layer["input_layernorm"], self.eps)
            q = rms_norm(self.linear(layer, "q_proj", r).view(t, self.heads, hd), layer["q_norm"], self.eps)
            k = rms_norm(self.linear(layer, "k_proj", r).view(t, kvh, hd), layer["k_norm"], self.eps)
            v = self.linear(layer, "v_proj", r).view(t, kvh, hd)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            kc[:, pos:end] = k.transpose(0, 1)
            vc[:, pos:end] = v.transpose(0, 1)
            # GQA without repeat_kv's copies: query head kv·g + j reads kv head kv, so the g query
            # heads of one kv head and their t rows form one [g·t, head_dim] matrix.
            qh = q.view(t, kvh, g, hd).permute(1, 2, 0, 3).reshape(kvh, g * t, hd)
            scores = torch.matmul(qh, kc[:, :end].transpose(1, 2)) * scaling
            if mask is not None:
                scores = scores.view(kvh, g, t, end).masked_fill(mask, float("-inf")).view(kvh, g * t, end)
            probs = F.softmax(scores, dim=-1, dtype=torch.float32).to(self.dtype)
            a = torch.matmul(probs, vc[:, :end]).view(kvh, g, t, hd).permute(2, 0, 1, 3).reshape(t, self.heads * hd)
            h = h + self.linear(layer, "o_proj", a)
            r = rms_norm(h, layer["post_attention_layernorm"], self.eps)
            m = F.silu(self.linear(layer, "gate_proj", r)) * self.linear(layer, "up_proj", r)
            h = h + self.linear(layer, "down_proj", m)
        h = rms_norm(h if all_rows else h[-1:], self.norm, self.eps)
        return F.linear(h, self.lm_head).float()


def _flat(values):
    for v in values:
        if isinstance(v, tuple):
            yield from v
        else:
            yield v


def mulberry32(seed):
    """bench/make-checkpoint.ts' generator, so a seed draws the same prompt as the TS benchmarks."""
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = imul(a ^ (a >> 15), a | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) & 0xFFFFFFFF

    return nxt


def generate(model, prompt, steps, want_rows):
    cache = model.new_cache(len(prompt) + steps)
    ids = torch.tensor(prompt, dtype=torch.long)
    t0 = time.perf_counter()
    logits = model.forward(ids, 0, cache, all_rows=want_rows)
    prefill_ms = (time.perf_counter() - t0) * 1000
    rows = [logits] if want_rows else []
    nxt = int(logits[-1].argmax())
    tokens, step_ms = [], []
    for s in range(steps):
        tokens.append(nxt)
        t0 = time.perf_counter()
        logits = model.forward(torch.tensor([nxt], dtype=torch.long), len(prompt) + s, cache, all_rows=False)
        step_ms.append((time.perf_counter() - t0) * 1000)
        if want_rows:
            rows.append(logits)
        nxt = int(logits[-1].argmax())
    return {
        "prefillMs": prefill_ms,
        "stepMs": step_ms,
        "tokens": tokens,
        "finite": bool(torch.isfinite(logits).all()),
        "rows": torch.cat(rows) if want_rows else None,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter", action="append", default=[])
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ids", help="comma-separated prompt token ids (overrides --prompt-len/--seed)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before the measured one")
    ap.add_argument("--dump-logits", metavar="FILE", help="float32 rows [prompt + steps, vocab]: .npy or raw")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    dtype = DTYPES[args.dtype]
    with torch.inference_mode():
        t0 = time.perf_counter()
        model = Qwen3(args.model, dtype, args.adapter)
        load_s = time.perf_counter() - t0
        if args.ids:
            prompt = [int(x) for x in args.ids.split(",") if x.strip()]
        else:
            rand = mulberry32(args.seed)
            prompt = [rand() % model.vocab for _ in range(args.prompt_len)]
        if not prompt or max(prompt) >= model.vocab or min(prompt) < 0:
            raise ValueError(f"prompt ids must be in [0, {model.vocab})")
        log(f"loaded {model.params / 1e6:.0f}M params ({args.dtype}) in {load_s:.1f} s")
        # oneDNN picks and JITs kernels per shape on first use; the first run is reported as `cold`.
        warm = [generate(model, prompt, args.steps, want_rows=False) for _ in range(args.warmup)]
        cold = warm[0] if warm else None
        run = generate(model, prompt, args.steps, want_rows=bool(args.dump_logits))

    rows = run.pop("rows")
    if args.dump_logits:
        out = rows.contiguous().numpy()
        if args.dump_logits.endswith(".npy"):
            np.save(args.dump_logits, out)
        else:
            out.astype("<f4").tofile(args.dump_logits)
    decode = sorted(run["stepMs"])
    median = (decode[(len(decode) - 1) // 2] + decode[len(decode) // 2]) / 2 if decode else None
    result = {
        "dtype": args.dtype,
        "threads": torch.get_num_threads(),
        "torchVersion": torch.__version__,
        "params": model.params,
        "weightBytes": model.weight_bytes,
        "loraModules": model.lora_modules,
        "loraRank": model.lora_rank,
        "loadSeconds": load_s,
        "promptIds": prompt,
        "promptLength": len(prompt),
        "steps": args.steps,
        "prefillMs": run["prefillMs"],
        "prefillTokensPerSecond": len(prompt) / (run["prefillMs"] / 1000),
        # Prefill computes every row's logits only when they are dumped; that slows it.
        "prefillAllRows": bool(args.dump_logits),
        "stepMs": run["stepMs"],
        "medianDecodeMs": median,
        "decodeTokensPerSecond": 1000 / median if median else None,
        "tokens": run["tokens"],
        "finite": run["finite"],
        "cold": None if cold is None else {
            "prefillMs": cold["prefillMs"],
            "medianDecodeMs": float(np.median(cold["stepMs"])) if cold["stepMs"] else None,
        },
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "logitsFile": args.dump_logits,
        "logitsShape": list(rows.shape) if rows is not None else None,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.dtype}, {result['threads']} threads, torch {torch.__version__}: load {load_s:.1f} s, "
            f"prefill {len(prompt)} tokens {run['prefillMs']:.0f} ms ({result['prefillTokensPerSecond']:.1f} tok/s), "
            f"decode median {median:.1f} ms/token ({result['decodeTokensPerSecond']:.2f} tok/s), "
            f"peak RSS {result['peakRssBytes'] / 2**20:.0f} MiB"
            if median
            else json.dumps(result)
        )


if __name__ == "__main__":
    try:
        main()
    except (ValueError, KeyError, OSError) as e:
        log(f"torch_qwen3: {e}")
        sys.exit(2)
