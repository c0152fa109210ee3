"""PNG, JPEG, BMP, TIFF: exact pixels for lossless formats, never a calibration, sha256 of the file."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
from PIL import Image

from dlrs_desktop.imaging import image_from_array, load_image
from tests.dicom_factory import smooth_gray, smooth_rgb


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _check_common(im, path) -> None:
    assert im.calibration is None and im.regions == ()
    assert (im.frame_count, im.frame_index) == (1, 0)
    assert im.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert im.display.dtype == np.uint8 and im.display.shape == (*im.shape, 3)
    assert not im.display.flags.writeable and not im.gray.flags.writeable


@pytest.mark.parametrize("ext", ["png", "bmp", "tif"])
def test_gray_8bit_exact(tmp_path, ext):
    g = smooth_gray()
    path = tmp_path / f"g.{ext}"
    assert cv2.imwrite(str(path), g)
    im = load_image(path)
    assert np.array_equal(im.gray, g) and np.array_equal(im.display[..., 1], g)
    _check_common(im, path)


@pytest.mark.parametrize("ext", ["png", "bmp", "tif"])
def test_rgb_8bit_exact(tmp_path, ext):
    rgb = smooth_rgb()
    path = tmp_path / f"c.{ext}"
    assert cv2.imwrite(str(path), _bgr(rgb))
    im = load_image(path)
    assert np.array_equal(im.display, rgb)
    assert im.provenance.metadata["photometric_interpretation"] == "RGB"
    _check_common(im, path)


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_gray_16bit_scaled(tmp_path, ext):
    g16 = smooth_gray().astype(np.uint16) * 200 + 1000
    path = tmp_path / f"g16.{ext}"
    assert cv2.imwrite(str(path), g16)
    im = load_image(path)
    expected = np.rint((g16 - g16.min()) * 255.0 / (g16.max() - g16.min()))
    assert np.array_equal(im.gray, expected.astype(np.uint8))
    assert im.provenance.metadata["bits"] == 16


def test_rgb_16bit_tiff(tmp_path):
    rgb = smooth_rgb()
    rgb16 = rgb.astype(np.uint16) * 257
    path = tmp_path / "c16.tif"
    assert cv2.imwrite(str(path), _bgr(rgb16))
    im = load_image(path)
    lo, hi = int(rgb16.min()), int(rgb16.max())
    expected = np.rint((rgb16.astype(float) - lo) * 255 / (hi - lo))
    assert np.array_equal(im.display, expected.astype(np.uint8))


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_rgba_composited_over_black(tmp_path, ext):
    rgb = smooth_rgb()
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :10] = 0
    path = tmp_path / f"a.{ext}"
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path)
    im = load_image(path)
    assert np.array_equal(im.display[:, 10:], rgb[:, 10:])
    assert not im.display[:, :10].any()


def test_palette_png(tmp_path):
    g = smooth_gray()
    path = tmp_path / "p.png"
    Image.fromarray(g, "L").convert("P").save(path)
    expected = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(load_image(path).display, expected)


def test_jpeg_close(tmp_path):
    rgb = smooth_rgb()
    path = tmp_path / "c.jpg"
    assert cv2.imwrite(str(path), _bgr(rgb), [cv2.IMWRITE_JPEG_QUALITY, 95])
    im = load_image(path)
    assert np.abs(im.display.astype(int) - rgb.astype(int)).mean() < 3.0
    assert im.provenance.metadata["format"] == "jpeg"
    _check_common(im, path)


def test_format_from_content_not_name(tmp_path):
    g = smooth_gray()
    path = tmp_path / "really_a_png.dat"
    assert cv2.imwrite(str(tmp_path / "x.png"), g)
    path.write_bytes((tmp_path / "x.png").read_bytes())
    assert np.array_equal(load_image(path).gray, g)


def test_image_from_array_hashes_pixels():
    rgb = smooth_rgb()
    im = image_from_array(rgb)
    assert im.sha256 == hashlib.sha256(rgb.tobytes()).hexdigest()
    assert np.array_equal(im.display, rgb) and im.calibration is None
    assert im.provenance.path == "<memory>"
