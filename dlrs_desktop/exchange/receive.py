"""Filing received objects: identifier-free names, never over an existing file, derived objects apart.

Each object lands as `<Modality>_<series>_<instance>_<8 hex of its UID's sha1>.dcm`: short enough for a
worklist column, sorted like the scanner's series, free of patient identifiers. An object is first
staged under a hidden name in the target folder (streamed: pynetdicom already wrote it to a temporary
file, we hard-link or copy it, never read it whole), then published with `os.link`, which refuses to
replace an existing name. The same SOP Instance UID with the same bytes is kept once; with other bytes
(a truncated resend, another patient's image under a reused UID) it is kept beside the first as
`<name>_<8 hex of its content sha256>.dcm` and the caller is told: nothing received ever overwrites.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Objects that are not images to contour (SEG, SR, PDF, KO, PR) go to DERIVED_FOLDER under the target,
#: so the worklist (which lists the folder's *.dcm) shows only images.
DERIVED_FOLDER = "derived"
_DERIVED_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.66",
    "1.2.840.10008.5.1.4.1.1.88",
    "1.2.840.10008.5.1.4.1.1.104",
    "1.2.840.10008.5.1.4.1.1.11",
)
_STAGE_PREFIX = ".recv-"
_CHUNK = 1 << 20


def is_derived(sop_class_uid: str) -> bool:
    return str(sop_class_uid).startswith(_DERIVED_PREFIXES)


def is_image_class(sop_class_uid: str) -> bool:
    """A storage SOP class holding an image (what the worklist can open), by its registered name."""
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.uid import UID

    return "Image Storage" in UID(str(sop_class_uid)).name


def file_name(uid: str, dataset: Any = None) -> str:
    """A short, stable, identifier-free file name for one received object."""

    def number(keyword: str) -> int:
        try:
            return max(0, min(int(getattr(dataset, keyword, 0) or 0), 9999))
        except (TypeError, ValueError):
            return 0

    modality = re.sub(r"[^A-Z0-9]", "", str(getattr(dataset, "Modality", "") or "").upper())[:8] or "OT"
    tail = hashlib.sha1(uid.encode("ascii", "replace")).hexdigest()[:8]
    return f"{modality}_{number('SeriesNumber'):03d}_{number('InstanceNumber'):04d}_{tail}.dcm"


@dataclass(frozen=True)
class Filed:
    """Where one received object went; `beside` is the earlier file it differs from (same UID)."""

    path: Path
    beside: Path | None = None
    already_had: bool = False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def stage_file(source: Path, folder: Path) -> Path:
    """A private, fsynced copy (a hard link where possible) of `source` inside `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f"{_STAGE_PREFIX}{uuid.uuid4().hex}.part"
    try:
        os.link(source, staged)
    except OSError:  # another filesystem (the system temp folder): a streamed copy
        shutil.copyfile(source, staged)
    with open(staged, "rb+") as fh:
        os.fsync(fh.fileno())
    return staged


def stage_bytes(data: bytes, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f"{_STAGE_PREFIX}{uuid.uuid4().hex}.part"
    with open(staged, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return staged


def publish(staged: Path, dest: Path) -> Filed:
    """Give `staged` the name `dest`, never replacing a file already there; `staged` is consumed."""
    try:
        try:
            os.link(staged, dest)  # fails on an existing name: atomic "create, never overwrite"
            return Filed(dest)
        except FileExistsError:
            pass
        digest = _sha256(staged)
        if dest.is_file() and _sha256(dest) == digest:
            return Filed(dest, already_had=True)
        beside = dest.with_name(f"{dest.stem}_{digest[:8]}{dest.suffix}")
        try:
            os.link(staged, beside)
        except FileExistsError:
            return Filed(beside, dest, already_had=True)  # this very content arrived before
        return Filed(beside, dest)
    finally:
        staged.unlink(missing_ok=True)


def clean_stages(folder: Path) -> None:
    """Staged files a killed receiver left behind (never a published object)."""
    for p in folder.glob(f"{_STAGE_PREFIX}*.part") if folder.is_dir() else []:
        p.unlink(missing_ok=True)


def _staged_copy(event: Any, target: Path) -> Path:
    """The received object as a Part 10 file in `target`: streamed when pynetdicom wrote it to disk."""
    try:
        on_disk = event.dataset_path
    except AttributeError:
        on_disk = None
    if isinstance(on_disk, Path) and on_disk.is_file():
        return stage_file(on_disk, target)
    return stage_bytes(event.encoded_dataset(), target)


def _header(path: Path) -> Any:
    """The few attributes the file name uses, without reading pixel data; None if unreadable."""
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    import pydicom

    try:
        return pydicom.dcmread(path, stop_before_pixels=True, defer_size=4096)
    except Exception:
        return None


def store_event_to(
    folder: Path,
    on_file: Callable[[Path], None] | None,
    on_note: Callable[[str], None] | None = None,
    accept: Callable[[Any, Path], str | None] | None = None,
) -> Callable[[Any], int]:
    """An EVT_C_STORE handler filing into `folder` (derived objects into its `derived/`).

    `accept(event, staged)` may refuse an object (returns the reason); `on_note` hears duplicates.
    """

    def handle(event: Any) -> int:
        staged: Path | None = None
        try:
            uid = str(event.request.AffectedSOPInstanceUID)
            target = folder / DERIVED_FOLDER if is_derived(event.request.AffectedSOPClassUID) else folder
            staged = _staged_copy(event, target)
            why = accept(event, staged) if accept is not None else None
            if why is not None:
                if on_note is not None:
                    on_note(why)
                return 0xA700  # out of resources: the sender reports the failure
            filed = publish(staged, target / file_name(uid, _header(staged)))
        except OSError:
            return 0xA700
        except Exception:
            return 0xC210  # cannot understand
        finally:
            if staged is not None:
                staged.unlink(missing_ok=True)
        if filed.beside is not None and not filed.already_had and on_note is not None:
            on_note(
                f"{filed.path.name}: same SOP Instance UID as {filed.beside.name} but other content; "
                "kept beside it (the first is unchanged)"
            )
        if on_file is not None:  # a resend we already had is still the file holding this object
            on_file(filed.path)
        return 0x0000

    return handle
