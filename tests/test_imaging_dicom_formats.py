"""Every DICOM encoding a scanner writes decodes to the source pixels, with the written calibration."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.imaging import dicom_writer as dw
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.dicom_writer import build_dataset
from tests.dicom_factory import (
    as_monochrome1,
    as_palette,
    as_planar,
    as_ybr_full,
    as_ybr_full_422,
    palette_lut,
    smooth_gray,
    smooth_rgb,
    write,
)

UNCOMPRESSED = [dw.EXPLICIT_VR_LITTLE_ENDIAN, dw.IMPLICIT_VR_LITTLE_ENDIAN, dw.EXPLICIT_VR_BIG_ENDIAN]
LOSSLESS = [
    dw.RLE_LOSSLESS,
    dw.JPEG_LOSSLESS_SV1,
    dw.JPEG_LOSSLESS,
    dw.JPEG_LS_LOSSLESS,
    dw.JPEG_2000_LOSSLESS,
]
MM = (0.083, 0.091)  # anisotropic on purpose: x and y must not be swapped


def _diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())


def _check_calibration(im) -> None:
    assert im.calibration is not None
    assert im.calibration.source == "dicom-us-region"
    assert im.calibration.mm_per_px_x == pytest.approx(MM[0])
    assert im.calibration.mm_per_px_y == pytest.approx(MM[1])


@pytest.mark.parametrize("ts", UNCOMPRESSED + LOSSLESS)
def test_gray_8bit_exact(tmp_path, ts):
    g = smooth_gray()
    im = load_image(write(tmp_path / "g.dcm", build_dataset(g, mm_per_px=MM), ts))
    assert im.gray.dtype == np.uint8 and im.gray.shape == g.shape
    assert np.array_equal(im.gray, g)
    assert np.array_equal(im.display, np.repeat(g[:, :, None], 3, axis=2))
    assert im.provenance.metadata["transfer_syntax_uid"] == ts
    assert im.provenance.metadata["photometric_interpretation"] == "MONOCHROME2"
    _check_calibration(im)


@pytest.mark.parametrize("ts", UNCOMPRESSED + LOSSLESS)
def test_rgb_exact(tmp_path, ts):
    rgb = smooth_rgb()
    im = load_image(write(tmp_path / "c.dcm", build_dataset(rgb, mm_per_px=MM), ts))
    assert np.array_equal(im.display, rgb)
    # analysis pixels are the BT.601 luma of the display pixels
    luma = np.rint(rgb @ np.array([0.299, 0.587, 0.114]))
    assert _diff(im.gray, luma) <= 1
    _check_calibration(im)


@pytest.mark.parametrize("ts", [dw.EXPLICIT_VR_LITTLE_ENDIAN, dw.EXPLICIT_VR_BIG_ENDIAN, dw.RLE_LOSSLESS])
def test_rgb_planar_configuration_1(tmp_path, ts):
    rgb = smooth_rgb()
    ds = as_planar(build_dataset(rgb, mm_per_px=MM))
    im = load_image(write(tmp_path / "p.dcm", ds, ts))
    assert np.array_equal(im.display, rgb)


@pytest.mark.parametrize("ts", UNCOMPRESSED)
def test_monochrome1_is_inverted_for_display(tmp_path, ts):
    g = smooth_gray()
    im = load_image(write(tmp_path / "m1.dcm", as_monochrome1(build_dataset(g, mm_per_px=MM)), ts))
    assert im.provenance.metadata["photometric_interpretation"] == "MONOCHROME1"
    assert np.array_equal(im.gray, g)


@pytest.mark.parametrize("ts", [*UNCOMPRESSED, dw.JPEG_2000_LOSSLESS, dw.JPEG_LOSSLESS_SV1, dw.RLE_LOSSLESS])
def test_gray_16bit_scaled_minmax(tmp_path, ts):
    g16 = smooth_gray().astype(np.uint16) * 16 + 100
    expected = np.rint((g16 - g16.min()) * 255.0 / (g16.max() - g16.min()))
    im = load_image(write(tmp_path / "g16.dcm", build_dataset(g16, mm_per_px=MM), ts))
    assert _diff(im.gray, expected) == 0


def test_gray_16bit_uses_the_stored_window(tmp_path):
    g16 = smooth_gray().astype(np.uint16) * 16
    ds = build_dataset(g16, mm_per_px=MM)
    ds.BitsStored, ds.HighBit, ds.WindowCenter, ds.WindowWidth = 12, 11, 2000, 2000
    im = load_image(write(tmp_path / "w.dcm", ds))
    expected = np.clip(np.rint((g16.astype(float) - 1000) / 2000 * 255), 0, 255)
    assert _diff(im.gray, expected) <= 1
    assert im.gray.min() == 0 and im.gray.max() == 255  # saturated where outside the window


@pytest.mark.parametrize(("bits", "words16"), [(8, False), (8, True), (16, False)])
@pytest.mark.parametrize("ts", [dw.EXPLICIT_VR_LITTLE_ENDIAN, dw.IMPLICIT_VR_LITTLE_ENDIAN])
def test_palette_color(tmp_path, bits, words16, ts):
    idx = smooth_gray()
    ds = as_palette(build_dataset(idx, mm_per_px=MM), bits, words16)
    im = load_image(write(tmp_path / "pal.dcm", ds, ts))
    assert im.provenance.metadata["photometric_interpretation"] == "PALETTE COLOR"
    assert np.array_equal(im.display, palette_lut()[idx])
    _check_calibration(im)


def test_ybr_full(tmp_path):
    rgb = smooth_rgb()
    im = load_image(write(tmp_path / "ybr.dcm", as_ybr_full(build_dataset(rgb, mm_per_px=MM))))
    assert im.provenance.metadata["photometric_interpretation"] == "YBR_FULL"
    assert _diff(im.display, rgb) <= 1  # colour-space round trip rounding only


def test_ybr_full_422_uncompressed(tmp_path):
    rgb = np.repeat(smooth_rgb()[:, ::2], 2, axis=1)  # chroma constant over each pixel pair
    im = load_image(write(tmp_path / "y422.dcm", as_ybr_full_422(build_dataset(rgb, mm_per_px=MM))))
    assert im.provenance.metadata["photometric_interpretation"] == "YBR_FULL_422"
    assert _diff(im.display, rgb) <= 1


def test_jpeg_baseline_colour_is_ybr_full_422_and_close(tmp_path):
    rgb = smooth_rgb()
    im = load_image(write(tmp_path / "jb.dcm", build_dataset(rgb, mm_per_px=MM), dw.JPEG_BASELINE))
    assert im.provenance.metadata["photometric_interpretation"] == "YBR_FULL_422"
    assert im.provenance.metadata["transfer_syntax_uid"] == dw.JPEG_BASELINE
    err = np.abs(im.display.astype(int) - rgb.astype(int))
    assert err.mean() < 3.0 and err.max() <= 24
    _check_calibration(im)


def test_jpeg_baseline_gray(tmp_path):
    g = smooth_gray()
    im = load_image(write(tmp_path / "jg.dcm", build_dataset(g, mm_per_px=MM), dw.JPEG_BASELINE))
    assert np.abs(im.gray.astype(int) - g.astype(int)).mean() < 1.5
    assert _diff(im.gray, g) <= 8


@pytest.mark.parametrize("pixels", [smooth_gray(), smooth_rgb()], ids=["gray", "rgb"])
def test_jpeg2000_lossy_close(tmp_path, pixels):
    im = load_image(write(tmp_path / "j2k.dcm", build_dataset(pixels, mm_per_px=MM), dw.JPEG_2000))
    got = im.gray if pixels.ndim == 2 else im.display
    err = np.abs(got.astype(int) - pixels.astype(int))
    assert err.mean() < 2.0 and err.max() <= 16
    _check_calibration(im)


def test_bare_dataset_without_preamble(tmp_path):
    """Old modalities write the dataset without the 128-byte preamble and file meta."""
    import pydicom

    g = smooth_gray()
    ds = build_dataset(g, mm_per_px=MM)
    path = tmp_path / "bare"
    del ds.file_meta
    pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True)
    assert path.read_bytes()[128:132] != b"DICM"
    im = load_image(path)
    assert np.array_equal(im.gray, g)
    _check_calibration(im)
