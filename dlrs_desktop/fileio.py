"""Atomic file writes: a crash mid-write leaves either the old file or the new one, never half of each.

Used for everything that must not be lost: contours, annotation sidecars, model bundles, reports.
The temporary file is `.NAME.PID.xxxx.tmp` beside the target, so a later start can tell the
leftovers of a killed process (its PID is gone) from the write another live process is doing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
# A temporary file without our PID stamp is only removed once it is this old (seconds).
_FOREIGN_TEMP_AGE_S = 600.0


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible or needed on Windows."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs (when in doubt: yes). Never signals it — on Windows `os.kill(pid, 0)`
    would terminate the process, so the process table is queried instead."""
    if pid == os.getpid():
        return True
    if os.name == "nt":
        # lazy: Windows only
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return not ok or code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, OverflowError):
        return True  # exists but not ours, or cannot tell: leave its file alone
    return True


def clean_stale_temps(folder: str | os.PathLike[str], name_suffix: str = "") -> list[Path]:
    """Remove temporary files that killed writers left in `folder` (only names ending `name_suffix`).

    A file whose writer PID is still running is kept (it may be mid-write); errors are ignored,
    because a read-only folder simply keeps its leftovers.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None:
            if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
                continue
            name, pid = entry.name[1 : -len(".tmp")].rsplit(".", 1)[0], None
        else:
            name, pid = m["name"], int(m["pid"])
        if not name.endswith(name_suffix):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if pid is not None and pid_alive(pid):
                continue
            if pid is None and now - entry.stat(follow_symlinks=False).st_mtime < _FOREIGN_TEMP_AGE_S:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
