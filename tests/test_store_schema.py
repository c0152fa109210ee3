"""Every sidecar field is validated (issue 14): a malformed value rejects the copy with a reason that
names the field, never an exception of another type and never a half-built annotation."""

from __future__ import annotations

import json

import pytest

from dlrs_desktop.store import Annotation, SessionStore
from dlrs_desktop.store.schema import SidecarError

SHA = "e" * 64
GOOD = {
    "schema": "dlrs-annotation",
    "schema_version": 1,
    "image_sha256": SHA,
    "frame": 2,
    "contour": {"points": [[1, 2], [30, 2], [30, 40]], "calibration": None, "frame": 2},
    "calibration": {"mm_per_px_x": 0.1, "mm_per_px_y": 0.12, "source": "user", "region_index": None},
    "result": {"prediction": {"probability": 0.4, "threshold": 0.5, "category": "x"}, "contour_hash": "h"},
    "review": {"status": "reviewed", "reviewer": "Dr A", "time": "2026-01-01T00:00:00+00:00"},
    "saved_at": "2026-01-01T00:00:00.000+00:00",
    "summary": {},
}


def test_the_good_sidecar_parses():
    ann = Annotation.from_dict(json.loads(json.dumps(GOOD)))
    assert ann.frame == 2 and ann.review.reviewer == "Dr A" and ann.calibration["mm_per_px_y"] == 0.12


@pytest.mark.parametrize(
    "path,value,field",
    [
        (("frame",), True, "frame"),
        (("frame",), 2.0, "frame"),
        (("frame",), -1, "frame"),
        (("frame",), 10**30, "frame"),
        (("image_sha256",), "abc", "image_sha256"),
        (("schema_version",), True, "version"),
        (("saved_at",), 5, "saved_at"),
        (("saved_at",), "2026-01-01T00:00:00", "saved_at"),  # no time zone: not comparable
        (("review",), "reviewed", "review"),
        (("review", "status"), "approved", "review.status"),
        (("review", "reviewer"), ["<b>x</b>"], "review.reviewer"),
        (("review", "reviewer"), "x" * 10_000, "review.reviewer"),
        (("calibration", "mm_per_px_x"), float("inf"), "calibration.mm_per_px_x"),
        (("calibration", "mm_per_px_x"), 0.0, "calibration.mm_per_px_x"),
        (("calibration", "mm_per_px_y"), "0.1", "calibration.mm_per_px_y"),
        (("contour", "points"), [[1, 2], [float("nan"), 2], [3, 4]], "contour.points[1]"),
        (("contour", "points"), [[1, 2, 3]], "contour.points[0]"),
        (("contour", "points"), "1,2 3,4", "contour.points"),
        (("contour", "frame"), 1.5, "contour.frame"),
        (("result", "prediction", "probability"), 1.5, "probability"),
        (("result", "prediction", "probability"), float("nan"), "probability"),
        (("result", "contour_hash"), None, "contour_hash"),
        (("summary",), [1, 2], "summary"),
        (("summary",), {"frame_count": "3"}, "summary.frame_count"),
        (("summary",), {"frame_count": 10**9}, "summary.frame_count"),
        (("summary",), {"stale": "yes"}, "summary.stale"),
        (("summary",), {"calibration": "<b>" * 200}, "summary.calibration"),
        (("result", "prediction", "regions"), [{"name": "t", "probability": 0.5}], "coefficient"),
        (("result", "prediction", "regions"), [{"name": 5, "probability": 0.5, "coefficient": 1}], "name"),
        (("result", "prediction", "flags"), ["<b>x</b>"], "flags[0]"),
        (("result", "prediction", "sensitivity"), {"min": "0.1"}, "sensitivity.min"),
        (("result", "prediction", "sensitivity"), {"probabilities": [0.1, float("inf")]}, "probabilities[1]"),
        (("result", "prediction", "timings_ms"), {"total": float("nan")}, "timings_ms.total"),
        (("result", "waited_ms"), "12", "waited_ms"),
    ],
)
def test_each_malformed_field_rejects_the_copy_naming_the_field(path, value, field):
    d = json.loads(json.dumps(GOOD))
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValueError) as info:
        Annotation.from_dict(d)
    assert field in str(info.value)


def test_missing_mm_per_px_y_is_named():
    d = json.loads(json.dumps(GOOD))
    del d["calibration"]["mm_per_px_y"]
    with pytest.raises(SidecarError, match="mm_per_px_y"):
        Annotation.from_dict(d)


def test_a_garbled_session_file_never_breaks_start_up(tmp_path):
    path = tmp_path / "session.json"
    path.write_text(json.dumps({"clean_exit": "no", "pid": "x", "image": 5, "frame": 1e9, "extra": []}))
    s = SessionStore(path).read()
    assert s is not None and s.pid is None and s.image is None and s.frame == 0 and s.extra == {}
    path.write_text("[" * 100_000)
    assert SessionStore(path).read() is None


def test_the_worklist_summary_is_typed_and_round_trips():
    from dlrs_desktop.store import Summary

    d = json.loads(json.dumps(GOOD))
    d["summary"] = {"frame_count": 12, "calibration": "0.1 mm/px (user)", "stale": True, "probability": 0.4}
    ann = Annotation.from_dict(d)
    assert ann.summary == Summary(12, "0.1 mm/px (user)", True)  # an older version's extra key dropped
    assert Annotation.from_dict(ann.to_dict()).summary == ann.summary
    assert Annotation.from_dict(json.loads(json.dumps(GOOD))).to_dict()["summary"] == {}  # none stays none
