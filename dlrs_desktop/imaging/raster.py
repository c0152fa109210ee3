"""PNG, JPEG, TIFF and BMP files: pixels only, never a calibration (the user calibrates).

Pillow reads the header first so the size is checked before anything is decoded; OpenCV decodes
(it handles 16-bit and RGBA TIFF/PNG uniformly). Sixteen-bit and float data are scaled min–max
to 8 bits, like a viewer's auto contrast; RGBA is composited over black.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop import limits
from dlrs_desktop.imaging import load_text as T
from dlrs_desktop.imaging.header_limits import jpeg_size
from dlrs_desktop.imaging.pixels import rescale_to_uint8
from dlrs_desktop.imaging.types import cannot_open

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".dib"}
MAX_PIXELS = limits.MAX_PIXELS


@dataclass
class RasterFrame:
    rgb: np.ndarray | None
    gray: np.ndarray | None
    metadata: dict[str, Any] = field(default_factory=dict)


def sniff_raster(head: bytes) -> str | None:
    """The raster format named by the file's first bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    return None


def _header(path: Path, data: bytes | None = None) -> dict[str, Any]:
    """Size and mode from the header only (no pixel decoding)."""
    # lazy: Pillow only when a raster file is read
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path if data is None else io.BytesIO(data)) as im:
                return {
                    "width": int(im.width),
                    "height": int(im.height),
                    "mode": im.mode,
                    "pil_format": im.format,
                    "pages": int(getattr(im, "n_frames", 1) or 1),
                }
        except Image.DecompressionBombError as exc:
            raise cannot_open(
                path, T.OVER_PIXEL_LIMIT, limits.ImageLimitError, limit=MAX_PIXELS // 1_000_000
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return {}


def _raw_header(path: Path, fmt: str, data: bytes | None = None) -> dict[str, Any]:
    """Width and height straight from the bytes when Pillow refuses the header (e.g. a bad chunk CRC):
    libpng and OpenCV may still decode such a file, so its size must be known all the same."""
    if data is not None:
        head = data[: 1 << 20]
    else:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    if fmt == "png" and len(head) >= 24 and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return {"width": int(w), "height": int(h), "mode": "?", "pil_format": None, "pages": 1}
    if fmt == "jpeg":
        size = jpeg_size(head)
        if size:
            return {"width": size[0], "height": size[1], "mode": "?", "pil_format": None, "pages": 1}
    if fmt == "bmp" and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return {"width": abs(int(w)), "height": abs(int(h)), "mode": "?", "pil_format": None, "pages": 1}
    return {}


def _check_limits(path: Path, w: int, h: int) -> None:
    """The header's size against the pixel and decoded-bytes limits, before anything is decoded."""
    if w * h > MAX_PIXELS:
        raise cannot_open(
            path,
            T.TOO_MANY_PIXELS,
            limits.ImageLimitError,
            w=w,
            h=h,
            mp=w * h / 1e6,
            limit=MAX_PIXELS // 1_000_000,
        )
    if w * h * 8 > limits.MAX_FRAME_BYTES:  # up to 4 channels of 16 bits once decoded
        raise cannot_open(
            path,
            T.MAY_DECODE_TOO_LARGE,
            limits.ImageLimitError,
            w=w,
            h=h,
            mb=w * h * 8 / 1024**2,
            limit=limits.MAX_FRAME_BYTES // 1024**2,
        )


def read_raster(path: Path, fmt: str, data: bytes | None = None) -> RasterFrame:
    """Decode the (first page of a) raster image into 8-bit display pixels.

    `data`: the file's bytes, already read (and hashed) by the caller; they are what is decoded.
    """
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    info = _header(path, data) or _raw_header(path, fmt, data)
    if not info:
        raise cannot_open(path, T.RASTER_NO_SIZE, kind=fmt.upper())
    w, h = info["width"], info["height"]
    if w <= 0 or h <= 0:
        raise cannot_open(path, T.EMPTY, w=w, h=h)
    _check_limits(path, w, h)
    buf = np.fromfile(path, dtype=np.uint8) if data is None else np.frombuffer(data, dtype=np.uint8)
    try:
        arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        arr = None
    if arr is None or arr.size == 0:
        raise cannot_open(path, T.RASTER_UNDECODABLE, kind=fmt.upper())
    if arr.shape[:2] != (info["height"], info["width"]):
        raise cannot_open(path, T.RASTER_SIZE_MISMATCH)
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise cannot_open(path, T.RASTER_TOO_LARGE)

    meta: dict[str, Any] = {
        "format": fmt,
        "bits": int(arr.dtype.itemsize * 8),
        "channels": 1 if arr.ndim == 2 else int(arr.shape[2]),
        "rows": int(arr.shape[0]),
        "columns": int(arr.shape[1]),
        "number_of_frames": 1,
        "photometric_interpretation": None,
    }
    if info:
        meta["mode"] = info["mode"]
        if info["pages"] > 1:
            meta["pages"] = info["pages"]  # only the first page is read

    if arr.ndim == 2:
        meta["photometric_interpretation"] = "MONOCHROME2"
        return RasterFrame(None, rescale_to_uint8(arr), meta)
    channels = arr.shape[2]
    if arr.dtype != np.uint8:
        arr = rescale_to_uint8(arr)
    if channels == 1:
        meta["photometric_interpretation"] = "MONOCHROME2"
        return RasterFrame(None, np.ascontiguousarray(arr[:, :, 0]), meta)
    if channels == 2:  # grey + alpha
        g = arr[:, :, 0].astype(np.uint16) * arr[:, :, 1] // 255
        meta["photometric_interpretation"] = "MONOCHROME2"
        return RasterFrame(None, g.astype(np.uint8), meta)
    if channels == 4:
        alpha = arr[:, :, 3:4].astype(np.uint16)
        bgr = (arr[:, :, :3].astype(np.uint16) * alpha // 255).astype(np.uint8)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    else:
        rgb = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB)
    meta["photometric_interpretation"] = "RGB"
    return RasterFrame(np.ascontiguousarray(rgb), None, meta)
