"""Contour: editing, measurements in mm, offset, mask round trips, JSON and files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.roi import Contour, Measurements
from tests.roi_factory import circle, circle_mm, ellipse

CAL = Calibration.manual(0.1)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _ramanujan(a: float, b: float) -> float:
    h = ((a - b) / (a + b)) ** 2
    return math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))


def test_contour_is_immutable_and_edits_return_new_contours():
    c = Contour([[10, 10], [50, 12], [40, 40]], CAL, frame=2, region_index=1)
    assert c.points.dtype == np.float64 and not c.points.flags.writeable
    with pytest.raises(ValueError):
        c.points[0, 0] = 5
    moved = c.move_vertex(1, (60, 15))
    assert moved.points[1].tolist() == [60, 15] and c.points[1].tolist() == [50, 12]
    assert moved.calibration == CAL and moved.frame == 2 and moved.region_index == 1
    inserted = c.insert_vertex(1, (30, 5))
    assert inserted.points.tolist() == [[10, 10], [30, 5], [50, 12], [40, 40]]
    assert c.insert_vertex(3, (20, 45)).points[-1].tolist() == [20, 45]
    assert c.delete_vertex(0).points.tolist() == [[50, 12], [40, 40]]
    assert c.translated(1, 2).points[0].tolist() == [11, 12]
    assert moved != c and Contour(c.points.copy(), CAL, 2, 1) == c
    with pytest.raises(ContourError):
        Contour([[1, 2, 3]])
    with pytest.raises(ContourError):
        Contour([[1, np.nan], [2, 3], [4, 5]])


def test_content_hash_tracks_points_calibration_and_frame():
    c = Contour(circle(100, 100, 30, 32), CAL)
    h = c.content_hash()
    assert len(h) == 64 and h == Contour(c.points.copy(), CAL).content_hash()
    assert c.move_vertex(3, (c.points[3][0] + 0.01, c.points[3][1])).content_hash() != h
    assert c.with_calibration(Calibration.manual(0.11)).content_hash() != h
    assert Contour(c.points, CAL, frame=1).content_hash() != h


@pytest.mark.parametrize("spacing", [(0.1, 0.1), (0.08, 0.12)])
@pytest.mark.parametrize("angle", [0.0, 0.6])
def test_ellipse_measurements_within_one_percent(spacing, angle):
    """An ellipse of 30 × 18 mm: area, perimeter, longest and perpendicular diameters."""
    sx, sy = spacing
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    u, v = 15.0 * np.cos(t), 9.0 * np.sin(t)  # mm
    x_mm = 40 + math.cos(angle) * u - math.sin(angle) * v
    y_mm = 30 + math.sin(angle) * u + math.cos(angle) * v
    c = Contour(np.column_stack([x_mm / sx, y_mm / sy]), Calibration.manual(sx, sy))
    m = c.measurements()
    assert isinstance(m, Measurements)
    assert m.area_mm2 == pytest.approx(math.pi * 15 * 9, rel=0.01)
    assert m.perimeter_mm == pytest.approx(_ramanujan(15, 9), rel=0.01)
    assert m.max_diameter_mm == pytest.approx(30.0, rel=0.01)
    assert m.perpendicular_diameter_mm == pytest.approx(18.0, rel=0.01)
    # Endpoints are in pixels and measure the same lengths in mm; the two calipers are perpendicular.
    (a, b), (p, q) = np.array(m.max_diameter_endpoints_px), np.array(m.perpendicular_endpoints_px)
    s = np.array([sx, sy])
    assert np.hypot(*((b - a) * s)) == pytest.approx(m.max_diameter_mm)
    assert np.hypot(*((q - p) * s)) == pytest.approx(m.perpendicular_diameter_mm)
    assert abs(np.dot((b - a) * s, (q - p) * s)) < 1e-6 * m.max_diameter_mm**2
    d = m.to_dict()
    assert d["max_diameter_mm"] == m.max_diameter_mm and len(d["perpendicular_endpoints_px"]) == 2


def test_perpendicular_diameter_is_a_chord_of_a_concave_shape():
    # An L shape 20 × 10 mm: the longest diameter is the diagonal; the perpendicular chord ends on it.
    pts = np.array([[0, 0], [200, 0], [200, 40], [40, 40], [40, 100], [0, 100]], float) + 10
    m = Contour(pts, CAL).measurements()
    assert m.max_diameter_mm == pytest.approx(math.hypot(20, 10))
    assert 0 < m.perpendicular_diameter_mm < m.max_diameter_mm
    with pytest.raises(CalibrationError):
        Contour(pts).measurements()
    assert Contour(pts).measurements(CAL).area_mm2 == pytest.approx(20 * 4 + 4 * 6)


def test_mask_round_trip_iou_and_largest_component():
    shape = (300, 400)
    for pts in (circle(150.3, 140.6, 80, 360), ellipse(200, 150, 120, 60, 360, 0.4), circle(50, 50, 7, 60)):
        mask = Contour(pts).to_mask(shape)
        back = Contour.from_mask(mask, CAL, frame=3)
        assert back.calibration == CAL and back.frame == 3
        assert _iou(back.to_mask(shape), mask) >= 0.98
        assert _iou(back.to_mask(shape), Contour(pts).to_mask(shape)) >= 0.98
    # Smooth outline: measurements from a mask match those of the shape.
    smooth = Contour(ellipse(200, 150, 120, 60, 720), CAL)
    from_mask = Contour.from_mask(smooth.to_mask(shape), CAL)
    a, b = smooth.measurements(), from_mask.measurements()
    assert b.area_mm2 == pytest.approx(a.area_mm2, rel=0.01)
    assert b.perimeter_mm == pytest.approx(a.perimeter_mm, rel=0.01)
    # Largest component only, holes filled.
    mask = np.zeros(shape, bool)
    mask[50:150, 50:150] = True
    mask[90:110, 90:110] = False  # hole
    mask[200:210, 300:310] = True  # small speck elsewhere
    c = Contour.from_mask(mask.astype(np.uint8) * 7)
    assert c.points[:, 0].min() > 49 and c.points[:, 0].max() < 151
    assert c.to_mask(shape)[100, 100]  # the hole is filled
    with pytest.raises(ContourError, match="empty"):
        Contour.from_mask(np.zeros(shape, np.uint8))


def test_to_mask_uses_pixel_centres():
    c = Contour([[2, 2], [5, 2], [5, 4], [2, 4]])  # covers pixels x 2..4, y 2..3 exactly
    mask = c.to_mask((6, 7))
    expected = np.zeros((6, 7), bool)
    expected[2:4, 2:5] = True
    assert np.array_equal(mask, expected)
    assert mask.sum() == c.area_px()


@pytest.mark.parametrize("spacing", [(0.1, 0.1), (0.08, 0.12)])
def test_offset_of_circle_by_plus_and_minus_one_mm(spacing):
    sx, sy = spacing
    c = Contour(circle_mm(300.4, 250.7, 10.0, sx, sy, n=256), Calibration.manual(sx, sy))
    for d in (1.0, -1.0, 3.0):
        o = c.offset(d)
        r = np.hypot((o.points[:, 0] - 300.4) * sx, (o.points[:, 1] - 250.7) * sy)
        assert np.all(np.abs(r - (10.0 + d)) <= 0.1), (d, r.min(), r.max())
        assert o.calibration == c.calibration
    assert c.offset(0) is c
    with pytest.raises(ContourError, match="nothing"):
        c.offset(-12.0)
    with pytest.raises(CalibrationError):
        Contour(c.points).offset(1.0)


def test_offset_of_concave_shape_stays_simple():
    from dlrs_desktop.roi import geometry

    pts = np.array([[100, 100], [300, 100], [300, 300], [210, 300], [210, 140], [190, 140], [190, 300]])
    pts = np.vstack([pts, [[100, 300]]]).astype(float)
    c = Contour(pts, CAL)
    grown = c.offset(1.5)  # the 2 mm wide notch closes
    assert not geometry.edge_crossings(grown.points)
    assert grown.measurements().area_mm2 > c.measurements().area_mm2
    shrunk = c.offset(-1.5)
    assert not geometry.edge_crossings(shrunk.points)
    assert shrunk.measurements().area_mm2 < c.measurements().area_mm2


def test_smoothing_resampling_and_simplification():
    rng = np.random.default_rng(0)
    clean = circle(200, 200, 100, 200)
    noisy = Contour(clean + rng.normal(0, 1.5, clean.shape), CAL)
    smooth = noisy.smoothed()
    assert len(smooth) == len(noisy)

    def jitter(c: Contour) -> float:  # vertex-to-vertex roughness: second differences along the outline
        return float(np.hypot(*(np.roll(c.points, 1, 0) - 2 * c.points + np.roll(c.points, -1, 0)).T).mean())

    assert jitter(smooth) < 0.35 * jitter(noisy)
    strong = noisy.smoothed(iterations=20)
    r_noisy = np.hypot(*(noisy.points - 200).T)
    r_strong = np.hypot(*(strong.points - 200).T)
    assert r_strong.std() < 0.6 * r_noisy.std()  # a low-pass filter: the shape itself is kept
    assert r_strong.mean() == pytest.approx(100, abs=0.5)  # Taubin: no shrinkage

    res = Contour(circle(200, 200, 100, 37), CAL).resampled(0.5)
    steps = np.hypot(*(np.roll(res.points, -1, axis=0) - res.points).T) * 0.1
    assert steps.std() < 0.01 * steps.mean() and steps.mean() == pytest.approx(0.5, rel=0.02)
    aniso = Contour(circle_mm(200, 200, 10, 0.08, 0.12, 50), Calibration.manual(0.08, 0.12)).resampled(1.0)
    d = np.roll(aniso.points, -1, axis=0) - aniso.points
    steps_mm = np.hypot(d[:, 0] * 0.08, d[:, 1] * 0.12)
    assert steps_mm.std() < 0.02 and steps_mm.mean() == pytest.approx(1.0, rel=0.02)
    with pytest.raises(ContourError):
        res.resampled(0)

    dense = Contour(np.vstack([np.linspace([0, 0], [100, 0], 50, endpoint=False),
                               np.linspace([100, 0], [100, 80], 40, endpoint=False),
                               np.linspace([100, 80], [0, 80], 50, endpoint=False),
                               np.linspace([0, 80], [0, 0], 40, endpoint=False)]) + 10)  # fmt: skip
    simple = dense.simplified(0.5)
    assert sorted(map(tuple, simple.points.tolist())) == [(10, 10), (10, 90), (110, 10), (110, 90)]
    assert len(Contour(circle(50, 50, 40, 400)).simplified(0.05)) < 400


def test_json_round_trip_and_schema(tmp_path):
    c = Contour(
        ellipse(120.123456789, 80.5, 40, 25, 50), Calibration.manual(0.08, 0.12), frame=4, region_index=0
    )
    d = c.to_dict()
    assert d["schema"] == "dlrs-contour" and d["schema_version"] == 1
    assert d["calibration"]["mm_per_px_y"] == 0.12 and d["frame"] == 4 and d["region_index"] == 0
    again = Contour.from_dict(json.loads(json.dumps(d)))
    assert again == c and again.content_hash() == c.content_hash()

    path = c.save(tmp_path / "sub" / "contour.json")
    assert Contour.load(path) == c
    assert not list(path.parent.glob(".*.tmp"))  # atomic write leaves no temporary file
    # GUI sidecar: any JSON with a top-level "contour" object.
    (tmp_path / "sidecar.json").write_text(json.dumps({"image_sha256": "ab", "contour": d, "result": None}))
    assert Contour.load(tmp_path / "sidecar.json") == c
    # A repeated closing vertex from other tools is dropped.
    closed = dict(d, points=[*d["points"], d["points"][0]])
    assert len(Contour.from_dict(closed)) == len(c)

    newer = dict(d, schema_version=2)
    with pytest.raises(ContourError, match="version 2"):
        Contour.from_dict(newer)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ContourError, match="not a readable"):
        Contour.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ContourError, match="no contour"):
        Contour.load(tmp_path / "other.json")
    with pytest.raises(ContourError, match="not found"):
        Contour.load(tmp_path / "missing.json")


def test_load_any_reads_masks_in_common_encodings_and_labelme(tmp_path):
    shape = (120, 160)
    truth = Contour(circle(80, 60, 30, 120))
    mask = truth.to_mask(shape)
    gray = tmp_path / "gray.png"
    Image.fromarray(mask.astype(np.uint8) * 255).save(gray)
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.dstack([mask * 0, mask * 200, mask * 0]).astype(np.uint8)).save(rgb)
    pal = tmp_path / "palette.png"
    p_img = Image.fromarray(mask.astype(np.uint8), mode="L").convert("P")
    p_img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p_img.save(pal)
    ones = tmp_path / "ones.tif"
    Image.fromarray(mask.astype(np.uint8)).save(ones)
    for path in (gray, rgb, pal, ones):
        c = Contour.load_any(path, shape, calibration=CAL, frame=2)
        assert c.calibration == CAL and c.frame == 2
        assert _iou(c.to_mask(shape), mask) >= 0.98, path.name

    with pytest.raises(ContourError, match="must match"):
        Contour.load_any(gray, (100, 100))
    (tmp_path / "mask.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ContourError, match="PNG"):
        Contour.load_any(tmp_path / "mask.jpg", shape)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ContourError, match="not a readable mask"):
        Contour.load_any(tmp_path / "broken.png", shape)
    Image.fromarray(np.zeros(shape, np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(ContourError, match="empty"):
        Contour.load_any(tmp_path / "empty.png", shape)

    labelme = {
        "version": "5.4.1",
        "shapes": [
            {"label": "tumour", "points": truth.points.tolist(), "shape_type": "polygon"},
            {"label": "note", "points": [[1, 1], [3, 1], [2, 3]], "shape_type": "polygon"},
        ],
        "imageHeight": 120,
        "imageWidth": 160,
    }
    (tmp_path / "labelme.json").write_text(json.dumps(labelme))
    assert np.allclose(Contour.load_any(tmp_path / "labelme.json", shape).points, truth.points)
    c = Contour(truth.points, CAL)
    c.save(tmp_path / "c.json")
    assert Contour.load_any(tmp_path / "c.json", shape) == c
