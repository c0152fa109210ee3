"""validate_contour: every refusal has a plain message; only unambiguous self-intersections are repaired."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging.types import Calibration, UltrasoundRegion
from dlrs_desktop.roi import Contour, validate_contour
from dlrs_desktop.roi.geometry import edge_crossings, signed_area
from tests.roi_factory import circle, circle_mm, make_image

IMAGE = make_image((300, 400), mm_per_px=0.1)


def test_valid_contour_passes_and_gets_the_images_calibration():
    c = Contour(circle(200, 150, 50, 64))
    out = validate_contour(c, IMAGE)
    assert np.array_equal(out.points, c.points)
    assert out.calibration == IMAGE.calibration
    # The image's calibration wins over the one the contour was drawn under (points are pixels).
    out2 = validate_contour(c.with_calibration(Calibration.manual(0.3)), IMAGE)
    assert out2.calibration == IMAGE.calibration


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([[10, 10], [50, 50]], "at least 3 points"),
        ([[10, 10], [10, 10], [50, 50], [50, 50.0]], "3 distinct points"),
        ([[10, 10], [50, 50], [90, 90]], "no area"),
        ([[100, 100], [110, 100], [110, 110], [100, 110]], r"only 1 mm², below the 4 mm² minimum"),
        ([[100, 100], [420, 100], [300, 200]], "1 of the contour's 3 points lie outside the image"),
        ([[-1, 100], [200, -5], [300, 200]], "2 of the contour's 3 points lie outside"),
    ],
)
def test_refusals_in_plain_words(points, message):
    with pytest.raises(ContourError, match=message):
        validate_contour(Contour(points), IMAGE)


def test_minimum_area_is_configurable_and_uses_pixels_without_calibration():
    small = Contour([[100, 100], [110, 100], [110, 110], [100, 110]])  # 1 mm² at 0.1 mm/px
    assert validate_contour(small, IMAGE, min_area_mm2=0.5) is not None
    uncalibrated = make_image((300, 400), mm_per_px=None)
    out = validate_contour(small, uncalibrated)
    assert out.calibration is None
    with pytest.raises(ContourError, match="pixels"):
        validate_contour(Contour([[100, 100], [102, 100], [102, 102], [100, 102]]), uncalibrated)


def test_contour_leaving_the_scan_area_is_refused():
    scan = np.zeros((300, 400), bool)
    scan[40:, 50:350] = True
    image = make_image((300, 400), mm_per_px=0.1, scan_mask=scan)
    with pytest.raises(ContourError, match="outside the scan area"):
        validate_contour(Contour(circle(70, 150, 40, 64)), image)
    # A contour that only grazes the scan area's edge (<= 2 % of its pixels) is accepted.
    assert validate_contour(Contour(circle(89, 150, 40, 64)), image) is not None


def test_frame_mismatch_is_refused():
    image = make_image((300, 400), frame_index=2, frame_count=5)
    with pytest.raises(ContourError, match=r"frame 1 \(index 0\) but the image shows frame 3 \(index 2\)"):
        validate_contour(Contour(circle(200, 150, 50, 64)), image)
    assert validate_contour(Contour(circle(200, 150, 50, 64), frame=2), image).frame == 2


def _region(index, x0, y0, x1, y1, mm=0.1, spatial=1, data=1, ux=3, uy=3):
    return UltrasoundRegion(index, x0, y0, x1, y1, spatial, data, ux, uy, mm / 10, mm / 10)


def test_ultrasound_regions_pick_the_calibration_and_refuse_crossing_two():
    regions = (_region(0, 0, 0, 199, 299, mm=0.1), _region(1, 200, 0, 399, 299, mm=0.2))
    image = make_image((300, 400), mm_per_px=None, regions=regions)
    right = validate_contour(Contour(circle(300, 150, 30, 64)), image)
    assert right.region_index == 1 and right.calibration.mm_per_px_x == pytest.approx(0.2)
    assert right.calibration.source == "dicom-us-region"
    with pytest.raises(ContourError, match="crosses two ultrasound regions"):
        validate_contour(Contour(circle(200, 150, 30, 64)), image)

    doppler = (_region(0, 0, 150, 399, 299, spatial=3, data=3, ux=4, uy=7), _region(1, 0, 0, 399, 149))
    image = make_image((300, 400), mm_per_px=None, regions=doppler)
    with pytest.raises(ContourError, match="not a 2D tissue image"):
        validate_contour(Contour(circle(200, 220, 30, 64)), image)
    assert validate_contour(Contour(circle(200, 70, 30, 64)), image).region_index == 1

    one = (_region(0, 50, 50, 349, 249),)
    image = make_image((300, 400), mm_per_px=None, regions=one)
    with pytest.raises(ContourError, match="leaves the ultrasound image region"):
        validate_contour(Contour(circle(60, 150, 30, 64)), image)


def test_tiny_loop_from_freehand_overshoot_is_cut_off():
    pts = circle_mm(200, 150, 8.0, 0.1, 0.1, n=120)
    overshoot = np.array([[pts[0, 0] + 4, pts[0, 1] + 8], [pts[0, 0] - 3, pts[0, 1] - 6]])
    c = Contour(np.vstack([pts, overshoot]))
    assert edge_crossings(c.points)
    out = validate_contour(c, IMAGE)
    assert not edge_crossings(out.points)
    assert abs(signed_area(out.points)) == pytest.approx(abs(signed_area(pts)), rel=0.02)


def test_bow_tie_from_a_dragged_vertex_is_repaired():
    square = np.array([[100, 100], [150, 100], [200, 100], [200, 200], [100, 200]], float)
    twisted = Contour(square).move_vertex(1, (210, 110))  # dragged past the corner at (200, 100)
    assert edge_crossings(twisted.points)
    out = validate_contour(twisted, IMAGE)
    assert not edge_crossings(out.points)
    assert abs(signed_area(out.points)) > 0.95 * 100 * 100


def test_spike_is_removed():
    pts = [[100, 100], [200, 100], [200, 200], [150, 200], [150, 250], [150, 200], [100, 200]]
    out = validate_contour(Contour(pts), IMAGE)
    assert [150, 250] not in out.points.tolist()
    assert not edge_crossings(out.points)


@pytest.mark.parametrize(
    "points",
    [
        [[100, 100], [200, 200], [200, 100], [100, 200]],  # figure of eight, two equal halves
        [[100, 100], [300, 100], [300, 120], [150, 120], [150, 80], [130, 80], [130, 250], [100, 250]],
    ],
)
def test_ambiguous_self_intersections_are_refused(points):
    with pytest.raises(ContourError, match="crosses itself"):
        validate_contour(Contour(points), IMAGE)


def test_closing_duplicate_and_repeated_vertices_are_dropped():
    pts = circle(200, 150, 50, 32)
    c = Contour(np.vstack([pts[:5], pts[4:5], pts[5:], pts[:1]]))
    out = validate_contour(c, IMAGE)
    assert len(out) == 32
