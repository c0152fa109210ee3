"""Take the DICOM.md screenshot: the real app querying a real Orthanc (what a user sees, not a mock).

    xvfb-run -a -s "-screen 0 1366x768x24" python docs/screenshots/make_dicom_screenshot.py

Starts a private Orthanc (Debian package) on free ports, stores the demo image with dcmtk's storescu,
configures the PACS in Preferences, searches by patient ID in File → DICOM → Query/retrieve, retrieves
the study, imports the demo contour, and grabs the screen with the dialog open. Private data folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dlrs-dicom-shot-"))
    os.environ["DLRS_DATA_DIR"] = str(work / "data")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    sys.path.insert(0, str(HERE.parent.parent))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop import paths
    from dlrs_desktop.ui.about import PreferencesDialog
    from dlrs_desktop.ui.mainwindow import MainWindow
    from dlrs_desktop.ui.pacs_browser import query_retrieve_dialog
    from tests.pacs_factory import PACS_AET, start_orthanc, stop_orthanc

    server = start_orthanc(work / "orthanc")
    try:
        for name in ("demo.dcm", "sample-centre1.dcm", "sample-centre2.dcm"):
            subprocess.run(
                [
                    "storescu",
                    "-aec",
                    PACS_AET,
                    "127.0.0.1",
                    str(server.dicom_port),
                    str(paths.samples_dir() / name),
                ],
                check=True,
                capture_output=True,
            )
        app = QApplication.instance() or QApplication([])

        def wait(ms: int) -> None:
            loop = QEventLoop()
            QTimer.singleShot(ms, loop.quit)
            loop.exec()

        win = MainWindow()
        win.prefs.export_folder = str(work / "pacs")
        win.resize(1366, 740)
        win.show()
        win.start_model()  # the bundled model, loaded in its worker as at start-up
        prefs = PreferencesDialog(win)
        for key, value in {"aet": PACS_AET, "host": "127.0.0.1", "port": str(server.dicom_port)}.items():
            prefs.pacs.edits[key].setText(value)
        prefs.apply()
        dlg = query_retrieve_dialog(win)
        dlg.patient_id.setText("P000*")
        dlg.search_button.click()
        wait(2500)
        dlg.table.selectRow(0)
        dlg.retrieve_button.click()
        wait(3000)
        win._load_contour_file(paths.samples_dir() / "demo.contour.json")
        for _ in range(60):
            if win.model.ready:
                break
            wait(500)
        win.predict()
        wait(4000)
        dlg = query_retrieve_dialog(win)
        dlg.patient_id.setText("P000*")
        dlg.search_button.click()
        wait(2500)
        dlg.table.selectRow(0)
        dlg.resize(760, 330)
        dlg.move(8, 400)
        wait(500)
        shot = HERE / "pacs-query.png"
        app.primaryScreen().grabWindow(0).save(str(shot))
        print(f"wrote {shot}")
    finally:
        stop_orthanc(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
