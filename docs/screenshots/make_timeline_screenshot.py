"""Take the USER_GUIDE.md screenshot of View → Size over time (issue 30).

    Xvfb :11 -screen 0 1600x1000x24 &
    DISPLAY=:11 python docs/screenshots/make_timeline_screenshot.py

Copies two bundled sample scans into a study folder as one patient's baseline and after-cycle-2 exams
(PatientID and StudyDate set with pydicom, each scan's own contour beside it), labels the exams in the
real app, predicts on the follow-up (which opens the Size over time dock by itself) and grabs the X
screen with ImageMagick's `import -window root`. Private data and settings folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCANS = [  # (sample, copy, StudyDate, time point)
    ("sample-centre1", "nac017_baseline", "20260105", "baseline"),
    ("demo", "nac017_cycle2", "20260302", "after cycle 2"),
]


def make_study(folder: Path) -> None:
    import pydicom

    from dlrs_desktop import paths

    folder.mkdir(parents=True)
    for sample, name, date, _ in SCANS:
        ds = pydicom.dcmread(paths.samples_dir() / f"{sample}.dcm")
        ds.PatientID, ds.PatientName, ds.StudyDate = "NAC-017", "Sample^Patient^A", date
        ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["NAC-017", date])
        ds.save_as(folder / f"{name}.dcm")
        shutil.copy(paths.samples_dir() / f"{sample}.contour.json", folder / f"{name}.contour.json")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dlrs-timeline-shot-"))
    os.environ["DLRS_DATA_DIR"] = str(work / "data")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    sys.path.insert(0, str(HERE.parent.parent))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop.ui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    study = work / "study"
    make_study(study)
    win = MainWindow()
    win.prefs.device = "cpu"
    win.setGeometry(0, 0, 1600, 1000)
    win.show()
    win.start_model()
    win.open_path(study)
    for _, name, _, label in SCANS:
        win.open_path(study / f"{name}.dcm")
        win.load_contour_file(study / f"{name}.contour.json")
        win.save_now()
        win.timepoints.label_exam(label)
    for _ in range(120):
        if win.model.ready:
            break
        wait(500)
    win.predict()  # on the follow-up: the Size over time dock opens by itself
    for _ in range(120):
        if win.doc.result_state == "current":
            break
        wait(500)
    wait(1500)
    subprocess.run(["import", "-window", "root", str(HERE / "size-over-time.png")], check=True)
    win.files.close_guard = lambda: True  # type: ignore[method-assign]
    win.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
