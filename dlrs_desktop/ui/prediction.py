"""Model loading and prediction: a result is shown only for the contour on screen.

Jobs are tagged with image sha256 + contour hash; a late answer for an older contour is discarded,
every accepted one is written to the audit log. A prediction arrives in two stages: the probability is
shown at once (the panel says the contour sensitivity is computing), the band fills in when it comes;
any change that makes the shown result stale cancels the band of the old contour, so it never lands on
another. The time the user waited (to the probability, and to the complete result) is measured here
and stored with the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from dlrs_desktop.model.domain_text import header_notice, is_outside, outside_text
from dlrs_desktop.model.reading import cam_rgba, class_text
from dlrs_desktop.model.result import ResultIdentity, ResultModel, SavedResult
from dlrs_desktop.store import AuditLog
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.bars import format_probability
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.result_panel import ResultPanel
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.worker import ModelInfo, ModelService

translate = QCoreApplication.translate
NOT_CALIBRATED = QT_TRANSLATE_NOOP(
    "PredictionController",
    "This image has no trustworthy millimetre calibration, so the rings cannot be measured and no "
    "prediction is made. Calibrate it with the Calibrate tool (K): drag along the depth ruler and type "
    "its length.",
)


class PredictionViews(NamedTuple):
    """Where a prediction shows: the result panel, the model line of the status bar, the canvas (maps)."""

    panel: ResultPanel
    model_label: QLabel
    canvas: ImageCanvas


class PredictionController(QObject):
    busy_changed = Signal(bool)
    user_predicted = Signal()  # a result of the user's Predict is shown (not a re-verified saved one)

    def __init__(
        self,
        parent: QWidget,
        doc: Document,
        model: ModelService,
        views: PredictionViews,
        audit: AuditLog,
        prefs: Preferences,
        status: Callable[[str, int], None],
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.doc, self.model = parent, doc, model
        self.panel, self.model_label, self.canvas = views
        self.audit, self.prefs, self.status = audit, prefs, status
        self.pending_job: str | None = None  # the job in flight, either stage (Predict waits for it)
        self.user_job: str | None = None  # the job the user's Predict started
        self.computing_job: str | None = None  # its probability is shown, its contour sensitivity is not yet
        self.first: tuple[Any, float] | None = None  # that job's first-stage Prediction and wait (ms)
        self.started_at = 0.0
        self.last_device_note: str | None = None
        self.last_audit_warning: str | None = None
        model.loaded.connect(self._model_loaded)
        model.load_failed.connect(self._model_failed)
        model.unsigned.connect(self._ask_unsigned)
        model.predicted.connect(self._predicted)
        model.predict_failed.connect(self._predict_failed)
        model.completed.connect(self._completed)  # (`cancelled` needs nothing: a job is cleared when dropped)
        doc.events.connect(self._doc_changed)
        views.panel.predict_requested.connect(self.predict)
        views.panel.cam_changed.connect(self.show_cam)

    # ------------------------------------------------------------------ model
    def start_model(self, bundle: str | Path | None = None, *, keep_current: bool = False) -> None:
        """Load `bundle` (None: the bundled demonstration model) in the background. `keep_current`: a
        model switch; the model in use stays loaded if the new one fails (ModelService.switch_failed)."""
        self.model_label.setText(self.tr("Model: loading…"))
        self.panel.model_state.setText(self.tr("Loading the model in the background…"))
        self.model.load(
            bundle, self.prefs.device, keep_current=keep_current, trusted_keys=self.prefs.trusted_key_files,
            precision=self.prefs.precision,
        )  # fmt: skip

    def _ask_unsigned(self, path: str, message: str, keep_current: bool) -> None:
        """No trusted key signed the bundle: use it only if the user says so (results then say so)."""
        question = self.tr(
            "This model bundle is not signed by a key you trust:\n{0}\n\n{1}\n\nUse it anyway? Every "
            'result, report and export will then say "unsigned model".'
        ).format(path, i18n.unsigned_reason(message))
        if dialogs.ask_yes_no(self.parent_widget, question, self.tr("Unsigned model")):
            self.model.load(
                path, self.prefs.device, keep_current=keep_current,
                trusted_keys=self.prefs.trusted_key_files, allow_unsigned=True,
                precision=self.prefs.precision,
            )  # fmt: skip
        elif keep_current:
            self.model.switch_failed.emit(self.tr("you chose not to use an unsigned model"))
        else:
            self.model._on_load_failed(self.tr("you chose not to use an unsigned model"))

    def reload_model(self) -> None:
        """The loaded model again (a new device preference); the demonstration model if none is."""
        path = self.model.info.path if self.model.ready else None
        self.start_model(path or None)

    def show_model(self, info: ModelInfo | None = None) -> None:
        """The model line and state for the model in use (also after a failed switch kept it)."""
        if info is None and not self.model.ready:
            return
        info = self.model.info if info is None else info
        dev = info.device
        self.model_label.setText(
            self.tr("Model: {name} {version} · {device}").format(
                name=info.name, version=info.version, device=dev
            )
        )
        self.panel.model_state.setText(self.tr("Model ready ({device}).").format(device=dev))

    def _model_loaded(self, info: ModelInfo) -> None:
        self.show_model(info)
        if info.notice:
            self.panel.set_notice(info.notice)
        self.panel.set_outcome(info.reading.outcome, info.reading.ring_radii)
        if info.reading.ring_radii:
            self.doc.set_ring_radii(info.reading.ring_radii)  # the rings on screen are the model's
        for w in info.warnings:
            self.status(translate("warnings", w), 6000)
        self.refresh_button()
        self.doc.set_model(info.sha256 or None)  # a result of another model is stale until predicted again
        self.reverify_saved_result()
        self.tell_header()

    def tell_header(self) -> None:
        """Before a contour is drawn: the loaded model will show no result for this DICOM, its header names
        another modality or body part (model/anatomy.py)."""
        image, info = self.doc.base_image, self.model.info
        loaded = image is not None and bool(info.manifest)
        text = header_notice(image.provenance.metadata, info.reading.body_part, translate) if loaded else ""
        if text:
            self.status(text, 20000)

    def reverify_saved_result(self) -> None:
        """A result read from a sidecar is re-computed as soon as the model can (never shown as current
        before); when that is not possible it stays "saved — not verified"."""
        doc = self.doc
        if doc.result_state != "unverified" or not self.model.ready or self.pending_job is not None:
            return
        if doc.contour is None or doc.calibration is None or doc.contour_problem():
            return
        self.pending_job = self.job_key()
        self._start(self.tr("Re-computing the saved prediction…"))

    def _model_failed(self, message: str) -> None:
        self.model_label.setText(self.tr("Model: not available"))
        self.panel.model_state.setText(self.tr("Model not available: {reason}").format(reason=message))
        self.refresh_button()

    # ------------------------------------------------------------------ prediction
    def refresh_button(self) -> None:
        doc = self.doc
        self.panel.predict_button.setEnabled(
            self.pending_job is None and doc.contour is not None and doc.image is not None
        )

    def predict(self) -> None:
        doc, parent = self.doc, self.parent_widget
        if doc.image is None:
            dialogs.error(parent, self.tr("Open an image first."))
            return
        if doc.contour is None:
            dialogs.error(parent, self.tr("Draw the tumour contour first (Polygon: P, Freehand: F)."))
            return
        problem = doc.contour_problem(translate)
        if problem:
            dialogs.error(parent, problem, self.tr("Prediction not possible"))
            return
        if doc.calibration is None:
            dialogs.error(parent, self.tr(NOT_CALIBRATED), self.tr("Not calibrated"))
            return
        if not self.model.ready:
            dialogs.error(
                parent, self.model.error or self.tr("The model is still loading; try again in a moment.")
            )
            return
        self.pending_job = self.user_job = self.job_key()
        self._start(self.tr("Predicting (with contour sensitivity)…"))

    def _start(self, message: str) -> None:
        """The pending job runs: the clock starts (what the user waits is measured), the panel is busy."""
        self.started_at = time.perf_counter()
        self._set_busy(True)
        self.status(message, 0)
        self.model.predict(self.doc.image, self.doc.contour, self.pending_job)

    def _set_busy(self, busy: bool) -> None:
        self.panel.set_busy(busy)
        self.busy_changed.emit(busy)
        self.refresh_button()

    def job_key(self) -> str:
        assert self.doc.base_image is not None and self.doc.contour is not None
        return f"{self.doc.base_image.sha256}:{self.doc.contour.content_hash()}"

    def _predicted(self, job: str, prediction: Any) -> None:
        """First stage: the probability is shown now; its contour sensitivity is still computing."""
        waited_ms = (time.perf_counter() - self.started_at) * 1000
        current = self.job_key() if self.doc.contour is not None and self.doc.base_image else None
        if job != current:
            self.model.cancel(job)  # its second stage would be discarded too: do not compute it
            if job == self.pending_job:
                self.pending_job = None
                self._set_busy(False)
            self.status(self.tr("A prediction for an earlier contour finished and was discarded."), 6000)
            return
        saved = self.doc.result if self.doc.result_state == "unverified" else None
        self.computing_job, self.first = job, (prediction, waited_ms)
        self.doc.set_result(self._saved(prediction, waited_ms), prediction, computing=True)
        if job == self.user_job:
            self.user_predicted.emit()
        self.status(
            self.tr("Probability in {seconds} s: {result} · contour sensitivity: computing…").format(
                seconds=f"{waited_ms / 1000:.2f}", result=self._said(prediction, with_class=False)
            ),
            0,
        )
        old = None if saved is None else saved.prediction.probability
        if old is not None and abs(old - prediction.probability) > 5e-4:
            dialogs.info(
                self.parent_widget,
                self.tr(
                    "The result saved in the annotation file ({saved}) differs from the one the model "
                    "computes now ({now}). The re-computed result is shown."
                ).format(saved=f"{float(old):.3f}", now=f"{prediction.probability:.3f}"),
                self.tr("Saved result not confirmed"),
            )
        if prediction.device_note and prediction.device_note != self.last_device_note:
            self.last_device_note = prediction.device_note  # told once, then only in the result panel
            dialogs.info(self.parent_widget, translate("device", prediction.device_note), self.tr("Device"))

    def _completed(self, job: str, prediction: Any) -> None:
        """Second stage: the band of the result on screen (never of another contour: `_doc_changed`
        dropped that job, and a dropped job's band is ignored here)."""
        if job != self.computing_job or self.first is None:
            return
        first_ms = self.first[1]
        waited_ms = (time.perf_counter() - self.started_at) * 1000
        self.computing_job, self.first = None, None
        if job == self.pending_job:
            self.pending_job = None
            self._set_busy(False)
        self.doc.set_result(self._saved(prediction, waited_ms), prediction)
        self.status(
            self.tr(
                "Prediction done in {seconds} s (probability after {first} s, contour sensitivity "
                "{second} s): {result}"
            ).format(
                seconds=f"{waited_ms / 1000:.2f}", first=f"{first_ms / 1000:.2f}",
                second=f"{(waited_ms - first_ms) / 1000:.2f}", result=self._said(prediction),
            ),
            8000,
        )  # fmt: skip
        self._audit_prediction(prediction, waited_ms)

    def _doc_changed(self, kind: str) -> None:
        """The shown result went stale or was replaced (an edit, another image, frame or model): the
        contour sensitivity still computing for it is cancelled."""
        job, doc = self.computing_job, self.doc
        if job is None:
            return
        current = self.job_key() if doc.contour is not None and doc.base_image is not None else None
        if doc.result_state == "current" and doc.sensitivity_computing and job == current:
            return
        first = self.first
        self.computing_job, self.first = None, None
        self.model.cancel(job)
        if job == self.pending_job:
            self.pending_job = None
            self._set_busy(False)
        if doc.sensitivity_computing:
            doc.sensitivity_computing = False
        if first is not None:  # its probability was shown: that is what the audit records
            self._audit_prediction(*first)
        self.status(self.tr("The contour changed: its contour sensitivity was not computed."), 6000)

    def settle(self, timeout_ms: int = 30000) -> bool:
        """Wait for the contour sensitivity still computing (exports carry the complete result).

        Only the worker's finished signals are delivered meanwhile (no user input). False if it did
        not arrive in time."""
        if self.computing_job is None:
            return True
        self.model.wait(timeout_ms)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.MetaCall)
        return self.computing_job is None

    def _saved(self, prediction: Any, waited_ms: float) -> SavedResult:
        """The result as the document keeps it, tied to what it belongs to (all four must match)."""
        cal = self.doc.calibration
        return SavedResult(
            prediction,
            prediction.contour_hash,
            ResultModel(
                prediction.model_id,
                prediction.model_version,
                prediction.bundle_hash,
                prediction.research_notice,
                dict(self.model.info.reading.region_thresholds),
            ),
            waited_ms=round(waited_ms, 1),
            identity=ResultIdentity(
                prediction.image_sha256,
                prediction.contour_hash,
                None if cal is None else cal.to_dict(),
                prediction.bundle_hash,
            ),
        )

    def _said(self, pred: Any, *, with_class: bool = True) -> str:
        """The result in words for the status line; `with_class` False before the contour sensitivity
        is in (it may still make the class uncertain)."""
        if is_outside(pred):
            return outside_text(pred, translate)
        if not with_class:
            return self.tr("{probability_of} {value}").format(
                probability_of=pred.outcome.probability_of_in(translate),
                value=format_probability(pred.probability, pred.threshold),
            )
        return self.tr("{probability_of} {value} ({category})").format(
            probability_of=pred.outcome.probability_of_in(translate),
            value=format_probability(pred.probability, pred.threshold),
            category=class_text(pred, translate),
        )

    def _audit_prediction(self, prediction: Any, waited_ms: float) -> None:
        sens = prediction.sensitivity
        self._audit(
            "prediction",
            **prediction.provenance(),  # the audit's key list keeps model id/version, contour hash, device
            model_sha256=prediction.bundle_hash,
            image_sha256=prediction.image_sha256,
            frame=self.doc.frame,
            probability=prediction.probability,
            threshold=prediction.threshold,
            category=prediction.category,
            region_probabilities={r.name: r.probability for r in prediction.regions},
            sensitivity=None if sens is None else [sens.min, sens.max],
            seconds=round(waited_ms / 1000, 4),
        )

    def _audit(self, event: str, **fields: Any) -> None:
        """The audit record must not be lost silently: a failure is told once, the result stays."""
        try:
            self.audit.append(event, **fields)
        except OSError as exc:
            message = self.tr(
                "The audit log could not be written ({reason}); this prediction is not logged."
            ).format(reason=exc.strerror or exc)
            if message != self.last_audit_warning:
                self.last_audit_warning = message
                dialogs.error(self.parent_widget, message, self.tr("Audit log"))
            else:
                self.status(message, 6000)

    def _predict_failed(self, job: str, message: str) -> None:
        if job == self.computing_job:  # the second stage failed: the probability shown may not stay
            self.computing_job, self.first = None, None
            self.doc.set_result(None)
        if job == self.pending_job:
            self.pending_job = None
            self._set_busy(False)
        self.status("", 0)
        dialogs.error(self.parent_widget, message, self.tr("Prediction not possible"))

    def show_cam(self, region: str) -> None:
        pred, doc = self.doc.prediction, self.doc
        cam = next((c for c in getattr(pred, "cams", None) or () if c.name == region), None)
        if not region or cam is None or doc.result_is_stale or doc.image is None:
            self.canvas.set_cam(None)
            self.panel.cam_legend.setVisible(False)
            return
        self.canvas.set_cam(cam_rgba(cam.full(tuple(doc.image.shape))), region)
        self.panel.cam_legend.setVisible(True)
