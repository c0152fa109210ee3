"""Every kind of bad file gives one ImageLoadError in plain words (never a traceback)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pydicom
import pytest

from dlrs_desktop.errors import ImageLoadError
from dlrs_desktop.imaging import dicom_writer as dw
from dlrs_desktop.imaging import image_from_array, load_image
from dlrs_desktop.imaging.dicom_writer import build_dataset
from tests.dicom_factory import smooth_gray, write


def _dicom(tmp_path, ts=dw.EXPLICIT_VR_LITTLE_ENDIAN, name="ok.dcm"):
    return dw.write_ultrasound_dicom(
        tmp_path / name, smooth_gray(120, 160), mm_per_px=0.1, transfer_syntax=ts
    )


def _raises(path, match, frame=None):
    with pytest.raises(ImageLoadError, match=match) as info:
        load_image(path, frame=frame)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_missing_file(tmp_path):
    _raises(tmp_path / "nope.dcm", "does not exist")


def test_folder(tmp_path):
    _raises(tmp_path, "is a folder")


def test_empty_file(tmp_path):
    (tmp_path / "e.dcm").write_bytes(b"")
    _raises(tmp_path / "e.dcm", "the file is empty")


def test_text_file(tmp_path):
    (tmp_path / "notes.dcm").write_text("patient looked fine\n" * 20)
    _raises(tmp_path / "notes.dcm", "neither a DICOM file nor a supported image")


@pytest.mark.parametrize(
    "ts", [dw.EXPLICIT_VR_LITTLE_ENDIAN, dw.IMPLICIT_VR_LITTLE_ENDIAN, dw.JPEG_BASELINE, dw.RLE_LOSSLESS]
)
@pytest.mark.parametrize("keep", [0.1, 0.6, 0.98])
def test_truncated_dicom(tmp_path, ts, keep):
    path = _dicom(tmp_path, ts)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    _raises(path, "incomplete|truncated")


def test_truncated_inside_header(tmp_path):
    path = _dicom(tmp_path)
    path.write_bytes(path.read_bytes()[:300])
    _raises(path, "incomplete|truncated|damaged")


def test_unsupported_transfer_syntax(tmp_path):
    path = _dicom(tmp_path, dw.JPEG_BASELINE)
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.102"  # MPEG-4 video
    ds.save_as(path, enforce_file_format=True)
    msg = _raises(path, "compression .* is not supported")
    assert "MPEG" in msg


def test_no_pixel_data(tmp_path):
    ds = build_dataset(smooth_gray(), mm_per_px=0.1)
    for kw in ("PixelData", "Rows", "Columns"):
        del ds[kw]
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    _raises(write(tmp_path / "sr.dcm", ds), "contains no image")


def test_image_header_without_pixel_data(tmp_path):
    ds = build_dataset(smooth_gray(), mm_per_px=0.1)
    del ds.PixelData
    _raises(write(tmp_path / "np.dcm", ds), "image data is missing")


def test_zero_sized(tmp_path):
    ds = build_dataset(smooth_gray(), mm_per_px=0.1)
    ds.Rows = 0
    _raises(write(tmp_path / "z.dcm", ds), r"empty \(96 x 0 pixels\)")


def test_absurdly_large_is_refused_before_decoding(tmp_path):
    ds = build_dataset(smooth_gray(), mm_per_px=0.1)  # only 6 kB of pixels: nothing is decoded
    ds.Rows, ds.Columns = 20000, 10000
    _raises(write(tmp_path / "big.dcm", ds), "too large .*200 megapixels")


def test_frame_out_of_range_single_frame(tmp_path):
    _raises(_dicom(tmp_path), r"frame 1 does not exist; the file has 1 frame \(0 to 0\)", frame=1)


def test_unsupported_photometric(tmp_path):
    ds = build_dataset(smooth_gray(), mm_per_px=0.1)
    ds.PhotometricInterpretation = "HSV"
    _raises(write(tmp_path / "hsv.dcm", ds), "colour encoding 'HSV' is not supported")


def test_corrupt_jpeg_frame(tmp_path):
    path = _dicom(tmp_path, dw.JPEG_BASELINE)
    ds = pydicom.dcmread(path)
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate([b"\xff\xd8\xff\xe0" + b"garbage" * 50])
    ds.save_as(path, enforce_file_format=True)
    _raises(path, "cannot be decoded")


def test_unreadable_raster(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    _raises(path, "damaged or truncated")


def test_truncated_png(tmp_path):
    path = tmp_path / "t.png"
    assert cv2.imwrite(str(path), smooth_gray(200, 300))
    path.write_bytes(path.read_bytes()[:200])
    _raises(path, "damaged or truncated")


def test_mislabelled_raster(tmp_path):
    path = tmp_path / "scan.jpg"
    path.write_text("this is not a picture")
    _raises(path, "named like a JPG image but its content is not one")


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_huge_raster_refused_from_header(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(20000, 20000))
    _raises(path, "too large")


def test_raster_frame_out_of_range(tmp_path):
    path = tmp_path / "g.png"
    assert cv2.imwrite(str(path), smooth_gray())
    _raises(path, "frame 2 does not exist", frame=2)


@pytest.mark.parametrize("shape", [(0, 10), (10, 10, 2), (4,)])
def test_image_from_array_rejects_non_images(shape):
    with pytest.raises(ImageLoadError, match="not an image"):
        image_from_array(np.zeros(shape, np.uint8))
