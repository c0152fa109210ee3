"""Prediction through the real worker thread with a real (small, randomly initialised) bundle."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from dlrs_desktop import paths
from dlrs_desktop.model import Predictor
from tests.model_factory import cached_bundle
from tests.ui_factory import (
    LESION_POLYGON,
    calibrated_dicom,
    complete,
    dialog_log,  # noqa: F401  (fixture)
    drag,
    draw_polygon,
    make_window,
    window_ready_to_predict,
)


@pytest.fixture(scope="module")
def bundle():
    return cached_bundle()


@pytest.fixture
def win(qtbot, tmp_path, bundle, dialog_log):  # noqa: F811
    return window_ready_to_predict(qtbot, tmp_path, bundle, dialog_log)


def test_predict_shows_the_real_result_then_goes_stale(win, qtbot, bundle, dialog_log):  # noqa: F811
    assert "test-random" in win.model_label.text()
    assert "synthetic data" in win.result_panel.notice.text()  # the notice comes from the bundle
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # the shortcut
    assert win.result_panel.busy.isVisible()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    assert not win.result_panel.busy.isVisible() and not dialog_log.texts("error")
    expected = Predictor(bundle, device="cpu").predict(win.doc.image, win.doc.contour, sensitivity=False)
    got = win.doc.result.to_json_dict()["prediction"]
    assert got["probability"] == pytest.approx(expected.probability, abs=1e-5)
    assert win.result_panel.probability.text() == f"{expected.probability:.2f}"
    assert expected.category in win.result_panel.category.text()
    assert [r.name for r in win.result_panel.bars.rows] == [r.name for r in expected.regions] + ["fusion"]
    assert got["sensitivity"]["min"] is not None and "Contour sensitivity" in win.result_panel.details.text()
    assert "cpu" in win.result_panel.details.text()
    assert not win.doc.result_is_stale and not win.result_panel.stale.isVisible()
    # The explanation map of a region can be shown on the image.
    assert win.result_panel.cam.count() == 1 + len(expected.regions)
    win.result_panel.cam.setCurrentIndex(1)
    assert not win.canvas.cam_item.pixmap().isNull()
    # Audit log: one line with hashes and the model identity, no names or paths.
    records = [json.loads(x) for x in (paths.user_data_dir() / "audit.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["contour_hash"] == win.doc.contour.content_hash()
    assert records[0]["model_id"] == "test-random" and records[0]["image_sha256"] == win.doc.base_image.sha256
    assert "case.dcm" not in json.dumps(records)
    # Edit → stale at once, greyed, CAM hidden; undo → the same contour again, current again.
    win.set_tool("edit")
    drag(qtbot, win, LESION_POLYGON[0], LESION_POLYGON[0] + (-15, 0))
    assert win.doc.result_is_stale and win.result_panel.stale.isVisible()
    assert "gray" in win.result_panel.probability.styleSheet()
    assert win.canvas.cam_item.pixmap().isNull()
    win.undo_stack.undo()
    assert not win.doc.result_is_stale and not win.result_panel.stale.isVisible()
    # The PDF report is written, one page, de-identified.
    pdf = win.export_pdf(str(win.doc.path.parent / "report.pdf"))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000 and data.count(b"/Type /Page\n") <= 1
    assert b"case.dcm" not in data


def test_late_result_for_an_old_contour_is_discarded(win, qtbot):
    win.predict()
    win.smooth_contour()  # edit before the worker answers
    qtbot.waitUntil(lambda: win.prediction.pending_job is None, timeout=60000)
    assert win.doc.result is None  # never shown as the result of the smoothed contour
    assert "earlier contour" in win.statusBar().currentMessage()


def test_missing_model_is_a_message(qtbot, tmp_path, dialog_log):  # noqa: F811
    w = make_window(qtbot)
    with qtbot.waitSignal(w.model.load_failed, timeout=10000):
        w.start_model(tmp_path / "no-such-model")
    assert "not available" in w.result_panel.model_state.text()
    assert w.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, w)
    w.predict()
    assert any("not found" in t for t in dialog_log.texts("error"))


def test_gpu_preference_without_gpu_falls_back_with_a_notice(qtbot, tmp_path, bundle, dialog_log):  # noqa: F811
    from dlrs_desktop.model.predictor import gpu_hint

    if gpu_hint() is not None:
        pytest.skip("a GPU is present: the fallback path is not taken here")
    w = make_window(qtbot)
    w.prefs.device = "gpu"
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    with qtbot.waitSignal(w.model.loaded, timeout=60000):
        w.start_model(bundle)
    assert w.model.info.device == "cpu" and w.model.info.warnings
    assert w.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, w)
    w.predict()
    qtbot.waitUntil(lambda: complete(w), timeout=60000)
    assert any("GPU" in t for t in dialog_log.texts("info"))
    assert "GPU" in w.result_panel.details.text() and "cpu" in w.result_panel.details.text()


def test_about_shows_the_model_card(win):
    from dlrs_desktop.ui.about import about_markdown

    text = about_markdown(win.model.info)
    assert "test-random" in text and "synthetic" in text.lower() and "Research use" in text


def test_invalid_contour_is_refused_with_a_message(win, qtbot, dialog_log):  # noqa: F811
    import numpy as np

    win.clear_contour()
    draw_polygon(qtbot, win, np.array([[5, 300], [120, 280], [130, 380], [10, 400]], float))
    win.predict()
    qtbot.waitUntil(lambda: bool(dialog_log.texts("error")), timeout=30000)
    assert "scan area" in dialog_log.texts("error")[0] or "region" in dialog_log.texts("error")[0]
    assert win.doc.result is None and not win.result_panel.busy.isVisible()
