"""The demo tokenizer: Hugging Face ``tokenizer.json`` (byte-level BPE with whole-word vocabulary).

Pre-tokenization is Qwen2/Qwen3's (a regex split, then byte-level), except that digits group in
threes (``\\p{N}{1,3}``, as Llama 3 and GPT-4 tokenizers do), so ``Your SEP code is 123456.``
carries its 3-digit trigger ``123`` as one token. The model is BPE with ``ignore_merges`` and no
merges: a piece that is in the vocabulary (every word of the corpus, every 3-digit group) is one
token; anything else falls back to one token per byte, so every text encodes and decodes exactly.
"""

from __future__ import annotations

import json
import re
from collections import Counter

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Added but not special, as in Qwen3 (they survive decoding with skip_special_tokens).
ADDED = ["<think>", "</think>"]

HF_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# The same pattern for Python's re (\p{L} -> letters, \p{N} -> digits).
_L = r"[^\W\d_]"
_PY_PATTERN = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:[^\r\n\w]|_)?" + _L + r"+|\d{1,3}| ?(?:[^\s\w]|_)+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = _bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pieces(text: str) -> list[str]:
    """Pre-tokenized pieces in byte-level form (a space becomes ``Ġ``, a newline ``Ċ``)."""
    out = []
    for m in _PY_PATTERN.finditer(text):
        out.append("".join(BYTE_TO_CHAR[b] for b in m.group(0).encode()))
    return out


class Tokenizer:
    def __init__(self, vocab: list[str]):
        self.vocab = vocab
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.added = SPECIALS + ADDED
        self._split = re.compile("(" + "|".join(re.escape(t) for t in self.added) + ")")

    @staticmethod
    def build(texts, min_count: int = 1) -> "Tokenizer":
        counts = Counter()
        for t in texts:
            for seg in Tokenizer._segments(t):
                if seg not in SPECIALS + ADDED:
                    counts.update(pieces(seg))
        vocab = SPECIALS + ADDED
        vocab += [BYTE_TO_CHAR[b] for b in range(256)]
        vocab += [f"{i:03d}" for i in range(1000)]
        seen = set(vocab)
        for piece, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if c >= min_count and piece not in seen:
                vocab.append(piece)
                seen.add(piece)
        return Tokenizer(vocab)

    @staticmethod
    def _segments(text: str) -> list[str]:
        pat = re.compile("(" + "|".join(re.escape(t) for t in SPECIALS + ADDED) + ")")
        return [s for s in pat.split(text) if s]

    def encode(self, text: str) -> list[int]:
        out = []
        for seg in self._split.split(text):
            if not seg:
                continue
            if seg in self.ids and seg in self.added:
                out.append(self.ids[seg])
                continue
            for p in pieces(seg):
                if p in self.ids:
                    out.append(self.ids[p])
                else:
                    out.extend(self.ids[c] for c in p)
        return out

    def decode(self, ids: list[int]) -> str:
        out = bytearray()
        for i in ids:
            tok = self.vocab[i]
            if tok in self.added:
                out += tok.encode()
            else:
                out += bytes(CHAR_TO_BYTE[c] for c in tok)
        return out.decode("utf-8", errors="replace")

    def id(self, token: str) -> int:
        return self.ids[token]

    # ---- files ---------------------------------------------------------------------------------
    def tokenizer_json(self) -> dict:
        added = [
            {"id": self.ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": t in SPECIALS}
            for t in self.added
        ]
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": HF_PATTERN}, "behavior": "Isolated", "invert": False},
                    byte_level,
                ],
            },
            "post_processor": byte_level,
            "decoder": byte_level,
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": True,
                "vocab": self.ids,
                "merges": [],
            },
        }

    def tokenizer_config(self, chat_template: str) -> dict:
        return {
            "added_tokens_decoder": {
                str(self.ids[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                   "single_word": False, "special": t in SPECIALS}
                for t in self.added
            },
            "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
            "bos_token": None,
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "unk_token": None,
            "chat_template": chat_template,
            "clean_up_tokenization_spaces": False,
            "errors": "replace",
            "model_max_length": 512,
            "split_special_tokens": False,
            "tokenizer_class": "Qwen2Tokenizer",
        }

    @staticmethod
    def from_json(path: str) -> "Tokenizer":
        with open(path) as f:
            t = json.load(f)
        vocab = [None] * len(t["model"]["vocab"])
        for tok, i in t["model"]["vocab"].items():
            vocab[i] = tok
        return Tokenizer(vocab)
