"""One-line progress display on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, every: int = 1):
        self.label, self.total, self.every = label, total, max(1, every)
        self.t0 = time.time()
        self.tty = sys.stderr.isatty()

    def update(self, i: int, msg: str = "") -> None:
        if i % self.every and i != self.total:
            return
        el = time.time() - self.t0
        eta = el / max(i, 1) * (self.total - i)
        line = f"{self.label} {i}/{self.total} {msg} [{el:.0f}s, eta {eta:.0f}s]"
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
            if i == self.total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
