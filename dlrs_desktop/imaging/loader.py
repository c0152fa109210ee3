"""`load_image`: any ultrasound image a sonographer has → pixels, scan area and a trustworthy mm scale.

One entry point for the GUI, the CLI, training and the tests. The file kind is decided from its
first bytes (not its name): DICOM ("DICM" at byte 128), PNG, JPEG, TIFF, BMP; anything else is
tried as a bare DICOM dataset before it is refused. Every failure is one `ImageLoadError`.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from dlrs_desktop.errors import DlrsError, ImageLoadError
from dlrs_desktop.imaging import load_text as T
from dlrs_desktop.imaging.dicom_reader import read_dicom
from dlrs_desktop.imaging.pixels import gray_to_rgb, rescale_to_uint8, rgb_to_gray
from dlrs_desktop.imaging.raster import RASTER_SUFFIXES, read_raster, sniff_raster
from dlrs_desktop.imaging.scan_mask import compute_scan_area
from dlrs_desktop.imaging.types import Calibration, Provenance, UltrasoundImage, UltrasoundRegion, cannot_open
from dlrs_desktop.limits import (
    MAX_IMAGE_FILE_BYTES,
    MAX_PIXELS,
    ImageLimitError,
    check_file_as,
)


@lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of the file bytes; cached per (path, size, mtime) so changing frames is cheap."""
    st = os.stat(path)
    return _sha256_cached(os.path.realpath(path), st.st_size, st.st_mtime_ns)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _assemble(
    rgb: np.ndarray | None,
    gray: np.ndarray | None,
    source: Provenance,
    *,
    calibration: Calibration | None = None,
    regions: tuple[UltrasoundRegion, ...] = (),
    frame_count: int = 1,
    frame_index: int = 0,
) -> UltrasoundImage:
    """The image from its pixels (either kind; the other is derived) and where they came from; the
    scan area is found here, and its method and view count are added to the provenance's metadata."""
    colour = rgb is not None  # grey sources have no colour to keep out of the echoes
    if rgb is None:
        assert gray is not None
        rgb = gray_to_rgb(gray)
    elif gray is None:
        gray = rgb_to_gray(rgb)
    area = compute_scan_area(gray, regions, rgb if colour else None)
    metadata = dict(source.metadata)
    metadata["scan_mask"] = area.method
    metadata["views"] = int(area.views.max(initial=0))
    return UltrasoundImage(
        display=_readonly(rgb),
        gray=_readonly(gray),
        scan_mask=_readonly(area.mask),
        calibration=calibration,
        regions=tuple(regions),
        frame_count=int(frame_count),
        frame_index=int(frame_index),
        provenance=Provenance(path=source.path, sha256=source.sha256, metadata=metadata),
        views=_readonly(area.views) if area.views.max(initial=0) > 1 else None,
    )


def load_image(path: str | os.PathLike[str], frame: int | None = None) -> UltrasoundImage:
    """Load one frame (default the first) of a DICOM, PNG, JPEG, TIFF or BMP file.

    Raises `ImageLoadError` with a plain-words message for anything that is not a readable image:
    whatever a decoder raises on a damaged or hostile file is the file's fault, never a crash.
    """
    p = Path(path)
    try:
        return _load_image(p, frame)
    except DlrsError:
        raise
    except MemoryError:
        raise cannot_open(p, T.OUT_OF_MEMORY) from None
    except RecursionError:
        raise cannot_open(p, T.NESTS_TOO_DEEPLY) from None
    except OSError as exc:
        raise cannot_open(p, T.SYSTEM_SAYS, detail=exc.strerror or str(exc)) from exc
    except Exception as exc:  # a decoder's own error on malformed data
        detail = str(exc).splitlines()[0][:160] if str(exc) else ""
        what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise cannot_open(p, T.MALFORMED, detail=what) from exc


def _load_image(p: Path, frame: int | None) -> UltrasoundImage:
    check_file_as(p, "image", MAX_IMAGE_FILE_BYTES, ImageLimitError, ImageLoadError)
    try:
        # Read once: the sha256 (the key annotations are stored under) is of the very bytes decoded,
        # even if the file is replaced while it is being read.
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise cannot_open(p, T.SYSTEM_SAYS, detail=exc.strerror or str(exc)) from exc
    size, head = len(data), data[:132]
    sha256 = hashlib.sha256(data).hexdigest()
    if size == 0:
        raise cannot_open(p, T.EMPTY_FILE)

    is_dicom = len(head) >= 132 and head[128:132] == b"DICM"
    fmt = None if is_dicom else sniff_raster(head)
    if fmt is None and not is_dicom and p.suffix.lower() in RASTER_SUFFIXES:
        raise cannot_open(p, T.MISLABELLED, kind=p.suffix[1:].upper())

    if fmt is not None:
        if frame not in (None, 0):
            raise cannot_open(p, T.NO_SUCH_FRAME_ONE, index=frame)
        raster = read_raster(p, fmt, data)
        raster.metadata["file_size"] = size
        return _assemble(raster.rgb, raster.gray, Provenance(str(p), sha256, raster.metadata))

    dcm = read_dicom(p, frame, force=not is_dicom, data=data)
    dcm.metadata["file_size"] = size
    return _assemble(
        dcm.rgb,
        dcm.gray,
        Provenance(str(p), sha256, dcm.metadata),
        calibration=dcm.calibration,
        regions=dcm.regions,
        frame_count=dcm.frame_count,
        frame_index=dcm.frame_index,
    )


def image_from_array(
    gray_or_rgb: np.ndarray,
    calibration: Calibration | None = None,
    path: str = "<memory>",
    regions: tuple[UltrasoundRegion, ...] = (),
) -> UltrasoundImage:
    """An `UltrasoundImage` from pixels (tests, synthetic data, tools); sha256 is of the pixel bytes.

    Accepts (H,W) grey or (H,W,3|4) RGB(A), any integer or float dtype (non-uint8 is scaled min–max).
    """
    arr = np.asarray(gray_or_rgb)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or 0 in arr.shape[:2]:
        raise ImageLoadError(f"Pixels of shape {arr.shape} are not an image (expected (H,W) or (H,W,3)).")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise ImageLimitError(
            f"The image is too large (over the limit of {MAX_PIXELS // 1_000_000} megapixels)."
        )
    sha = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype != np.uint8:
        arr = rescale_to_uint8(arr)
    if arr.ndim == 3:
        rgb, gray = arr[:, :, :3], None
    else:
        rgb, gray = None, arr
    metadata = {"format": "array", "rows": int(arr.shape[0]), "columns": int(arr.shape[1])}
    source = Provenance(path, sha, metadata)
    return _assemble(rgb, gray, source, calibration=calibration, regions=tuple(regions))
