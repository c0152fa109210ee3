"""A text progress bar (stderr) for long CLI jobs: tqdm, set up for terminals and for logs.

On a terminal the bar redraws every 0.5 s; in a log or a script it waits 20 s before its first line
and then writes at most one line every 20 s (a short job writes nothing: stderr is kept for the one
error line a failure prints).
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 20.0


class ProgressBar:
    """`update(done)` takes the absolute count (what the training loops know), tqdm wants increments."""

    def __init__(self, total: int, label: str = "", width: int = 30, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        tty = stream.isatty()
        self.total = max(int(total), 1)
        self._bar = tqdm(
            total=self.total,
            desc=label,
            file=stream,
            ncols=None if tty else 100,
            mininterval=0.5 if tty else LOG_INTERVAL_S,
            delay=0.0 if tty else LOG_INTERVAL_S,
            ascii=not tty,
            dynamic_ncols=tty,
            leave=tty,
            bar_format="{desc} [{bar:" + str(width) + "}] {n_fmt}/{total_fmt} {elapsed} eta {remaining}"
            "{postfix}",
        )

    def update(self, done: int, suffix: str = "") -> None:
        if suffix:
            self._bar.set_postfix_str(suffix, refresh=False)
        self._bar.update(min(int(done), self.total) - self._bar.n)

    def close(self) -> None:
        self._bar.close()
