"""The main window: the composition root. It builds the components and connects them; it holds no rules.

Components (each with explicit constructor dependencies, none knows this window):
  Document (Qt-free, the single source of truth) · ImageCanvas · ToolBox + ContourEdits (editing.py)
  FileController (files.py) · PredictionController (prediction.py) · Exporter (exports.py)
  DocumentPresenter (presenter.py: document → views) · WindowLevelBar, CineBar (viewbar.py) · menus.py
The one-line methods below are the window's public API for the entry point, tests and scripts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from dlrs_desktop.regions import ring_names
from dlrs_desktop.store import AnnotationStore, AuditLog, SessionStore
from dlrs_desktop.ui.actions import ActionRegistry
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.dicom_actions import DicomController, PacsFields
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.editing import ContourEdits, ToolBox
from dlrs_desktop.ui.exports import Exporter
from dlrs_desktop.ui.files import FileController, Stores
from dlrs_desktop.ui.measurements import MeasurementsPanel
from dlrs_desktop.ui.menus import Controllers, ViewParts, WindowHooks, build_menus, set_ring_actions
from dlrs_desktop.ui.model_menu import ModelMenu
from dlrs_desktop.ui.prediction import PredictionController, PredictionViews
from dlrs_desktop.ui.presenter import DocumentPresenter, PresenterViews, window_title
from dlrs_desktop.ui.result_panel import ResultPanel
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.timeline_wiring import TimelineWiring
from dlrs_desktop.ui.timepoints import TimePoints
from dlrs_desktop.ui.tools import Tool
from dlrs_desktop.ui.viewbar import CineBar, WindowLevelBar
from dlrs_desktop.ui.worker import ModelService
from dlrs_desktop.ui.worklist import Worklist

translate = QCoreApplication.translate

if TYPE_CHECKING:
    from dlrs_desktop.ui.about import PreferencesDialog


class MainWindow(QMainWindow):
    def __init__(
        self,
        prefs: Preferences | None = None,
        store: AnnotationStore | None = None,
        model: ModelService | None = None,
    ) -> None:
        super().__init__()
        self.prefs = prefs or Preferences()
        self.store = store or AnnotationStore()
        self.store.clean_stale_temps()  # temporary files of a killed session
        self.audit = AuditLog()
        self.session = SessionStore()
        self.model = model or ModelService(self)
        self.doc = Document()
        self.undo_stack = QUndoStack(self)

        rings = ring_names(self.doc.ring_radii_mm)
        self._build_views(rings)

        # components
        self.toolbox = ToolBox(self, self.canvas, self.doc, self.undo_stack, self.show_status)
        self.edits = ContourEdits(self.toolbox, self.prefs)
        self.files = FileController(
            self, self.doc, Stores(self.store, self.session), self.prefs, self.worklist,
            self.worklist_dock.show, (self.toolbox, self.undo_stack), self.status_message,
        )  # fmt: skip
        self.prediction = PredictionController(
            self, self.doc, self.model, PredictionViews(self.result_panel, self.model_label, self.canvas),
            self.audit, self.prefs, self.status_message,
        )  # fmt: skip
        self.exporter = Exporter(
            self, self.doc, self.canvas, self.prefs, self.show_status, lambda: self.model.info
        )
        self.exporter.settle = self.prediction.settle  # exports wait for the contour sensitivity
        self.presenter = DocumentPresenter(
            self.doc,
            PresenterViews(self.canvas, self.measurements, self.result_panel, self.cine, self.toolbox),
            self.prefs, self.setWindowTitle, self.status_message, self._after_change,
        )  # fmt: skip
        self.actions = ActionRegistry(self)
        self.actions_by_name = self.actions.by_name
        self.dicom = DicomController(self)  # File → DICOM: export, PACS send/query/retrieve, receive
        self.menus = build_menus(
            self, self.actions, self.prefs,
            Controllers(self.files, self.exporter, self.edits, self.toolbox, self.prediction),
            ViewParts(self.undo_stack, self.canvas, self.wl_bar, self.cine,
                      (self.side_dock, self.worklist_dock)),
            WindowHooks(self.set_ring_visible, rings, self.help_dialog, self.about_dialog,
                        lambda: self.preferences_dialog().exec(), self._dicom_menu),
        )  # fmt: skip
        self.model_menu = ModelMenu(  # Model → the bundled models, Open model bundle…
            self, self.actions, self.menus["model"], self.prediction, self.model, self.prefs
        )
        self.timepoints = TimePoints(self)  # banner, exam labels, View → Compare side by side
        self.timeline = TimelineWiring(self)  # View → Size over time (the lesion timeline dock)
        self.toolbox.set_tool("polygon")

        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.cine.frame_requested.connect(self.files.set_frame)
        self.files.annotation_restored.connect(self.prediction.reverify_saved_result)
        self.measurements.ring_toggled.connect(self.set_ring_visible)
        for name in rings:
            self.set_ring_visible(name, self.prefs.ring_visible(name))
        self.canvas.scan_item.setVisible(self.prefs.show_scan_outline)
        self.setAcceptDrops(True)
        self.resize(1280, 760)
        self.presenter.refresh_all()
        self.setWindowTitle(window_title(self.doc))

    def _dicom_menu(self, file_menu) -> None:

        # lazy: ui.pacs_browser stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.pacs_browser import add_menu

        add_menu(self, file_menu, self.actions)

    def _build_views(self, rings: list[str]) -> None:
        """Canvas and cine bar in the middle, the side and worklist docks, the status bar's two labels."""
        self.canvas = ImageCanvas(self)
        self.cine = CineBar()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.cine)
        self.setCentralWidget(central)
        self.wl_bar = WindowLevelBar(self.canvas, self)
        self.measurements = MeasurementsPanel(rings)
        self.result_panel = ResultPanel()
        self.side_dock = self._side_dock()
        self.worklist = Worklist(self.store, show_identifiers=lambda: bool(self.prefs.show_identifiers))
        self.worklist_dock = QDockWidget(translate("MainWindow", "Worklist"), self)
        self.worklist_dock.setObjectName("worklist")
        self.worklist_dock.setWidget(self.worklist)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.worklist_dock)
        self.worklist_dock.hide()
        self.cursor_label = QLabel("")
        self.model_label = QLabel(translate("MainWindow", "Model: loading…"))
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # the name comes from the bundle
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.statusBar().addPermanentWidget(self.model_label)

    def _side_dock(self) -> QDockWidget:
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(self.measurements)
        side_lay.addWidget(self.result_panel, 1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        dock = QDockWidget(translate("MainWindow", "Measurements and result"), self)
        dock.setObjectName("side")
        body = QWidget()
        body_lay = QVBoxLayout(body)
        body_lay.setContentsMargins(0, 0, 0, 0)
        body_lay.addWidget(scroll, 1)
        body_lay.addWidget(self.result_panel.notice)  # the research-use notice never scrolls away
        dock.setWidget(body)
        dock.setMinimumWidth(340)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def show_sized(self) -> None:
        """Maximised on a laptop screen (1366x768), a comfortable window on a large monitor."""
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None and (screen.width() < 1500 or screen.height() < 900):
            self.setGeometry(screen)  # also right without a window manager (kiosk, Xvfb)
            self.showMaximized()
        else:
            self.resize(1440, 900)
            self.show()

    # ------------------------------------------------------------------ wiring callbacks
    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def status_message(self, text: str, timeout_ms: int) -> None:
        if text:
            self.statusBar().showMessage(text, timeout_ms)
        else:
            self.statusBar().clearMessage()

    def _after_change(self, kind: str) -> None:
        if kind not in ("saved", "ruler", "rings"):
            self.files.schedule_autosave()
        if kind == "rings":  # a model with other ring radii: the View menu's toggles follow
            names = ring_names(self.doc.ring_radii_mm)
            set_ring_actions(self.actions, self.menus["view"], names, self.prefs, self.set_ring_visible)
            for name in names:
                self.set_ring_visible(name, self.prefs.ring_visible(name))
        if kind == "image":
            self.cursor_label.setText("")  # the previous image's reading does not describe this one
            self.prediction.tell_header()
        if kind in ("image", "review"):
            self.actions["reviewed"].setChecked(self.doc.review.status == "reviewed")
        self.prediction.refresh_button()

    def set_ring_visible(self, name: str, visible: bool) -> None:
        self.canvas.set_ring_visible(name, visible)
        self.prefs.set_ring_visible(name, visible)
        self.measurements.set_ring_checked(name, visible)
        action = self.actions.get(f"show_{name}") if hasattr(self, "actions") else None
        if action is not None and action.isChecked() != visible:
            action.setChecked(visible)

    def _cursor_moved(self, x: float, y: float) -> None:
        image = self.doc.image
        if math.isnan(x) or image is None:
            self.cursor_label.setText("")
            return
        value = int(image.gray[int(y), int(x)])
        text = translate("MainWindow", "x {x}, y {y} px · gray {value}").format(
            x=f"{x:.0f}", y=f"{y:.0f}", value=value
        )
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
            self.files.open_path(urls[0], background=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.prediction.settle(10000)  # a band still computing: the last save holds the complete result
        if not self.files.close_guard():
            event.ignore()
            return
        self.cine.set_playing(False)
        # a prediction, or a model still loading: deleting the pool mid-load deadlocks in Qt's cleanup
        self.model.wait(10000)
        self.prefs.sync()
        self.session.end()
        event.accept()

    # ------------------------------------------------------------------ dialogs
    def help_dialog(self) -> None:

        # lazy: ui stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui import about

        about.help_dialog(
            self,
            self.toolbox.tools.values(),
            self.actions.shortcuts,
            self.result_panel.outcome,
            self.result_panel.ring_radii,
        )

    def about_dialog(self) -> None:

        # lazy: ui stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui import about

        about.about_dialog(self, self.model.info)

    def preferences_dialog(self) -> PreferencesDialog:

        # lazy: ui stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui import about

        in_use = self.model.info.device if self.model.ready else translate("MainWindow", "not loaded")
        names = ring_names(self.doc.ring_radii_mm)
        pacs = PacsFields(self)  # the PACS node: no network use unless configured
        reload = self.prediction.reload_model  # a new device: the model in use, loaded again
        return about.PreferencesDialog(
            self, self.prefs, in_use, names, self.set_ring_visible, reload, sections=[pacs]
        )

    # ------------------------------------------------------------------ public API (entry point, tests)
    @property
    def tools(self) -> dict[str, Tool]:
        return self.toolbox.tools

    @property
    def tool(self) -> Tool | None:
        return self.toolbox.tool

    def set_tool(self, name: str) -> None:
        self.toolbox.set_tool(name)

    def open_path(self, path: str | Path, frame: int | None = None, contour_file: Path | None = None,
                  *, background: bool = False) -> bool:  # fmt: skip
        return self.files.open_path(path, frame, contour_file, background=background)

    def open_demo(self, *, background: bool = False) -> bool:
        return self.files.open_demo(background=background)

    def save_now(self) -> bool:
        return self.files.save_now()

    def start_model(self, bundle: str | Path | None = None) -> None:
        self.prediction.start_model(bundle)

    def predict(self) -> None:
        self.prediction.predict()

    def toggle_reviewed(self) -> None:
        self.edits.toggle_reviewed()

    def clear_contour(self) -> None:
        self.edits.clear()

    def smooth_contour(self) -> None:
        self.edits.smooth()

    def snap_contour(self) -> None:
        self.edits.snap()

    def export_pdf(self, path: str | None = None, options=None) -> Path | None:
        return self.exporter.pdf(path, options)

    def load_contour_file(self, path: Path) -> None:
        self.files.load_contour_file(path)

    def write_report(self, path: str | Path) -> Path:
        return self.exporter.write_report(path)

    def export_masks(self, folder: str | None = None) -> list[Path]:
        return self.exporter.masks(folder)

    def export_annotation(self, path: str | None = None) -> Path | None:
        return self.exporter.annotation(path)
