"""Take the USER_GUIDE.md screenshots of issue 30: patients and time points, side by side, reading.

    Xvfb :9 -screen 0 1600x1000x24 &
    DISPLAY=:9 python docs/screenshots/make_timepoint_screenshots.py

Copies the bundled sample scans into a study folder as two patients × two exams (PatientID and
StudyDate set with pydicom), opens it in the real app with identifiers shown, labels the exams, opens
View → Compare side by side, predicts, opens "How to read this" and Help → About, and grabs the X screen
with ImageMagick's `import -window root` (what a user sees). Private data and settings folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCANS = [  # (sample, copy, PatientID, name, StudyDate)
    ("sample-centre1", "nac017_baseline", "NAC-017", "Sample^Patient^A", "20260105"),
    ("demo", "nac017_cycle2", "NAC-017", "Sample^Patient^A", "20260302"),
    ("sample-centre2", "nac023_baseline", "NAC-023", "Sample^Patient^B", "20260112"),
]


def make_study(folder: Path) -> None:
    import pydicom

    from dlrs_desktop import paths

    folder.mkdir(parents=True)
    for sample, name, pid, pname, date in SCANS:
        ds = pydicom.dcmread(paths.samples_dir() / f"{sample}.dcm")
        ds.PatientID, ds.PatientName, ds.StudyDate = pid, pname, date
        ds.PatientBirthDate, ds.AccessionNumber = "19700101", f"ACC-{date}"
        ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[pid, date])
        ds.save_as(folder / f"{name}.dcm")
        shutil.copy(paths.samples_dir() / f"{sample}.contour.json", folder / f"{name}.contour.json")


def grab(name: str) -> None:
    subprocess.run(["import", "-window", "root", str(HERE / name)], check=True)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dlrs-tp-shot-"))
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
    win.prefs.reviewer = "Dr Reader"
    win.setGeometry(0, 0, 1600, 1000)
    win.show()
    win.start_model()
    win.actions["patient_identifiers"].setChecked(True)
    win.open_path(study)
    for name, label in (("nac017_baseline", "baseline"), ("nac017_cycle2", "after cycle 2"),
                        ("nac023_baseline", "baseline")):  # fmt: skip
        win.open_path(study / f"{name}.dcm")
        win.load_contour_file(study / f"{name}.contour.json")
        win.save_now()
        win.timepoints.label_exam(label)
    win.open_path(study / "nac017_baseline.dcm")
    win.open_path(study / "nac017_cycle2.dcm")
    for _ in range(120):
        if win.model.ready:
            break
        wait(500)
    win.predict()
    wait(6000)
    win.actions["compare"].setChecked(True)
    wait(500)
    win.canvas.zoom_at(1.6)
    win.canvas.set_window_level(180.0, 110.0)
    wait(800)
    grab("compare-side-by-side.png")
    win.actions["compare"].setChecked(False)
    win.toggle_reviewed()
    win.result_panel.guide.button.setChecked(True)
    wait(800)
    grab("result-reading.png")
    from dlrs_desktop.ui.about import make_about_dialog

    dlg = make_about_dialog(win, win.model.info)
    dlg.show()
    dlg.move(300, 120)
    wait(800)
    grab("about-top.png")
    dlg.close()
    win.files.close_guard = lambda: True  # type: ignore[method-assign]
    win.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
