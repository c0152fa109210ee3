"""Model loading and prediction in the main window: a result is shown only for the contour on screen.

A mixin of MainWindow. Jobs are tagged with image sha256 + contour hash; a late answer for an older
contour is discarded, every accepted one is written to the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.panels import format_probability

if TYPE_CHECKING:
    pass


class PredictionMixin:
    """Predict button, model state and result handling of the main window."""

    # ------------------------------------------------------------------ prediction
    def start_model(self, bundle: str | Path | None = None) -> None:
        self.model_label.setText("Model: loading…")
        self.result_panel.model_state.setText("Loading the model in the background…")
        self.model.load(bundle, self.prefs.device)

    def _model_loaded(self, info: dict) -> None:
        dev = info.get("device", "")
        self.model_label.setText(f"Model: {info.get('name')} {info.get('version')} · {dev}")
        self.result_panel.model_state.setText(f"Model ready ({dev}).")
        if info.get("notice"):
            self.result_panel.set_notice(info["notice"])
        for w in info.get("warnings", []):
            self.show_status(str(w))
        self._refresh_predict_button()
        identity = (self.doc.result or {}).get("identity") or {}
        if self.doc.result_state == "current" and identity.get("model_sha256") != info.get("sha256"):
            self.doc.set_result(self.doc.result)  # another model now: its number is no longer current
        self.reverify_saved_result()

    def reverify_saved_result(self) -> None:
        """A result read from a sidecar is re-computed as soon as the model can (never shown as current
        before); when that is not possible it stays "saved — not verified"."""
        doc = self.doc
        if doc.result_state != "unverified" or not self.model.ready or self.pending_job is not None:
            return
        if doc.contour is None or doc.calibration is None or doc.contour_problem():
            return
        self.pending_job = self._job_key()
        self.result_panel.set_busy(True)
        self.statusBar().showMessage("Re-computing the saved prediction…")
        self.model.predict(doc.image, doc.contour, self.pending_job)

    def _model_failed(self, message: str) -> None:
        self.model_label.setText("Model: not available")
        self.result_panel.model_state.setText(f"Model not available: {message}")
        self._refresh_predict_button()

    def predict(self) -> None:
        doc = self.doc
        if doc.image is None:
            dialogs.error(self, "Open an image first.")
            return
        if doc.contour is None:
            dialogs.error(self, "Draw the tumour contour first (Polygon: P, Freehand: F).")
            return
        problem = doc.contour_problem()
        if problem:
            dialogs.error(self, problem, "Prediction not possible")
            return
        if doc.calibration is None:
            dialogs.error(
                self,
                "This image has no trustworthy millimetre calibration, so the rings cannot be measured "
                "and no prediction is made. Calibrate it with the Calibrate tool (K): drag along the depth "
                "ruler and type its length.",
                "Not calibrated",
            )
            return
        if not self.model.ready:
            dialogs.error(self, self.model.error or "The model is still loading; try again in a moment.")
            return
        self.pending_job = self._job_key()
        self.result_panel.set_busy(True)
        self.statusBar().showMessage("Predicting…")
        self.model.predict(doc.image, doc.contour, self.pending_job)

    def _job_key(self) -> str:
        assert self.doc.base_image is not None and self.doc.contour is not None
        return f"{self.doc.base_image.sha256}:{self.doc.contour.content_hash()}"

    def _predicted(self, job: str, prediction: Any) -> None:
        if job == self.pending_job:
            self.pending_job = None
            self.result_panel.set_busy(False)
        current = self._job_key() if self.doc.contour is not None and self.doc.base_image else None
        if job != current:
            self.show_status("A prediction for an earlier contour finished and was discarded.")
            return
        pred = prediction.to_dict()
        saved = self.doc.result if self.doc.result_state == "unverified" else None
        cal = self.doc.calibration
        result = {
            "prediction": pred,
            "contour_hash": self.doc.contour.content_hash(),
            # What this number belongs to; a result is current only when all four match.
            "identity": {
                "image_sha256": prediction.image_sha256,
                "contour_hash": prediction.contour_hash,
                "calibration": None if cal is None else cal.to_dict(),
                "model_sha256": prediction.bundle_hash,
            },
            "model": {
                "id": prediction.model_id,
                "version": prediction.model_version,
                "bundle_hash": prediction.bundle_hash,
                "notice": prediction.research_notice,
            },
        }
        self.doc.set_result(result, prediction)
        prob = format_probability(prediction.probability, prediction.threshold)
        self.statusBar().showMessage(f"Prediction done: {prob} ({prediction.category})", 5000)
        old = (saved or {}).get("prediction", {}).get("probability")
        if isinstance(old, float | int) and abs(float(old) - prediction.probability) > 5e-4:
            dialogs.info(
                self,
                f"The result saved in the annotation file ({float(old):.3f}) differs from the one the "
                f"model computes now ({prediction.probability:.3f}). The re-computed result is shown.",
                "Saved result not confirmed",
            )
        if prediction.device_note and prediction.device_note != self.last_device_note:
            self.last_device_note = prediction.device_note  # told once, then only in the result panel
            dialogs.info(self, prediction.device_note, "Device")
        sens = prediction.sensitivity
        self._audit(
            "prediction",
            image_sha256=prediction.image_sha256,
            contour_hash=prediction.contour_hash,
            frame=self.doc.frame,
            model_id=prediction.model_id,
            model_version=prediction.model_version,
            model_sha256=prediction.bundle_hash,
            probability=prediction.probability,
            threshold=prediction.threshold,
            category=prediction.category,
            region_probabilities={r.name: r.probability for r in prediction.regions},
            sensitivity=None if sens is None else [sens.min, sens.max],
            device=prediction.device,
            seconds=round(prediction.timings_ms.get("total", 0.0) / 1000, 4),
        )

    def _audit(self, event: str, **fields: Any) -> None:
        """The audit record must not be lost silently: a failure is told once, the result stays."""
        try:
            self.audit.append(event, **fields)
        except OSError as exc:
            why = exc.strerror or exc
            message = f"The audit log could not be written ({why}); this prediction is not logged."
            if message != self.last_audit_warning:
                self.last_audit_warning = message
                dialogs.error(self, message, "Audit log")
            else:
                self.show_status(message)

    def _predict_failed(self, job: str, message: str) -> None:
        if job == self.pending_job:
            self.pending_job = None
            self.result_panel.set_busy(False)
        self.statusBar().clearMessage()
        dialogs.error(self, message, "Prediction not possible")

    def _show_cam(self, region: str) -> None:
        from dlrs_desktop.ui.report import cam_rgba

        pred = self.doc.prediction
        if not region or pred is None or self.doc.result_is_stale or self.doc.image is None:
            self.canvas.set_cam(None)
            return
        self.canvas.set_cam(cam_rgba(pred, region, self.doc.image.shape))
