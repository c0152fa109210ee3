"""A dependency-free text progress bar (stderr) for long CLI jobs."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, label: str = "", width: int = 30, stream=None) -> None:
        self.total, self.label, self.width = max(int(total), 1), label, width
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self._last = 0.0
        self.suffix = ""

    def update(self, done: int, suffix: str = "") -> None:
        now = time.perf_counter()
        if suffix:
            self.suffix = suffix
        interval = 0.5 if self.stream.isatty() else 20.0  # logs: a line every 20 s, not a flood
        if done < self.total and now - self._last < interval:
            return
        if not self.stream.isatty() and now - self.t0 < interval:
            return  # a short job in a log or a script: no lines (stderr is kept for the one error line)
        self._last = now
        frac = min(done / self.total, 1.0)
        filled = int(self.width * frac)
        elapsed = now - self.t0
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(
            f"{self.label} [{bar}] {done}/{self.total} {elapsed:.0f}s eta {eta:.0f}s {self.suffix}{end}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
