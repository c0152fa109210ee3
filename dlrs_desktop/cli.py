"""`dlrs`: the command line over the same core the GUI uses.

Each sub-command lives in `dlrs_desktop/commands/<name>.py` and provides
`register(parser)` (its arguments) and `run(args) -> int` (exit code). Command modules import
heavy libraries inside `run`, so `dlrs --help` stays instant.

Exit codes: 0 success, 2 bad input (the user's file, contour, cohort) or a missing optional extra
(`pip install 'dlrs-desktop[train]'`, named in the message), 3 model problem,
1 internal error (a bug: one line, `--debug` for the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from dlrs_desktop import __version__, commands
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.extras import MissingExtraError, message_for_import_error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlrs",
        description="DLRS Desktop command line (research use, demonstration model).",
    )
    parser.add_argument("--version", action="version", version=f"dlrs-desktop {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"dlrs_desktop.commands.{info.name}")
        name = getattr(module, "NAME", info.name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        try:
            module.register(p)
        except ImportError as exc:  # its extra is not installed: the other commands still work
            message = message_for_import_error(exc, f"`dlrs {name}`")
            if message is None:
                raise
            p.set_defaults(_run=_unavailable(message), _unavailable=True)
            continue
        p.set_defaults(_run=module.run)
    return parser


def _unavailable(message: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise MissingExtraError(message)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "_unavailable", False):  # its options are unknown: say what is missing
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except DlrsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ImportError as exc:  # an optional extra (torch, scikit-learn...) this install leaves out
        message = message_for_import_error(exc, f"`dlrs {args.command}`")
        if message is None:
            return _internal_error(exc, args.debug)
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dlrs info X --json | head`: the reader left, which is not an error
        sys.stderr.close()
        return 0
    except Exception as exc:
        return _internal_error(exc, args.debug)


def _internal_error(exc: Exception, debug: bool) -> int:
    """A bug, not the user's fault: one line unless --debug."""
    if debug:
        raise exc
    print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
