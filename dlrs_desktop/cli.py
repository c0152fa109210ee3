"""`dlrs`: the command line over the same core the GUI uses.

Each sub-command lives in `dlrs_desktop/commands/<name>.py` and provides
`register(parser)` (its arguments) and `run(args) -> int` (exit code). Command modules import
heavy libraries inside `run`, so `dlrs --help` stays instant.

Exit codes: 0 success, 2 bad input (the user's file, contour, cohort) or a missing optional extra
(`pip install 'dlrs-desktop[train]'`, named in the message), 3 model problem,
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
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from dlrs_desktop import __version__, commands
from dlrs_desktop.cli_boundary import Boundary, error_line
from dlrs_desktop.extras import MissingExtraError, message_for_import_error


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
        try:
            module.register(p)
        except ImportError as exc:  # its extra is not installed: the other commands still work
            message = message_for_import_error(exc, f"`dlrs {name}`")
            if message is None:
                raise
            p.set_defaults(_run=_unavailable(message), _unavailable=True)
            continue
        p.set_defaults(_run=_with_extras(module.run, name))
    return parser


def _unavailable(message: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise MissingExtraError(message)

    return run


def _with_extras(run: Callable[[argparse.Namespace], Any], name: str) -> Callable[[argparse.Namespace], Any]:
    """An ImportError of an optional extra (torch, scikit-learn...) becomes one line naming its install."""

    def wrapped(args: argparse.Namespace) -> Any:
        try:
            return run(args)
        except ImportError as exc:
            message = message_for_import_error(exc, f"`dlrs {name}`")
            if message is None:
                raise
            raise MissingExtraError(message) from None

    return wrapped


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command line; `parser`: one `build_parser` already made (cli_entry builds it first)."""
    parser = parser or build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "_unavailable", False):  # its options are unknown: say what is missing
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    with Boundary(verbose=args.verbose, debug=args.debug) as boundary:
        code = boundary.call(args._run, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
