"""Shared helpers for the GUI tests: a window with observable dialogs, real images on disk, mouse input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from dlrs_desktop.ui import dialogs

# The lesion of tests.dicom_factory.bmode_frame(480, 640): centre (256, 216), radii ~(53, 38) px.
LESION_POLYGON = np.array([[210, 190], [256, 172], [302, 192], [306, 236], [256, 258], [208, 240]], float)


class DialogLog:
    """Records every dialog the app shows and answers questions from `answers` (kind -> answer)."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answers: dict[str, object] = {}

    def __call__(self, kind: str, title: str, text: str, **extra: object) -> object:
        self.shown.append((kind, title, text))
        return self.answers.get(kind)

    def texts(self, kind: str | None = None) -> list[str]:
        return [t for k, _, t in self.shown if kind is None or k == kind]


@pytest.fixture
def dialog_log():
    log = DialogLog()
    dialogs.set_handler(log)
    yield log
    dialogs.set_handler(None)


def make_window(qtbot, **kw):
    from dlrs_desktop.ui.mainwindow import MainWindow

    win = MainWindow(**kw)
    qtbot.addWidget(win)
    win.resize(1100, 720)
    with qtbot.waitExposed(win):
        win.show()
    win.activateWindow()  # keyboard shortcuts only reach the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=2000)
    return win


def calibrated_dicom(folder: Path, name: str = "case.dcm", frames: int = 1, seed: int = 0) -> Path:
    from tests.dicom_factory import write_bmode_dicom

    path, _, _ = write_bmode_dicom(folder / name, mm_per_px=0.1, frames=frames, seed=seed)
    return path


def uncalibrated_png(folder: Path, name: str = "plain.png") -> Path:
    from PIL import Image

    from tests.dicom_factory import bmode_frame

    img, _, _ = bmode_frame(seed=3)
    path = folder / name
    Image.fromarray(img).save(path)
    return path


def view_point(win, x: float, y: float) -> QPoint:
    return win.canvas.mapFromScene(QPointF(float(x), float(y)))


def click(qtbot, win, x: float, y: float, button=Qt.MouseButton.LeftButton, modifier=None) -> None:
    # QTest.mouseClick takes the modifier positionally (widget, button, modifier, pos) under PySide6
    mods = modifier if modifier is not None else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(win.canvas.viewport(), button, mods, view_point(win, x, y))


def drag(qtbot, win, start, end, steps: int = 4, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    vp = win.canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, modifier, pos=view_point(win, *start))
    for t in np.linspace(0, 1, steps + 1)[1:]:
        p = np.asarray(start, float) + t * (np.asarray(end, float) - np.asarray(start, float))
        qtbot.mouseMove(vp, pos=view_point(win, *p))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, pos=view_point(win, *end))


def draw_polygon(qtbot, win, points=LESION_POLYGON) -> None:
    win.set_tool("polygon")
    for x, y in points:
        click(qtbot, win, x, y)
    qtbot.keyClick(win.canvas, Qt.Key.Key_Return)


def window_ready_to_predict(qtbot, folder: Path, bundle: Path, dialog_log):
    """A window on the CPU with `bundle` loaded (unsigned: the trust question answered yes), a
    calibrated DICOM from `folder` open and the lesion drawn: Predict is one key away."""
    w = make_window(qtbot)
    w.prefs.device = "cpu"
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    with qtbot.waitSignal(w.model.loaded, timeout=60000):
        w.start_model(bundle)
    assert w.open_path(calibrated_dicom(folder))
    draw_polygon(qtbot, w)
    return w


def edit_then_undo_both(qtbot, win, proposal, steps_before: int, by: float) -> None:
    """An assisted proposal is edited like any contour: a vertex drag is one more undo step; undoing it
    gives the proposal back, and one more undo takes the proposal away (the caller checks what is left)."""
    win.set_tool("edit")
    p = np.asarray(proposal.points)[0]
    drag(qtbot, win, p, p + by)
    assert win.undo_stack.count() == steps_before + 2
    win.undo_stack.undo()
    assert win.doc.contour.content_hash() == proposal.content_hash()
    win.undo_stack.undo()


def saved_work(qtbot, image: Path):
    """A user's saved work on `image`: a window opens it, LESION_POLYGON is drawn and saved, the window
    closes (returned, closed, for its store and document)."""
    win = make_window(qtbot)
    win.open_path(image)
    draw_polygon(qtbot, win)
    assert win.save_now()
    win.close()
    return win


def complete(win) -> bool:
    """A result is shown with both its stages: the probability and its contour sensitivity (the band
    comes after the probability, ui/prediction.py)."""
    doc = win.doc
    return doc.result is not None and not doc.sensitivity_computing and win.prediction.pending_job is None
