"""Stated limits on what one input may cost, checked before any work (docs/RELIABILITY.md).

A hostile or damaged file must not be able to make the application hang or exhaust memory: every
size an input declares (pixels, frames, bytes, regions, vertices, ring radii, archive members) is
compared with these numbers first, and a limit hit is one `LimitError` (exit 2) that names it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from dlrs_desktop.errors import ContourError, DlrsError, ImageLoadError, ModelError
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, marked

#: what the workstation opens, named in its refusals (`check_regular_file`'s and `parse_json`'s `what`),
#: in its language
IMAGE = QT_TRANSLATE_NOOP("core", "image")
MASK_IMAGE = QT_TRANSLATE_NOOP("core", "mask image")
CONTOUR_FILE = QT_TRANSLATE_NOOP("core", "contour file")
TEXT = QT_TRANSLATE_NOOP("core", "text")
MODEL_MANIFEST = QT_TRANSLATE_NOOP("core", "model manifest (manifest.json)")
FILE_KINDS = (IMAGE, MASK_IMAGE, CONTOUR_FILE, TEXT, MODEL_MANIFEST)

MAX_PIXELS = 40_000_000  # per frame; a 4K screen capture is 8.3 megapixels
MAX_FRAME_BYTES = 256 * 1024**2  # decoded bytes of one frame (rows x cols x samples x bytes per sample)
MAX_FRAMES = 10_000  # frames declared by a cine loop
MAX_IMAGE_FILE_BYTES = 2 * 1024**3  # an image file on disk
MAX_DEFLATED_BYTES = 256 * 1024**2  # a deflated DICOM dataset once inflated (counted before pydicom does)
MAX_US_REGIONS = 16  # SequenceOfUltrasoundRegions items (scanners write 1 to 4)
MAX_CONTOUR_VERTICES = 20_000  # more is simplified (0.25 px tolerance) or refused
MAX_CONTOUR_FILE_BYTES = 32 * 1024**2  # contour / sidecar / labelme JSON
MAX_RING_RADIUS_MM = 50.0  # widest peritumoral ring (the study uses 3, 5 and 10 mm)
MAX_RINGS = 8
MAX_MANIFEST_BYTES = 4 * 1024**2  # manifest.json of a model bundle
MAX_BUNDLE_FILE_BYTES = 1024**3  # one file of a model bundle
MAX_BUNDLE_TOTAL_BYTES = 2 * 1024**3  # all files of a model bundle together
MAX_TABLE_BYTES = 64 * 1024**2  # cohort / ground-truth CSV


class LimitError(DlrsError):
    """An input is larger than a stated limit (exit 2; the message names the limit)."""


class ImageLimitError(LimitError, ImageLoadError):
    """An image is larger than a stated limit."""


class ContourLimitError(LimitError, ContourError):
    """A contour or its rings are larger than a stated limit."""


class ModelLimitError(ModelError):
    """A model bundle is larger than a stated limit (exit 3)."""


def check_regular_file(path: str | os.PathLike[str], what: str = "file", max_bytes: int | None = None) -> int:
    """Size of `path` if it is a regular file (following symlinks) within `max_bytes`, else a `LimitError`.

    A named pipe, a device or a socket would block or never end when read: they are refused from
    their `stat`, which never blocks.
    """
    p = Path(path)
    kind = marked(what, FILE_KINDS)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise DlrsError.of(
            QT_TRANSLATE_NOOP("core", "The {what} '{name}' does not exist."), what=kind, name=p.name
        ) from None
    except OSError as exc:
        raise DlrsError.of(
            QT_TRANSLATE_NOOP("core", "Cannot open the {what} '{name}': {detail}."),
            what=kind,
            name=p.name,
            detail=exc.strerror or str(exc),
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise DlrsError.of(
            QT_TRANSLATE_NOOP("core", "Cannot open '{name}': it is a folder, not a {what}."),
            name=p.name,
            what=kind,
        )
    if not stat.S_ISREG(st.st_mode):
        raise DlrsError.of(
            QT_TRANSLATE_NOOP(
                "core", "Cannot open '{name}': it is not a regular file (a pipe, device or socket)."
            ),
            name=p.name,
        )
    if max_bytes is not None and st.st_size > max_bytes:
        raise LimitError.of(
            QT_TRANSLATE_NOOP(
                "core", "The {what} '{name}' is {size:,} bytes, over the limit of {limit:,} bytes."
            ),
            what=kind,
            name=p.name,
            size=st.st_size,
            limit=max_bytes,
        )
    return int(st.st_size)


def check_file_as(
    path: str | os.PathLike[str],
    what: str,
    max_bytes: int,
    too_large: type[Exception],
    unusable: type[Exception],
) -> None:
    """`check_regular_file` with its failures in the caller's own error types (an image is an
    ImageLimitError / ImageLoadError, a mask a ContourLimitError / ContourError)."""
    try:
        check_regular_file(path, what, max_bytes)
    except LimitError as exc:
        raise _as(too_large, exc) from None
    except DlrsError as exc:
        raise _as(unusable, exc) from None


def _as(kind: type[Exception], error: DlrsError) -> Exception:
    """`error` as the caller's error type, its sentence kept for translation."""
    return kind.keeping(error) if issubclass(kind, DlrsError) else kind(str(error))


def read_regular_bytes(path: str | os.PathLike[str], what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (opened non-blocking, re-checked after open)."""
    size = check_regular_file(path, what, max_bytes)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise DlrsError.of(
                QT_TRANSLATE_NOOP("core", "Cannot open '{name}': it is not a regular file."),
                name=Path(path).name,
            )
        # read(n) allocates n bytes up front: ask for the stated size (+1), more only if it grew
        data = fh.read(min(size, max_bytes) + 1)
        if len(data) > size:
            data += fh.read(max_bytes + 1 - len(data))
    if len(data) > max_bytes:
        raise LimitError.of(
            QT_TRANSLATE_NOOP("core", "The {what} '{name}' is over the limit of {limit:,} bytes."),
            what=marked(what, FILE_KINDS),
            name=Path(path).name,
            limit=max_bytes,
        )
    return data


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(data: str | bytes, what: str, error: type[DlrsError] = DlrsError) -> object:
    """`json.loads` for untrusted text: NaN/Infinity, over-deep nesting and huge integers are one `error`."""
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise error.of(
            QT_TRANSLATE_NOOP(
                "core", "The {what} nests deeper than JSON data can sensibly be; it is damaged."
            ),
            what=marked(what, FILE_KINDS),
        ) from None
    except (
        ValueError,
        UnicodeDecodeError,
    ) as exc:  # JSONDecodeError is a ValueError; so is a 5,000-digit int
        raise error.of(
            QT_TRANSLATE_NOOP("core", "The {what} is not valid JSON ({detail})."),
            what=marked(what, FILE_KINDS),
            detail=str(exc)[:120],
        ) from None
