"""What the issue-30 screenshot scripts share: private data/settings folders, a Qt app, a study folder
made from the bundled samples, exams opened and labelled in the real window, and the X screen grab."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def private_folders(prefix: str) -> Path:
    """A temporary work folder holding the app's data and settings (nothing of the user's is touched)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DLRS_DATA_DIR"] = str(work / "data")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    sys.path.insert(0, str(HERE.parent.parent))
    return work


def make_study(
    folder: Path, scans: Sequence[tuple[str, str, str, str, str]], *, details: bool = False
) -> None:
    """Copy bundled samples as (sample, copy name, PatientID, PatientName, StudyDate), each with its
    own contour beside it; `details` adds a birth date and an accession number for the banner."""
    import pydicom

    from dlrs_desktop import paths

    folder.mkdir(parents=True)
    for sample, name, pid, pname, date in scans:
        ds = pydicom.dcmread(paths.samples_dir() / f"{sample}.dcm")
        ds.PatientID, ds.PatientName, ds.StudyDate = pid, pname, date
        if details:
            ds.PatientBirthDate, ds.AccessionNumber = "19700101", f"ACC-{date}"
        ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[pid, date])
        ds.save_as(folder / f"{name}.dcm")
        shutil.copy(paths.samples_dir() / f"{sample}.contour.json", folder / f"{name}.contour.json")


def wait(ms: int) -> None:
    """Let the window work (and paint) for `ms` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(ready: Callable[[], bool], *, tries: int = 120, step_ms: int = 500) -> None:
    for _ in range(tries):
        if ready():
            return
        wait(step_ms)


def label_exams(win: Any, study: Path, labels: Sequence[tuple[str, str]]) -> None:
    """Open each scan, load its contour, save, and label its exam ("baseline", "after cycle 2")."""
    for name, label in labels:
        win.open_path(study / f"{name}.dcm")
        win.load_contour_file(study / f"{name}.contour.json")
        win.save_now()
        win.timepoints.label_exam(label)


def grab(name: str) -> None:
    """The whole X screen, as a user sees it (ImageMagick's `import`)."""
    subprocess.run(["import", "-window", "root", str(HERE / name)], check=True)


def close(win: Any, app: Any) -> None:
    win.files.close_guard = lambda: True  # type: ignore[method-assign]
    win.close()
    app.processEvents()
