"""Read a DICOM Segmentation (ours, 3D Slicer's, OHIF's) as a tumour mask for one image.

A SEG is accepted wherever a contour file is (`--contour seg.dcm`, the GUI's contour import): the
tumour segment is the one labelled or coded as a tumour/neoplasm/mass/lesion, else segment 1 (what a
single-segment SEG from another tool holds). Bounded before decoding: the SEG's frames must match the
image's size, and at most a few hundred frames are read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import ContourError

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
_TUMOUR_WORDS = ("tumour", "tumor", "neoplasm", "mass", "lesion", "cancer", "carcinoma")
_TUMOUR_CODES = {"108369006", "4147007", "52988006", "49755003", "86049000", "M-80003"}
_MAX_FRAMES = 512
_MAX_BYTES = 256 * 1024 * 1024  # a 2D ultrasound SEG is kilobytes to a few megabytes


def is_seg_file(path: str | os.PathLike[str]) -> bool:
    """A Part 10 file whose SOP class is Segmentation (read from the header only)."""
    import pydicom

    try:
        if not Path(path).is_file():  # a named pipe or device would block the open
            return False
        with open(path, "rb") as fh:
            if fh.read(132)[128:132] != b"DICM":
                return False
        meta = pydicom.filereader.read_file_meta_info(path)
    except Exception:
        return False
    return str(getattr(meta, "MediaStorageSOPClassUID", "")) == SEG_SOP_CLASS


def seg_source_frame(path: str | os.PathLike[str]) -> int | None:
    """The 0-based source frame a SEG was drawn on (cine loops), from its header only; None if unknown.

    Callers open that frame of the image when the user did not ask for one.
    """
    import pydicom

    if not is_seg_file(path):
        return None
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for item in getattr(ds, "PerFrameFunctionalGroupsSequence", [])[:1]:
            frame = _source_of(item)[1]
            return frame - 1 if frame is not None and frame > 0 else None
    except Exception:
        return None
    return None


def _tumour_segment(ds: Any) -> int:
    segments = list(getattr(ds, "SegmentSequence", []))
    if not segments:
        raise ContourError("The segmentation has no segments.")
    for seg in segments:
        label = str(getattr(seg, "SegmentLabel", "")).lower()
        kinds = getattr(seg, "SegmentedPropertyTypeCodeSequence", [])
        code = str(kinds[0].CodeValue) if kinds and "CodeValue" in kinds[0] else ""
        if code in _TUMOUR_CODES or any(w in label for w in _TUMOUR_WORDS):
            return int(seg.SegmentNumber)
    return int(segments[0].SegmentNumber)


def read_seg_mask(
    path: str | os.PathLike[str], shape: tuple[int, int], sop_instance_uid: str | None = None
) -> tuple[np.ndarray, int | None]:
    """(bool mask (H, W), referenced source frame index 0-based or None) of the tumour segment.

    `sop_instance_uid`: the image's own UID when it is DICOM; a SEG that references other images
    is refused (it belongs to another image).
    """
    import pydicom

    p = Path(path)
    try:
        if p.stat().st_size > _MAX_BYTES:
            raise ContourError(f"{p.name} is larger than {_MAX_BYTES >> 20} MB; not read as a segmentation.")
        ds = pydicom.dcmread(p)
    except ContourError:
        raise
    except Exception as exc:
        raise ContourError(f"{p.name} is not a readable DICOM segmentation ({exc}).") from exc
    if str(getattr(ds, "SOPClassUID", "")) != SEG_SOP_CLASS:
        raise ContourError(f"{p.name} is a DICOM file but not a Segmentation.")
    try:
        return _tumour_mask(ds, p, shape, sop_instance_uid)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:  # malformed header
        raise ContourError(f"{p.name} is a malformed DICOM segmentation ({type(exc).__name__}).") from exc


def _tumour_mask(
    ds: Any, p: Path, shape: tuple[int, int], sop_instance_uid: str | None
) -> tuple[np.ndarray, int | None]:
    rows, cols, frames = int(ds.Rows), int(ds.Columns), int(getattr(ds, "NumberOfFrames", 1) or 1)
    if (rows, cols) != tuple(shape):
        raise ContourError(
            f"The segmentation {p.name} is {cols}×{rows} pixels but the image is {shape[1]}×{shape[0]}."
        )
    if frames > _MAX_FRAMES:
        raise ContourError(f"The segmentation {p.name} has {frames} frames; at most {_MAX_FRAMES} are read.")
    number = _tumour_segment(ds)
    per_frame = list(getattr(ds, "PerFrameFunctionalGroupsSequence", []))
    if len(per_frame) != frames:
        raise ContourError(f"{p.name}: the segmentation's per-frame information is incomplete.")
    try:
        pixels = np.asarray(ds.pixel_array).reshape(frames, rows, cols)
    except Exception as exc:
        raise ContourError(f"{p.name}: the segmentation's pixels cannot be decoded ({exc}).") from exc
    shared = list(getattr(ds, "SharedFunctionalGroupsSequence", []))
    shared_ident = getattr(shared[0], "SegmentIdentificationSequence", []) if shared else []
    mask = np.zeros((rows, cols), dtype=bool)
    source_frame: int | None = None
    for i, item in enumerate(per_frame):
        # Per frame, or once in the shared groups when every frame holds the same segment.
        ident = getattr(item, "SegmentIdentificationSequence", []) or shared_ident
        if not ident or int(ident[0].ReferencedSegmentNumber) != number:
            continue
        uid, frame_no = _source_of(item)
        if sop_instance_uid and uid and uid != sop_instance_uid:
            raise ContourError(f"The segmentation {p.name} was made for another image.")
        if frame_no is not None:
            source_frame = frame_no - 1
        mask |= pixels[i] > 0
    if not mask.any():
        raise ContourError(f"The tumour segment of {p.name} is empty.")
    return mask, source_frame


def _source_of(item: Any) -> tuple[str | None, int | None]:
    """(referenced SOP instance UID, 1-based frame number) of one SEG frame, when recorded."""
    for deriv in getattr(item, "DerivationImageSequence", []):
        for src in getattr(deriv, "SourceImageSequence", []):
            frame = getattr(src, "ReferencedFrameNumber", None)
            if isinstance(frame, (list, tuple, pydicom_multivalue())):
                frame = frame[0] if len(frame) else None
            return str(src.ReferencedSOPInstanceUID), int(frame) if frame is not None else None
    return None, None


def pydicom_multivalue() -> type:
    from pydicom.multival import MultiValue

    return MultiValue


def segs_for_image(image_path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> list[Path]:
    """SEG files in `folder` that reference the DICOM image at `image_path`, newest first (headers only).

    A study retrieved from the PACS brings the contours other workstations sent; this finds them.
    """
    import pydicom

    try:
        uid = str(pydicom.dcmread(image_path, stop_before_pixels=True).SOPInstanceUID)
    except Exception:
        return []
    found: list[tuple[str, Path]] = []
    for p in sorted(Path(folder).glob("*.dcm")) if Path(folder).is_dir() else []:
        if not is_seg_file(p):
            continue
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
            refs = {
                str(inst.ReferencedSOPInstanceUID)
                for series in getattr(ds, "ReferencedSeriesSequence", [])
                for inst in getattr(series, "ReferencedInstanceSequence", [])
            }
        except Exception:
            continue
        if uid in refs:
            found.append((f"{getattr(ds, 'ContentDate', '')}{getattr(ds, 'ContentTime', '')}", p))
    return [p for _, p in sorted(found, key=lambda t: t[0], reverse=True)]
