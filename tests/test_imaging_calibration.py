"""Calibration comes from the right place, in millimetres, or is honestly absent."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.errors import CalibrationError
from dlrs_desktop.imaging import Calibration, UltrasoundRegion, load_image, select_region
from dlrs_desktop.imaging.dicom_writer import build_dataset, tissue_region, write_ultrasound_dicom
from tests.dicom_factory import doppler_regions, dual_view_regions, smooth_gray, write

W, H = 200, 100
LEFT = np.array([[20.0, 20.0], [60.0, 70.0], [30.0, 80.0]])
RIGHT = LEFT + np.array([100.0, 0.0])


def _img() -> np.ndarray:
    return smooth_gray(H, W)


def test_single_region_cm_to_mm(tmp_path):
    im = load_image(write_ultrasound_dicom(tmp_path / "a.dcm", _img(), mm_per_px=(0.12, 0.08)))
    cal = im.calibration
    assert cal is not None and cal.source == "dicom-us-region" and cal.region_index == 0
    assert (cal.mm_per_px_x, cal.mm_per_px_y) == pytest.approx((0.12, 0.08))
    assert im.regions[0].units_x == 3 and im.regions[0].delta_x == pytest.approx(0.012)  # written in cm
    assert im.calibration_for(LEFT) == cal


def test_dual_view_same_depth_has_image_calibration(tmp_path):
    regions = dual_view_regions(W, H, 0.1, 0.1)
    im = load_image(write_ultrasound_dicom(tmp_path / "d.dcm", _img(), mm_per_px=None, regions=regions))
    assert im.calibration is not None and im.calibration.mm_per_px_x == pytest.approx(0.1)
    assert im.calibration_for(RIGHT).region_index == 1
    assert "2 ultrasound regions with equal deltas" in im.provenance.metadata["calibration_note"]


def test_dual_view_different_depths_calibrates_per_region(tmp_path):
    regions = dual_view_regions(W, H, 0.1, 0.15)
    im = load_image(write_ultrasound_dicom(tmp_path / "d.dcm", _img(), mm_per_px=None, regions=regions))
    assert im.calibration is None  # no single scale is right for the whole image
    left, right = im.calibration_for(LEFT), im.calibration_for(RIGHT)
    assert left.mm_per_px_x == pytest.approx(0.1) and left.region_index == 0
    assert right.mm_per_px_x == pytest.approx(0.15) and right.region_index == 1
    straddling = np.vstack([LEFT, RIGHT])
    assert im.calibration_for(straddling) is None  # a contour across both views has no scale


def test_doppler_strip_first_is_not_used(tmp_path):
    regions = doppler_regions(W, H, 0.07)
    im = load_image(write_ultrasound_dicom(tmp_path / "dop.dcm", _img(), mm_per_px=None, regions=regions))
    assert im.regions[0].spatial_format == 3 and not im.regions[0].is_2d_tissue_cm
    assert im.calibration is not None and im.calibration.region_index == 1
    assert im.calibration.mm_per_px_y == pytest.approx(0.07)
    in_strip = np.array([[50.0, 70.0], [80.0, 90.0], [60.0, 95.0]])
    assert im.calibration_for(in_strip) is None
    assert select_region(im.regions, in_strip) is None
    # the scan area never includes the Doppler strip
    assert not im.scan_mask[H // 2 :].any()


def test_regions_without_cm_units_give_no_calibration(tmp_path):
    r = UltrasoundRegion(0, 0, 0, W - 1, H - 1, 1, 1, 0, 0, 0.01, 0.01)  # units "none"
    im = load_image(write_ultrasound_dicom(tmp_path / "n.dcm", _img(), mm_per_px=None, regions=[r]))
    assert im.calibration is None and im.calibration_for(LEFT) is None
    assert "none is a 2D tissue image in cm" in im.provenance.metadata["calibration_note"]


def test_damaged_region_deltas_are_not_a_scale(tmp_path):
    r = UltrasoundRegion(0, 0, 0, W - 1, H - 1, 1, 1, 3, 3, 0.0, 0.0)
    im = load_image(write_ultrasound_dicom(tmp_path / "z.dcm", _img(), mm_per_px=None, regions=[r]))
    assert not im.regions[0].is_2d_tissue_cm
    assert im.calibration is None and im.calibration_for(LEFT) is None


def test_pixel_spacing_fallback_row_column_order(tmp_path):
    ds = build_dataset(_img(), mm_per_px=None, pixel_spacing=(0.2, 0.25))  # (row = y, column = x)
    im = load_image(write(tmp_path / "ps.dcm", ds))
    cal = im.calibration
    assert cal is not None and cal.source == "dicom-pixel-spacing"
    assert (cal.mm_per_px_x, cal.mm_per_px_y) == pytest.approx((0.25, 0.2))
    assert im.calibration_for(LEFT) == cal


@pytest.mark.parametrize(
    ("spacing", "why"),
    [((1.0, 1.0), "placeholder"), ((5.0, 5.0), "outside"), ((0.1, 0.9), "anisotropic")],
)
def test_meaningless_pixel_spacing_is_ignored(tmp_path, spacing, why):
    ds = build_dataset(_img(), mm_per_px=None, pixel_spacing=spacing)
    im = load_image(write(tmp_path / "ps.dcm", ds))
    assert im.calibration is None
    assert why in im.provenance.metadata["calibration_note"]


def test_regions_win_over_conflicting_pixel_spacing(tmp_path):
    ds = build_dataset(_img(), mm_per_px=0.1, pixel_spacing=(0.3, 0.3))
    im = load_image(write(tmp_path / "both.dcm", ds))
    assert im.calibration.source == "dicom-us-region" and im.calibration.mm_per_px_x == pytest.approx(0.1)
    assert "PixelSpacing ignored" in im.provenance.metadata["calibration_note"]


def test_no_calibration_at_all(tmp_path):
    im = load_image(write_ultrasound_dicom(tmp_path / "u.dcm", _img(), mm_per_px=None))
    assert im.regions == () and im.calibration is None and im.calibration_for(LEFT) is None


def test_manual_calibration_overrides_regions(tmp_path):
    regions = dual_view_regions(W, H, 0.1, 0.15)
    im = load_image(write_ultrasound_dicom(tmp_path / "d.dcm", _img(), mm_per_px=None, regions=regions))
    manual = im.with_calibration(Calibration.from_two_points((10, 10), (10, 90), 40.0))
    assert manual.calibration.source == "manual"
    assert manual.calibration.mm_per_px_y == pytest.approx(0.5)
    assert manual.calibration_for(RIGHT) is manual.calibration
    assert im.calibration is None  # the original image is untouched
    with pytest.raises(CalibrationError):
        Calibration.manual(0.0)


def test_tissue_region_helper_writes_cm():
    r = tissue_region(0, 0, 9, 9, 0.25)
    assert r.delta_x == pytest.approx(0.025) and r.calibration().mm_per_px_x == pytest.approx(0.25)
