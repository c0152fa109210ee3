"""The scan area covers the imaged tissue (dark lesion included) and leaves out text, rulers, margins."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dlrs_desktop.imaging import dicom_writer as dw
from dlrs_desktop.imaging import image_from_array, load_image
from tests.dicom_factory import bmode_frame, dual_view_regions, write_bmode_dicom


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _fan_extended(mask: np.ndarray, area: np.ndarray) -> None:
    """The scan area covers the fan and adds tissue only below the last echoes (down to the region's
    bottom, which the scanner declared imaged), never beside the fan (ruler, margins)."""
    rows = np.flatnonzero(area.any(axis=1))
    assert (mask & area).sum() > 0.99 * area.sum()
    beside = mask & ~area
    beside[rows.max() + 1 :] = False
    assert beside.sum() < 0.025 * area.sum()  # the fitted edges: ±1 px along the fan's sides


@pytest.mark.parametrize(
    ("ts", "colour"),
    [(dw.EXPLICIT_VR_LITTLE_ENDIAN, False), (dw.JPEG_BASELINE, True)],
)
def test_realistic_bmode_dicom(tmp_path, ts, colour):
    path, pixels, area = write_bmode_dicom(tmp_path / "bm.dcm", transfer_syntax=ts, colour=colour)
    im = load_image(path)
    m = im.scan_mask
    assert m.dtype == bool and m.shape == im.shape and not m.flags.writeable
    assert im.provenance.metadata["scan_mask"] == "regions-geometry"
    _fan_extended(m, area)
    gray = pixels if pixels.ndim == 2 else pixels[..., 0]
    text_rows = slice(0, int(0.1 * im.height))
    assert gray[text_rows].max() == 255 and not m[text_rows].any()  # burned-in text is out
    ruler = (gray == 200) & ~area
    assert ruler.sum() > 100 and not (m & ruler).any()  # the depth ruler is out
    lesion = area & (gray < 12)
    assert lesion.sum() > 500 and m[lesion].mean() > 0.99  # the dark tumour itself is in
    r = im.regions[0]
    outside = np.ones_like(m)
    outside[r.y0 : r.y1 + 1, r.x0 : r.x1 + 1] = False
    assert not (m & outside).any()


def test_dual_view_keeps_both_views_and_not_the_gap(tmp_path):
    left, area_l, _ = bmode_frame(300, 320, seed=1)
    right, area_r, _ = bmode_frame(300, 320, seed=2)
    img, area = np.hstack([left, right]), np.hstack([area_l, area_r])
    regions = dual_view_regions(640, 300, 0.1, 0.1)
    im = load_image(dw.write_ultrasound_dicom(tmp_path / "dv.dcm", img, mm_per_px=None, regions=regions))
    _fan_extended(im.scan_mask, area)
    assert im.view_count == 2
    assert (
        im.scan_mask[:, :320].sum() > 0.4 * area_l.sum() and im.scan_mask[:, 320:].sum() > 0.4 * area_r.sum()
    )
    gap = np.zeros_like(area)
    gap[: np.flatnonzero(area.any(axis=1)).max() + 1, 300:340] = True  # beside the fans, not below
    near = cv2.dilate(area.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # fitted edges: ±1 px
    assert not (im.scan_mask & gap & ~near).any()


def test_array_without_regions_detects_from_pixels():
    pixels, area, _ = bmode_frame(seed=4)
    im = image_from_array(pixels)
    assert im.provenance.metadata["scan_mask"] == "pixels"
    assert _iou(im.scan_mask, area) > 0.97


def test_blank_image_falls_back_to_the_whole_frame():
    im = image_from_array(np.full((120, 160), 5, np.uint8))
    assert im.provenance.metadata["scan_mask"] == "full" and im.scan_mask.all()


def test_region_without_detectable_image_uses_the_rectangle(tmp_path):
    img = np.zeros((100, 200), np.uint8)
    region = dw.tissue_region(20, 10, 119, 89, 0.1)
    im = load_image(dw.write_ultrasound_dicom(tmp_path / "b.dcm", img, mm_per_px=None, regions=[region]))
    assert im.provenance.metadata["scan_mask"] == "regions"
    assert im.scan_mask.sum() == 100 * 80 and im.scan_mask[10:90, 20:120].all()


def _speckle(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = cv2.GaussianBlur(rng.rayleigh(50.0, (h, w)).astype(np.float32), (0, 0), 1.5)
    return np.clip(s + 30, 0, 255).astype(np.uint8)


def test_side_by_side_views_without_a_gap_are_split():
    """Two independent images written edge to edge, as GE's dual view (tests/data/real: US1_UNCR)."""
    frame = np.zeros((420, 640), np.uint8)
    frame[20:400, 20:620] = np.hstack([_speckle(380, 300, 1), _speckle(380, 300, 2)])
    im = image_from_array(frame)
    assert im.view_count == 2 and im.views[200, 100] != im.views[200, 500]
    assert {int(im.views[200, 318]), int(im.views[200, 321])} == {1, 2}  # the seam at x 319/320
    one = image_from_array(np.pad(_speckle(380, 600, 3), 20))
    assert one.view_count == 1  # one image of the same texture is not split


def test_top_bottom_views_with_a_gap_are_two_views():
    """Top/bottom layouts leave a black gap (a seam between rows is accepted only when it is very
    abrupt: rows of one image differ more than columns do, docs/IMAGING.md)."""
    frame = np.zeros((440, 640), np.uint8)
    frame[20:210, 20:620] = _speckle(190, 600, 1)
    frame[226:416, 20:620] = _speckle(190, 600, 2)
    im = image_from_array(frame)
    assert im.view_count == 2 and im.views[100, 320] != im.views[300, 320]
    assert not im.scan_mask[212:224].any()


def test_a_dark_band_bounded_by_tissue_is_not_a_gap_between_views():
    """A flat-black cyst across nearly the whole width with dim tissue at its end (as BUSI benign 188)
    is one scan; the same band padded across the full width, with a label in it, is two views."""
    frame = np.pad(_speckle(400, 600, 4), 20)
    yy, xx = np.mgrid[:440, :640]
    wave = 12 * np.sin(xx / 40.0)  # a lesion's wall, not a straight seam
    cyst = (yy > 190 + wave) & (yy < 260 - wave) & (xx >= 20) & (xx < 620)
    frame[cyst] = 1
    tissue = cyst & (xx < 60)
    frame[tissue] = (_speckle(440, 640, 5) // 10)[tissue]  # dim speckle, below the black level
    im = image_from_array(frame.copy())
    assert im.view_count == 1 and im.scan_mask[cyst].all()
    frame[tissue] = 1
    frame[224:230, 300:330] = 200  # a label written in the padding
    assert image_from_array(frame).view_count == 2


def test_a_caliper_line_over_the_whole_height_is_not_a_seam():
    """A sonographer's vertical measurement line is two steps side by side, not the edge of a view."""
    frame = np.pad(_speckle(380, 600, 3), 20)
    frame[20:400, 320] = 200
    assert image_from_array(frame).view_count == 1
