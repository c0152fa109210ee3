"""Drawing, editing, undo and calibration through real mouse/keyboard events on the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from dlrs_desktop.roi import Contour
from tests.ui_factory import (
    LESION_POLYGON,
    calibrated_dicom,
    click,
    dialog_log,  # noqa: F401  (fixture)
    drag,
    draw_polygon,
    edit_then_undo_both,
    make_window,
    uncalibrated_png,
)


@pytest.fixture
def win(qtbot, tmp_path, dialog_log):  # noqa: F811
    w = make_window(qtbot)
    assert w.open_path(calibrated_dicom(tmp_path))
    return w


def test_polygon_draw_updates_rings_and_measurements(win, qtbot):
    assert win.measurements.values["area"].text() == "–"
    assert all(item.path().isEmpty() for item in win.canvas.ring_items.values())
    draw_polygon(qtbot, win)
    c = win.doc.contour
    assert c is not None and len(c.points) == len(LESION_POLYGON)
    assert np.allclose(c.points, LESION_POLYGON, atol=1.0)  # view → image mapping is exact to a pixel
    assert c.calibration is not None and c.calibration.mm_per_px_x == pytest.approx(0.1)
    m = Contour(c.points, c.calibration).measurements()
    assert win.measurements.values["area"].text() == f"{m.area_mm2:.1f} mm²"
    assert 40 < m.area_mm2 < 120  # ~ 96 x 86 px hexagon at 0.1 mm/px
    assert win.measurements.values["long"].text() == f"{m.max_diameter_mm:.1f} mm"
    for name, item in win.canvas.ring_items.items():
        assert not item.path().isEmpty(), name
    # Ring outlines grow with the radius: the 10 mm ring's box is 2 x (10-3) mm = 140 px wider than 3 mm's.
    w3 = win.canvas.ring_items["ring_3mm"].path().boundingRect().width()
    w10 = win.canvas.ring_items["ring_10mm"].path().boundingRect().width()
    assert w10 - w3 == pytest.approx(140, abs=6)
    assert win.measurements.table.item(0, 1).text() not in ("", "–")
    assert "0.100 mm/px" in win.measurements.badge.text()


def test_undo_redo_and_one_step_per_drag(win, qtbot):
    draw_polygon(qtbot, win)
    drawn = win.doc.contour
    win.set_tool("edit")
    before = win.undo_stack.count()
    drag(qtbot, win, LESION_POLYGON[1], LESION_POLYGON[1] + (0, -20), steps=6)
    assert win.undo_stack.count() == before + 1  # the whole drag is one undo step
    assert win.doc.contour.points[1] == pytest.approx(LESION_POLYGON[1] + (0, -20), abs=1.0)
    win.undo_stack.undo()
    assert win.doc.contour.content_hash() == drawn.content_hash()
    win.undo_stack.redo()
    assert win.doc.contour.points[1][1] == pytest.approx(152, abs=1.0)
    # Insert on an edge (between vertices 0 and 1), then delete it with a right-click.
    pts = win.doc.contour.points
    mid = (pts[2] + pts[3]) / 2
    moved = mid - 10.0
    drag(qtbot, win, mid, moved, steps=2)
    assert len(win.doc.contour.points) == len(LESION_POLYGON) + 1
    click(qtbot, win, *moved, button=Qt.MouseButton.RightButton)
    assert len(win.doc.contour.points) == len(LESION_POLYGON)
    # Smooth and clear are undoable too; undo all the way back to nothing.
    win.smooth_contour()
    win.clear_contour()
    assert win.doc.contour is None
    while win.undo_stack.canUndo():
        win.undo_stack.undo()
    assert win.doc.contour is None
    win.undo_stack.redo()
    assert win.doc.contour.content_hash() == drawn.content_hash()


def test_freehand_and_escape(win, qtbot):
    win.set_tool("freehand")
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    vp = win.canvas.viewport()
    from tests.ui_factory import view_point

    pts = np.c_[256 + 50 * np.cos(t), 216 + 35 * np.sin(t)]
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=view_point(win, *pts[0]))
    for p in pts[1:]:
        qtbot.mouseMove(vp, pos=view_point(win, *p))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=view_point(win, *pts[-1]))
    c = win.doc.contour
    assert c is not None and 3 <= len(c.points) <= 40
    area = c.measurements().area_mm2
    assert area == pytest.approx(np.pi * 5.0 * 3.5, rel=0.1)
    # A half-drawn polygon is cancelled by Esc and leaves the contour alone.
    win.set_tool("polygon")
    click(qtbot, win, 100, 100)
    click(qtbot, win, 120, 100)
    assert win.tool.busy
    qtbot.keyClick(win.canvas, Qt.Key.Key_Escape)
    assert not win.tool.busy and win.doc.contour is c


def test_manual_calibration_is_undoable_and_required_to_predict(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    assert win.open_path(uncalibrated_png(tmp_path))
    assert "Not calibrated" in win.measurements.badge.text()
    draw_polygon(qtbot, win)
    assert win.doc.rois()[0] is None and win.measurements.warning.text()  # no rings without mm
    win.predict()
    assert any("calibration" in t for t in dialog_log.texts("error"))
    win.set_tool("calibrate")
    dialog_log.answers["float"] = 20.0
    drag(qtbot, win, (100, 100), (100, 300))
    cal = win.doc.calibration
    assert cal is not None and cal.source == "manual"
    assert cal.mm_per_px_x == pytest.approx(20.0 / 200.0, rel=0.01)
    assert win.doc.contour.calibration == cal  # the contour is re-bound (and would be stale)
    assert "manual" in win.measurements.badge.text()
    assert not win.canvas.ring_items["ring_5mm"].path().isEmpty()
    win.undo_stack.undo()
    assert win.doc.calibration is None and "Not calibrated" in win.measurements.badge.text()
    # A line too short to calibrate gives a plain message, not a traceback.
    drag(qtbot, win, (100, 100), (101, 101), steps=1)
    assert any("too short" in t for t in dialog_log.texts("error"))


def test_bad_files_give_dialogs_not_tracebacks(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"this is not an image")
    assert win.open_path(bad) is False
    assert win.doc.image is None
    assert dialog_log.shown and dialog_log.shown[-1][0] == "error" and "broken.dcm" in dialog_log.shown[-1][2]
    win.predict()
    assert "Open an image first." in dialog_log.texts("error")


def test_cine_frame_change_rebinds_contour(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    assert win.open_path(calibrated_dicom(tmp_path, "cine.dcm", frames=3))
    assert win.cine.slider.isEnabled() and win.cine.slider.maximum() == 2
    draw_polygon(qtbot, win)
    h0 = win.doc.contour.content_hash()
    win.cine.slider.setValue(2)
    qtbot.waitUntil(lambda: win.doc.frame == 2, timeout=3000)
    assert win.doc.contour.frame == 2 and win.doc.contour.content_hash() != h0


def test_help_lists_every_tool_and_shortcut(win):
    from dlrs_desktop.ui.about import help_html

    text = help_html(win.tools.values(), win.actions.shortcuts)
    for tool in win.tools.values():
        assert f"({tool.shortcut})" in text
    for needle in ("Ctrl+Return", "Ctrl+Z", "Ctrl+P", "PgDown"):
        assert needle in text


def test_contour_outside_the_scan_area_is_flagged_and_delete_key(win, qtbot):
    # A polygon partly in the black margin left of the fan: the panel says why the model would refuse it.
    draw_polygon(qtbot, win, np.array([[5, 300], [120, 280], [130, 380], [10, 400]], float))
    assert win.doc.contour_problem()
    assert win.doc.contour_problem() in win.measurements.warning.text()
    win.clear_contour()
    draw_polygon(qtbot, win)
    assert win.doc.contour_problem() is None
    win.set_tool("edit")
    from tests.ui_factory import view_point

    qtbot.mouseMove(win.canvas.viewport(), pos=view_point(win, *LESION_POLYGON[3]))
    qtbot.keyClick(win.canvas, Qt.Key.Key_Delete)
    assert len(win.doc.contour.points) == len(LESION_POLYGON) - 1


def test_brush_adds_and_erases_in_one_undo_step_each(win, qtbot):
    draw_polygon(qtbot, win)
    area0 = win.doc.contour.measurements().area_mm2
    win.set_tool("brush")
    n = win.undo_stack.count()
    # Paint outwards from inside the tumour: the contour grows by roughly the stroke (2 mm wide, 4 mm long).
    drag(qtbot, win, (300, 215), (340, 215), steps=8)
    assert win.undo_stack.count() == n + 1
    area1 = win.doc.contour.measurements().area_mm2
    assert area1 > area0 + 3
    # Erase with the right button: a bite out of the tumour.
    vp = win.canvas.viewport()
    from tests.ui_factory import view_point

    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=view_point(win, 256, 175))
    qtbot.mouseMove(vp, pos=view_point(win, 256, 195))
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=view_point(win, 256, 195))
    area2 = win.doc.contour.measurements().area_mm2
    assert area2 < area1 - 2
    win.undo_stack.undo()
    assert win.doc.contour.measurements().area_mm2 == pytest.approx(area1, rel=1e-6)


def test_assist_box_proposal_is_one_undo_step(win, qtbot):
    draw_polygon(
        qtbot, win, np.array([[150, 300], [200, 300], [175, 340]], float)
    )  # a wrong, earlier contour
    before = win.doc.contour
    win.set_tool("assist")
    n = win.undo_stack.count()
    drag(qtbot, win, (190, 165), (322, 268), steps=3)  # a box around the lesion
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    proposal = win.doc.contour
    assert 16 <= len(proposal.points) <= 80
    # The proposal covers the dark lesion (ellipse ~53 x 38 px at 0.1 mm/px: ~63 mm²).
    assert 35 < proposal.measurements().area_mm2 < 95
    cx, cy = np.asarray(proposal.points).mean(axis=0)
    assert abs(cx - 256) < 12 and abs(cy - 216) < 12
    edit_then_undo_both(qtbot, win, proposal, n, 6.0)
    assert win.doc.contour.content_hash() == before.content_hash()  # exactly the pre-proposal contour
    win.undo_stack.redo()
    assert win.doc.contour.content_hash() == proposal.content_hash()
    # Snap to edges is one more undoable step.
    win.snap_contour()
    qtbot.waitUntil(lambda: win.tools["assist"].service.pending is None, timeout=20000)
    assert win.undo_stack.undoText() == "Snap to edges" and win.undo_stack.index() == n + 2
    assert 35 < win.doc.contour.measurements().area_mm2 < 95
    win.undo_stack.undo()
    assert win.doc.contour.content_hash() == proposal.content_hash()


def test_assist_result_for_an_old_contour_is_dropped(win, qtbot):
    win.set_tool("assist")
    drag(qtbot, win, (190, 165), (322, 268), steps=2)
    # The user changes the contour before the worker answers (no event is processed in between).
    from dlrs_desktop.ui.commands import SetContour

    win.undo_stack.push(SetContour(win.doc, None, win.doc.make_contour(LESION_POLYGON), "Draw polygon"))
    drawn = win.doc.contour
    qtbot.waitUntil(lambda: win.tools["assist"].service.pending is None, timeout=20000)
    assert win.doc.contour is drawn


def test_polyline_path_matches_the_points():
    from dlrs_desktop.ui.canvas import polyline_path

    pts = np.array([[1.5, 2.0], [10.0, 2.0], [10.0, 7.25], [1.5, 7.25]])
    path = polyline_path(pts, closed=True)
    got = np.array([[path.elementAt(i).x, path.elementAt(i).y] for i in range(path.elementCount())])
    assert np.array_equal(got[:4], pts) and np.array_equal(got[4], pts[0])
    assert path.elementAt(0).isMoveTo() and path.elementAt(1).isLineTo()
    assert polyline_path(pts[:2], closed=True).elementCount() == 2 and polyline_path(pts[:0], True).isEmpty()
