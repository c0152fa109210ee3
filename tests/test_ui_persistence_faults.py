"""The window never loses or hides work (issue 14, "Work lost or hidden"): real Qt offscreen, real files,
read-only folders and full disks made by the kernel (tests/store_factory.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlrs_desktop import paths
from dlrs_desktop.imaging import load_image
from dlrs_desktop.store import AnnotationStore
from dlrs_desktop.store.annotation import beside_path
from tests.store_factory import fill, read_only, tiny_filesystem
from tests.ui_factory import (
    LESION_POLYGON,
    calibrated_dicom,
    dialog_log,  # noqa: F401  (fixture)
    drag,
    draw_polygon,
    make_window,
    saved_work,
)

LATER = "2099-01-01T00:00:00.000+00:00"


def points_of(path) -> np.ndarray:
    return np.asarray(json.loads(path.read_text())["contour"]["points"], float)


def move_vertex(qtbot, win, k: int = 0, dx: float = 6.0) -> None:
    """A real edit with the mouse (the Edit tool drags one vertex)."""
    win.set_tool("edit")
    start = np.asarray(win.doc.contour.points[k], float)
    drag(qtbot, win, start, start + np.array([dx, 0.0]))


def all_backups() -> list:
    return sorted(paths.user_data_dir().rglob("*.bak"))


def test_corrupt_personal_copy_is_told_then_kept_as_a_backup(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = calibrated_dicom(tmp_path)
    user_copy = AnnotationStore().user_path(load_image(image).sha256)
    user_copy.parent.mkdir(parents=True, exist_ok=True)
    user_copy.write_bytes(b'{"schema": "dlrs-annotation", "contour": {"points": [[1, 2], [3')
    win = make_window(qtbot)
    win.open_path(image)
    assert any("unreadable" in t for t in dialog_log.texts("info"))
    draw_polygon(qtbot, win)
    assert win.save_now()
    (kept,) = all_backups()
    assert kept.read_bytes().endswith(b"[[1, 2], [3")
    assert sum(str(kept) in t for t in dialog_log.texts("info")) == 1  # told once, with where it is
    assert np.allclose(points_of(user_copy), LESION_POLYGON, atol=1.0)


@pytest.mark.parametrize("field,value", [("review", "reviewed"), ("frame", "1e400"), ("saved_at", "5")])
def test_malformed_copy_beside_the_image_neither_hides_nor_destroys_the_work(
    qtbot,
    tmp_path,
    dialog_log,  # noqa: F811
    field,
    value,
):
    image = calibrated_dicom(tmp_path)
    saved_work(qtbot, image)
    data = json.loads(beside_path(image).read_text())
    data["saved_at"] = LATER  # newer than the personal copy: it would win if it were valid
    data[field] = "@@"
    malformed = json.dumps(data).replace('"@@"', value if field != "review" else '"reviewed"')
    beside_path(image).write_text(malformed)

    again = make_window(qtbot)
    again.open_path(image)
    assert again.doc.contour is not None  # the valid personal copy is opened
    assert np.allclose(again.doc.contour.points, LESION_POLYGON, atol=1.0)
    assert any(field in t for t in dialog_log.texts("info"))
    move_vertex(qtbot, again)
    assert again.save_now()
    kept = [p for p in tmp_path.glob("*.bak")]
    assert len(kept) == 1 and kept[0].read_text() == malformed
    assert not np.allclose(points_of(beside_path(image)), LESION_POLYGON, atol=1.0)  # now the edited work


def test_a_malformed_sidecar_does_not_stop_a_worklist_folder(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = tmp_path / "study"
    folder.mkdir()
    for i in range(3):
        calibrated_dicom(folder, f"img{i}.dcm", seed=20 + i)
    sha = load_image(folder / "img0.dcm").sha256
    beside_path(folder / "img0.dcm").write_text(
        '{"schema": "dlrs-annotation", "schema_version": 1, "image_sha256": "' + sha + '", "frame": 1e400}'
    )
    beside_path(folder / "img1.dcm").write_text('{"schema": "dlrs-annotation", "review": "reviewed"' * 3)
    win = make_window(qtbot)
    assert win.open_path(folder)
    assert win.worklist.table.rowCount() == 3 and win.doc.path.name == "img0.dcm"
    assert win.doc.base_image is not None


def test_read_only_image_folder_never_replaces_the_users_newer_save(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = tmp_path / "cd"
    folder.mkdir()
    image = calibrated_dicom(folder)
    other = {  # someone else's annotation on the disc, stamped later (their clock, or burned later)
        "schema": "dlrs-annotation", "schema_version": 1, "image_sha256": load_image(image).sha256,
        "frame": 0, "saved_at": LATER,
        "contour": {"points": (LESION_POLYGON * 0.9 + 20).tolist(), "frame": 0, "calibration": None},
    }  # fmt: skip
    beside_path(image).write_text(json.dumps(other))
    with read_only(folder):
        win = make_window(qtbot)
        win.open_path(image)
        move_vertex(qtbot, win, 0, 8.0)  # the user corrects the contour they were shown
        assert win.save_now()  # only the personal copy can be written
        mine = np.asarray(win.doc.contour.points)
        assert "read-only" in win.statusBar().currentMessage()  # told, without a dialog
        win.close()
        dialog_log.shown.clear()
        again = make_window(qtbot)
        again.open_path(image)
        assert np.allclose(again.doc.contour.points, mine)  # not the disc's later-stamped copy
        told = " ".join(dialog_log.texts("info"))
        assert "differ" in told and str(beside_path(image)) in told
    assert json.loads(beside_path(image).read_text()) == other  # untouched


def test_read_only_data_folder_keeps_working_and_writes_the_copy_beside(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = calibrated_dicom(tmp_path)
    saved_work(qtbot, image)
    with read_only(paths.user_data_dir()):
        again = make_window(qtbot)
        again.open_path(image)
        assert np.allclose(again.doc.contour.points, LESION_POLYGON, atol=1.0)  # saved work is loaded
        for k in range(3):  # three edits, three autosaves
            move_vertex(qtbot, again, k)
            qtbot.waitUntil(lambda: not again.doc.dirty, timeout=3000)
        assert np.allclose(points_of(beside_path(image)), again.doc.contour.points)
        assert not dialog_log.texts("error")  # the status bar says it, no dialog per autosave
        assert again.close()  # nothing raises, nothing asked: the beside copy holds the work


def test_nothing_writable_tells_once_keeps_the_work_and_closes_cleanly(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = tmp_path / "study"
    folder.mkdir()
    image = calibrated_dicom(folder)
    with read_only(paths.user_data_dir()), read_only(folder):
        win = make_window(qtbot)
        win.open_path(image)
        draw_polygon(qtbot, win)
        for k in range(3):
            move_vertex(qtbot, win, k)
            qtbot.wait(900)  # autosave fires and fails
        assert win.doc.dirty and "*" in win.windowTitle()
        assert len(dialog_log.texts("error")) == 1 and "read-only" in dialog_log.texts("error")[0]
        dialog_log.answers["save_discard_cancel"] = "cancel"
        assert not win.close()  # the unsaved work is not dropped silently
    assert win.save_now() and not win.doc.dirty  # storage is back: the work in memory is saved
    assert np.allclose(points_of(beside_path(image)), win.doc.contour.points)
    assert win.close()


def test_full_disk_opens_the_saved_work_tells_once_and_saves_when_space_returns(
    qtbot,
    tmp_path,
    monkeypatch,
    dialog_log,  # noqa: F811
):
    mount = tmp_path / "small"
    with tiny_filesystem(mount, 1024):
        monkeypatch.setenv("DLRS_DATA_DIR", str(mount / "data"))
        folder = mount / "study"
        folder.mkdir()
        image = folder / "case.dcm"
        image.write_bytes(calibrated_dicom(tmp_path).read_bytes())
        saved_work(qtbot, image)
        filler = fill(mount)
        again = make_window(qtbot)
        assert again.open_path(image)  # opening does not raise
        assert np.allclose(again.doc.contour.points, LESION_POLYGON, atol=1.0)
        for k in range(3):
            move_vertex(qtbot, again, k)
            qtbot.wait(900)
        assert again.doc.dirty and len(dialog_log.texts("error")) == 1
        assert "full" in dialog_log.texts("error")[0]
        assert not list(mount.rglob("*.tmp"))
        filler.unlink()
        assert again.save_now()
        assert np.allclose(points_of(beside_path(image)), again.doc.contour.points)
        assert again.close()


def test_two_windows_saving_the_same_image_are_detected(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = calibrated_dicom(tmp_path)
    first = make_window(qtbot, store=AnnotationStore())
    first.open_path(image)
    draw_polygon(qtbot, first)
    assert first.save_now()
    second = make_window(qtbot, store=AnnotationStore())  # another process would have its own store
    second.open_path(image)
    move_vertex(qtbot, second, 2, -10.0)
    assert second.save_now() and not dialog_log.texts("info")
    theirs = np.asarray(second.doc.contour.points)
    first.activateWindow()
    move_vertex(qtbot, first, 0, 5.0)
    assert first.save_now()
    told = [t for t in dialog_log.texts("info") if "two writers" in t]
    assert len(told) == 2  # both copies held the other window's work
    kept = sorted(tmp_path.glob("*.bak")) + all_backups()
    assert len(kept) == 2 and all(np.allclose(points_of(k), theirs) for k in kept)
    # The other window goes on saving: this one keeps every version, but tells only in the status bar.
    for _ in range(2):
        move_vertex(qtbot, second, 3, 4.0)
        assert second.save_now()
        move_vertex(qtbot, first, 1, -4.0)
        assert first.save_now()
    assert len([t for t in dialog_log.texts("info") if "two writers" in t]) == 4  # 2 per window, once
    assert "two writers" in first.statusBar().currentMessage()
