"""Take the Chinese-interface screenshots of docs/I18N.md under Xvfb (the real application in zh_CN).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_zh_screenshots.py

Starts `dlrs-desktop --language zh_CN --demo`, predicts, grabs the screen
(zh_CN-main-after-predict.png); opens File → Preferences (zh_CN-preferences.png); exports the PDF report
with a Chinese patient name and an institution, and rasterises its first page with Ghostscript
(zh_CN-pdf-report.png).
Private data and settings folders are used; nothing is written beside the samples.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dlrs-zh-shots-"))
    os.environ["DLRS_DATA_DIR"] = str(work / "data")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    sys.path.insert(0, str(HERE.parent.parent))
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop.ui import i18n
    from dlrs_desktop.ui.app import build_parser, start
    from dlrs_desktop.ui.report import ReportOptions

    app = QApplication(["dlrs-desktop"])
    app.setQuitOnLastWindowClosed(False)
    assert i18n.install(app, "zh_CN") == "zh_CN"  # what main() does for --language zh_CN

    def shot(name: str) -> None:
        QTest.qWait(500)
        app.primaryScreen().grabWindow(0).save(str(HERE / name))
        print(HERE / name)

    def wait_for(cond, ms: int = 120000) -> None:
        for _ in range(ms // 50):
            if cond():
                return
            QTest.qWait(50)
        raise SystemExit("timed out waiting for the app")

    win = start(build_parser().parse_args(["--language", "zh_CN", "--demo"]))
    wait_for(lambda: win.model.ready and win.doc.contour is not None)
    win.predict()
    wait_for(lambda: win.doc.result is not None and win.prediction.pending_job is None)
    win.setGeometry(0, 0, 1600, 1000)  # the whole virtual screen: the result panel's new lines show
    QTest.qWait(300)
    panel = win.result_panel.parentWidget()
    while panel is not None and not hasattr(panel, "verticalScrollBar"):
        panel = panel.parentWidget()
    if panel is not None:  # scrolled down to the review line and "How to read this"
        panel.verticalScrollBar().setValue(panel.verticalScrollBar().maximum())
    shot("zh_CN-main-after-predict.png")

    dlg = win.preferences_dialog()
    dlg.show()
    dlg.move(max(0, (win.width() - dlg.width()) // 2), 60)
    shot("zh_CN-preferences.png")
    dlg.close()

    ids = {
        "patient_name": "张伟",
        "patient_id": "ZW-20260412",
        "accession": "A0042",
        "study_date": "2026-04-12",
        "operator": "李娜",
    }
    win.prefs.reviewer, win.prefs.institution = "李娜", "某某大学附属医院 乳腺超声科"
    pdf = win.export_pdf(str(work / "report.pdf"), ReportOptions(True, ids))
    out = HERE / "zh_CN-pdf-report.png"
    gs = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m", "-r110", "-dFirstPage=1"]
    subprocess.run([*gs, "-dLastPage=1", "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4",
                    f"-sOutputFile={out}", str(pdf)], check=True)  # fmt: skip
    print(out)
    win.files.close_guard = lambda: True  # type: ignore[method-assign]
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
