"""Sensitivity never blocks (issue 29): the probability is on screen while the contour sensitivity is
still computing, the band fills in when it arrives, and a contour edit meanwhile cancels it, so the old
contour's band never appears. Real worker thread, real (small, random) bundle; only the sensitivity
stage is slowed (it sleeps 1.5 s, then runs for real)."""

from __future__ import annotations

import json
import time

import pytest

from dlrs_desktop import paths
from dlrs_desktop.model import Predictor
from tests.model_factory import cached_bundle
from tests.ui_factory import (
    calibrated_dicom,
    complete,
    dialog_log,  # noqa: F401  (fixture)
    draw_polygon,
    make_window,
    window_ready_to_predict,
)

SLOW_S = 1.5


@pytest.fixture(scope="module")
def bundle():
    return cached_bundle()


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """The sensitivity stage, slowed by SLOW_S; each call records the contour it was asked for."""
    seen: list[str] = []
    real = Predictor.predict_sensitivity

    def slow(self, image, contour, *args, **kwargs):
        seen.append(contour.content_hash())
        time.sleep(SLOW_S)
        return real(self, image, contour, *args, **kwargs)

    monkeypatch.setattr(Predictor, "predict_sensitivity", slow)
    return seen


@pytest.fixture
def win(qtbot, tmp_path, bundle, dialog_log, calls):  # noqa: F811
    return window_ready_to_predict(qtbot, tmp_path, bundle, dialog_log)


def _fusion(win):
    return win.result_panel.bars.rows[-1]


def test_the_probability_appears_before_the_band(win, qtbot, bundle, calls, dialog_log):  # noqa: F811
    panel, doc = win.result_panel, win.doc
    win.predict()
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: doc.result is not None, timeout=60000)
    shown_after = time.perf_counter() - t0
    # The probability is on screen; the band is not, and every place it goes says "computing".
    first = doc.result.prediction
    assert doc.sensitivity_computing and first.sensitivity is None
    assert panel.probability.text() == f"{first.probability:.2f}"
    assert _fusion(win).pending and _fusion(win).band is None and _fusion(win).value == first.probability
    assert "Contour sensitivity: computing…" in panel.details.text()
    assert "Contour sensitivity: computing…" in panel.category.text()
    assert "probability in" in panel.details.text() and "computing" in win.statusBar().currentMessage()
    assert panel.busy.isVisible() and not panel.predict_button.isEnabled()
    # The result is not autosaved half-done (the autosave comes 0.6 s after a change otherwise).
    qtbot.wait(900)
    assert doc.sensitivity_computing and doc.dirty
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    band_after = time.perf_counter() - t0
    assert band_after - shown_after > SLOW_S * 0.9  # the band came a stage later, not with it
    # The band is the one the CLI's one-call predict computes, for this contour.
    got = doc.result.prediction
    assert calls == [doc.contour.content_hash()]
    expected = Predictor(bundle, device="cpu").predict(doc.image, doc.contour)
    assert first.probability == got.probability
    assert got.probability == pytest.approx(expected.probability, abs=1e-6)
    assert got.sensitivity.probabilities == pytest.approx(expected.sensitivity.probabilities, abs=1e-6)
    assert _fusion(win).band is not None and not _fusion(win).pending
    assert "computing" not in panel.details.text() + panel.category.text()
    assert "Contour sensitivity: " in panel.details.text() and "(prediction and contour sensitivity)" in (
        panel.details.text()
    )
    assert "contour sensitivity" in win.statusBar().currentMessage() and not panel.busy.isVisible()
    assert not dialog_log.texts("error")
    # Saved once complete; one audit record, with the band.
    qtbot.waitUntil(lambda: not doc.dirty, timeout=5000)
    stored = win.store.load(doc.base_image.sha256, doc.path).annotation
    assert stored.result["prediction"]["sensitivity"]["min"] is not None
    records = [json.loads(x) for x in (paths.user_data_dir() / "audit.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["sensitivity"] is not None


def test_an_export_waits_for_the_band(win, qtbot, tmp_path):
    win.predict()
    qtbot.waitUntil(lambda: win.doc.sensitivity_computing, timeout=60000)
    out = win.export_annotation(str(tmp_path / "exported.json"))
    assert complete(win)  # the export waited for the second stage
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["result"]["prediction"]["sensitivity"]["min"] is not None


def test_a_contour_edit_cancels_the_band_of_the_old_contour(win, qtbot, calls):
    panel, doc = win.result_panel, win.doc
    win.predict()
    qtbot.waitUntil(lambda: doc.sensitivity_computing, timeout=60000)
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=10000)  # the old contour's band is computing
    old = doc.contour.content_hash()
    win.smooth_contour()  # an edit while the band is computing
    assert doc.result_is_stale and not doc.sensitivity_computing
    assert win.prediction.pending_job is None and panel.predict_button.isEnabled()
    assert "not computed" in win.statusBar().currentMessage()
    # The old stage ends (it was already running) and is dropped: its band never appears.
    assert win.model.wait(30000)
    qtbot.wait(200)  # its signals are delivered
    assert doc.result.prediction.sensitivity is None and doc.result.contour_hash == old
    assert _fusion(win).band is None and "Contour sensitivity: " not in panel.details.text()
    # Undo: the result is current again, without a band and saying so (never the dropped one).
    win.undo_stack.undo()
    assert not doc.result_is_stale and doc.result.prediction.sensitivity is None
    assert "no contour sensitivity" in panel.details.text() and "computing" not in panel.details.text()
    # Predict for the contour on screen: its own band.
    win.smooth_contour()
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    assert calls == [old, doc.contour.content_hash()]
    assert doc.result.contour_hash == doc.contour.content_hash() and not doc.result_is_stale
    assert doc.result.prediction.sensitivity is not None and _fusion(win).band is not None


def test_a_second_stage_cancelled_before_it_starts_does_not_run(win, qtbot, calls):
    """The worker checks the cancellation between the stages: a cancelled job never computes a band."""
    model, doc = win.model, win.doc
    job = win.prediction.job_key()
    with qtbot.waitSignal(model.cancelled, timeout=60000) as dropped:
        model.predict(doc.image, doc.contour, job)
        model.cancel(job)  # before the first stage has even finished
    assert dropped.args == [job] and calls == []
    assert model.wait(30000)


def test_a_model_that_ignores_its_input_withdraws_the_probability(qtbot, tmp_path, dialog_log):  # noqa: F811
    """Zero head weights: every contour gives the same output. Only the second stage can tell (the offsets
    change nothing), and then the probability already shown goes: no result, one error."""
    import numpy as np

    broken = cached_bundle(head_weight=np.zeros((4, 512), np.float32), head_bias=np.full(4, 0.3, np.float32))
    w = make_window(qtbot)
    w.prefs.device = "cpu"
    dialog_log.answers["yes_no"] = True  # the unsigned test bundle
    with qtbot.waitSignal(w.model.loaded, timeout=60000):
        w.start_model(broken)
    assert w.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, w)
    w.predict()
    qtbot.waitUntil(lambda: bool(dialog_log.texts("error")), timeout=60000)
    assert "ignores its input" in dialog_log.texts("error")[0]
    assert w.doc.result is None and not w.doc.sensitivity_computing and w.prediction.pending_job is None
    assert w.result_panel.probability.text() == "–" and w.result_panel.predict_button.isEnabled()
    audit = paths.user_data_dir() / "audit.jsonl"
    assert not audit.exists() or '"prediction"' not in audit.read_text()


def test_another_image_during_the_band_cancels_it(win, qtbot, tmp_path, calls):
    """A new image replaces the result: the old band is dropped and nothing lands on the new image."""
    win.predict()
    qtbot.waitUntil(lambda: win.doc.sensitivity_computing and len(calls) == 1, timeout=60000)
    assert win.open_path(calibrated_dicom(tmp_path, "other.dcm", seed=1))
    assert win.doc.result is None and not win.doc.sensitivity_computing
    assert win.prediction.computing_job is None
    assert win.model.wait(30000)
    qtbot.wait(200)  # the dropped stage's signals are delivered
    assert win.doc.result is None and win.result_panel.probability.text() == "–"
    assert win.prediction.pending_job is None
