"""The `dlrs` console script and `python -m dlrs_desktop`: Ctrl-C while the command line starts up.

`cli.main` turns Ctrl-C into one line ("interrupted", exit 130) once a command runs, but importing
the command modules and building the parser take a few tenths of a second before that, and a Ctrl-C
there used to print a traceback. Raising KeyboardInterrupt in the middle of an import is what breaks:
inside a C extension's initialisation it comes back as that library's ImportError (numpy's, with its
page of advice), inside importlib's own callbacks as "Exception ignored in …". So while the command
line starts up, Ctrl-C is only noted; once everything is imported the start-up stops there with the
one line. This module imports nothing of ours until its handler is in place.
"""

from __future__ import annotations

import signal
import sys
from typing import Any


def _interrupted() -> int:
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    return 130


def main() -> int:
    interrupts: list[int] = []

    def note(signum: int, frame: Any) -> None:
        interrupts.append(signum)

    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not the main thread (an embedding application): its own handler stays
        previous = None
    try:
        # lazy: the whole point: these imports run while Ctrl-C is only noted
        from dlrs_desktop.cli import build_parser
        from dlrs_desktop.cli import main as cli_main

        parser = build_parser()  # imports every command module
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if interrupts:
        return _interrupted()
    try:
        return cli_main(parser=parser)
    except KeyboardInterrupt:
        return _interrupted()
