"""What one sidecar holds: the user's annotation of one image and its review, parsed field by field.

The data alone (no files): the sidecar reader (`store.sidecar`) and the store (`store.annotation`) both
build on it, so neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from dlrs_desktop import __version__
from dlrs_desktop.store import schema

SCHEMA = "dlrs-annotation"
SCHEMA_VERSION = 1

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
class Summary:
    """What a worklist shows of an image without opening it: no identifiers, every value checked on
    reading (a forged sidecar cannot put arbitrary text or types into the list)."""

    frame_count: int | None = None
    calibration: str | None = None  # the calibration's label, e.g. "0.078 mm/px (DICOM region)"
    stale: bool = False  # the saved result belongs to another contour than the saved one

    def to_dict(self) -> dict[str, Any]:
        if self == Summary():
            return {}  # sidecars saved without a summary stay as they were
        return {"frame_count": self.frame_count, "calibration": self.calibration, "stale": self.stale}

    @classmethod
    def from_dict(cls, d: Any) -> Summary:
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise schema.SidecarError("field 'summary' is not an object")
        frames, stale = d.get("frame_count"), d.get("stale", False)
        frame_count = schema.integer(frames, "summary.frame_count", 1, schema.MAX_FRAME) if frames else None
        if not isinstance(stale, bool):
            raise schema.SidecarError("field 'summary.stale' is not true or false")
        return cls(
            frame_count=frame_count,
            calibration=schema.text(d.get("calibration"), "summary.calibration"),
            stale=stale,
        )  # other keys (older versions' display fields) are dropped


@dataclass(frozen=True)
class Annotation:
    """Everything the user did to one image. Contour/result are kept as the core's own dicts.

    `calibration` is only a calibration the user made (a DICOM one comes from the file itself);
    `result` is `{"prediction": Prediction.to_json_dict(), "contour_hash": ..., "model": {...}}`, kept as
    JSON here (store/ may not import model/, pyproject contracts); readers type it with
    `Prediction.from_json_dict`.
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
    summary: Summary = field(default_factory=Summary)  # what the worklist shows
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
            "summary": self.summary.to_dict(),
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
            summary=Summary.from_dict(d.get("summary")),
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
