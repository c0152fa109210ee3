"""Issue 16, points 1–5 and 7: zoom at the cursor, window/level, rulers per image, cine, Open Recent,
the worklist's background scan and one-click open, title, empty-canvas hint, Ctrl+S feedback.
Real window, real files, real mouse/keyboard/wheel events (offscreen Qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.ui_factory import (
    calibrated_dicom,
    click,
    dialog_log,  # noqa: F401  (fixture)
    drag,
    draw_polygon,
    make_window,
    uncalibrated_png,
    view_point,
)


@pytest.fixture
def win(qtbot, tmp_path, dialog_log):  # noqa: F811
    w = make_window(qtbot)
    assert w.open_path(calibrated_dicom(tmp_path))
    return w


def wheel(win, pos: QPoint, steps: int) -> None:
    vp = win.canvas.viewport()
    event = QWheelEvent(
        QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(vp, event)


def distance(a: QPointF, b: QPointF) -> float:
    return float(np.hypot(a.x() - b.x(), a.y() - b.y()))


# ------------------------------------------------------------------ 1. zoom at the cursor
def test_wheel_zoom_keeps_the_pixel_under_the_cursor(win):
    canvas = win.canvas
    for x, y in ((300, 200), (60, 420), (600, 40)):  # lesion edge, near corners
        pos = view_point(win, x, y)
        before = canvas.to_scene(QPointF(pos))
        z0 = canvas.zoom
        wheel(win, pos, +1)
        assert canvas.zoom == pytest.approx(z0 * 1.25)
        assert distance(canvas.to_scene(QPointF(pos)), before) < 1.0
        wheel(win, pos, +2)
        assert distance(canvas.to_scene(QPointF(pos)), before) < 1.0
        wheel(win, pos, -3)
        assert distance(canvas.to_scene(QPointF(pos)), before) < 1.0


def test_zoom_at_the_cursor_also_below_fit_and_by_pinch(win):
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice

    canvas = win.canvas
    pos = view_point(win, 40, 40)  # near the image corner
    before, fit = canvas.to_scene(QPointF(pos)), canvas.zoom
    wheel(win, pos, -3)  # well below "fit"
    assert canvas.zoom == pytest.approx(fit / 1.25**3)
    assert distance(canvas.to_scene(QPointF(pos)), before) < 1.0
    z0 = canvas.zoom
    vp = canvas.viewport()
    pinch = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2,
        QPointF(pos), QPointF(pos), QPointF(vp.mapToGlobal(pos)), 0.5, QPointF(0, 0),
    )  # fmt: skip
    QApplication.sendEvent(vp, pinch)
    assert canvas.zoom == pytest.approx(z0 * 1.5)
    assert distance(canvas.to_scene(QPointF(pos)), before) < 1.0


def test_keyboard_zoom_is_about_the_view_centre(win, qtbot):
    canvas = win.canvas
    centre = QPointF(canvas.viewport().rect().center())
    before = canvas.to_scene(centre)
    z0 = canvas.zoom
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Equal)
    assert canvas.zoom == pytest.approx(z0 * 1.25)
    assert distance(canvas.to_scene(centre), before) < 1.0


# ------------------------------------------------------------------ 2. window/level
def pixel(win, x: int, y: int) -> int:
    return win.canvas.image_item.pixmap().toImage().pixelColor(x, y).red()


def test_right_drag_changes_window_level_with_readout_and_reset(win, qtbot):
    canvas, bar = win.canvas, win.wl_bar
    assert canvas.window_level == (256.0, 128.0) and "W 256 · L 128" in bar.readout.text()
    v0 = pixel(win, 150, 300)
    vp = canvas.viewport()
    start = view_point(win, 100, 300)
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=start)
    qtbot.mouseMove(vp, pos=start + QPoint(-60, -40))  # left: more contrast; up: brighter
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=start + QPoint(-60, -40))
    window, level = canvas.window_level
    assert window == pytest.approx(196.0) and level == pytest.approx(88.0)
    assert "W 196 · L 88" in bar.readout.text()
    assert pixel(win, 150, 300) != v0  # the display changed ...
    assert win.doc.contour is None and not win.tool.busy  # ... and the polygon tool got no click
    assert bar.contrast.value() > 0 and bar.brightness.value() > 0  # the sliders followed
    win.actions_by_name["reset_wl"].trigger()
    assert canvas.window_level == (256.0, 128.0) and pixel(win, 150, 300) == v0


def test_sliders_move_the_intuitive_way_and_presets_apply(win):
    bar, canvas = win.wl_bar, win.canvas
    assert bar.contrast.value() == 0 and bar.brightness.value() == 0  # neutral in the middle
    bar.contrast.setValue(50)
    assert canvas.window_level[0] < 256  # right = more contrast = narrower window
    bar.brightness.setValue(40)
    assert canvas.window_level[1] == pytest.approx(88.0)  # right = brighter = lower level
    bar.presets.activated.emit(2)  # "More contrast"
    assert canvas.window_level == (160.0, 128.0)
    bar.reset_button.click()
    assert canvas.window_level == (256.0, 128.0)


def test_right_click_on_a_vertex_still_deletes_it_in_edit(win, qtbot):
    draw_polygon(qtbot, win)
    win.set_tool("edit")
    n = len(win.doc.contour.points)
    x, y = win.doc.contour.points[0]
    click(qtbot, win, x, y, Qt.MouseButton.RightButton)
    assert len(win.doc.contour.points) == n - 1 and win.canvas.window_level == (256.0, 128.0)


# ------------------------------------------------------------------ 3. rulers belong to their image
def test_ruler_label_mm_and_px_and_it_is_gone_on_the_next_image(win, qtbot, tmp_path):
    win.set_tool("ruler")
    drag(qtbot, win, (100, 300), (205, 300))
    assert win.canvas.measure_text.text == "10.5 mm · 105 px"
    assert not win.canvas.measure_text.boundingRect().isEmpty()  # drawn on its own dark box
    assert win.open_path(uncalibrated_png(tmp_path))
    assert win.doc.ruler is None and win.canvas.measure_text.text == ""
    assert win.canvas.measure_item.path().isEmpty()
    drag(qtbot, win, (100, 300), (200, 300))
    assert win.canvas.measure_text.text == "100 px (not calibrated)"


def test_a_ruler_click_without_drag_measures_nothing(win, qtbot):
    win.set_tool("ruler")
    click(qtbot, win, 120, 200)
    assert win.doc.ruler is None and win.canvas.measure_text.text == ""
    assert "click alone measures nothing" in win.statusBar().currentMessage()
    assert "0.0 px" not in win.statusBar().currentMessage()


# ------------------------------------------------------------------ 4. cine
def test_cine_plays_and_pauses(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    assert win.open_path(calibrated_dicom(tmp_path, "cine.dcm", frames=3))
    assert win.cine.isVisible() and win.cine.slider.maximum() == 2
    win.cine.fps.setValue(20)
    assert win.cine.play_timer.interval() == 50
    seen = set()
    win.actions_by_name["play"].trigger()
    assert win.cine.playing and "Pause" in win.cine.play_button.text()
    qtbot.waitUntil(lambda: seen.add(win.doc.frame) or len(seen) == 3, timeout=5000)
    win.cine.play_button.click()
    assert not win.cine.playing
    frame = win.doc.frame
    qtbot.wait(200)
    assert win.doc.frame == frame


# ------------------------------------------------------------------ 5. navigation
def test_open_recent_keeps_ten_newest_first(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    a = calibrated_dicom(tmp_path, "a.dcm", seed=1)
    b = uncalibrated_png(tmp_path, "b.png")
    win.open_path(a)
    win.open_path(b)
    assert win.prefs.recent[:2] == [str(b.resolve()), str(a.resolve())]
    recent_menu = next(m for m in win.menuBar().findChildren(type(win.menuBar().actions()[0].menu()))
                       if m.title() == "Open &Recent")  # fmt: skip
    entries = recent_menu.actions()
    assert [e.data() for e in entries[:2]] == [str(b.resolve()), str(a.resolve())]
    entries[1].trigger()
    assert win.doc.path.resolve() == a.resolve()
    for i in range(12):
        win.prefs.add_recent(tmp_path / f"x{i}.png")
    assert len(win.prefs.recent) == 10


def test_worklist_scans_unopened_images_and_one_click_opens(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = tmp_path / "study"
    folder.mkdir()
    calibrated_dicom(folder, "a.dcm", seed=1)
    calibrated_dicom(folder, "b_cine.dcm", frames=3, seed=2)
    uncalibrated_png(folder, "c.png")
    win = make_window(qtbot)
    win.open_path(folder)
    table = win.worklist.table
    # the PNG belongs to the folder, the DICOMs to their patient: two groups, with group rows
    b, c = win.worklist.row_of(folder / "b_cine.dcm"), win.worklist.row_of(folder / "c.png")
    qtbot.waitUntil(lambda: table.item(c, 4).text() == "1" and table.item(b, 4).text() == "3", timeout=20000)
    assert win.doc.path.name == "a.dcm"  # b and c were never opened
    assert (
        table.item(b, 3).text() == "DICOM region"
        and table.item(b, 3).toolTip() == "0.100 mm/px · DICOM region"
    )
    assert table.item(c, 3).text() == "not calibrated"
    assert table.item(c, 2).text() == "no" and table.item(c, 1).text() == "new"
    rect = table.visualItemRect(table.item(c, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # one click
    qtbot.waitUntil(lambda: win.doc.path is not None and win.doc.path.name == "c.png", timeout=5000)


# ------------------------------------------------------------------ 7. small but confusing
def test_title_hint_and_honest_status_and_save_feedback(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    assert win.windowTitle() == "DLRS Desktop — research use"
    shot = win.canvas.viewport().grab().toImage()
    bright = sum(shot.pixelColor(x, y).red() > 150 for x in range(0, shot.width(), 3)
                 for y in range(0, shot.height(), 3))  # fmt: skip
    assert bright > 20 and "Ctrl+O" in win.canvas.hint_text  # the hint is painted on the empty canvas
    path = calibrated_dicom(tmp_path)
    win.open_path(path)
    assert win.windowTitle().startswith("case.dcm — DLRS Desktop")
    draw_polygon(qtbot, win)
    assert win.windowTitle().startswith("case.dcm* — ")
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert win.statusBar().currentMessage() == "Saved the annotation of case.dcm."
    assert win.windowTitle().startswith("case.dcm — ")
    win.open_path(uncalibrated_png(tmp_path))
    win.open_path(path)
    assert win.statusBar().currentMessage() == "Restored the saved contour for this image."
