"""The `dlrs` console script and `python -m dlrs_desktop`: Ctrl-C while the command line starts up.

`cli.main` turns Ctrl-C into one line ("interrupted", exit 130) once a command runs, but importing
the command modules and parsing take a few tenths of a second before that, and a Ctrl-C there used to
print a traceback. This module imports nothing of ours until inside the `try`.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        # lazy: the whole point: Ctrl-C during these imports is caught below
        from dlrs_desktop.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
        return 130
