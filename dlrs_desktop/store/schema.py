"""Field-by-field validation of annotation sidecars (no Qt): a sidecar is a file, and files lie.

Every field is checked for type, range and finiteness before anything is built from it, so a
malformed copy (`"review": "reviewed"`, `"frame": 1e400`, `"saved_at": 5`, a calibration without
`mm_per_px_y`) is rejected as a whole with one plain-words reason, and the other copy is used.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FRAME = 100_000  # far beyond any cine loop; a larger "frame" is garbage
MAX_POINTS = 1_000_000  # a sanity bound on a file; the contour core applies its own, tighter limit
MAX_TEXT = 500  # reviewer names, sources, labels
MM_PER_PX_RANGE = (1e-4, 10.0)  # 0.1 µm .. 10 mm per pixel: anything outside is not ultrasound


class SidecarError(ValueError):
    """A sidecar field is missing, of the wrong type, out of range or not finite."""


def _fail(field: str, why: str) -> SidecarError:
    return SidecarError(f"field '{field}' {why}")


def finite_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(field, f"is not a number ({type(value).__name__})")
    try:
        out = float(value)
    except OverflowError:
        raise _fail(field, "is out of range") from None
    if not math.isfinite(out):
        raise _fail(field, "is not a finite number")
    return out


def integer(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"is not a whole number ({value!r:.40})")
    if not lo <= value <= hi:
        raise _fail(field, f"is out of range ({lo}..{hi})")
    return value


def text(value: Any, field: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(field, f"is not text ({type(value).__name__})")
    if len(value) > MAX_TEXT:
        raise _fail(field, f"is longer than {MAX_TEXT} characters")
    return value


def timestamp(value: Any, field: str) -> datetime:
    """An ISO 8601 time with a time zone (what `now_iso()` writes)."""
    if not isinstance(value, str) or len(value) > 64:
        raise _fail(field, "is not a date and time")
    try:
        out = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(field, "is not a date and time") from None
    if out.tzinfo is None:
        raise _fail(field, "has no time zone")
    return out


def sha256(value: Any, field: str) -> str:
    if not isinstance(value, str) or not SHA256.match(value):
        raise _fail(field, "is not a sha256 hash")
    return value


def calibration(value: Any, field: str = "calibration") -> dict[str, Any] | None:
    """A user calibration: both pixel spacings finite and plausible, a source label."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(field, "is not an object")
    for axis in ("mm_per_px_x", "mm_per_px_y"):
        if axis not in value:
            raise _fail(f"{field}.{axis}", "is missing")
        mm = finite_number(value[axis], f"{field}.{axis}")
        if not MM_PER_PX_RANGE[0] <= mm <= MM_PER_PX_RANGE[1]:
            raise _fail(f"{field}.{axis}", f"is outside {MM_PER_PX_RANGE[0]}..{MM_PER_PX_RANGE[1]} mm/pixel")
    text(value.get("source"), f"{field}.source", optional=False)
    if value.get("region_index") is not None:
        integer(value["region_index"], f"{field}.region_index", 0, 1000)
    return value


def contour(value: Any) -> dict[str, Any] | None:
    """Points finite, calibration and frame valid; the contour core then parses it once more."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail("contour", "is not an object")
    points = value.get("points")
    if not isinstance(points, list) or len(points) > MAX_POINTS:
        raise _fail("contour.points", "is not a list of points")
    for i, pt in enumerate(points):
        if not isinstance(pt, list) or len(pt) != 2:
            raise _fail(f"contour.points[{i}]", "is not an [x, y] pair")
        finite_number(pt[0], f"contour.points[{i}]")
        finite_number(pt[1], f"contour.points[{i}]")
    calibration(value.get("calibration"), "contour.calibration")
    if value.get("frame") is not None:
        integer(value["frame"], "contour.frame", 0, MAX_FRAME)
    if value.get("region_index") is not None:
        integer(value["region_index"], "contour.region_index", 0, 1000)
    from dlrs_desktop.errors import DlrsError
    from dlrs_desktop.roi import Contour

    try:
        Contour.from_dict(value)
    except (DlrsError, ValueError, TypeError, KeyError) as exc:
        raise _fail("contour", f"cannot be read ({exc})") from None
    return value


def result(value: Any) -> dict[str, Any] | None:
    """A saved prediction: only its shape is checked; it is never shown as current anyway."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("prediction"), dict):
        raise _fail("result", "is not a saved prediction")
    pred = value["prediction"]
    p = finite_number(pred.get("probability"), "result.prediction.probability")
    if not 0.0 <= p <= 1.0:
        raise _fail("result.prediction.probability", "is not between 0 and 1")
    if pred.get("threshold") is not None:
        finite_number(pred["threshold"], "result.prediction.threshold")
    text(pred.get("category"), "result.prediction.category")
    if not isinstance(value.get("contour_hash"), str):
        raise _fail("result.contour_hash", "is missing")
    if value.get("model") is not None and not isinstance(value["model"], dict):
        raise _fail("result.model", "is not an object")
    return value


def review(value: Any) -> tuple[str, str | None, str | None]:
    if value is None:
        return "draft", None, None
    if not isinstance(value, dict):
        raise _fail("review", "is not an object")
    status = value.get("status", "draft")
    if status not in ("draft", "reviewed"):
        raise _fail("review.status", "is neither 'draft' nor 'reviewed'")
    reviewer = text(value.get("reviewer"), "review.reviewer")
    when = text(value.get("time"), "review.time")
    return status, reviewer, when
