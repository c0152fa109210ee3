"""Annotation sidecars: one JSON per image, keyed by the image's sha256, written atomically.

Two copies, because both places have a reason to exist:
- the per-user store `user_data_dir()/annotations/<sha256>.json` is always writable and finds the
  annotation again even if the image was renamed or moved (the key is the pixels, not the path);
- a sidecar beside the image, `<image name>.dlrs.json`, travels with a research folder. Folders can be
  read-only (a PACS export, a CD), so failing to write it is reported but never loses work.
On load, the newest copy whose `image_sha256` matches wins; a copy made for different pixels is rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from dlrs_desktop import __version__, paths
from dlrs_desktop.fileio import atomic_write_json

SCHEMA = "dlrs-annotation"
SCHEMA_VERSION = 1
SIDECAR_SUFFIX = ".dlrs.json"

ReviewStatus = Literal["draft", "reviewed"]


def now_iso() -> str:
    """UTC time with milliseconds: sortable, unambiguous across time zones."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Review:
    """Contour review state: a reviewed contour returns to draft on any edit."""

    status: ReviewStatus = "draft"
    reviewer: str | None = None
    time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reviewer": self.reviewer, "time": self.time}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Review:
        if not d:
            return cls()
        status = d.get("status", "draft")
        if status not in ("draft", "reviewed"):
            status = "draft"
        return cls(status, d.get("reviewer"), d.get("time"))


@dataclass(frozen=True)
class Annotation:
    """Everything the user did to one image. Contour/result are kept as the core's own dicts.

    `calibration` is only a calibration the user made (a DICOM one comes from the file itself);
    `result` is `{"prediction": Prediction.to_dict(), "contour_hash": ..., "model": {...}}`.
    """

    image_sha256: str
    frame: int = 0
    contour: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    review: Review = field(default_factory=Review)
    saved_at: str | None = None
    # Left empty by the GUI: file names can carry patient names ("SMITH_J.dcm"); the key is the hash.
    image_name: str | None = None
    # Display summary for worklists (frame count, calibration label, probability): no identifiers.
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.contour is None and self.calibration is None and self.result is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "app_version": __version__,
            "image_sha256": self.image_sha256,
            "image_name": self.image_name,
            "frame": self.frame,
            "contour": self.contour,
            "calibration": self.calibration,
            "result": self.result,
            "review": self.review.to_dict(),
            "saved_at": self.saved_at,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotation:
        """Parse a sidecar; raises ValueError for anything that is not one we can read."""
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ValueError("not a DLRS annotation file")
        version = d.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ValueError(f"annotation schema version {version!r} is newer than this application")
        sha = d.get("image_sha256")
        if not isinstance(sha, str) or not sha:
            raise ValueError("annotation has no image hash")
        return cls(
            image_sha256=sha,
            frame=int(d.get("frame") or 0),
            contour=d.get("contour"),
            calibration=d.get("calibration"),
            result=d.get("result"),
            review=Review.from_dict(d.get("review")),
            saved_at=d.get("saved_at"),
            image_name=d.get("image_name"),
            summary=dict(d.get("summary") or {}),
        )


@dataclass
class LoadResult:
    """The annotation to apply (if any) and plain-words notes about copies that were skipped."""

    annotation: Annotation | None
    source: Path | None = None
    rejected: list[str] = field(default_factory=list)


@dataclass
class SaveResult:
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _may_write_beside(image_path: Path) -> bool:
    """Never beside the application's own files (bundled samples): only the per-user copy there."""
    if not image_path.exists():
        return False
    try:
        image_path.resolve().relative_to(paths.resources_dir().resolve())
    except ValueError:
        return True
    return False


def beside_path(image_path: str | Path) -> Path:
    p = Path(image_path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


class AnnotationStore:
    """Reads and writes annotations; `root` defaults to `user_data_dir()/annotations`."""

    def __init__(self, root: str | Path | None = None, *, write_beside: bool = True) -> None:
        self.root = Path(root) if root is not None else paths.user_data_dir() / "annotations"
        self.write_beside = write_beside

    def user_path(self, sha256: str) -> Path:
        return self.root / f"{sha256}.json"

    def save(self, annotation: Annotation, image_path: str | Path | None = None) -> SaveResult:
        """Write the per-user copy (must succeed) and the beside-image copy (best effort)."""
        stamped = replace(annotation, saved_at=now_iso())
        data = stamped.to_dict()
        result = SaveResult()
        atomic_write_json(self.user_path(stamped.image_sha256), data)
        result.written.append(self.user_path(stamped.image_sha256))
        if self.write_beside and image_path is not None and _may_write_beside(Path(image_path)):
            target = beside_path(image_path)
            try:
                atomic_write_json(target, data)
                result.written.append(target)
            except OSError as exc:
                result.warnings.append(
                    f"The folder of the image is read-only ({exc.strerror or exc}); the annotation is "
                    f"kept in your personal store instead."
                )
        return result

    def load(self, sha256: str, image_path: str | Path | None = None) -> LoadResult:
        """The newest matching copy; copies for other pixels or unreadable copies are reported, not used."""
        out = LoadResult(None)
        candidates = [self.user_path(sha256)]
        if image_path is not None:
            candidates.append(beside_path(image_path))
        found: list[tuple[str, Path, Annotation]] = []
        for path in candidates:
            if not path.is_file():
                continue
            try:
                ann = Annotation.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                out.rejected.append(f"{path.name}: unreadable annotation ({exc}); not applied.")
                continue
            if ann.image_sha256 != sha256:
                out.rejected.append(
                    f"{path.name} belongs to a different image (its pixels differ); not applied."
                )
                continue
            found.append((ann.saved_at or "", path, ann))
        if found:
            found.sort(key=lambda t: t[0])
            _, out.source, out.annotation = found[-1]
        return out

    # ---------------------------------------------------------------- path index (for worklists)
    def _index_path(self) -> Path:
        return self.root / "index.json"

    def _read_index(self) -> dict[str, Any]:
        try:
            d = json.loads(self._index_path().read_text(encoding="utf-8"))
            return d if isinstance(d, dict) else {}
        except (OSError, ValueError):
            return {}

    def remember_path(self, image_path: str | Path, sha256: str) -> None:
        """Remember which pixels a file had (size + mtime guard), so a worklist needs no decoding."""
        p = Path(image_path).resolve()
        try:
            st = p.stat()
        except OSError:
            return
        index = self._read_index()
        index[str(p)] = {"sha256": sha256, "size": st.st_size, "mtime": st.st_mtime}
        atomic_write_json(self._index_path(), index)

    def known_sha(self, image_path: str | Path) -> str | None:
        p = Path(image_path).resolve()
        entry = self._read_index().get(str(p))
        try:
            st = p.stat()
        except OSError:
            return None
        if entry and entry.get("size") == st.st_size and entry.get("mtime") == st.st_mtime:
            return str(entry["sha256"])
        return None

    def status_of(self, sha256: str | None, image_path: str | Path | None = None) -> Annotation | None:
        """Cheap lookup for the worklist (no rejection notes)."""
        if sha256 is None and image_path is not None:
            sha256 = self.known_sha(image_path)
        if sha256 is None and image_path is not None:
            try:
                d = json.loads(beside_path(image_path).read_text(encoding="utf-8"))
                return Annotation.from_dict(d)
            except (OSError, ValueError, TypeError):
                return None
        if sha256 is None:
            return None
        return self.load(sha256, image_path).annotation
