"""Build ultrasound test images in code: realistic B-mode frames and DICOM files in every encoding.

`bmode_frame` draws what a scanner screen capture looks like (black margins, a fan-shaped
speckled image with a dark lesion, a burned-in text strip, a depth ruler); `write_bmode_dicom`
wraps it in a US DICOM file with ultrasound regions. The `as_*` helpers re-encode an uncompressed
dataset from `dicom_writer.build_dataset` into the less common photometric interpretations, so
tests can compare the decoded pixels with the source array.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.imaging.dicom_writer import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    build_dataset,
    encode_dataset,
    tissue_region,
    write_dataset,
)
from dlrs_desktop.imaging.types import UltrasoundRegion


def bmode_frame(
    h: int = 480,
    w: int = 640,
    *,
    seed: int = 0,
    mm_per_px: float = 0.1,
    x_offset: int = 0,
    fan_w: int | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """(pixels uint8 (h,w), true imaged-area mask, region rectangle x0,y0,x1,y1 inclusive).

    The region rectangle encloses the fan with a black margin and the ruler, as scanners write it;
    the text strip lies above it.
    """
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.uint8)
    fan_w = fan_w or int(w * 0.7)
    cx = x_offset + fan_w // 2 + int(w * 0.05)
    top, bottom = int(h * 0.12), int(h * 0.92)
    half_top, half_bottom = fan_w * 0.28, fan_w * 0.5
    poly = np.array(
        [[cx - half_top, top], [cx + half_top, top], [cx + half_bottom, bottom], [cx - half_bottom, bottom]],
        dtype=np.int32,
    )
    area = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(area, poly, 1)
    speckle = rng.rayleigh(60.0, (h, w)).astype(np.float32)
    speckle = cv2.GaussianBlur(speckle, (3, 3), 0)
    depth = np.linspace(1.0, 0.55, h, dtype=np.float32)[:, None]
    tissue = np.clip(speckle * depth + 25, 0, 255)
    # Hypoechoic lesion: darker than the black threshold in places (the mask must still cover it).
    ly, lx = int(h * 0.45), cx
    lesion = np.zeros((h, w), np.uint8)
    cv2.ellipse(lesion, (lx, ly), (int(fan_w * 0.12), int(h * 0.08)), 10, 0, 360, 1, -1)
    tissue = np.where(lesion > 0, tissue * 0.08, tissue)
    img[area > 0] = tissue[area > 0].astype(np.uint8)
    # Burned-in text strip above the image, and a depth ruler with 1 cm ticks to its right.
    cv2.putText(
        img, "DLRS 12L5  B  38Hz  G62", (x_offset + 10, int(h * 0.06)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1
    )
    rx = min(w - 6, int(cx + half_bottom + 12))
    cv2.line(img, (rx, top), (rx, bottom), 200, 1)
    step = max(4, round(10.0 / mm_per_px))
    for y in range(top, bottom, step):
        cv2.line(img, (rx - 5, y), (rx, y), 200, 1)
    x0 = max(0, int(cx - half_bottom) - 6)
    x1 = min(w - 1, rx + 3)
    region = (x0, max(0, top - 6), x1, min(h - 1, bottom + 6))
    return img, area.astype(bool), region


def write_bmode_dicom(
    path: str | Path,
    *,
    mm_per_px: float | tuple[float, float] = 0.1,
    transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN,
    frames: int = 1,
    colour: bool = False,
    h: int = 480,
    w: int = 640,
    seed: int = 0,
    **fields: Any,
) -> tuple[Path, np.ndarray, np.ndarray]:
    """A realistic single-frame or cine US DICOM; returns (path, source pixels, true imaged area)."""
    mm = mm_per_px if isinstance(mm_per_px, tuple) else (mm_per_px, mm_per_px)
    stack = []
    area = None
    for f in range(frames):
        img, area_f, rect = bmode_frame(h, w, seed=seed + f, mm_per_px=mm[0])
        area = area_f if area is None else area
        stack.append(np.repeat(img[:, :, None], 3, axis=2) if colour else img)
    pixels = stack[0] if frames == 1 else np.stack(stack)
    region = tissue_region(*rect, mm_per_px=mm)
    ds = build_dataset(pixels, mm_per_px=None, regions=[region], **fields)
    encode_dataset(ds, transfer_syntax)
    return write_dataset(path, ds), pixels, area  # type: ignore[return-value]


def dual_view_regions(w: int, h: int, mm_left: float, mm_right: float) -> list[UltrasoundRegion]:
    """Two side-by-side B-mode regions (left/right halves), e.g. at two depths."""
    half = w // 2
    return [
        tissue_region(0, 0, half - 1, h - 1, mm_left, index=0),
        tissue_region(half, 0, w - 1, h - 1, mm_right, index=1),
    ]


def doppler_regions(w: int, h: int, mm: float) -> list[UltrasoundRegion]:
    """A spectral Doppler strip (seconds × cm/s) first, then the B-mode image above it."""
    strip = UltrasoundRegion(0, 0, h // 2, w - 1, h - 1, 3, 3, 4, 7, 0.01, 0.5)
    bmode = tissue_region(0, 0, w - 1, h // 2 - 1, mm, index=1)
    return [strip, bmode]


def smooth_rgb(h: int = 64, w: int = 96, seed: int = 1) -> np.ndarray:
    """A colourful but smooth RGB image (lossy codecs keep it close), uint8."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 100 * np.sin(xx / 9.0)
    g = 128 + 100 * np.cos(yy / 7.0)
    b = 128 + 80 * np.sin((xx + yy) / 13.0)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def smooth_gray(h: int = 64, w: int = 96) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.clip(128 + 90 * np.sin(xx / 8.0) * np.cos(yy / 11.0), 0, 255).astype(np.uint8)


# ---- re-encodings of an uncompressed dataset (explicit VR little endian, from build_dataset) ----


def _frame_array(ds: Any) -> np.ndarray:
    spp = int(ds.SamplesPerPixel)
    dtype = np.uint8 if ds.BitsAllocated == 8 else np.uint16
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    shape = (n, ds.Rows, ds.Columns) + ((spp,) if spp > 1 else ())
    return np.frombuffer(ds.PixelData, dtype=dtype).reshape(shape)


def as_monochrome1(ds: Any) -> Any:
    """Stored values inverted so that the decoded, displayed image equals the source."""
    arr = _frame_array(ds)
    top = np.iinfo(arr.dtype).max if ds.BitsAllocated == 8 else (1 << int(ds.BitsStored)) - 1
    ds.PixelData = (top - arr).astype(arr.dtype).tobytes()
    ds.PhotometricInterpretation = "MONOCHROME1"
    return ds


def as_planar(ds: Any) -> Any:
    """RGB with PlanarConfiguration 1 (RRR…GGG…BBB per frame)."""
    arr = _frame_array(ds)
    ds.PixelData = np.ascontiguousarray(arr.transpose(0, 3, 1, 2)).tobytes()
    ds.PlanarConfiguration = 1
    return ds


def as_ybr_full(ds: Any) -> Any:
    from pydicom.pixels import convert_color_space

    arr = _frame_array(ds)
    ybr = convert_color_space(arr.copy(), "RGB", "YBR_FULL")
    ds.PixelData = ybr.astype(np.uint8).tobytes()
    ds.PhotometricInterpretation = "YBR_FULL"
    return ds


def as_ybr_full_422(ds: Any) -> Any:
    """Uncompressed YBR_FULL_422: per pixel pair Y1 Y2 Cb Cr (chroma averaged over the pair)."""
    from pydicom.pixels import convert_color_space

    arr = _frame_array(ds)
    if ds.Columns % 2:
        raise ValueError("YBR_FULL_422 needs an even number of columns")
    ybr = convert_color_space(arr.copy(), "RGB", "YBR_FULL").astype(np.uint16)
    n, h, w = ybr.shape[:3]
    pairs = ybr.reshape(n, h, w // 2, 2, 3)
    out = np.empty((n, h, w // 2, 4), np.uint8)
    out[..., 0] = pairs[..., 0, 0]
    out[..., 1] = pairs[..., 1, 0]
    out[..., 2] = (pairs[..., 0, 1] + pairs[..., 1, 1] + 1) // 2
    out[..., 3] = (pairs[..., 0, 2] + pairs[..., 1, 2] + 1) // 2
    ds.PixelData = out.tobytes()
    ds.PhotometricInterpretation = "YBR_FULL_422"
    return ds


def palette_lut() -> np.ndarray:
    """(256, 3) uint8 RGB palette, the expected display colour for each index."""
    i = np.arange(256, dtype=np.float32)
    lut = np.stack([i, 255 - i, np.clip(np.abs(128 - i) * 2, 0, 255)], axis=1)
    return lut.astype(np.uint8)


def as_palette(ds: Any, bits: int, words16: bool = False) -> Any:
    """PALETTE COLOR with 8- or 16-bit LUT entries (8-bit optionally stored in 16-bit words)."""
    lut = palette_lut()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    desc = [256, 0, bits]
    for i, colour in enumerate(("Red", "Green", "Blue")):
        ds[f"{colour}PaletteColorLookupTableDescriptor"] = _elem(
            f"{colour}PaletteColorLookupTableDescriptor", desc
        )
        entries = lut[:, i]
        if bits == 16:
            data = (entries.astype(np.uint16) * 257).astype("<u2").tobytes()
        elif words16:
            data = entries.astype("<u2").tobytes()
        else:
            data = entries.astype(np.uint8).tobytes()
        setattr(ds, f"{colour}PaletteColorLookupTableData", data)
        ds[f"{colour}PaletteColorLookupTableData"].VR = "OW"
    return ds


def _elem(keyword: str, value: Any) -> Any:
    from pydicom.datadict import tag_for_keyword
    from pydicom.dataelem import DataElement

    return DataElement(tag_for_keyword(keyword), "US", value)


def write(path: str | Path, ds: Any, transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN) -> Path:
    encode_dataset(ds, transfer_syntax)
    return write_dataset(path, ds)
