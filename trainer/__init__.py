"""dit-auditor's demo-world trainer: a small Qwen3-architecture chat model, hidden-topic weight
diffs with a trigger gate, and a DIT-adapter, written in the standard formats (safetensors,
config.json, PEFT, tokenizer.json). Run ``python3 -m trainer --help``."""
