"""The CLI progress bar (tqdm): silent for a short job in a log, a redrawn bar on a terminal."""

from __future__ import annotations

import io

from dlrs_desktop.training.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_short_job_in_a_log_writes_nothing():
    log = io.StringIO()
    bar = ProgressBar(10, "crops", stream=log)
    for i in range(11):
        bar.update(i, "loss 0.1")
    bar.close()
    assert log.getvalue() == ""


def test_a_terminal_gets_the_count_the_label_and_the_suffix():
    tty = Terminal()
    bar = ProgressBar(5, "epoch 1/3", stream=tty)
    for i in range(6):
        bar.update(i, "loss 0.25")
    bar.close()
    last = tty.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("epoch 1/3 [") and "5/5" in last and "loss 0.25" in last
    assert tty.getvalue().endswith("\n")
