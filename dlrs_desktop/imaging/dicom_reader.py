"""Read one frame of a DICOM file as 8-bit display pixels, with its ultrasound regions and calibration.

Header first, pixels second: sizes, frame index and transfer syntax are checked before anything
is decoded, and only the requested frame is decoded (pydicom reads that frame from the file).
Decoders are picked explicitly so that only the licence-compatible set is ever used
(docs/DECODERS.md): Pillow/GDCM for JPEG, GDCM for JPEG lossless and JPEG-LS, OpenJPEG (via
pylibjpeg) or GDCM for JPEG 2000, pydicom itself for RLE and uncompressed data.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop import limits
from dlrs_desktop.imaging import load_text as T
from dlrs_desktop.imaging.body_parts import described_parts
from dlrs_desktop.imaging.calibration import calibration_from_dicom
from dlrs_desktop.imaging.header_limits import check_codec_header, check_deflated, check_regions, check_sizes
from dlrs_desktop.imaging.pixels import rescale_to_uint8
from dlrs_desktop.imaging.types import Calibration, UltrasoundRegion, cannot_open

MAX_PIXELS = limits.MAX_PIXELS  # per frame; larger is not an ultrasound image and would exhaust memory

# Preferred decoding plugins per transfer syntax; anything else (e.g. GPL pylibjpeg-libjpeg) is never used.
_JPEG_PLUGINS = ("pillow", "gdcm")
_PLUGINS: dict[str, tuple[str, ...]] = {
    "1.2.840.10008.1.2.4.50": _JPEG_PLUGINS,  # JPEG baseline
    "1.2.840.10008.1.2.4.51": ("gdcm", "pillow"),  # JPEG extended (12-bit)
    "1.2.840.10008.1.2.4.57": ("gdcm",),  # JPEG lossless
    "1.2.840.10008.1.2.4.70": ("gdcm",),  # JPEG lossless SV1
    "1.2.840.10008.1.2.4.80": ("gdcm", "pyjpegls"),  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81": ("gdcm", "pyjpegls"),  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.90": ("pylibjpeg", "gdcm", "pillow"),  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91": ("pylibjpeg", "gdcm", "pillow"),  # JPEG 2000
    "1.2.840.10008.1.2.5": ("pydicom", "gdcm"),  # RLE lossless
}
_SUPPORTED_PHOTOMETRIC = {
    "MONOCHROME1",
    "MONOCHROME2",
    "RGB",
    "PALETTE COLOR",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_RCT",
    "YBR_ICT",
    "YBR_PARTIAL_420",
}


@dataclass
class DicomFrame:
    """What the DICOM reader hands to `load_image`."""

    rgb: np.ndarray | None  # (H,W,3) uint8 for colour images
    gray: np.ndarray | None  # (H,W) uint8 for monochrome images
    regions: tuple[UltrasoundRegion, ...]
    calibration: Calibration | None
    frame_count: int
    frame_index: int
    metadata: dict[str, Any] = field(default_factory=dict)


def read_header(path: Path, force: bool, source: Any = None) -> Any:
    """Parse everything but the pixel data (large values are read lazily from the file).

    `source`: a file-like object over the file's bytes, to parse those instead of re-opening `path`.
    """
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    import pydicom
    from pydicom.errors import InvalidDicomError

    check_deflated(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(path if source is None else source, defer_size="256 KB", force=force)
    except InvalidDicomError as exc:
        raise cannot_open(path, T.NOT_DICOM) from exc
    except Exception as exc:  # pydicom raises many types on damaged headers
        raise cannot_open(path, T.HEADER_DAMAGED) from exc
    if any("end of file" in str(w.message).lower() for w in caught) or (len(ds) == 0 and not force):
        raise cannot_open(path, T.ENDS_EARLY)
    return ds


def _int(ds: Any, keyword: str, default: int | None = None) -> int | None:
    value = ds.get(keyword, None)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def read_regions(ds: Any, shape: tuple[int, int] | None = None) -> tuple[UltrasoundRegion, ...]:
    """SequenceOfUltrasoundRegions as `UltrasoundRegion`s (items without bounds are skipped).

    With the image `shape` (rows, cols), a region reaching past the stored pixels is marked
    `fits_image=False` (one pixel of slack for writers that store the size instead of the last index).
    """
    out: list[UltrasoundRegion] = []
    for i, item in enumerate(ds.get("SequenceOfUltrasoundRegions", None) or []):
        bounds = [
            _int(item, k)
            for k in (
                "RegionLocationMinX0",
                "RegionLocationMinY0",
                "RegionLocationMaxX1",
                "RegionLocationMaxY1",
            )
        ]
        if any(b is None for b in bounds):
            continue
        try:
            dx = float(item.get("PhysicalDeltaX", 0.0) or 0.0)
            dy = float(item.get("PhysicalDeltaY", 0.0) or 0.0)
        except (TypeError, ValueError):
            dx = dy = 0.0
        out.append(
            UltrasoundRegion(
                index=i,
                x0=bounds[0],  # type: ignore[arg-type]
                y0=bounds[1],  # type: ignore[arg-type]
                x1=bounds[2],  # type: ignore[arg-type]
                y1=bounds[3],  # type: ignore[arg-type]
                spatial_format=_int(item, "RegionSpatialFormat", 0) or 0,
                data_type=_int(item, "RegionDataType", 0) or 0,
                units_x=_int(item, "PhysicalUnitsXDirection", 0) or 0,
                units_y=_int(item, "PhysicalUnitsYDirection", 0) or 0,
                delta_x=dx if math.isfinite(dx) else 0.0,
                delta_y=dy if math.isfinite(dy) else 0.0,
                fits_image=shape is None
                or (0 <= bounds[0] <= bounds[2] <= shape[1] and 0 <= bounds[1] <= bounds[3] <= shape[0]),  # type: ignore[operator]
            )
        )
    return tuple(out)


def _metadata(ds: Any, ts: Any) -> dict[str, Any]:
    """De-identified facts about the file: never patient name, ID, birth date or dates of care."""
    meta: dict[str, Any] = {"format": "dicom"}
    for key, kw in (
        ("modality", "Modality"),
        ("manufacturer", "Manufacturer"),
        ("model_name", "ManufacturerModelName"),
        ("photometric_interpretation", "PhotometricInterpretation"),
        ("body_part", "BodyPartExamined"),  # the exam preset's body part (model/anatomy.py)
    ):
        value = ds.get(kw, None)
        meta[key] = str(value) if value not in (None, "") else None
    meta["anatomic_region"] = _anatomic_region(ds)
    # the body parts the descriptions name, never their free text (it may identify a patient)
    described = (ds.get(kw, None) for kw in ("StudyDescription", "SeriesDescription", "ProtocolName"))
    meta["described_body_parts"] = list(described_parts(str(v) for v in described if v is not None))
    meta["transfer_syntax"] = ts.name if ts else None
    meta["transfer_syntax_uid"] = str(ts) if ts else None
    for key, kw in (
        ("bits_allocated", "BitsAllocated"),
        ("bits_stored", "BitsStored"),
        ("samples_per_pixel", "SamplesPerPixel"),
        ("rows", "Rows"),
        ("columns", "Columns"),
    ):
        meta[key] = _int(ds, kw)
    frame_time = ds.get("FrameTime", None)
    if frame_time not in (None, ""):
        with contextlib.suppress(TypeError, ValueError):
            meta["frame_time_ms"] = float(frame_time)
    return meta


def _anatomic_region(ds: Any) -> str | None:
    """The first Anatomic Region Sequence item as 'SCHEME:CODE' (e.g. SCT:76752008), or None."""
    try:
        item = ds.AnatomicRegionSequence[0]
        code = f"{item.CodingSchemeDesignator}:{item.CodeValue}"
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    return code if len(code) <= 64 and code.isprintable() else None


def _check_header(path: Path, ds: Any) -> tuple[int, int, int, int]:
    """rows, columns, samples, frames, or a plain-words error before any decoding."""
    if "PixelData" not in ds:
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise cannot_open(path, T.FLOAT_PIXELS)
        sop = ds.get("SOPClassUID", None)
        image_sop = sop is not None and "Image Storage" in getattr(sop, "name", "")
        if "Rows" in ds or image_sop:  # an image header without image data: an incomplete copy, usually
            raise cannot_open(path, T.NO_PIXELS_TRUNCATED)
        raise cannot_open(path, T.NO_IMAGE)
    rows, cols = _int(ds, "Rows", 0) or 0, _int(ds, "Columns", 0) or 0
    if rows <= 0 or cols <= 0:
        raise cannot_open(path, T.EMPTY, w=cols, h=rows)
    samples = _int(ds, "SamplesPerPixel", 1) or 1
    frames = max(1, _int(ds, "NumberOfFrames", 1) or 1)
    check_sizes(path, ds, rows, cols, samples, frames)
    pi = str(ds.get("PhotometricInterpretation", "") or "").strip()
    if pi and pi not in _SUPPORTED_PHOTOMETRIC:
        raise cannot_open(path, T.PHOTOMETRIC, pi=pi)
    if samples not in (1, 3):
        raise cannot_open(path, T.SAMPLES, samples=samples)
    return rows, cols, samples, frames


def _check_native_length(
    path: Path, ds: Any, rows: int, cols: int, samples: int, frames: int, file_size: int | None = None
) -> None:
    """Uncompressed pixel data shorter than the header says: the file was cut off."""
    bits = _int(ds, "BitsAllocated", 8) or 8
    per_frame = rows * cols * samples * bits / 8
    if str(ds.get("PhotometricInterpretation", "")).strip() == "YBR_FULL_422":
        per_frame = per_frame * 2 / 3
    expected = math.ceil(per_frame * frames)
    elem = ds.get_item("PixelData", keep_deferred=True)  # header only: never read the pixels here
    tell = getattr(elem, "value_tell", None)
    size = path.stat().st_size if file_size is None else file_size
    available = size - tell if tell is not None else expected
    declared = getattr(elem, "length", expected)
    if min(available, declared) < expected:
        missing = expected - min(available, declared)
        raise cannot_open(path, T.SHORT_DATA, missing=missing)
    if declared != 0xFFFFFFFF and declared > available:
        raise cannot_open(path, T.CLAIMS_MORE, declared=declared, available=available)


def _transfer_syntax(path: Path, ds: Any) -> Any:
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    ts = getattr(ds, "file_meta", None) and ds.file_meta.get("TransferSyntaxUID", None)
    if ts:
        return UID(ts)
    # No file meta (a bare dataset): the parser already found its encoding.
    implicit = getattr(ds, "original_encoding", (True, True))[0]
    return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


def _plugins(path: Path, ts: Any) -> tuple[str, ...]:
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise cannot_open(path, T.UNSUPPORTED_COMPRESSION, name=ts.name, uid=str(ts)) from exc
    if ts.is_compressed and str(ts) not in _PLUGINS:
        raise cannot_open(path, T.UNSUPPORTED_COMPRESSION, name=ts.name, uid=str(ts))
    if not ts.is_compressed:
        return ("",)
    usable = [p for p in _PLUGINS[str(ts)] if p in decoder.available_plugins]
    if not usable:
        raise cannot_open(path, T.NO_DECODER, name=ts.name)
    return tuple(usable)


def _decode(path: Path, ds: Any, ts: Any, index: int, has_meta: bool, source: Any = None) -> np.ndarray:
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.pixels import pixel_array

    errors: list[str] = []
    for plugin in _plugins(path, ts):
        try:
            if has_meta:
                if source is not None:
                    source.seek(0)
                return pixel_array(path if source is None else source, index=index, decoding_plugin=plugin)
            ds.file_meta.TransferSyntaxUID = ts
            return pixel_array(ds, index=index, decoding_plugin=plugin)
        except Exception as exc:
            errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    detail = errors[-1] if errors else "unknown reason"
    if any(k in detail.lower() for k in ("less than expected", "end of", "truncat", "insufficient", "eof")):
        raise cannot_open(path, T.PIXELS_TRUNCATED)
    raise cannot_open(path, T.UNDECODABLE, detail=detail)


def _palette_to_uint8(rgb: np.ndarray, ds: Any) -> np.ndarray:
    """8-bit RGB from palette output: 16-bit entries scale v·65535/255 → v; 8-bit entries that a
    writer stored in 16-bit words (common) are taken as they are."""
    if rgb.dtype == np.uint8:
        return rgb
    nominal = int(ds.RedPaletteColorLookupTableDescriptor[2])
    if nominal == 8 and int(rgb.max(initial=0)) <= 255:
        return rgb.astype(np.uint8)
    return ((rgb.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _check_rescale(path: Path, ds: Any) -> None:
    """A rescale that is not a finite, non-zero number makes every pixel value garbage: refuse the file.

    (A slope of NaN, ±Inf or 0 used to give an all-black image that the model scored confidently.)
    """
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        if keyword not in ds:
            continue
        raw = ds.get(keyword)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise cannot_open(path, T.RESCALE_NOT_NUMBER, keyword=keyword, raw=repr(raw)) from None
        if not math.isfinite(value):
            raise cannot_open(path, T.RESCALE_NOT_FINITE, keyword=keyword, value=value)
        if keyword == "RescaleSlope" and value == 0.0:
            raise cannot_open(path, T.SLOPE_ZERO)


MAX_WINDOW = 1e7  # |centre| or width beyond any stored pixel value (BitsStored ≤ 16, rescaled)


def _window_note(ds: Any, values: np.ndarray) -> str | None:
    """Why the file's display window (WindowCenter/Width) is ignored, or None when it is usable.

    A NaN, infinite or absurd window (1e308), a width under 1 or a window that misses every pixel
    value would turn the image one flat grey or black; the pixels are then scaled min–max instead.
    """
    if "WindowCenter" not in ds or "VOILUTSequence" in ds:
        return None
    try:
        c = float(np.ravel(np.asarray(ds.WindowCenter, dtype=float))[0])
        w = float(np.ravel(np.asarray(ds.WindowWidth, dtype=float))[0])
    except (AttributeError, TypeError, ValueError, IndexError, OverflowError):
        return "its display window (WindowCenter/WindowWidth) is unreadable and was ignored"
    if not (np.isfinite(c) and np.isfinite(w)) or abs(c) > MAX_WINDOW or not 1 <= w <= MAX_WINDOW:
        return "its display window (WindowCenter/WindowWidth) is not a usable number and was ignored"
    lo, hi = float(np.min(values)), float(np.max(values))
    if c + w / 2 < lo or c - w / 2 > hi:
        return "its display window misses every pixel value (a flat image) and was ignored"
    return None


def _to_display(
    path: Path, ds: Any, arr: np.ndarray, pi: str, meta: dict[str, Any] | None = None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(rgb, gray) with exactly one set: 8-bit pixels the way a viewer shows them.

    A display window that would blank the image is ignored; `meta["display_note"]` says so."""
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

    if pi == "PALETTE COLOR":
        try:
            rgb = apply_color_lut(arr, ds)
        except Exception as exc:
            raise cannot_open(path, T.PALETTE, detail=str(exc)) from exc
        return _palette_to_uint8(rgb, ds), None
    if arr.ndim == 3:  # colour (YBR already converted to RGB by pydicom)
        if arr.dtype != np.uint8:
            arr = rescale_to_uint8(arr)
        return np.ascontiguousarray(arr), None

    _check_rescale(path, ds)
    plain_8bit = arr.dtype == np.uint8 and "RescaleSlope" not in ds and "ModalityLUTSequence" not in ds
    if plain_8bit:
        gray = arr
    else:
        with np.errstate(all="ignore"):  # an overflowing rescale is refused just below
            values = (
                apply_modality_lut(arr, ds) if ("RescaleSlope" in ds or "ModalityLUTSequence" in ds) else arr
            )
            finite = bool(np.isfinite(values).all())
        if not finite:
            raise cannot_open(path, T.RESCALE_OVERFLOW)
        note = _window_note(ds, values)
        if note is not None:
            logging.getLogger(__name__).warning("DICOM image: %s.", note)
            if meta is not None:
                meta["display_note"] = note
            gray = rescale_to_uint8(values)
        elif "WindowCenter" in ds or "VOILUTSequence" in ds:
            try:
                windowed = apply_voi_lut(values, ds)
                bits = _int(ds, "BitsStored", 8) or 8
                lo, hi = (0.0, 255.0) if windowed.dtype == np.uint8 else (0.0, float(2**bits - 1))
                if np.issubdtype(windowed.dtype, np.floating):
                    lo, hi = float(np.min(windowed)), float(np.max(windowed))
                gray = rescale_to_uint8(windowed, lo, hi)
            except Exception:
                gray = rescale_to_uint8(values)
        else:
            gray = rescale_to_uint8(values)
    if pi == "MONOCHROME1":
        gray = 255 - gray
    return None, np.ascontiguousarray(gray, dtype=np.uint8)


def read_dicom(
    path: Path, frame: int | None, *, force: bool = False, data: bytes | None = None
) -> DicomFrame:
    """Decode one frame (default the first) of a DICOM file and read its calibration.

    `data`: the file's bytes, already read (and hashed) by the caller; they are what is decoded.
    """
    source = None if data is None else io.BytesIO(data)
    ds = read_header(path, force, source)
    has_meta = bool(getattr(ds, "file_meta", None) and ds.file_meta.get("TransferSyntaxUID", None))
    if force and not has_meta and "PixelData" not in ds and "Rows" not in ds:
        raise cannot_open(path, T.NOT_AN_IMAGE)
    rows, cols, samples, frames = _check_header(path, ds)
    index = 0 if frame is None else int(frame)
    if not 0 <= index < frames:
        raise cannot_open(
            path,
            T.NO_SUCH_FRAME if frames > 1 else T.NO_SUCH_FRAME_ONE,
            index=index,
            frames=frames,
            last=frames - 1,
        )
    ts = _transfer_syntax(path, ds)
    check_regions(path, ds)
    if ts.is_compressed:
        check_codec_header(path, ds, str(ts), rows, cols, samples)
    meta = _metadata(ds, ts)
    meta["number_of_frames"] = frames
    if not ts.is_compressed and has_meta:
        _check_native_length(path, ds, rows, cols, samples, frames, None if data is None else len(data))
    arr = _decode(path, ds, ts, index, has_meta, source)
    if arr.shape[:2] != (rows, cols):
        raise cannot_open(path, T.SIZE_MISMATCH, w=arr.shape[1], h=arr.shape[0], cols=cols, rows=rows)
    pi = str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2").strip()
    rgb, gray = _to_display(path, ds, arr, pi, meta)
    regions = read_regions(ds, (rows, cols))
    calibration, note = calibration_from_dicom(ds, regions, (rows, cols))
    meta["calibration_note"] = note
    return DicomFrame(rgb, gray, regions, calibration, frames, index, meta)
