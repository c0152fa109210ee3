"""The main window: wires the document, canvas, tools, panels, model service and store together.

Rules enforced here: a result is attached to the document only if it was computed for the contour on
screen (image sha + contour hash); every change is autosaved within a second; errors become dialogs.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.store import AnnotationStore, AuditLog, SessionStore
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.actions import build_actions
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.commands import SetCalibration, SetContour
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.panels import MeasurementsPanel, ResultPanel
from dlrs_desktop.ui.settings import RING_NAMES, Preferences
from dlrs_desktop.ui.tools import TOOLS, Tool
from dlrs_desktop.ui.worker import ModelService
from dlrs_desktop.ui.worklist import Worklist

AUTOSAVE_DELAY_MS = 600


class MainWindow(QMainWindow):
    def __init__(
        self,
        prefs: Preferences | None = None,
        store: AnnotationStore | None = None,
        model: ModelService | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("DLRS Desktop — research use, demonstration model")
        self.prefs = prefs or Preferences()
        self.store = store or AnnotationStore()
        self.audit = AuditLog()
        self.session = SessionStore()
        self.model = model or ModelService(self)
        self.doc = Document()
        self.undo_stack = QUndoStack(self)
        self.pending_job: str | None = None
        self.last_save_warning: str | None = None
        self.last_device_note: str | None = None

        self.canvas = ImageCanvas(self)
        self.frame_slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_slider.setEnabled(False)
        self.frame_label = QLabel("Frame –")
        self.frame_slider.valueChanged.connect(self._frame_slider_moved)
        self.frame_timer = QTimer(self, singleShot=True, interval=120)  # load frames after the slider rests
        self.frame_timer.timeout.connect(self._load_slider_frame)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        row.setContentsMargins(6, 0, 6, 2)
        row.addWidget(self.frame_label)
        row.addWidget(self.frame_slider, 1)
        lay.addLayout(row)
        self.setCentralWidget(central)

        self.measurements = MeasurementsPanel()
        self.result_panel = ResultPanel()
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(self.measurements)
        side_lay.addWidget(self.result_panel, 1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_dock = QDockWidget("Measurements and result", self)
        self.side_dock.setObjectName("side")
        dock_body = QWidget()
        dock_lay = QVBoxLayout(dock_body)
        dock_lay.setContentsMargins(0, 0, 0, 0)
        dock_lay.addWidget(scroll, 1)
        dock_lay.addWidget(self.result_panel.notice)  # the research-use notice never scrolls away
        self.side_dock.setWidget(dock_body)
        self.side_dock.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_dock)
        self.worklist = Worklist(self.store)
        self.worklist_dock = QDockWidget("Worklist", self)
        self.worklist_dock.setObjectName("worklist")
        self.worklist_dock.setWidget(self.worklist)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.worklist_dock)
        self.worklist_dock.hide()
        self.worklist.open_requested.connect(self.open_path)

        self.cursor_label = QLabel("")
        self.model_label = QLabel("Model: loading…")
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.statusBar().addPermanentWidget(self.model_label)

        self.tools: dict[str, Tool] = {cls.name: cls(self) for cls in TOOLS}
        self.tool: Tool | None = None
        self.tool_group = QActionGroup(self)
        self.actions_by_name: dict[str, QAction] = build_actions(self)
        self.set_tool("polygon")

        self.autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.save_now)

        self.doc.events.connect(self._on_doc_event)
        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.measurements.ring_toggled.connect(self.set_ring_visible)
        self.result_panel.predict_requested.connect(self.predict)
        self.result_panel.cam_changed.connect(self._show_cam)
        self.model.loaded.connect(self._model_loaded)
        self.model.load_failed.connect(self._model_failed)
        self.model.predicted.connect(self._predicted)
        self.model.predict_failed.connect(self._predict_failed)
        for name in RING_NAMES:
            visible = self.prefs.ring_visible(name)
            self.canvas.set_ring_visible(name, visible)
            self.measurements.set_ring_checked(name, visible)
        self.canvas.scan_item.setVisible(self.prefs.show_scan_outline)
        self.resize(1280, 760)
        self._refresh_all()

    def show_sized(self) -> None:
        """Maximised on a laptop screen (1366x768), a comfortable window on a large monitor."""
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None and (screen.width() < 1500 or screen.height() < 900):
            self.setGeometry(screen)  # also right without a window manager (kiosk, Xvfb)
            self.showMaximized()
        else:
            self.resize(1440, 900)
            self.show()

    # ------------------------------------------------------------------ Host protocol (tools)
    def dialog_parent(self) -> QWidget:
        return self

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # ------------------------------------------------------------------ tools & view
    def set_tool(self, name: str) -> None:
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = self.tools[name]
        self.canvas.tool = self.tool
        self.tool.activate()
        action = self.actions_by_name.get(f"tool_{name}")
        if action is not None and not action.isChecked():
            action.setChecked(True)
        self.show_status(f"{self.tool.label}: {self.tool.tip}")
        self._refresh_overlay()

    def set_ring_visible(self, name: str, visible: bool) -> None:
        self.canvas.set_ring_visible(name, visible)
        self.prefs.set_ring_visible(name, visible)
        self.measurements.set_ring_checked(name, visible)
        action = self.actions_by_name.get(f"show_{name}")
        if action is not None and action.isChecked() != visible:
            action.setChecked(visible)

    def _cursor_moved(self, x: float, y: float) -> None:
        if math.isnan(x) or self.doc.image is None:
            self.cursor_label.setText("")
            return
        text = f"x {x:.0f}, y {y:.0f} px"
        cal = self.doc.image.calibration_for(np.array([[x, y]]))
        if cal is not None:
            text += f"  ·  {x * cal.mm_per_px_x:.1f}, {y * cal.mm_per_px_y:.1f} mm"
        self.cursor_label.setText(text)

    def window_level(self, window: float | None, level: float | None = None) -> None:
        self.canvas.set_window_level(window, level)

    # ------------------------------------------------------------------ open / navigate
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open ultrasound image", self.prefs.open_folder,
            "Images (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)",
        )  # fmt: skip
        if path:
            self.prefs.open_folder = str(Path(path).parent)
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder as worklist", self.prefs.open_folder)
        if folder:
            self.prefs.open_folder = folder
            self.open_path(folder)

    def open_path(self, path: str | Path, frame: int | None = None, contour_file: Path | None = None) -> bool:
        """Open an image (or a folder as worklist). Returns False with a dialog when it cannot."""
        p = Path(path)
        if p.is_dir():
            self.worklist.set_folder(p)
            self.worklist_dock.show()
            self.session.update(folder=str(p))
            first = self.worklist.neighbour(+1)
            return self.open_path(first) if first is not None else True
        if not self.confirm_discard_gesture():
            return False
        from dlrs_desktop.imaging import load_image

        try:
            image = load_image(p, frame)
        except DlrsError as exc:
            dialogs.error(self, str(exc), "Cannot open image")
            return False
        except Exception as exc:  # never a traceback for a file the user picked
            dialogs.error(self, f"Cannot open '{p.name}': {type(exc).__name__}: {exc}", "Cannot open image")
            return False
        self.save_now()  # the previous image's last edits
        self.undo_stack.clear()
        self.doc.open(image, p)
        self.store.remember_path(p, image.sha256)
        loaded = self.store.load(image.sha256, p)
        for note in loaded.rejected:
            dialogs.info(self, note, "Annotation not applied")
        if loaded.annotation is not None and not loaded.annotation.is_empty:
            self._apply_annotation(loaded.annotation)
        elif contour_file is not None and contour_file.is_file():
            self._load_contour_file(contour_file)
        if self.worklist.folder is not None and p.parent == self.worklist.folder:
            self.worklist.set_current(p)
        self.session.update(image=str(p.resolve()), image_sha256=image.sha256, frame=self.doc.frame)
        self.setWindowTitle(f"{p.name} — DLRS Desktop (research use, demonstration model)")
        return True

    def open_image(self, image: Any, path: str | Path | None = None) -> None:
        """Open an in-memory image (tools, tests); autosaves like any other."""
        self.save_now()
        self.undo_stack.clear()
        self.doc.open(image, path)
        loaded = self.store.load(image.sha256, path)
        for note in loaded.rejected:
            dialogs.info(self, note, "Annotation not applied")
        if loaded.annotation is not None and not loaded.annotation.is_empty:
            self._apply_annotation(loaded.annotation)

    def _apply_annotation(self, ann: Any) -> None:
        from dlrs_desktop.imaging import load_image

        try:
            if self.doc.path is not None and ann.frame != self.doc.frame:
                self.doc.base_image = load_image(self.doc.path, ann.frame)
            self.doc.apply_annotation(ann)
        except DlrsError as exc:
            dialogs.error(self, f"The saved annotation could not be restored: {exc}")
        self.show_status("Restored the saved contour and result for this image.")

    def _load_contour_file(self, path: Path) -> None:
        from dlrs_desktop.roi import Contour

        try:
            contour = Contour.load(path)
        except DlrsError as exc:
            dialogs.error(self, str(exc), "Cannot load contour")
            return
        self.undo_stack.push(
            SetContour(self.doc, None, self.doc.make_contour(np.asarray(contour.points)), "Load contour")
        )

    def import_contour_dialog(self) -> None:
        if self.doc.image is None:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Import contour", self.prefs.open_folder, "Contour (*.json *.png);;All files (*)"
        )
        if path:
            self._load_contour_file(Path(path))

    def navigate(self, step: int) -> None:
        target = self.worklist.neighbour(step)
        if target is None:
            self.show_status("No further image in the worklist.")
            return
        self.open_path(target)

    def set_frame(self, frame: int) -> None:
        if self.doc.base_image is None or self.doc.path is None or frame == self.doc.frame:
            return
        from dlrs_desktop.imaging import load_image

        try:
            self.doc.set_frame_image(load_image(self.doc.path, frame))
        except DlrsError as exc:
            dialogs.error(self, str(exc))

    def _frame_slider_moved(self, value: int) -> None:
        self.frame_label.setText(f"Frame {value + 1}/{self.frame_slider.maximum() + 1}")
        self.frame_timer.start()

    def _load_slider_frame(self) -> None:
        self.set_frame(self.frame_slider.value())

    # ------------------------------------------------------------------ edits without a tool
    def smooth_contour(self) -> None:
        c = self.doc.contour
        if c is None:
            return
        try:
            new = self.doc.make_contour(np.asarray(c.smoothed().points))
        except DlrsError as exc:
            dialogs.error(self, str(exc))
            return
        self.undo_stack.push(SetContour(self.doc, c, new, "Smooth contour"))

    def clear_contour(self) -> None:
        if self.doc.contour is not None:
            self.undo_stack.push(SetContour(self.doc, self.doc.contour, None, "Clear contour"))

    def reset_calibration(self) -> None:
        if self.doc.manual_calibration is not None:
            self.undo_stack.push(
                SetCalibration(self.doc, self.doc.manual_calibration, None, "Use the file's calibration")
            )

    def toggle_reviewed(self) -> None:
        if self.doc.image is None:
            return
        try:
            reviewed = self.doc.review.status != "reviewed"
            if reviewed and not self.prefs.reviewer:
                name = dialogs.ask_text(self, "Reviewer name (saved in Preferences):", "")
                if not name:
                    return
                self.prefs.reviewer = name
            self.doc.set_review(reviewed, self.prefs.reviewer)
        except DlrsError as exc:
            dialogs.error(self, str(exc))

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
        result = {
            "prediction": pred,
            "contour_hash": self.doc.contour.content_hash(),
            "model": {
                "id": prediction.model_id,
                "version": prediction.model_version,
                "bundle_hash": prediction.bundle_hash,
                "notice": prediction.research_notice,
            },
        }
        self.doc.set_result(result, prediction)
        self.statusBar().showMessage(f"Prediction done: {prediction.probability:.2f}", 5000)
        if prediction.device_note and prediction.device_note != self.last_device_note:
            self.last_device_note = prediction.device_note  # told once, then only in the result panel
            dialogs.info(self, prediction.device_note, "Device")
        sens = prediction.sensitivity
        self.audit.append(
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

    # ------------------------------------------------------------------ document → views
    def _on_doc_event(self, kind: str) -> None:
        if kind == "image":
            self._refresh_all()
            return
        if kind in ("contour", "calibration", "frame"):
            if kind == "frame":
                self.canvas.set_image(self.doc.image.display if self.doc.image else None, refit=False)
            self._refresh_overlay()
            self._refresh_measurements()
        if kind in ("contour", "calibration", "frame", "result"):
            self._refresh_result()
        if kind in ("review", "image"):
            self._refresh_review()
        if kind != "saved":
            self.autosave_timer.start()
        self._refresh_title()

    def _refresh_all(self) -> None:
        image = self.doc.image
        self.canvas.set_image(None if image is None else image.display)
        self.canvas.set_cam(None)
        self.frame_slider.blockSignals(True)
        n = image.frame_count if image is not None else 1
        self.frame_slider.setRange(0, max(n - 1, 0))
        self.frame_slider.setValue(self.doc.frame)
        self.frame_slider.setEnabled(n > 1)
        self.frame_slider.setVisible(n > 1)
        self.frame_label.setVisible(n > 1)
        self.frame_slider.blockSignals(False)
        self.frame_label.setText(f"Frame {self.doc.frame + 1}/{n}" if image is not None else "Frame –")
        self.canvas.set_scan_outline(self._scan_outlines())
        self._refresh_overlay()
        self._refresh_measurements()
        self._refresh_result()
        self._refresh_review()
        self._refresh_title()

    def _scan_outlines(self) -> list[np.ndarray]:
        image = self.doc.image
        if image is None:
            return []
        from dlrs_desktop.roi import Contour

        try:
            return [np.asarray(Contour.from_mask(image.scan_mask).points)]
        except (DlrsError, ValueError):
            return []

    def _refresh_overlay(self) -> None:
        c = self.doc.contour
        editing = self.tool is not None and self.tool.name == "edit"
        self.canvas.set_contour(None if c is None else np.asarray(c.points), handles=editing)
        rois, _err = self.doc.rois()
        outlines = {}
        if rois is not None:
            for ring in rois.rings:
                outlines[ring.name] = ring.outlines
        self.canvas.set_rings(outlines)

    def _refresh_measurements(self) -> None:
        cal = self.doc.calibration
        if self.doc.image is None:
            self.measurements.set_badge("No image", False)
        elif cal is None:
            self.measurements.set_badge("Not calibrated — use the Calibrate tool (K)", False)
        else:
            self.measurements.set_badge(cal.label(), True)
        c = self.doc.contour
        m = None
        if c is not None and cal is not None and len(c.points) >= 3:
            try:
                m = c.measurements()
            except DlrsError:
                m = None
        self.measurements.show_measurements(m)
        rois, err = self.doc.rois()
        rings = {r.name: r for r in rois.rings} if rois is not None else None
        self.measurements.show_rings(rings, err)

    def _refresh_result(self) -> None:
        stale = self.doc.result_is_stale
        self.result_panel.show_result(self.doc.result, stale)
        pred = self.doc.prediction
        cams = getattr(pred, "cams", None) or () if pred is not None and not stale else ()
        names = [c.name for c in cams]
        self.result_panel.set_cam_regions(names)
        if stale:
            self.canvas.set_cam(None)
        self._refresh_predict_button()

    def _refresh_predict_button(self) -> None:
        busy = self.pending_job is not None
        self.result_panel.predict_button.setEnabled(
            not busy and self.doc.contour is not None and self.doc.image is not None
        )

    def _refresh_review(self) -> None:
        action = self.actions_by_name.get("reviewed")
        r = self.doc.review
        if action is not None:
            action.setChecked(r.status == "reviewed")
        if r.status == "reviewed":
            self.show_status(f"Reviewed by {r.reviewer or 'unknown'} at {r.time}")

    def _refresh_title(self) -> None:
        name = self.doc.path.name if self.doc.path else ("image" if self.doc.image else "")
        mark = "*" if self.doc.dirty else ""
        self.setWindowTitle(f"{name}{mark} — DLRS Desktop (research use, demonstration model)")

    # ------------------------------------------------------------------ saving
    def save_now(self) -> bool:
        """Write the annotation now (autosave calls this). False if it could not be written."""
        self.autosave_timer.stop()
        doc = self.doc
        if doc.base_image is None or not doc.dirty:
            return True
        revision = doc.revision
        ann = doc.to_annotation()
        cal = doc.calibration
        summary = {
            "frame_count": doc.base_image.frame_count,
            "calibration": cal.label() if cal is not None else "not calibrated",
            "stale": doc.result_is_stale,
        }
        from dataclasses import replace

        try:
            res = self.store.save(replace(ann, summary=summary), doc.path)
        except OSError as exc:
            dialogs.error(
                self, f"Could not save the annotation: {exc.strerror or exc}. Your work is still open."
            )
            return False
        if res.warnings and res.warnings[0] != self.last_save_warning:
            self.last_save_warning = res.warnings[0]
            self.show_status(res.warnings[0])
        doc.mark_saved(revision)
        self.worklist.refresh_path(doc.path)
        self._refresh_title()
        return True

    def confirm_discard_gesture(self) -> bool:
        """A half-drawn polygon is work too: ask before dropping it."""
        if self.tool is None or not self.tool.busy:
            return True
        if dialogs.ask_yes_no(self, "A contour is being drawn and is not finished. Discard it?"):
            self.tool.cancel()
            return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard_gesture():
            event.ignore()
            return
        if not self.save_now():
            answer = dialogs.ask_save_discard_cancel(
                self,
                "Your latest changes could not be saved. Try saving again, quit without them, or cancel?",
            )
            if answer == "cancel" or (answer == "save" and not self.save_now()):
                event.ignore()
                return
        if self.pending_job is not None:
            self.model.wait(10000)
        self.prefs.sync()
        self.session.end()
        event.accept()

    # ------------------------------------------------------------------ exports & dialogs
    def export_pdf(self, path: str | None = None) -> Path | None:
        from dlrs_desktop.ui.report import export_pdf_dialog

        return export_pdf_dialog(self, path)

    def export_masks(self, folder: str | None = None) -> list[Path]:
        from dlrs_desktop.ui.report import export_masks_dialog

        return export_masks_dialog(self, folder)

    def export_annotation(self, path: str | None = None) -> Path | None:
        from dlrs_desktop.ui.report import export_annotation_dialog

        return export_annotation_dialog(self, path)

    def model_time(self) -> float:
        return time.perf_counter()
