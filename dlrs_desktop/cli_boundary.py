"""The command line's one error boundary: every failure becomes an exit code and one stderr line.

While a command runs, file descriptor 2 points at a temporary file, so messages that C libraries
write there (libpng's "iCCP: known incorrect sRGB profile", OpenCV, GDCM) cannot add lines; Python
warnings and log records are collected too. With `--verbose` all of it is replayed after the run;
without, it is dropped. stdout is filtered so that text taken from files (DICOM tags, manifest
fields, file names) cannot carry terminal escape sequences.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TextIO

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.textsafe import escape_controls, escape_terminal


def error_line(message: object, prefix: str = "error: ") -> str:
    """One line whatever the message holds (newlines, ESC, bidi marks are shown escaped)."""
    text = escape_controls(message)
    if len(text) > 2000:
        text = text[:2000] + "..."
    return prefix + text


class _SafeStdout(io.TextIOBase):
    """stdout that keeps newlines and tabs but shows every other control character as an escape."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, s: str) -> int:
        self._inner.write(escape_terminal(s))
        return len(s)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", "utf-8")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(f"{record.name}: {record.levelname.lower()}: {record.getMessage()}")


class Boundary:
    """Context for one command run; `call` maps its outcome to an exit code."""

    def __init__(self, *, verbose: bool = False, debug: bool = False) -> None:
        self.verbose = verbose
        self.debug = debug
        self._saved_fd: int | None = None
        self._capture: Any = None
        self._stderr: TextIO | None = None
        self._old: tuple[Any, Any] | None = None
        self._records = _Records()
        self._warnings: contextlib.ExitStack | None = None
        self._caught: list[warnings.WarningMessage] = []

    # -- setup / teardown -------------------------------------------------------------------
    def __enter__(self) -> Boundary:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        self._old = (sys.stdout, sys.stderr)
        try:
            stderr_is_fd2 = sys.stderr.fileno() == 2
        except (AttributeError, OSError, ValueError):  # a test's capture object: already not fd 2
            stderr_is_fd2 = False
        try:
            self._saved_fd = os.dup(2)
            self._capture = tempfile.TemporaryFile()
            os.dup2(self._capture.fileno(), 2)
        except OSError:  # no fd 2 (a GUI launcher): nothing to capture
            self._saved_fd = None
        if self._saved_fd is not None and stderr_is_fd2:
            self._stderr = open(
                self._saved_fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
            )
            sys.stderr = self._stderr
        sys.stdout = _SafeStdout(sys.stdout)  # type: ignore[assignment]
        logging.getLogger().addHandler(self._records)
        self._warnings = contextlib.ExitStack()
        self._caught = self._warnings.enter_context(warnings.catch_warnings(record=True))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._warnings is not None:
            self._warnings.close()
        logging.getLogger().removeHandler(self._records)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        assert self._old is not None
        sys.stdout = self._old[0]
        if self._saved_fd is not None:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
                if self._stderr is not None:
                    self._stderr.close()
            os.dup2(self._saved_fd, 2)
            os.close(self._saved_fd)
            self._capture.close()
        sys.stderr = self._old[1]

    def library_messages(self) -> list[str]:
        """What libraries printed or warned during the run (shown with --verbose)."""
        out = [f"warning: {w.category.__name__}: {w.message}" for w in self._caught]
        out += self._records.lines
        if self._capture is not None and not self._capture.closed:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
                self._capture.flush()
                self._capture.seek(0)
                text = self._capture.read(1 << 20).decode("utf-8", "replace")
                self._capture.seek(0, 2)
                out += [f"library: {line}" for line in text.splitlines() if line.strip()]
        return out

    # -- running ----------------------------------------------------------------------------
    def _say(self, line: str) -> None:
        if self.verbose:
            for msg in self.library_messages():
                sys.stderr.write(escape_controls(msg) + "\n")
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def call(self, fn: Callable[[Any], Any], args: Any) -> int:
        try:
            code = int(fn(args) or 0)
            if self.verbose:
                for msg in self.library_messages():
                    sys.stderr.write(escape_controls(msg) + "\n")
            return code
        except DlrsError as exc:
            if self.debug and exc.__cause__ is not None:
                traceback.print_exception(exc.__cause__, file=sys.stderr)
            self._say(error_line(exc))
            return exc.exit_code
        except KeyboardInterrupt:
            self._say("interrupted")
            return 130
        except BrokenPipeError:  # `dlrs info X --json | head`: the reader left, which is not an error
            with contextlib.suppress(Exception):  # Python's recipe: nothing more reaches the closed pipe
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._old[0].fileno())  # type: ignore[index]
            return 0
        except MemoryError:
            self._say(error_line("not enough memory for this input (it is too large to process)."))
            return 2
        except RecursionError:
            self._say(error_line("the input nests too deeply to be processed (a damaged or hostile file)."))
            return 2
        except OSError as exc:  # a path the system refuses (too long, no permission, disk full...)
            name = os.path.basename(str(exc.filename)) if exc.filename else ""
            where = f" '{name}'" if name else ""
            self._say(error_line(f"cannot access{where}: {exc.strerror or exc}."))
            return 2
        except Exception as exc:  # a bug, not the user's fault: one line unless --debug
            if self.debug:
                traceback.print_exc(file=sys.stderr)
            self._say(
                error_line(f"{type(exc).__name__}: {exc} (run with --debug for details)", "internal error: ")
            )
            return 1
