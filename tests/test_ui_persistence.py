"""Never lose work: autosave within a second, restore on reopen, crash recovery, review status, exports."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from dlrs_desktop import paths
from dlrs_desktop.store import AnnotationStore, SessionStore
from dlrs_desktop.store.annotation import beside_path
from dlrs_desktop.ui.app import build_parser, start
from tests.ui_factory import (
    LESION_POLYGON,
    calibrated_dicom,
    dialog_log,  # noqa: F401  (fixture)
    drag,
    draw_polygon,
    make_window,
)


def test_autosave_within_a_second_and_restore(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = calibrated_dicom(tmp_path)
    win = make_window(qtbot)
    win.open_path(image)
    draw_polygon(qtbot, win)
    assert win.doc.dirty and "*" in win.windowTitle()
    qtbot.waitUntil(lambda: not win.doc.dirty, timeout=1000)  # autosave fired within 1 s
    sha = win.doc.base_image.sha256
    store = AnnotationStore()
    for f in (beside_path(image), store.user_path(sha)):
        data = json.loads(f.read_text())
        assert data["image_sha256"] == sha and len(data["contour"]["points"]) == len(LESION_POLYGON)
        assert "PatientName" not in f.read_text() and "case.dcm" not in f.read_text()
    drawn = win.doc.contour
    win.close()

    again = make_window(qtbot)
    again.open_path(image)
    assert again.doc.contour is not None and again.doc.contour.content_hash() == drawn.content_hash()
    assert not again.doc.dirty
    assert not again.canvas.ring_items["ring_5mm"].path().isEmpty()


def test_sidecar_of_another_image_is_not_applied(qtbot, tmp_path, dialog_log):  # noqa: F811
    a = calibrated_dicom(tmp_path, "a.dcm", seed=1)
    b = calibrated_dicom(tmp_path, "b.dcm", seed=2)
    win = make_window(qtbot)
    win.open_path(a)
    draw_polygon(qtbot, win)
    assert win.save_now()
    shutil.copy(beside_path(a), beside_path(b))  # e.g. files renamed by hand in the research folder
    win.open_path(b)
    assert win.doc.contour is None
    assert any("different image" in t for t in dialog_log.texts("info"))


def test_crash_recovery_reopens_the_autosaved_work(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = calibrated_dicom(tmp_path)
    win = make_window(qtbot)
    win.session.begin(image=None)
    win.open_path(image)
    draw_polygon(qtbot, win)
    qtbot.waitUntil(lambda: not win.doc.dirty, timeout=3000)
    drawn = win.doc.contour.content_hash()
    # Simulate a kill: no closeEvent, the session file still says "running", its process is gone.
    session = paths.user_data_dir() / "session.json"
    state = json.loads(session.read_text())
    assert state["clean_exit"] is False and state["image"] == str(image.resolve())
    state["pid"] = 2**22 + 4321
    win.files.autosave_timer.stop()
    win.session = SessionStore(tmp_path / "elsewhere.json")  # its own closeEvent must not mark clean
    session.write_text(json.dumps(state))

    dialog_log.answers["yes_no"] = True
    new = start(build_parser().parse_args(["--no-model"]))
    qtbot.addWidget(new)
    qtbot.waitUntil(lambda: new.doc.contour is not None, timeout=3000)
    assert any("did not close normally" in t for t in dialog_log.texts("yes_no"))
    assert new.doc.contour.content_hash() == drawn


def test_close_with_half_drawn_polygon_asks(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    win.open_path(calibrated_dicom(tmp_path))
    win.set_tool("polygon")
    from tests.ui_factory import click

    click(qtbot, win, 200, 200)
    click(qtbot, win, 240, 200)
    dialog_log.answers["yes_no"] = False
    assert not win.close()  # refused: the unfinished polygon would be lost
    assert win.isVisible() and win.tool.busy
    dialog_log.answers["yes_no"] = True
    assert win.close()


def test_review_status_worklist_and_exports(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = tmp_path / "study"
    folder.mkdir()
    for i in range(3):
        calibrated_dicom(folder, f"img{i}.dcm", seed=10 + i)
    (folder / "notes.txt").write_text("not an image")
    win = make_window(qtbot)
    win.prefs.reviewer = "Dr Reviewer"
    win.open_path(folder)
    assert win.worklist_dock.isVisible() and win.worklist.table.rowCount() == 3
    assert win.doc.path.name == "img0.dcm"
    draw_polygon(qtbot, win)
    win.actions_by_name["reviewed"].trigger()
    assert win.doc.review.status == "reviewed" and win.doc.review.reviewer == "Dr Reviewer"
    assert win.save_now()
    assert win.worklist.table.item(0, 1).text() == "reviewed (Dr Reviewer)"
    # Exports: masks and the annotation JSON (with the review status).
    masks = win.export_masks(str(tmp_path))
    assert {m.name.split("_", 1)[1] for m in masks} == {
        "intratumoral.png", "ring_3mm.png", "ring_5mm.png", "ring_10mm.png",
    }  # fmt: skip
    from PIL import Image

    tumour = np.asarray(Image.open(masks[0]))
    assert tumour.max() == 255 and 1000 < (tumour > 0).sum() < 10000
    ann = json.loads(win.export_annotation(str(tmp_path / "ann.json")).read_text())
    assert ann["review"]["status"] == "reviewed" and ann["contour"]["points"]
    # Any edit returns it to draft.
    win.set_tool("edit")
    drag(qtbot, win, LESION_POLYGON[2], LESION_POLYGON[2] + 8.0)
    assert win.doc.review.status == "draft"
    # Next/previous with keys, and the filter.
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_PageDown)  # decoded in the background
    qtbot.waitUntil(lambda: win.doc.path.name == "img1.dcm", timeout=5000)
    assert win.worklist.table.item(0, 2).text() == "yes"  # the edit was saved when moving on
    qtbot.keyClick(win.canvas, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: win.doc.path.name == "img0.dcm", timeout=5000)
    assert win.doc.review.status == "draft"
    win.actions_by_name["reviewed"].trigger()
    win.save_now()
    win.worklist.filter.setCurrentIndex(win.worklist.filter.findData("reviewed"))
    hidden = [win.worklist.table.isRowHidden(r) for r in range(3)]
    assert hidden == [False, True, True]


@pytest.mark.parametrize("answer", ["cancel", "discard"])
def test_failed_save_on_quit_asks(qtbot, tmp_path, dialog_log, answer):  # noqa: F811
    win = make_window(qtbot)
    image = calibrated_dicom(tmp_path)
    win.open_path(image)
    draw_polygon(qtbot, win)
    win.store.root = tmp_path / "blocked"
    (tmp_path / "blocked").write_text("a file where the store folder should be")
    beside_path(image).mkdir()  # neither copy can be written (the beside one alone would suffice)
    dialog_log.answers["save_discard_cancel"] = answer
    assert win.close() is (answer == "discard")
    assert any("could not be saved" in t for t in dialog_log.texts("save_discard_cancel"))


def test_preferences_persist_with_qsettings(qtbot, tmp_path, dialog_log):  # noqa: F811
    from dlrs_desktop.ui.settings import Preferences

    win = make_window(qtbot)
    dlg = win.preferences_dialog()
    qtbot.addWidget(dlg)
    assert dlg.device.findData("gpu") == -1  # no GPU on this machine: not offered
    dlg.reviewer.setText("  Dr Prefs ")
    dlg.export_folder.setText(str(tmp_path))
    dlg.rings["ring_10mm"].setChecked(False)
    dlg.apply()
    assert not win.canvas.ring_items["ring_10mm"].isVisible()
    assert not win.actions_by_name["show_ring_10mm"].isChecked()
    fresh = Preferences()  # a new QSettings reads what was written
    assert fresh.reviewer == "Dr Prefs" and fresh.export_folder == str(tmp_path)
    assert fresh.ring_visible("ring_10mm") is False and fresh.ring_visible("ring_3mm") is True


def test_autosave_during_a_long_drag(qtbot, tmp_path, dialog_log):  # noqa: F811
    """Changes keep coming (a slow drag): the first one is still on disk within a second."""
    win = make_window(qtbot)
    win.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, win)
    qtbot.waitUntil(lambda: not win.doc.dirty, timeout=3000)
    win.set_tool("edit")
    vp = win.canvas.viewport()
    from tests.ui_factory import view_point

    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=view_point(win, *LESION_POLYGON[0]))
    saved = win.doc.saved_revision
    for k in range(12):  # 1.2 s of movement, one move every 100 ms
        qtbot.mouseMove(vp, pos=view_point(win, *(LESION_POLYGON[0] - k)))
        qtbot.wait(100)
    assert win.doc.saved_revision > saved  # saved mid-drag, not only after the release
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=view_point(win, *(LESION_POLYGON[0] - 11)))
