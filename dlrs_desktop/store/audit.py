"""Append-only audit log (JSON lines) of every prediction: what was run on which pixels.

One line per event, appended and fsynced, never rewritten: a later reader can trust that a result
shown on screen was produced by the named model on the named image/contour hashes. Only hashes and
model identity are recorded: no names, paths or patient data.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Any

from dlrs_desktop import __version__, paths
from dlrs_desktop.store.record import now_iso

# Keys an audit record may carry; anything else is dropped so that identifiers cannot slip in.
ALLOWED_KEYS = {
    "event",
    "image_sha256",
    "contour_hash",
    "frame",
    "model_id",
    "model_name",
    "model_version",
    "model_sha256",
    "probability",
    "threshold",
    "category",
    "region_probabilities",
    "sensitivity",
    "device",
    "seconds",
    "reviewer",
    "status",
}


class AuditLog:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.user_data_dir() / "audit.jsonl"

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one record with a single write, verified and fsynced; raises OSError if it is not on disk.

        A short write (full disk) is cut back off, so the file never keeps half a record; a torn last
        line left by a power cut gets a newline first, so it cannot swallow this record.
        """
        record: dict[str, Any] = {"time": now_iso(), "event": event, "app_version": __version__}
        record.update({k: v for k, v in fields.items() if k in ALLOWED_KEYS and k != "event"})
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a torn record before us stays a line of its own
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(
                        errno.ENOSPC, f"only {written} of {len(line)} bytes of the audit record were written"
                    )
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # never leave half a record behind
                    os.fsync(fd)
                raise
        finally:
            os.close(fd)
        return record

    def records(self) -> list[dict[str, Any]]:
        """All readable records (a torn last line after a power cut is skipped)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_bytes().splitlines():
            try:
                rec = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out
