"""Lesion size by the clinicians' rules (roi/size.py): calipers per view, two-view ellipsoid volume,
change from baseline and the RECIST 1.1 size category, on drawn contours with a known mm/px."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.roi import Contour
from dlrs_desktop.roi import size as sz
from tests.roi_factory import circle, manual_calibration

MM = 0.1  # mm per pixel of every synthetic image here


def disc(diameter_mm: float, mm: float = MM) -> Contour:
    """A circular lesion of a known diameter (128 vertices: opposite vertices are exactly one diameter)."""
    r = diameter_mm / 2 / mm
    return Contour(circle(400.0, 300.0, r, n=128), manual_calibration(mm))


def section(half_across_mm: float, half_depth_mm: float, mm: float = MM) -> Contour:
    """One plane through the centre of an ellipsoid phantom, rasterised as a scanner image would be, then
    outlined from the mask (the path a drawn or assisted contour takes)."""
    h = int(2 * half_depth_mm / mm) + 40
    w = int(2 * half_across_mm / mm) + 40
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    inside = ((xx - cx) * mm / half_across_mm) ** 2 + ((yy - cy) * mm / half_depth_mm) ** 2 <= 1.0
    return Contour.from_mask(inside.astype(np.uint8), manual_calibration(mm))


def test_20_to_13_mm_is_minus_35_percent_partial_response():
    base = sz.TimePoint((sz.view_size(disc(20.0), manual_calibration(MM)),), "baseline")
    fu = sz.TimePoint((sz.view_size(disc(13.0), manual_calibration(MM)),), "after cycle 2")
    assert base.longest_mm == pytest.approx(20.0, abs=1e-6)
    change = sz.compare(base, fu)
    assert change.change_percent == pytest.approx(-35.0, abs=1e-6)
    assert change.change_mm == pytest.approx(-7.0, abs=1e-6)
    assert change.category == "partial response (size criteria)"
    assert change.to_dict()["change_percent"] == -35.0


@pytest.mark.parametrize(
    ("base", "fu", "category"),
    [
        (20.0, 14.0, sz.PARTIAL_RESPONSE),  # exactly -30 %: partial response (<=)
        (20.0, 14.1, sz.STABLE_DISEASE),
        (20.0, 24.0, sz.STABLE_DISEASE),  # +20 % but only 4 mm: not progression
        (25.0, 30.0, sz.PROGRESSIVE_DISEASE),  # +20 % and 5 mm
        (25.0, 29.9, sz.STABLE_DISEASE),
        (40.0, 47.0, sz.STABLE_DISEASE),  # 7 mm but +17.5 %
    ],
)
def test_recist_boundaries(base, fu, category):
    assert sz.size_category(base, fu) == category


def test_complete_response_only_when_the_caller_says_so():
    base = sz.TimePoint((sz.view_size(disc(20.0), manual_calibration(MM)),))
    change = sz.compare(base, None)
    assert change.category == sz.COMPLETE_RESPONSE and change.change_percent == -100.0
    with pytest.raises(ContourError):
        sz.size_category(20.0, 0.0)  # a zero follow-up is not silently a complete response


def test_every_category_says_size_criteria_and_no_diagnosis():
    for c in sz.CATEGORIES:
        assert c.endswith("(size criteria)")
        assert "malignan" not in c and "benign" not in c


def test_no_calibration_is_refused():
    with pytest.raises(CalibrationError):
        sz.view_size(Contour(circle(50, 50, 20)), None)


def test_non_finite_numbers_are_refused():
    with pytest.raises(ContourError):
        sz.size_category(float("nan"), 10.0)
    with pytest.raises(ContourError):
        sz.size_category(20.0, float("inf"))


@pytest.mark.parametrize(
    ("a", "b", "c"),
    [
        (12.0, 8.0, 6.0),  # wider than tall: each view's longest caliper lies across the beam
        (7.0, 5.0, 9.0),  # taller than wide: the longest caliper is the depth in both views
    ],
)
def test_two_view_ellipsoid_volume_within_5_percent(a, b, c):
    cal = manual_calibration(MM)
    radial = sz.view_size(section(a, c), cal)
    antiradial = sz.view_size(section(b, c), cal)
    assert radial.depth_mm == pytest.approx(2 * c, rel=0.03)
    assert antiradial.across_mm == pytest.approx(2 * b, rel=0.03)
    true_volume = 4.0 / 3.0 * math.pi * a * b * c
    tp = sz.TimePoint((radial, antiradial))
    assert tp.volume_mm3 == pytest.approx(true_volume, rel=0.05)


def test_anisotropic_pixels_measure_in_mm():
    cal = manual_calibration((0.1, 0.2))
    # 10 mm across (100 px) x 16 mm deep (80 px): in pixels it looks wider than tall, in mm it is not.
    pts = np.array([[0, 0], [100, 0], [100, 80], [0, 80]], float)
    v = sz.view_size(Contour(pts, cal), cal)
    assert v.longest_along_beam  # the diagonal (10 mm across, 16 mm down) is closer to the beam
    assert v.longest_mm == pytest.approx(math.hypot(10, 16), rel=1e-6)


def test_volume_change_reported_when_both_time_points_have_two_views():
    cal = manual_calibration(MM)
    b = sz.TimePoint((sz.view_size(section(10, 6), cal), sz.view_size(section(8, 6), cal)))
    f = sz.TimePoint((sz.view_size(section(5, 3), cal), sz.view_size(section(4, 3), cal)))
    change = sz.compare(b, f)
    assert change.volume_change_percent == pytest.approx(-87.5, abs=2.0)  # halving each axis: 1/8
    assert change.category == sz.PARTIAL_RESPONSE


def test_a_time_point_has_one_or_two_views():
    with pytest.raises(ContourError):
        sz.TimePoint(())


def test_progression_is_judged_against_the_nadir():
    cal = manual_calibration(MM)
    points = [
        sz.TimePoint((sz.view_size(disc(d), cal),), f"exam {i}") for i, d in enumerate((20.0, 10.0, 15.0))
    ]
    shrink, regrow = sz.series(points)
    assert shrink.category == sz.PARTIAL_RESPONSE  # -50 % from baseline
    # 15 mm is -25 % from baseline, but +50 % and +5 mm over the 10 mm nadir: progression by RECIST 1.1
    assert regrow.change_percent == pytest.approx(-25.0, abs=1e-6)
    assert regrow.category == sz.PROGRESSIVE_DISEASE
    assert sz.size_category(20.0, 15.0) == sz.STABLE_DISEASE  # two exams: the nadir is the baseline
