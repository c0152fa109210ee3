"""Real storage faults for the persistence tests: read-only folders and a full disk, made by the kernel.

As an ordinary user a folder is made read-only with chmod. As root (CI) permissions are ignored, so
the folder is bind-mounted read-only instead; a full disk is a tiny tmpfs. Nothing here fakes an
OSError: where the kernel cannot be asked (no mount privilege), the test is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    if shutil.which("mount") is None:
        pytest.skip("the 'mount' command is not installed: cannot create a real read-only or full filesystem")
    proc = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        pytest.skip(f"mounting is not permitted here ({proc.stderr.strip() or proc.returncode})")


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` cannot be written while the block runs (chmod as a user, a read-only bind mount as root)."""
    if os.name != "posix":
        pytest.skip("read-only folders are tested on POSIX")
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield folder
        finally:
            folder.chmod(mode)
        return
    _mount("--bind", str(folder), str(folder))
    try:
        _mount("-o", "remount,bind,ro", str(folder))
        assert not os.access(folder, os.W_OK)
        yield folder
    finally:
        _umount(folder)


@contextlib.contextmanager
def tiny_filesystem(folder: Path, size_kb: int = 256) -> Iterator[Path]:
    """A real tmpfs of `size_kb` mounted on `folder` (root only; skipped otherwise)."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("a small real filesystem needs root to mount a tmpfs; not simulated")
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        _umount(folder)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the filesystem of `folder` until fewer than `leave` bytes are free; returns the filler."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        while True:
            st = os.statvfs(folder)
            free = st.f_bavail * st.f_frsize
            if free <= leave:
                break
            try:
                os.write(fd, b"\0" * max(1, min(65536, free - leave)))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(fd)
    return filler
