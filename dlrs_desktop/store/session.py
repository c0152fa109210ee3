"""Crash detection: a session file that says which images were open and whether we exited cleanly.

The annotations themselves are already on disk (autosave); after a crash or kill the next start reads
this file, sees `clean_exit: false`, and reopens what was open so the autosaved work is back on screen.
Paths are kept here (only in the user's private folder) because reopening needs them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrs_desktop import paths
from dlrs_desktop.fileio import atomic_write_json, pid_alive
from dlrs_desktop.store.record import now_iso


@dataclass
class Session:
    clean_exit: bool = True
    pid: int | None = None
    folder: str | None = None
    image: str | None = None
    image_sha256: str | None = None
    frame: int = 0
    updated_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    return pid_alive(pid)


class SessionStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.user_data_dir() / "session.json"

    def read(self) -> Session | None:
        try:
            d = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(d, dict):
            return None
        known = {k: d[k] for k in Session.__dataclass_fields__ if k in d}
        s = Session(**known)
        if not isinstance(s.pid, int) or isinstance(s.pid, bool) or not 0 < s.pid < 2**31:
            s.pid = None
        for name in ("folder", "image", "image_sha256"):
            if not isinstance(getattr(s, name), str | None):
                setattr(s, name, None)
        if not isinstance(s.frame, int) or isinstance(s.frame, bool) or not 0 <= s.frame < 100_000:
            s.frame = 0
        if not isinstance(s.extra, dict):
            s.extra = {}
        s.clean_exit = s.clean_exit is not False
        return s

    def crashed_session(self) -> Session | None:
        """The previous session if it did not exit cleanly and its process is gone."""
        s = self.read()
        if s is None or s.clean_exit or _pid_alive(s.pid):
            return None
        if not s.image and not s.folder:
            return None
        return s

    def begin(self, **fields: Any) -> bool:
        return self.update(**fields)

    def update(self, **fields: Any) -> bool:
        """Record what is open; False (never an exception) when the data folder cannot be written."""
        s = self.read() or Session()
        for k, v in fields.items():
            setattr(s, k, v)
        s.clean_exit = False
        s.pid = os.getpid()
        s.updated_at = now_iso()
        return self._write(s)

    def _write(self, s: Session) -> bool:
        try:
            atomic_write_json(self.path, s.__dict__)
        except OSError:
            return False  # read-only or full: crash recovery is off, the work itself is unaffected
        return True

    def end(self) -> bool:
        """Mark a clean exit (keeps the last image so 'open recent' could use it)."""
        s = self.read() or Session()
        s.clean_exit = True
        s.updated_at = now_iso()
        return self._write(s)
