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
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.store import schema, sidecar

SCHEMA = "dlrs-annotation"
SCHEMA_VERSION = 1
SIDECAR_SUFFIX = ".dlrs.json"

ReviewStatus = Literal["draft", "reviewed"]


def now_iso(*, precise: bool = False) -> str:
    """UTC time with milliseconds (microseconds for sidecar stamps, which order concurrent writes)."""
    return datetime.now(UTC).isoformat(timespec="microseconds" if precise else "milliseconds")


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
        """Raises ValueError for a malformed review (a string, an unknown status, a non-text name)."""
        status, reviewer, when = schema.review(d)
        return cls(status, reviewer, when)  # type: ignore[arg-type]


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
    # Time point of the image (schema.exam): label, assigned patient/date, orthogonal pair. Optional.
    exam: dict[str, Any] | None = None

    @property
    def is_empty(self) -> bool:
        return self.contour is None and self.calibration is None and self.result is None and not self.exam

    def to_dict(self) -> dict[str, Any]:
        d = self._dict()
        if self.exam:  # written only when set: sidecars without a time point stay as they were
            d["exam"] = dict(self.exam)
        return d

    def _dict(self) -> dict[str, Any]:
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
        """Parse a sidecar, every field checked; raises ValueError (SidecarError) for anything else."""
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ValueError("not a DLRS annotation file")
        version = d.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"annotation schema version {version!r:.40} is not valid")
        if version > SCHEMA_VERSION:
            raise ValueError(f"annotation schema version {version!r} is newer than this application")
        if d.get("image_sha256") in (None, ""):
            raise ValueError("annotation has no image hash")
        saved_at = d.get("saved_at")
        if saved_at is not None:
            schema.timestamp(saved_at, "saved_at")
        summary = d.get("summary")
        if summary is not None and not isinstance(summary, dict):
            raise schema.SidecarError("field 'summary' is not an object")
        status, reviewer, when = schema.review(d.get("review"))
        return cls(
            image_sha256=schema.sha256(d.get("image_sha256"), "image_sha256"),
            frame=0 if d.get("frame") is None else schema.integer(d["frame"], "frame", 0, schema.MAX_FRAME),
            contour=schema.contour(d.get("contour")),
            calibration=schema.calibration(d.get("calibration")),
            result=schema.result(d.get("result")),
            review=Review(status, reviewer, when),  # type: ignore[arg-type]
            saved_at=saved_at,
            image_name=schema.text(d.get("image_name"), "image_name"),
            summary=dict(summary or {}),
            exam=schema.exam(d.get("exam")),
        )

    def substance(self) -> dict[str, Any]:
        """What the user made (not when or by which version): equal substance means nothing to lose."""
        d = self.to_dict()
        for key in ("saved_at", "app_version", "summary", "image_name"):
            d.pop(key, None)
        return d

    def saved_time(self) -> datetime:
        """`saved_at` as a time (the oldest possible when missing), for newest-copy comparisons."""
        if self.saved_at is None:
            return datetime.min.replace(tzinfo=UTC)
        return schema.timestamp(self.saved_at, "saved_at")


@dataclass
class LoadResult:
    """The annotation to apply (if any), copies that were skipped and what the user must be told."""

    annotation: Annotation | None
    source: Path | None = None
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # divergent copies, backups kept


@dataclass
class SaveResult:
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # storage faults, in plain words
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where:kind, message) to dedupe on
    backups: list[str] = field(default_factory=list)  # one sentence per backup kept: tell the user
    backed_up: list[Path] = field(default_factory=list)  # the copy each sentence is about

    @property
    def ok(self) -> bool:
        """Acknowledged: at least one copy is on disk."""
        return bool(self.written)


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
    """Reads and writes annotations; `root` defaults to `user_data_dir()/annotations`.

    Never destroys: a copy is overwritten only when its bytes are the ones this store last read or
    wrote there, or when it holds the same work; anything else (unreadable, another image's, newer,
    written meanwhile by another window) is kept as a timestamped backup first and reported.
    Storage faults never raise: they come back as `SaveResult.problems` and the work stays in memory.
    """

    def __init__(self, root: str | Path | None = None, *, write_beside: bool = True) -> None:
        self.root = Path(root) if root is not None else paths.user_data_dir() / "annotations"
        self.write_beside = write_beside
        self._seen: dict[str, str] = {}  # path -> fingerprint of the bytes we last read or wrote there
        self._base: dict[str, Annotation] = {}  # image sha -> the annotation last loaded or saved

    def clean_stale_temps(self) -> list[Path]:
        """Remove the temporary files killed sessions left in the data folders (at start-up)."""
        from dlrs_desktop.fileio import clean_stale_temps

        removed = clean_stale_temps(self.root) + clean_stale_temps(self.root / "backups")
        if self.root.parent.resolve() == paths.user_data_dir().resolve():
            removed += clean_stale_temps(self.root.parent)
        return removed

    def user_path(self, sha256: str) -> Path:
        return self.root / f"{sha256}.json"

    def _targets(self, sha256: str, image_path: str | Path | None) -> list[tuple[str, Path]]:
        out = [("Your personal annotation folder", self.user_path(sha256))]
        if self.write_beside and image_path is not None and _may_write_beside(Path(image_path)):
            out.append(("The image's folder", beside_path(image_path)))
        return out

    # ---------------------------------------------------------------- saving
    def save(self, annotation: Annotation, image_path: str | Path | None = None) -> SaveResult:
        """Write both copies (each best effort); `ok` when at least one is on disk."""
        result = SaveResult()
        with sidecar.image_lock(self.root / ".locks", annotation.image_sha256):
            # Stamped under the lock, so that saved_at follows the order of the writes.
            stamped = replace(annotation, saved_at=now_iso(precise=True))
            payload = (json.dumps(stamped.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            for where, target in self._targets(stamped.image_sha256, image_path):
                if not self._make_room(where, target, stamped.image_sha256, result):
                    continue
                try:
                    atomic_write_bytes(target, payload)
                except OSError as exc:
                    kind, message = sidecar.storage_problem(exc, where)
                    result.problems.append((f"{where}:{kind}", message))
                    result.warnings.append(message)
                    continue
                self._seen[str(target)] = sidecar.digest(payload)
                result.written.append(target)
        if result.written:
            self._base[stamped.image_sha256] = stamped
        return result

    def _make_room(self, where: str, target: Path, sha256: str, result: SaveResult) -> bool:
        """True when `target` may be overwritten; keeps a backup first when it holds other work."""
        copy = sidecar.read_copy(target, sha256)
        if not copy.exists or copy.fingerprint == self._seen.get(str(target)):
            return True
        base = self._base.get(sha256)
        if copy.annotation is not None and base is not None:
            if copy.annotation.substance() == base.substance():
                return True  # the same work, only saved at another time
            if copy.annotation.saved_time() < base.saved_time():
                return True  # an older copy, superseded by what this window loaded or saved
        if not sidecar.folder_writable(target.parent):
            message = f"{where} is read-only: the annotation cannot be saved there."
            result.problems.append((f"{where}:read-only", message))
            result.warnings.append(message)
            return False  # it cannot be overwritten either, so nothing is lost
        if copy.problem is not None:
            why = f"{target.name} could not be used ({copy.problem})"
        else:
            when = copy.annotation.saved_at  # type: ignore[union-attr]
            why = (
                f"{target.name} was saved at {when} by another DLRS window or program while this "
                "one had the image open (two writers)"
            )
        kept = sidecar.keep_backup(copy, self.root / "backups")
        if kept is None:
            message = f"{why}; it was not overwritten because no backup of it could be written."
            result.problems.append((f"{target}:no-backup", message))
            result.warnings.append(message)
            return False
        result.backups.append(f"{why}. It was kept as {kept} before saving your work.")
        result.backed_up.append(target)
        return True

    # ---------------------------------------------------------------- loading
    def load(
        self, sha256: str, image_path: str | Path | None = None, *, keep_backups: bool = False
    ) -> LoadResult:
        """The copy to open: the newest valid one, except that a personal copy beats one in a folder
        this user cannot write (their later saves could only go to the personal copy).

        Unusable copies are listed in `rejected`; with `keep_backups` (the window, which will save
        over them) they are kept as a backup now, so the user is told once, with the path — a plain
        read (the CLI) writes nothing. An older valid copy is superseded; a later-stamped one that was
        not opened is in `notes`.
        """
        out = LoadResult(None)
        copies = [sidecar.read_copy(self.user_path(sha256), sha256)]
        if image_path is not None:
            copies.append(sidecar.read_copy(beside_path(image_path), sha256))
        for c in copies:
            if c.problem is not None:
                out.rejected.append(self._reject(c, keep_backups))
        valid = [c for c in copies if c.annotation is not None]
        if not valid:
            self._base.pop(sha256, None)
            return out
        chosen = max(valid, key=lambda c: c.annotation.saved_time())  # type: ignore[union-attr]
        if len(valid) == 2 and not sidecar.folder_writable(valid[1].path.parent):
            chosen = valid[0]
        assert chosen.annotation is not None
        out.annotation, out.source = chosen.annotation, chosen.path
        self._base[sha256] = chosen.annotation
        for c in valid:
            assert c.annotation is not None
            same = c.annotation.substance() == chosen.annotation.substance()
            if c is chosen or same or c.annotation.saved_time() < chosen.annotation.saved_time():
                self._seen[str(c.path)] = c.fingerprint or ""  # superseded: may be overwritten
            elif c.annotation.saved_time() > chosen.annotation.saved_time():
                out.notes.append(
                    f"Two saved versions of this image's annotation differ. Opened: your personal copy "
                    f"{chosen.path} (saved {chosen.annotation.saved_at}), because the image's folder "
                    f"cannot be written. The copy there, {c.path}, carries a later time "
                    f"({c.annotation.saved_at}); it is left as it is."
                )
        return out

    def _reject(self, copy: sidecar.Copy, keep_backup: bool) -> str:
        """An unusable copy: kept as a backup now (once), so the user is told about it once, here."""
        text = f"{copy.path} was not applied: {copy.problem}."
        if not keep_backup or copy.data is None or not sidecar.folder_writable(copy.path.parent):
            return text  # nothing readable to keep, or nothing can overwrite it
        kept = sidecar.keep_backup(copy, self.root / "backups")
        if kept is None:
            return text + " It will not be overwritten, since no backup of it could be written."
        self._seen[str(copy.path)] = copy.fingerprint or ""  # preserved: may now be overwritten
        return text + f" Its content is kept as {kept}."

    # ---------------------------------------------------------------- path index (for worklists)
    def _index_path(self) -> Path:
        return self.root / "index.json"

    def _read_index(self) -> dict[str, Any]:
        try:
            d = json.loads(self._index_path().read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return d if isinstance(d, dict) else {}

    def remember_path(self, image_path: str | Path, sha256: str) -> None:
        """Remember which pixels a file had (size + mtime guard), so a worklist needs no decoding.

        Only a convenience: a read-only or full data folder simply leaves it unrecorded.
        """
        p = Path(image_path).resolve()
        try:
            st = p.stat()
            index = self._read_index()
            index[str(p)] = {"sha256": sha256, "size": st.st_size, "mtime": st.st_mtime}
            atomic_write_bytes(self._index_path(), json.dumps(index, indent=2).encode("utf-8"))
        except OSError:
            return

    def known_sha(self, image_path: str | Path) -> str | None:
        p = Path(image_path).resolve()
        entry = self._read_index().get(str(p))
        try:
            st = p.stat()
        except OSError:
            return None
        if (
            isinstance(entry, dict)
            and entry.get("size") == st.st_size
            and entry.get("mtime") == st.st_mtime
            and isinstance(entry.get("sha256"), str)
            and schema.SHA256.match(entry["sha256"])
        ):
            return str(entry["sha256"])
        return None

    def status_of(self, sha256: str | None, image_path: str | Path | None = None) -> Annotation | None:
        """Cheap, read-only lookup for the worklist: never raises, never writes (no backups, no notes)."""
        if sha256 is None and image_path is not None:
            sha256 = self.known_sha(image_path)
        if sha256 is None and image_path is not None:
            return sidecar.read_copy(beside_path(image_path), None).annotation  # never a FIFO, never raises
        if sha256 is None:
            return None
        copies = [sidecar.read_copy(self.user_path(sha256), sha256)]
        if image_path is not None:
            copies.append(sidecar.read_copy(beside_path(image_path), sha256))
        valid = [c.annotation for c in copies if c.annotation is not None]
        return max(valid, key=lambda a: a.saved_time()) if valid else None
