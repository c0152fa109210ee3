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
from collections.abc import Sequence

from dlrs_desktop import __version__, commands
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.extras import message_for_import_error


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
        module.register(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
