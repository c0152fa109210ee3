"""The main window: wires the document, canvas, tools, panels, model service and store together.

Rules enforced here: a result is attached to the document only if it was computed for the contour on
screen (image sha + contour hash); every change is autosaved within a second; errors become dialogs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
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
from dlrs_desktop.ui.assist import AssistTool
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.commands import SetCalibration, SetContour
from dlrs_desktop.ui.dicom_actions import DicomController
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.panels import MeasurementsPanel, ResultPanel
from dlrs_desktop.ui.settings import RING_NAMES, Preferences
from dlrs_desktop.ui.tools import TOOLS, Tool
from dlrs_desktop.ui.window_files import FilesMixin
from dlrs_desktop.ui.window_predict import PredictionMixin
from dlrs_desktop.ui.worker import ImageLoader, ModelService
from dlrs_desktop.ui.worklist import Worklist

AUTOSAVE_DELAY_MS = 600


class MainWindow(FilesMixin, PredictionMixin, QMainWindow):
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
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._image_loaded)
        self.loader.failed.connect(self._image_failed)
        self._pending_open: tuple[int, Path, Path | None] | None = None
        self.doc = Document()
        self.undo_stack = QUndoStack(self)
        self.pending_job: str | None = None
        self.last_audit_warning: str | None = None
        self.told_storage_problems: set[str] = set()  # each storage fault is told once, not per autosave
        self.store.clean_stale_temps()  # temporary files of a killed session
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
        self.worklist.open_requested.connect(lambda path: self.open_path(path, background=True))

        self.cursor_label = QLabel("")
        self.model_label = QLabel("Model: loading…")
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # the name comes from the bundle
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.statusBar().addPermanentWidget(self.model_label)

        tool_classes = (*TOOLS[:3], AssistTool, *TOOLS[3:])  # pan, polygon, freehand, assist, edit, ...
        self.tools: dict[str, Tool] = {cls.name: cls(self) for cls in tool_classes}
        self.tool: Tool | None = None
        self.tool_group = QActionGroup(self)
        self.dicom = DicomController(self)  # File → DICOM: export, PACS send/query/retrieve, receive
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
        self.setAcceptDrops(True)
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
        image = self.doc.image
        if math.isnan(x) or image is None:
            self.cursor_label.setText("")
            return
        value = int(image.gray[int(y), int(x)])
        text = f"x {x:.0f}, y {y:.0f} px · gray {value}"
        cal = image.calibration_for(np.array([[x, y]]))
        if cal is not None:
            text += f" · {x * cal.mm_per_px_x:.1f}, {y * cal.mm_per_px_y:.1f} mm"
        self.cursor_label.setText(text)

    # Drag a file or folder from the file manager onto the window to open it.
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0], background=True)

    def window_level(self, window: float | None, level: float | None = None) -> None:
        self.canvas.set_window_level(window, level)

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

    def snap_contour(self) -> None:
        self.tools["assist"].service.snap()

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
        if kind != "saved" and not self.autosave_timer.isActive():
            # Not restarted by later changes: the save comes ≤ 0.6 s after the first unsaved change,
            # even in the middle of a long drag.
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
        elif cal is None and (self.doc.image.calibration is not None or self.doc.image.regions):
            self.measurements.set_badge("Contour outside the calibrated ultrasound region", False)
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
        self.measurements.show_rings(rings, self.doc.contour_problem() or err)

    def _refresh_result(self) -> None:
        stale = self.doc.result_is_stale
        self.result_panel.show_result(self.doc.result, stale, verified=self.doc.result_state != "unverified")
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
