"""Take the USER_GUIDE.md screenshot of View → Size over time (issue 30).

    Xvfb :11 -screen 0 1600x1000x24 &
    DISPLAY=:11 python docs/screenshots/make_timeline_screenshot.py

Copies two bundled sample scans into a study folder as one patient's baseline and after-cycle-2 exams
(PatientID and StudyDate set with pydicom, each scan's own contour beside it), labels the exams in the
real app, predicts on the follow-up (which opens the Size over time dock by itself) and grabs the X
screen with ImageMagick's `import -window root`. Private data and settings folders.
"""

from __future__ import annotations

import sys

from shot_session import close, grab, label_exams, make_study, private_folders, wait, wait_until

SCANS = [  # (sample, copy, PatientID, PatientName, StudyDate)
    ("sample-centre1", "nac017_baseline", "NAC-017", "Sample^Patient^A", "20260105"),
    ("demo", "nac017_cycle2", "NAC-017", "Sample^Patient^A", "20260302"),
]
LABELS = [("nac017_baseline", "baseline"), ("nac017_cycle2", "after cycle 2")]


def main() -> int:
    work = private_folders("dlrs-timeline-shot-")
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop.ui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    study = work / "study"
    make_study(study, SCANS)
    win = MainWindow()
    win.prefs.device = "cpu"
    win.setGeometry(0, 0, 1600, 1000)
    win.show()
    win.start_model()
    win.open_path(study)
    label_exams(win, study, LABELS)
    wait_until(lambda: win.model.ready)
    win.predict()  # on the follow-up: the Size over time dock opens by itself
    wait_until(lambda: win.doc.result_state == "current")
    wait(1500)
    grab("size-over-time.png")
    close(win, app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
