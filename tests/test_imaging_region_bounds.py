"""A region reaching past the stored pixels means the image was resized or cropped: never trust its scale."""

from pathlib import Path

import numpy as np
import pydicom
import pytest

from dlrs_desktop.imaging import UltrasoundRegion, load_image
from dlrs_desktop.imaging.dicom_writer import write_ultrasound_dicom

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _region(x1: int, y1: int) -> UltrasoundRegion:
    return UltrasoundRegion(0, 10, 10, x1, y1, 1, 1, 3, 3, 0.01, 0.01)


def test_region_inside_the_image_calibrates(tmp_path):
    path = write_ultrasound_dicom(
        tmp_path / "ok.dcm", np.full((120, 160), 90, np.uint8), mm_per_px=None, regions=[_region(159, 119)]
    )
    im = load_image(path)
    assert im.calibration is not None and im.calibration.mm_per_px_x == pytest.approx(0.1)
    assert im.regions[0].fits_image


def test_region_past_the_stored_pixels_leaves_the_image_uncalibrated(tmp_path):
    # As if a 320-px-wide export of a 640-px acquisition kept the scanner's region: scale would be 2x off.
    path = write_ultrasound_dicom(
        tmp_path / "resized.dcm",
        np.full((120, 160), 90, np.uint8),
        mm_per_px=None,
        regions=[_region(319, 239)],
    )
    im = load_image(path)
    assert im.calibration is None
    assert not im.regions[0].fits_image and not im.regions[0].usable_for_mm
    assert im.calibration_for(np.array([[20.0, 20.0], [40.0, 40.0]])) is None


@pytest.mark.skipif(
    not (PYDICOM_FILES / "examples_ybr_color.dcm").exists(), reason="pydicom test data absent"
)
def test_real_sonosite_export_with_oversized_region_is_not_calibrated():
    # pydicom's SonoSite cine: 320x240 pixels, region up to x=595, y=414 (written for 640x480).
    im = load_image(PYDICOM_FILES / "examples_ybr_color.dcm")
    assert (im.width, im.height) == (320, 240)
    assert im.calibration is None
