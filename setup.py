"""Build step the declarative pyproject.toml cannot express: compile the translation catalogues.

`pyside6-lrelease` turns dlrs_desktop/translations/*.ts into the .qm files the application loads; they
go into the wheel (and, for an editable install, beside the .ts). PySide6-Essentials is a build
requirement for this (pyproject.toml [build-system]). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CATALOGUES = HERE / "dlrs_desktop" / "translations"


def lrelease() -> list[str]:
    import PySide6

    exe = Path(PySide6.__file__).parent / ("lrelease.exe" if sys.platform == "win32" else "lrelease")
    return [str(exe)] if exe.is_file() else ["pyside6-lrelease"]


class BuildPyWithCatalogues(build_py):
    """build_py, then every .ts compiled to .qm in the build tree (the source tree when editable)."""

    def run(self) -> None:
        super().run()
        target = CATALOGUES if self.editable_mode else Path(self.build_lib) / "dlrs_desktop" / "translations"
        target.mkdir(parents=True, exist_ok=True)
        for ts in sorted(CATALOGUES.glob("*.ts")):
            qm = target / ts.with_suffix(".qm").name
            subprocess.run([*lrelease(), "-silent", str(ts), "-qm", str(qm)], check=True)
            if not qm.is_file():
                raise SystemExit(f"lrelease wrote no {qm.name}")


setup(cmdclass={"build_py": BuildPyWithCatalogues})
