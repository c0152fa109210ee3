"""Read a DICOM Segmentation (ours, 3D Slicer's, OHIF's) as a tumour mask for one image.

A SEG is accepted wherever a contour file is (`--contour seg.dcm`, the GUI's contour import): the
tumour segment is the one labelled or coded as a tumour/neoplasm/mass/lesion, else segment 1 (what a
single-segment SEG from another tool holds).

A SEG is read only for the image it references (its Referenced Series Sequence names the image's
series and SOP instance): another patient's contour never lands on this image. Bounded before
decoding: the SEG's frames must have the image's size, frames × rows × columns is capped, and a
deflated SEG is inflated by a bounded reader (a deflate bomb stops at the cap). A FRACTIONAL SEG
(probabilities or occupancies) is thresholded at half its Maximum Fractional Value, which is what
DICOM's fractional values mean (PS3.3 C.8.20.2.3), not at "> 0".

pydicom is imported inside the functions: `roi.contour` imports this module for every contour, and
the window and `dlrs --help` start without pydicom, as everywhere else in the package.
"""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging import seg_text as T
from dlrs_desktop.limits import ContourLimitError

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
_TUMOUR_WORDS = ("tumour", "tumor", "neoplasm", "mass", "lesion", "cancer", "carcinoma")
_TUMOUR_CODES = {"108369006", "4147007", "52988006", "49755003", "86049000", "M-80003"}
_MAX_FRAMES = 512
_MAX_PIXELS = 1 << 26  # frames × rows × columns decoded at most (64 M: 4 segments of a 4k × 4k image)
_MAX_BYTES = 96 * 1024 * 1024  # a 2D ultrasound SEG is kilobytes to a few megabytes
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass(frozen=True)
class ImageRef:
    """The DICOM identity a SEG must reference to be read as this image's contour."""

    series_uid: str
    sop_instance_uid: str

    @classmethod
    def of(cls, image_path: str | os.PathLike[str] | None) -> ImageRef | None:
        """The image file's UIDs (header only); None for a PNG/JPEG or an unreadable header."""
        # lazy: pydicom stays off start-up (module docstring)
        import pydicom

        if image_path is None:
            return None
        try:
            if not Path(image_path).is_file():
                return None
            with open(image_path, "rb") as fh:
                if fh.read(132)[128:132] != b"DICM":
                    return None
            ds = pydicom.dcmread(
                image_path, stop_before_pixels=True, specific_tags=["SeriesInstanceUID", "SOPInstanceUID"]
            )
            return cls(str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))
        except Exception:
            return None


def is_seg_file(path: str | os.PathLike[str]) -> bool:
    """A Part 10 file whose SOP class is Segmentation (read from the header only)."""
    # lazy: pydicom stays off start-up (module docstring)
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
    if not is_seg_file(path):
        return None
    try:
        ds = seg_header(Path(path))
        for item in getattr(ds, "PerFrameFunctionalGroupsSequence", [])[:1]:
            frame = _source_of(item)[1]
            return frame - 1 if frame is not None and frame > 0 else None
    except Exception:
        return None
    return None


def seg_header(p: Path) -> Any:
    """A SEG's header without its pixels; a deflated one is inflated by the bounded reader only."""
    # lazy: pydicom stays off start-up (module docstring)
    import pydicom

    meta = pydicom.filereader.read_file_meta_info(p)
    if str(getattr(meta, "TransferSyntaxUID", "")) == _DEFLATED:
        return _read_deflated(p, meta)
    return pydicom.dcmread(p, stop_before_pixels=True)


def _tumour_segment(ds: Any) -> int:
    segments = list(getattr(ds, "SegmentSequence", []))
    if not segments:
        raise ContourError.of(T.NO_SEGMENTS)
    for seg in segments:
        label = str(getattr(seg, "SegmentLabel", "")).lower()
        kinds = getattr(seg, "SegmentedPropertyTypeCodeSequence", [])
        code = str(kinds[0].CodeValue) if kinds and "CodeValue" in kinds[0] else ""
        if code in _TUMOUR_CODES or any(w in label for w in _TUMOUR_WORDS):
            return int(seg.SegmentNumber)
    return int(segments[0].SegmentNumber)


def read_seg_mask(
    path: str | os.PathLike[str], shape: tuple[int, int], image: ImageRef | None
) -> tuple[np.ndarray, int | None]:
    """(bool mask (H, W), referenced source frame index 0-based or None) of the tumour segment.

    `image`: the UIDs of the image the contour is for (`ImageRef.of(image_path)`); a SEG that does not
    reference exactly that image, or any SEG for a non-DICOM image (None), is refused.
    """
    p = Path(path)
    ds = _read_bounded(p)
    try:
        if str(getattr(ds, "SOPClassUID", "")) != SEG_SOP_CLASS:
            raise ContourError.of(T.NOT_A_SEG, name=p.name)
        rows, cols = int(ds.Rows), int(ds.Columns)
        if (rows, cols) != tuple(shape):
            raise ContourError.of(
                T.SIZE, name=p.name, seg_w=cols, seg_h=rows, image_w=shape[1], image_h=shape[0]
            )
        _check_reference(ds, p, image)
        return _tumour_mask(ds, p, shape, image.sop_instance_uid if image else None)
    except ContourError:
        raise
    except Exception as exc:  # pydicom decodes lazily: a damaged element fails here, in many ways
        raise ContourError.of(T.MALFORMED, name=p.name, detail=type(exc).__name__) from exc


def _read_bounded(p: Path) -> Any:
    """The SEG dataset, its size bounded before any pixel is decoded (and before inflating all of it)."""
    # lazy: pydicom stays off start-up (module docstring)
    import pydicom

    try:
        size = p.stat().st_size
        if size > _MAX_BYTES:
            raise ContourLimitError.of(T.TOO_LARGE, name=p.name, mb=_MAX_BYTES >> 20)
        meta = pydicom.filereader.read_file_meta_info(p)
        if str(getattr(meta, "TransferSyntaxUID", "")) == _DEFLATED:
            ds = _read_deflated(p, meta)
        else:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
            _check_size(ds, p)
            ds = pydicom.dcmread(p)
        _check_size(ds, p)
    except ContourError:
        raise
    except Exception as exc:
        raise ContourError.of(T.UNREADABLE, name=p.name, detail=type(exc).__name__) from exc
    return ds


def _check_size(ds: Any, p: Path) -> None:
    rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > _MAX_FRAMES:
        raise ContourLimitError.of(T.TOO_MANY_FRAMES, name=p.name, frames=frames, limit=_MAX_FRAMES)
    if rows <= 0 or cols <= 0 or frames * rows * cols > _MAX_PIXELS:
        raise ContourLimitError.of(
            T.TOO_MANY_PIXELS, name=p.name, frames=frames, w=cols, h=rows, mpx=_MAX_PIXELS >> 20
        )


def _read_deflated(p: Path, meta: Any) -> Any:
    """Inflate a Deflated Explicit VR Little Endian SEG with a bounded reader, then parse it."""
    # lazy: pydicom stays off start-up (module docstring)
    import pydicom
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import ExplicitVRLittleEndian

    limit = _MAX_PIXELS // 2 + (8 << 20)  # all the pixels of a fractional SEG at the cap, plus headers
    out = bytearray()
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    with open(p, "rb") as fh:
        head = fh.read(144)
        if head[132:136] != b"\x02\x00\x00\x00" or head[136:138] != b"UL":
            raise ContourError.of(T.NO_META_LENGTH, name=p.name)
        fh.seek(144 + int.from_bytes(head[140:144], "little"))
        while chunk := fh.read(1 << 16):
            while chunk:
                out += inflater.decompress(chunk, limit + 1 - len(out))
                if len(out) > limit:
                    raise ContourLimitError.of(T.INFLATES, name=p.name, mb=limit >> 20)
                chunk = inflater.unconsumed_tail
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buf = io.BytesIO()
    buf.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(buf, meta, enforce_standard=True)
    buf.write(out)
    buf.seek(0)
    return pydicom.dcmread(buf)


def _referenced(ds: Any) -> set[tuple[str, str]]:
    """(series UID, SOP instance UID) pairs the SEG names, in this study or in others."""
    groups = [ds, *getattr(ds, "StudiesContainingOtherReferencedInstancesSequence", [])]
    return {
        (str(series.SeriesInstanceUID), str(inst.ReferencedSOPInstanceUID))
        for group in groups
        for series in getattr(group, "ReferencedSeriesSequence", [])
        for inst in getattr(series, "ReferencedInstanceSequence", [])
    }


def _check_reference(ds: Any, p: Path, image: ImageRef | None) -> None:
    if image is None:
        raise ContourError.of(T.NEEDS_DICOM_IMAGE, name=p.name)
    if (image.series_uid, image.sop_instance_uid) not in _referenced(ds):
        raise ContourError.of(T.OTHER_IMAGE_UIDS, name=p.name)


def _tumour_mask(
    ds: Any, p: Path, shape: tuple[int, int], sop_instance_uid: str | None
) -> tuple[np.ndarray, int | None]:
    rows, cols, frames = int(ds.Rows), int(ds.Columns), int(getattr(ds, "NumberOfFrames", 1) or 1)
    number = _tumour_segment(ds)
    threshold = _threshold(ds)
    per_frame = list(getattr(ds, "PerFrameFunctionalGroupsSequence", []))
    if len(per_frame) != frames:
        raise ContourError.of(T.FRAMES_INCOMPLETE, name=p.name)
    try:
        pixels = np.asarray(ds.pixel_array).reshape(frames, rows, cols)
    except Exception as exc:
        raise ContourError.of(T.PIXELS_UNDECODABLE, name=p.name, detail=str(exc)) from exc
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
            raise ContourError.of(T.OTHER_IMAGE, name=p.name)
        if frame_no is not None:
            source_frame = frame_no - 1
        mask |= pixels[i] >= threshold
    if not mask.any():
        raise ContourError.of(T.EMPTY, name=p.name)
    return mask, source_frame


def _threshold(ds: Any) -> float:
    """The stored value from which a pixel is tumour: any set bit (BINARY), else half the maximum."""
    if str(getattr(ds, "SegmentationType", "BINARY")).upper() != "FRACTIONAL":
        return 1
    top = int(getattr(ds, "MaximumFractionalValue", 0) or 0)
    if not 0 < top <= 255:
        raise ContourError.of(T.NO_FRACTIONAL_MAXIMUM)
    return top / 2


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
    # lazy: pydicom stays off start-up (module docstring)
    from pydicom.multival import MultiValue

    return MultiValue


def segs_for_image(image_path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> list[Path]:
    """SEG files in `folder` that reference the DICOM image at `image_path`, newest first (headers only).

    A study retrieved from the PACS brings the contours other workstations sent; this finds them.
    """
    # lazy: pydicom stays off start-up (module docstring)
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
            ds = seg_header(p)
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
