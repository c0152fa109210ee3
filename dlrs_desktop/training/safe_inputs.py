"""Training folders and tables read without trusting them: walks, CSV tables and images.

A training folder comes from a download or a colleague's disk. Before this, a symlink loop made the
walk never end, a FIFO named `bus_data.csv` blocked the read forever, a 30000 x 30000 PNG was
decoded whole (2.45 GB), and a CSV with a missing column or a 128 kB field ended in a traceback.
Here: the walk follows a link only to a folder inside the training folder and visits each real
folder once; a wanted entry that is not a regular file (a pipe, a device, a link leaving the folder)
is refused; an image's size is read from its header and checked against `dlrs_desktop.limits`
before anything is decoded; a table is one `DlrsError` line whatever is wrong with it.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.limits import MAX_IMAGE_FILE_BYTES, MAX_TABLE_BYTES, read_regular_bytes

MAX_FIELD_CHARS = 64 * 1024  # one cell of a training table; more is a damaged or hostile file


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):  # a dangling link or a loop
        return False


def _refuse_entry(path: Path, root: Path) -> None:
    """A wanted entry must be a regular file inside the folder (links are followed only inside it)."""
    if not _inside(path, root):
        raise DlrsError(
            f"'{path.name}' in the training folder is a link that leaves the folder or goes nowhere; "
            "refusing it (copy the file into the folder)."
        )
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise DlrsError(f"'{path.name}' in the training folder is not a regular file (a pipe or device).")


def walk_files(root: str | os.PathLike[str], want: Callable[[str], bool]) -> list[Path]:
    """Files under `root` whose name `want`s, sorted. Links to folders are followed only when they stay
    inside `root`, each real folder is visited once (no loop), and a wanted name that is not a regular
    file inside `root` is refused (DlrsError)."""
    base = Path(root)
    try:
        real_root = base.resolve(strict=True)
    except (OSError, RuntimeError):
        raise DlrsError(f"The training folder '{base}' does not exist or is a broken link.") from None
    if not real_root.is_dir():
        raise DlrsError(f"'{base}' is not a folder.")
    seen: set[tuple[int, int]] = set()
    out: list[Path] = []
    for d, dirs, files in os.walk(base, followlinks=True):
        here = Path(d)
        try:
            st = os.stat(here)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen or not _inside(here, real_root):
            dirs[:] = []  # a loop, or a link out of the folder: not descended
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in files:
            if want(name):
                _refuse_entry(here / name, real_root)
                out.append(here / name)
    return sorted(out)


def find_folder(root: str | os.PathLike[str], name: str) -> Path | None:
    """The first folder called `name` under `root` (same link rules as `walk_files`)."""
    found = [
        Path(d) / n
        for d, dirs, _files in _dirs_only(Path(root))
        for n in dirs
        if n == name and _inside(Path(d) / n, Path(root).resolve())
    ]
    return sorted(found)[0] if found else None


def _dirs_only(base: Path):  # type: ignore[no-untyped-def]
    real_root = base.resolve()
    seen: set[tuple[int, int]] = set()
    for d, dirs, files in os.walk(base, followlinks=True):
        try:
            st = os.stat(d)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen or not _inside(Path(d), real_root):
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        yield d, dirs, files


def read_table(path: str | os.PathLike[str], required: Sequence[str] = (), what: str = "table") -> list[dict]:
    """Rows of a CSV file (UTF-8, with or without BOM) as stripped strings; every failure one DlrsError.

    The file must be a regular file within `MAX_TABLE_BYTES` (never a pipe), and hold the `required`
    columns; a cell over `MAX_FIELD_CHARS` or text that is not UTF-8 is refused.
    """
    p = Path(path)
    raw = read_regular_bytes(p, what, MAX_TABLE_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DlrsError(
            f"The {what} '{p.name}' is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV."
        ) from None
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(MAX_FIELD_CHARS)
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [str(c).strip() for c in (reader.fieldnames or [])]
        rows = [
            {k.strip(): v.strip() if isinstance(v, str) else "" for k, v in r.items() if isinstance(k, str)}
            for r in reader
        ]
    except csv.Error as exc:
        raise DlrsError(f"The {what} '{p.name}' cannot be read as CSV ({exc}).") from None
    finally:
        csv.field_size_limit(limit)
    missing = [c for c in required if c not in columns]
    if missing:
        raise DlrsError(f"The {what} '{p.name}' lacks the column(s) {', '.join(missing)}.")
    return rows


def read_grey(path: str | os.PathLike[str]) -> np.ndarray:
    """An 8-bit grey image for training: a regular file, its size checked from the header before decoding."""
    # lazy: cv2 (0.45 s) only when a training image is decoded
    import cv2

    # lazy: the raster decoders import cv2
    from dlrs_desktop.imaging import raster
    from dlrs_desktop.limits import MAX_FRAME_BYTES, MAX_PIXELS, ImageLimitError

    p = Path(path)
    data = read_regular_bytes(p, "image", MAX_IMAGE_FILE_BYTES)
    fmt = raster.sniff_raster(data[:64]) or p.suffix.lower().lstrip(".")
    info = raster._header(p, data) or raster._raw_header(p, fmt, data)
    if not info:
        raise DlrsError(f"Cannot read image '{p.name}': its size cannot be read (damaged or not an image).")
    w, h = int(info["width"]), int(info["height"])
    if w * h > MAX_PIXELS or w * h * 8 > MAX_FRAME_BYTES:
        raise ImageLimitError(
            f"Cannot read image '{p.name}': {w} x {h} pixels is over the limit of "
            f"{MAX_PIXELS // 1_000_000} megapixels."
        )
    try:
        a = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    except cv2.error:
        a = None
    if a is None or a.size == 0:
        raise DlrsError(f"Cannot read image '{p.name}' (damaged or not an image).")
    return a
