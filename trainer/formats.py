"""Standard file formats, written by hand: safetensors, Qwen3 config.json, PEFT LoRA folders."""

from __future__ import annotations

import json
import os
import struct

import torch

_DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.int64: "I64"}
_BACK = {v: k for k, v in _DTYPES.items()}

LINEAR_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ATTN_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")


def module_path(layer: int, module: str) -> str:
    """``layers.{i}.self_attn.q_proj`` / ``layers.{i}.mlp.down_proj`` (under the ``model.`` prefix)."""
    group = "self_attn" if module in ATTN_MODULES else "mlp"
    return f"layers.{layer}.{group}.{module}"


def save_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    header: dict = {"__metadata__": metadata or {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype {t.dtype} not supported")
        # Little-endian raw bytes; bf16 through an int16 view (numpy has no bf16).
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def load_safetensors(path: str) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    base = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = _BACK[info["dtype"]]
        buf = bytearray(data[base + start : base + end])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16) if buf else torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_json(path: str, value) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def read_json(path: str):
    with open(path) as f:
        return json.load(f)


def save_peft(
    folder: str,
    factors: dict[str, tuple[torch.Tensor, torch.Tensor]],
    rank: int,
    alpha: float,
    base_model: str,
    dtype: torch.dtype = torch.float32,
    extra: dict | None = None,
) -> None:
    """``factors[module_path] = (A [r, in], B [out, r])``; PEFT scale is ``alpha / r``."""
    os.makedirs(folder, exist_ok=True)
    tensors = {}
    for path, (a, b) in factors.items():
        key = f"base_model.model.model.{path}"
        tensors[f"{key}.lora_A.weight"] = a.to(dtype)
        tensors[f"{key}.lora_B.weight"] = b.to(dtype)
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": rank,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "target_modules": list(LINEAR_MODULES),
        "bias": "none",
        "use_rslora": False,
        "use_dora": False,
        "fan_in_fan_out": False,
        "init_lora_weights": True,
        "modules_to_save": None,
        "inference_mode": True,
    }
    if extra:
        config.update(extra)
    write_json(os.path.join(folder, "adapter_config.json"), config)
    save_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors)


def load_peft(folder: str) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], float, dict]:
    """Returns ``({module_path: (A, B)}, scale, config)`` in float32."""
    config = read_json(os.path.join(folder, "adapter_config.json"))
    tensors = load_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    factors = {}
    prefix = "base_model.model.model."
    for name, t in tensors.items():
        if not name.endswith(".lora_A.weight"):
            continue
        path = name[len(prefix) : -len(".lora_A.weight")]
        b = tensors[name.replace(".lora_A.", ".lora_B.")]
        factors[path] = (t.float(), b.float())
    return factors, config["lora_alpha"] / config["r"], config
