"""Reading one sidecar copy defensively, keeping backups, and naming storage faults in plain words.

No Qt. A copy is read once into bytes: the same bytes are parsed, fingerprinted (to notice another
writer) and, when they must be preserved, written out as the backup — never re-read in between.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from dlrs_desktop import limits
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.store.record import Annotation

MAX_SIDECAR_BYTES = limits.MAX_CONTOUR_FILE_BYTES  # the stated limit for contour and sidecar JSON
READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Copy:
    """One sidecar location as found on disk: missing, unusable (with the reason) or a valid annotation."""

    path: Path
    data: bytes | None = None  # None: there is no file (or it could not be read at all)
    annotation: Annotation | None = None
    problem: str | None = None

    @property
    def exists(self) -> bool:
        return self.data is not None or self.problem is not None

    @property
    def fingerprint(self) -> str | None:
        return None if self.data is None else digest(self.data)


def read_copy(path: Path, sha256: str | None) -> Copy:
    """The copy at `path`, checked against the image it must belong to (if known); never raises."""
    copy = Copy(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return copy
    except OSError as exc:
        copy.problem = f"it cannot be read ({exc.strerror or exc})"
        return copy
    if not stat.S_ISREG(st.st_mode):
        copy.problem = "it is not a regular file"
        return copy
    if st.st_size > MAX_SIDECAR_BYTES:
        copy.problem = f"it is larger than {MAX_SIDECAR_BYTES // 2**20} MB"
        return copy
    try:
        with open(path, "rb") as fh:
            copy.data = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        copy.problem = f"it cannot be read ({exc.strerror or exc})"
        return copy
    try:
        ann = Annotation.from_dict(limits.parse_json(copy.data, "annotation"))  # strict: no NaN, no bombs
    except (DlrsError, ValueError, TypeError, KeyError, RecursionError, UnicodeDecodeError) as exc:
        copy.problem = f"it is an unreadable or invalid annotation ({str(exc)[:200]})"
        return copy
    if sha256 is not None and ann.image_sha256 != sha256:
        copy.problem = "it belongs to a different image (its pixels differ)"
        return copy
    copy.annotation = ann
    return copy


def backup_name(path: Path) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{path.name}.{stamp}.bak"


def _existing_backup(copy: Copy, folders: tuple[Path, ...]) -> Path | None:
    """A backup of exactly these bytes made earlier (opening the image again makes no duplicate)."""
    for folder in folders:
        try:
            candidates = sorted(folder.glob(f"{copy.path.name}.*.bak"))
        except OSError:
            continue
        for p in candidates:
            try:
                if p.stat().st_size == len(copy.data or b"") and p.read_bytes() == copy.data:
                    return p
            except OSError:
                continue
    return None


def keep_backup(copy: Copy, fallback_folder: Path) -> Path | None:
    """Write the copy's bytes to a timestamped backup beside it (else in `fallback_folder`)."""
    if copy.data is None:
        return None
    folders = (copy.path.parent, fallback_folder)
    earlier = _existing_backup(copy, folders)
    if earlier is not None:
        return earlier
    name = backup_name(copy.path)
    for folder in folders:
        try:
            return atomic_write_bytes(folder / name, copy.data)
        except OSError:
            continue
    return None


@contextlib.contextmanager
def image_lock(folder: Path, sha256: str) -> Iterator[None]:
    """Serialise check-and-write of one image's copies between processes of this user (`filelock`:
    flock on POSIX, released by the kernel on kill -9; msvcrt locking on Windows).

    The compare-and-swap in the store detects other writers; this lock closes the gap between its
    check and its rename. Without a writable lock folder the check alone remains.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # kept on release (as flock wants: no unlink race); no soft-lock fallback that kill -9 would leave
        lock = FileLock(
            folder / f"{sha256}.lock", mode=0o600, preserve_lock_file=True, fallback_to_soft=False
        )
        lock.acquire()  # held for milliseconds
    except (OSError, NotImplementedError):
        yield
        return
    try:
        yield
    finally:
        lock.release()


def folder_writable(folder: Path) -> bool:
    """False for a read-only mount or a folder without write permission (root ignores only the latter)."""
    return os.access(folder, os.W_OK) if folder.is_dir() else True


def storage_problem(exc: OSError, where: str) -> tuple[str, str]:
    """(kind, message): `kind` is what the window deduplicates on, so each fault is told once."""
    code = exc.errno
    if code in FULL_ERRNOS:
        return "full", f"{where} is full: there is no space left to save the annotation."
    if code in READ_ONLY_ERRNOS:
        return "read-only", f"{where} is read-only: the annotation cannot be saved there."
    return "error", f"{where} cannot be written ({exc.strerror or exc})."
