"""The `dlrs-desktop` entry point: argument handling, --self-test, start-up without torch, bad paths."""

from __future__ import annotations

import shutil
import subprocess
import sys

from dlrs_desktop import paths
from dlrs_desktop.ui.app import build_parser, main, start
from tests.model_factory import cached_bundle
from tests.ui_factory import dialog_log  # noqa: F401  (fixture)


def test_self_test_runs_without_a_window(tmp_path, monkeypatch, capsys):
    res = tmp_path / "resources"
    shutil.copytree(cached_bundle(), res / "models" / "dlrs-demo")
    (res / "samples").mkdir()
    for name in ("demo.dcm", "demo.contour.json"):
        shutil.copy(paths.samples_dir() / name, res / "samples" / name)
    monkeypatch.setenv("DLRS_RESOURCES", str(res))
    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out
    assert "self-test passed" in out and "probability of early response" in out


def test_parsing_imports_neither_qt_nor_torch():
    code = (
        "import sys; from dlrs_desktop.ui.app import build_parser; build_parser().parse_args(['--demo']);"
        "print(sorted(m for m in ('PySide6.QtWidgets', 'torch', 'pyqtgraph') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_path_is_a_dialog_and_demo_opens_with_rings(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = start(build_parser().parse_args([str(tmp_path / "nope.dcm"), "--no-model"]))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: bool(dialog_log.shown), timeout=3000)
    assert "does not exist" in dialog_log.texts("error")[0]
    demo = start(build_parser().parse_args(["--demo", "--no-model"]))
    qtbot.addWidget(demo)
    qtbot.waitUntil(lambda: demo.doc.contour is not None, timeout=5000)
    assert all(not item.path().isEmpty() for item in demo.canvas.ring_items.values())
    assert "DICOM region" in demo.measurements.badge.text()
    assert not (paths.samples_dir() / "demo.dcm.dlrs.json").exists()  # never writes into the app's files


def test_drop_a_file_opens_it_and_cursor_shows_px_mm_gray(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from tests.ui_factory import calibrated_dicom, make_window

    win = make_window(qtbot)
    path = calibrated_dicom(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    win.dropEvent(event)
    qtbot.waitUntil(lambda: win.doc.path == path, timeout=5000)
    win.canvas.cursor_moved.emit(256.0, 216.0)
    text = win.cursor_label.text()
    gray = int(win.doc.image.gray[216, 256])
    assert "x 256, y 216 px" in text and f"gray {gray}" in text and "25.6, 21.6 mm" in text


def test_background_open_shows_only_the_latest_request(qtbot, tmp_path, dialog_log):  # noqa: F811
    from tests.ui_factory import calibrated_dicom, make_window

    win = make_window(qtbot)
    a = calibrated_dicom(tmp_path, "a.dcm", seed=1)
    b = calibrated_dicom(tmp_path, "b.dcm", seed=2)
    win.open_path(a, background=True)
    win.open_path(b, background=True)  # asked for before a.dcm arrived
    qtbot.waitUntil(lambda: win.doc.path == b, timeout=5000)
    qtbot.wait(200)
    assert win.doc.path == b  # a.dcm, decoded first, was never shown
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    win.open_path(bad, background=True)
    qtbot.waitUntil(lambda: bool(dialog_log.texts("error")), timeout=5000)
    assert "bad.png" in dialog_log.texts("error")[0] and win.doc.path == b
