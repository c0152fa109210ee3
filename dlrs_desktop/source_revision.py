"""Which commit of this package is running, when it runs from a git checkout (model provenance)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def source_revision(package_dir: Path) -> str | None:
    """ "git <commit>" (+ " with local changes") when `package_dir` is tracked in a git checkout.

    Why: the package version does not change with every commit, but the preprocessing code does;
    a bundle trained before a change of the crop code and evaluated after it gives slightly
    different numbers (docs/evaluation/default-recipe-469/README.md), and only the commit says so.
    An installed copy that merely sits inside someone else's repository (a virtual environment in
    a project folder) is not tracked there, so it gives None. No network; any failure gives None.
    """

    def git(*args: str) -> str:
        run = subprocess.run(
            ["git", "-C", str(package_dir), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return run.stdout.strip()

    try:
        git("ls-files", "--error-unmatch", "__init__.py")  # fails unless this very package is tracked
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"git {commit}" + (" with local changes" if dirty else "")
