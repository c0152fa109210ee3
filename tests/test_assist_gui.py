"""The learned assist in the real window on a real BUSI scan: one undo step, editable, method shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np

from dlrs_desktop.roi.assist_eval import mask_dice
from tests.ui_factory import click, dialog_log, drag, edit_then_undo_both, make_window  # noqa: F401  (dialog_log: fixture)

REAL = Path(__file__).parent / "data" / "real"


def _open_real_scan(qtbot, tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    """The window with a copy of a committed BUSI fixture open (the app writes its sidecar beside the
    image), and the fixture's expert mask."""
    image = tmp_path / "scan.png"
    shutil.copyfile(REAL / f"{name}.png", image)
    win = make_window(qtbot)
    assert win.open_path(image)
    return win, cv2.imread(str(REAL / f"{name}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127


def test_box_and_click_on_a_real_scan_are_one_undo_step_each(qtbot, tmp_path, dialog_log):  # noqa: F811
    win, truth = _open_real_scan(qtbot, tmp_path, "assist_busi_benign_303")
    ys, xs = np.nonzero(truth)
    win.set_tool("assist")
    n = win.undo_stack.count()
    drag(qtbot, win, (xs.min() - 2, ys.min() - 2), (xs.max() + 3, ys.max() + 3), steps=3)
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    proposal = win.doc.contour
    assert win.undo_stack.undoText() == "Assisted outline"
    assert "learned" in win.statusBar().currentMessage()  # the status bar says which method answered
    assert 16 <= len(proposal.points) <= 80
    assert mask_dice(proposal.to_mask(truth.shape), truth) > 0.8
    edit_then_undo_both(qtbot, win, proposal, n, 5.0)
    assert win.doc.contour is None  # exactly the state before the proposal
    win.set_tool("assist")
    click(qtbot, win, float(xs.mean()), float(ys.mean()))
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    assert mask_dice(win.doc.contour.to_mask(truth.shape), truth) > 0.7
    assert not dialog_log.texts("error")


def test_shift_drag_along_the_longest_diameter_is_a_diameter_prompt(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PySide6.QtCore import Qt

    from dlrs_desktop.training.assist_augment import longest_diameter

    win, truth = _open_real_scan(qtbot, tmp_path, "assist_busi_malignant_189")
    a, b = longest_diameter(truth)
    win.set_tool("assist")
    n = win.undo_stack.count()
    drag(qtbot, win, a, b, steps=3, modifier=Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    assert win.undo_stack.undoText() == "Assisted outline"
    assert "learned" in win.statusBar().currentMessage()
    assert mask_dice(win.doc.contour.to_mask(truth.shape), truth) > 0.8
    win.undo_stack.undo()
    assert win.doc.contour is None
    drag(qtbot, win, a, b, steps=3)  # the same drag without Shift is a box with a and b as corners
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    assert not dialog_log.texts("error")


def test_ctrl_click_corrects_the_outline_and_undo_brings_back_its_corrections(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PySide6.QtCore import Qt

    win, truth = _open_real_scan(qtbot, tmp_path, "assist_busi_benign_303")
    ys, xs = np.nonzero(truth)
    win.set_tool("assist")
    ctrl = Qt.KeyboardModifier.ControlModifier
    click(qtbot, win, float(xs.mean()), float(ys.mean()), modifier=ctrl)  # nothing to correct yet
    assert "drag a box around the lesion first" in dialog_log.texts("error")[-1]
    dialog_log.shown.clear()
    n = win.undo_stack.count()
    right = xs.min() + 0.6 * (xs.max() - xs.min())  # a box that leaves out the lesion's right part
    drag(qtbot, win, (xs.min() - 2, ys.min() - 2), (right, ys.max() + 3), steps=3)
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    boxed = win.doc.contour
    assert win.canvas.include_item.path().isEmpty()
    missed = truth.copy()
    missed[:, : int(right) + 5] = False
    my, mx = np.nonzero(missed)
    spot = (float(np.median(mx)), float(np.median(my)))  # inside the lesion, outside the box
    click(qtbot, win, *spot, modifier=ctrl)
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 2, timeout=20000)
    assert win.undo_stack.undoText() == "Corrected outline"
    corrected = win.doc.contour
    assert corrected.to_mask(truth.shape)[int(spot[1]), int(spot[0])]  # the spot is now in the outline
    d_box, d_corrected = (mask_dice(c.to_mask(truth.shape), truth) for c in (boxed, corrected))
    assert d_corrected > d_box + 0.05 and d_corrected > 0.8
    assert not win.canvas.include_item.path().isEmpty()  # the correction is marked (+)
    assert win.canvas.exclude_item.path().isEmpty()
    win.undo_stack.undo()  # back to the box's outline: no corrections to show
    assert win.doc.contour.content_hash() == boxed.content_hash()
    assert win.canvas.include_item.path().isEmpty()
    win.undo_stack.redo()
    assert not win.canvas.include_item.path().isEmpty()
    outside = (float(xs.min() - 15), float(ys.mean()))  # Ctrl+Shift+click: leave a spot out
    click(qtbot, win, *outside, modifier=ctrl | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 3, timeout=20000)
    assert not win.canvas.exclude_item.path().isEmpty()
    assert not win.doc.contour.to_mask(truth.shape)[int(outside[1]), int(outside[0])]
    assert not dialog_log.texts("error")


def test_ctrl_click_on_a_hand_drawn_outline_changes_it_near_the_click_only(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PySide6.QtCore import Qt

    from dlrs_desktop.roi.assist_learned import keep_and_fill, outline_from_mask
    from dlrs_desktop.ui.commands import SetContour

    win, truth = _open_real_scan(qtbot, tmp_path, "assist_busi_benign_303")
    _, xs = np.nonzero(truth)
    right = int(xs.min() + 0.6 * (xs.max() - xs.min()))
    drawn_mask = truth.copy()
    drawn_mask[:, right:] = False  # drawn with care on the left, cut short on the right
    pts = outline_from_mask(win.doc.image, keep_and_fill(drawn_mask, drawn_mask.astype(np.float32)), (0, 0))
    hand = win.doc.make_contour(pts.points)
    win.undo_stack.push(SetContour(win.doc, win.doc.contour, hand, "Draw polygon"))
    drawn = win.doc.contour
    win.set_tool("assist")
    n = win.undo_stack.count()
    missed = truth.copy()
    missed[:, : right + 5] = False
    my, mx = np.nonzero(missed)
    spot = (float(np.median(mx)), float(np.median(my)))
    click(qtbot, win, *spot, modifier=Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: win.undo_stack.count() == n + 1, timeout=20000)
    assert win.undo_stack.undoText() == "Corrected outline (near the click)"
    before, after = (c.to_mask(truth.shape) > 0 for c in (drawn, win.doc.contour))
    assert after[int(spot[1]), int(spot[0])] and mask_dice(after, truth) > mask_dice(before, truth) + 0.05
    assert mask_dice(after[:, : right - 10], before[:, : right - 10]) > 0.98  # the drawn part is kept
    assert "local" in win.statusBar().currentMessage()
    win.undo_stack.undo()
    assert win.doc.contour.content_hash() == drawn.content_hash()
    assert not dialog_log.texts("error")
