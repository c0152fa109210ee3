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

from dlrs_desktop.errors import DlrsError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FRAME = 100_000  # far beyond any cine loop; a larger "frame" is garbage
MAX_POINTS = 1_000_000  # a sanity bound on a file; the contour core applies its own, tighter limit
MAX_TEXT = 500  # reviewer names, sources, labels
MAX_LIST = 1000  # regions, flags, sensitivity offsets
MAX_MESSAGE = 20_000  # messages the application itself wrote into a result (device notes, flags)
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


def text(value: Any, field: str, *, optional: bool = True, max_len: int = MAX_TEXT) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(field, f"is not text ({type(value).__name__})")
    if len(value) > max_len:
        raise _fail(field, f"is longer than {max_len} characters")
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
    # lazy: roi imports cv2 (~0.45 s); the GUI reads sidecars at start-up
    from dlrs_desktop.roi import Contour

    try:
        Contour.from_dict(value)
    except (DlrsError, ValueError, TypeError, KeyError) as exc:
        raise _fail("contour", f"cannot be read ({exc})") from None
    return value


def _numbers(value: Any, field: str, *, allow_none: bool = False) -> None:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise _fail(field, "is not a list of numbers")
    for i, v in enumerate(value):
        if not (allow_none and v is None):
            finite_number(v, f"{field}[{i}]")


def _optional_numbers(d: dict[str, Any], keys: tuple[str, ...], field: str) -> None:
    for key in keys:
        if d.get(key) is not None:
            finite_number(d[key], f"{field}.{key}")


def _probability(value: Any, field: str) -> float:
    p = finite_number(value, field)
    if not 0.0 <= p <= 1.0:
        raise _fail(field, "is not between 0 and 1")
    return p


def result(value: Any) -> dict[str, Any] | None:
    """A saved prediction, shaped as the model writes it: every number finite, every text text.

    It is never shown as current anyway (it is re-computed first); the checks keep the panel and the
    report from tripping over a hand-edited block.
    """
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("prediction"), dict):
        raise _fail("result", "is not a saved prediction")
    if not isinstance(value.get("contour_hash"), str):
        raise _fail("result.contour_hash", "is missing")
    _optional_numbers(value, ("waited_ms",), "result")
    for key in ("model", "identity"):
        if value.get(key) is not None and not isinstance(value[key], dict):
            raise _fail(f"result.{key}", "is not an object")
    thresholds = (value.get("model") or {}).get("region_thresholds")
    if thresholds is not None:
        if not isinstance(thresholds, dict):
            raise _fail("result.model.region_thresholds", "is not an object")
        for name, t in thresholds.items():
            finite_number(t, f"result.model.region_thresholds.{name}")
    pred = value["prediction"]
    _probability(pred.get("probability"), "result.prediction.probability")
    _optional_numbers(pred, ("threshold",), "result.prediction")
    for key in ("category", "device", "backend", "precision", "device_note", "research_notice"):
        text(pred.get(key), f"result.prediction.{key}", max_len=MAX_MESSAGE)
    # the region networks, then the radiomics signatures (model/radiomics.py) if the bundle has them
    for part in ("regions", "signatures"):
        items = pred.get(part) or []
        if not isinstance(items, list) or len(items) > MAX_LIST:
            raise _fail(f"result.prediction.{part}", "is not a list")
        for i, r in enumerate(items):
            where = f"result.prediction.{part}[{i}]"
            if not isinstance(r, dict):
                raise _fail(where, "is not an object")
            text(r.get("name"), f"{where}.name", optional=False)
            _probability(r.get("probability"), f"{where}.probability")
            finite_number(r.get("coefficient"), f"{where}.coefficient")
            _optional_numbers(
                r, ("logit", "contribution", "radius_mm", "area_mm2", "clipped_fraction"), where
            )
    flags = pred.get("flags") or []
    if not isinstance(flags, list) or len(flags) > MAX_LIST:
        raise _fail("result.prediction.flags", "is not a list")
    for i, f in enumerate(flags):
        if not isinstance(f, dict):
            raise _fail(f"result.prediction.flags[{i}]", "is not an object")
        for key in ("code", "message", "severity"):
            text(f.get(key), f"result.prediction.flags[{i}].{key}", max_len=MAX_MESSAGE)
    sens = pred.get("sensitivity")
    if sens is not None:
        if not isinstance(sens, dict):
            raise _fail("result.prediction.sensitivity", "is not an object")
        _optional_numbers(sens, ("min", "max", "time_ms"), "result.prediction.sensitivity")
        for key, allow_none in (("offsets_mm", False), ("probabilities", True)):
            if sens.get(key) is not None:
                _numbers(sens[key], f"result.prediction.sensitivity.{key}", allow_none=allow_none)
    timings = pred.get("timings_ms")
    if timings is not None:
        if not isinstance(timings, dict):
            raise _fail("result.prediction.timings_ms", "is not an object")
        _optional_numbers(timings, tuple(str(k) for k in timings), "result.prediction.timings_ms")
    _domain_fields(pred)
    return value


DOMAIN_STATUSES = ("inside", "unusual", "outside", "unknown")


def _domain_fields(pred: dict[str, Any]) -> None:
    """The domain guard and the conformal set (model/domain.py), optional (older sidecars lack them)."""
    dom = pred.get("domain")
    if dom is not None:
        if not isinstance(dom, dict) or dom.get("status") not in DOMAIN_STATUSES:
            raise _fail("result.prediction.domain.status", f"is not one of {', '.join(DOMAIN_STATUSES)}")
        _optional_numbers(dom, ("score", "unusual_above", "outside_above"), "result.prediction.domain")
        text(dom.get("reason"), "result.prediction.domain.reason", max_len=MAX_MESSAGE)
    classes = pred.get("prediction_set")
    if classes is not None:
        if not isinstance(classes, list) or len(classes) > 2:
            raise _fail("result.prediction.prediction_set", "is not a list of at most two classes")
        for i, c in enumerate(classes):
            text(c, f"result.prediction.prediction_set[{i}]", optional=False, max_len=MAX_MESSAGE)
    if pred.get("coverage") is not None:
        _probability(pred["coverage"], "result.prediction.coverage")


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


EXAM_VIEWS = ("radial", "antiradial")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def exam(value: Any) -> dict[str, Any] | None:
    """The user's time-point data for an image: label, patient/date for non-DICOM, orthogonal pair.

    `patient` and `date` are what the user assigned to a PNG/JPEG (a DICOM carries its own);
    `pair` is the sha256 of the orthogonal view of the same lesion at the same exam.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail("exam", "is not an object")
    out: dict[str, Any] = {}
    for key in ("label", "patient"):
        if value.get(key) not in (None, ""):
            out[key] = text(value[key], f"exam.{key}", max_len=200)
    if value.get("date") not in (None, ""):
        if not isinstance(value["date"], str) or not DATE.match(value["date"]):
            raise _fail("exam.date", "is not a date (YYYY-MM-DD)")
        out["date"] = value["date"]
    if value.get("view") is not None:
        if value["view"] not in EXAM_VIEWS:
            raise _fail("exam.view", "is neither 'radial' nor 'antiradial'")
        out["view"] = value["view"]
    if value.get("pair") is not None:
        out["pair"] = sha256(value["pair"], "exam.pair")
    return out or None
