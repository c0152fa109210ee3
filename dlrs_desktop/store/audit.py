"""Append-only audit log (JSON lines) of every prediction: what was run on which pixels.

One line per event, appended and fsynced, never rewritten: a later reader can trust that a result
shown on screen was produced by the named model on the named image/contour hashes. Only hashes and
model identity are recorded: no names, paths or patient data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dlrs_desktop import __version__, paths
from dlrs_desktop.store.annotation import now_iso

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
        record: dict[str, Any] = {"time": now_iso(), "event": event, "app_version": __version__}
        record.update({k: v for k, v in fields.items() if k in ALLOWED_KEYS and k != "event"})
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def records(self) -> list[dict[str, Any]]:
        """All readable records (a torn last line after a power cut is skipped)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out
