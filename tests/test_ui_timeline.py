"""The lesion timeline view (ui/timeline.py) in real Qt (offscreen): the size change and its category
beside the probability, the table the PDFs print, pyqtgraph imported only when the view opens, and a
plain line naming the [plot] extra when pyqtgraph is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dlrs_desktop.exchange.timeline import TimelineEntry
from dlrs_desktop.ui.timeline import TimelineDock

ROOT = Path(__file__).resolve().parent.parent
PR = "partial response (size criteria)"
ENTRIES = (
    TimelineEntry("20260105", "baseline", 20.0, probability=0.412),
    TimelineEntry("20260302", "after cycle 2", 13.0, -7.0, -35.0, PR, 0.731),
)


def test_summary_table_and_plot(qtbot, tmp_path):
    dock = TimelineDock()
    qtbot.addWidget(dock)
    dock.set_timeline(ENTRIES)
    text = dock.summary.text()
    assert "20.0 mm → 13.0 mm (-35.0 %, -7.0 mm): " + PR in text
    assert "model probability at after cycle 2: 0.731" in text
    assert "not a diagnosis" in dock.explain.text() and dock.explain.isVisibleTo(dock)
    cells = [[dock.table.item(r, c).text() for c in range(6)] for r in range(dock.table.rowCount())]
    assert cells[1] == ["2026-03-02", "after cycle 2", "13.0 mm", "-35.0 % (-7.0 mm)", PR, "0.731"]
    assert dock.plot is None  # nothing plotted before the view opens
    dock.resize(640, 560)
    dock.show()
    qtbot.waitUntil(lambda: dock.plot is not None)
    xs, ys = dock._curve.getData()
    assert list(ys) == [20.0, 13.0] and list(xs) == [0, 1]
    qtbot.wait(100)  # the plot laid out and painted before the picture
    shot = Path(os.environ.get("DLRS_SHOTS") or tmp_path) / "timeline_dock.png"  # a picture to look at
    assert dock.grab().save(str(shot))


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def test_pyqtgraph_is_imported_only_when_the_view_opens():
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "import dlrs_desktop.ui.app\n"
        "from tests.test_ui_timeline import ENTRIES\n"
        "from dlrs_desktop.ui.timeline import TimelineDock\n"
        "d = TimelineDock(); d.set_timeline(ENTRIES)\n"
        "print('before', 'pyqtgraph' in sys.modules)\n"
        "d.show(); app.processEvents()\n"
        "print('after', 'pyqtgraph' in sys.modules, d.plot is not None)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert "before False" in result.stdout and "after True True" in result.stdout


def test_without_pyqtgraph_the_view_keeps_the_table_and_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['pyqtgraph'] = None\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from tests.test_ui_timeline import ENTRIES\n"
        "from dlrs_desktop.ui.timeline import TimelineDock\n"
        "d = TimelineDock(); d.set_timeline(ENTRIES); d.show(); app.processEvents()\n"
        "print(d.plot is None, d.table.rowCount(), d.plot_note.text())\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True 2 ") and "dlrs-desktop[plot]" in result.stdout
