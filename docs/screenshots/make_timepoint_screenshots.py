"""Take the USER_GUIDE.md screenshots of issue 30: patients and time points, side by side, reading.

    Xvfb :9 -screen 0 1600x1000x24 &
    DISPLAY=:9 python docs/screenshots/make_timepoint_screenshots.py

Copies the bundled sample scans into a study folder as two patients × two exams (PatientID and
StudyDate set with pydicom), opens it in the real app with identifiers shown, labels the exams, opens
View → Compare side by side, predicts, opens "How to read this" and Help → About, and grabs the X screen
with ImageMagick's `import -window root` (what a user sees). Private data and settings folders.
"""

from __future__ import annotations

import sys

from shot_session import close, grab, label_exams, make_study, private_folders, wait, wait_until

SCANS = [  # (sample, copy, PatientID, name, StudyDate)
    ("sample-centre1", "nac017_baseline", "NAC-017", "Sample^Patient^A", "20260105"),
    ("demo", "nac017_cycle2", "NAC-017", "Sample^Patient^A", "20260302"),
    ("sample-centre2", "nac023_baseline", "NAC-023", "Sample^Patient^B", "20260112"),
]
LABELS = [
    ("nac017_baseline", "baseline"),
    ("nac017_cycle2", "after cycle 2"),
    ("nac023_baseline", "baseline"),
]


def main() -> int:
    work = private_folders("dlrs-tp-shot-")
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop.ui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    study = work / "study"
    make_study(study, SCANS, details=True)
    win = MainWindow()
    win.prefs.reviewer = "Dr Reader"
    win.setGeometry(0, 0, 1600, 1000)
    win.show()
    win.start_model()
    win.actions["patient_identifiers"].setChecked(True)
    win.open_path(study)
    label_exams(win, study, LABELS)
    win.open_path(study / "nac017_baseline.dcm")
    win.open_path(study / "nac017_cycle2.dcm")
    wait_until(lambda: win.model.ready)
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
    close(win, app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
