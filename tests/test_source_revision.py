"""A bundle records the commit of the code that wrote it (preprocessing changes between commits)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import dlrs_desktop
from dlrs_desktop.source_revision import source_revision
from tests.model_factory import cached_bundle

PACKAGE = Path(dlrs_desktop.__file__).resolve().parent


def _in_git_checkout() -> bool:
    try:
        subprocess.run(["git", "-C", str(PACKAGE), "ls-files", "--error-unmatch", "__init__.py"],
                       capture_output=True, check=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def test_outside_a_checkout_or_untracked_gives_none(tmp_path: Path) -> None:
    assert source_revision(tmp_path) is None
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    # an installed copy inside someone else's repository is not that repository's code
    assert source_revision(tmp_path / "pkg") is None


@pytest.mark.skipif(not _in_git_checkout(), reason="the package is not running from a git checkout")
def test_a_bundle_written_from_a_checkout_names_its_commit() -> None:
    head = subprocess.run(["git", "-C", str(PACKAGE), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    manifest = json.loads((cached_bundle(input_size=64) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["software"]["dlrs-desktop-source"].startswith(f"git {head}")
