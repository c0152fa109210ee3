"""`dlrs`: the command line over the same core the GUI uses.

Each sub-command lives in `dlrs_desktop/commands/<name>.py` and provides
`register(parser)` (its arguments) and `run(args) -> int` (exit code). Command modules import
heavy libraries inside `run`, so `dlrs --help` stays instant.

Exit codes: 0 success, 2 bad input (the user's file, contour, cohort), 3 model problem,
1 internal error (a bug: one line, `--debug` for the traceback), 130 interrupted.
Whatever fails, stderr gets exactly one line with control characters escaped; what libraries
print or warn meanwhile (libpng, OpenCV, pydicom, Pillow) is captured by `cli_boundary.Boundary`
and shown only with `--verbose`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from dlrs_desktop import __version__, commands
from dlrs_desktop.cli_boundary import Boundary, error_line


class _Parser(argparse.ArgumentParser):
    """Usage errors in one escaped line (argparse prints the usage too, which makes two)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(error_line(f"{self.prog}: {message} (see {self.prog} --help)") + "\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dlrs",
        description="DLRS Desktop command line (research use, demonstration model).",
    )
    parser.add_argument("--version", action="version", version=f"dlrs-desktop {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    common.add_argument(
        "--verbose", action="store_true", help="also show library warnings and messages (libpng, pydicom...)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--verbose", action="store_true", help="also show library warnings and messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"dlrs_desktop.commands.{info.name}")
        name = getattr(module, "NAME", info.name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        # After the command name as well (`dlrs info X --verbose`); SUPPRESS keeps a global one.
        for flag in ("--debug", "--verbose"):
            p.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        module.register(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    with Boundary(verbose=args.verbose, debug=args.debug) as boundary:
        code = boundary.call(args._run, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
