"""Document → views: the one place that turns Document events into what the widgets show.

The Document (Qt-free) is the single source of truth; this presenter only reads it. Explicit
dependencies; it never writes to the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.regions import ring_names
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.editing import ToolBox
from dlrs_desktop.ui.measurements import MeasurementsPanel
from dlrs_desktop.ui.result_panel import ResultPanel
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.viewbar import CineBar

translate = QCoreApplication.translate

APP_TITLE = QT_TRANSLATE_NOOP("presenter", "DLRS Desktop — research use")


def window_title(doc: Document) -> str:
    app_title = translate("presenter", APP_TITLE)
    if doc.image is None:
        return app_title
    name = doc.path.name if doc.path else translate("presenter", "unsaved image")
    return f"{name}{'*' if doc.dirty else ''} — {app_title}"


class PresenterViews(NamedTuple):
    """The views the presenter draws the Document into (it reads the Document, never writes it)."""

    canvas: ImageCanvas
    measurements: MeasurementsPanel
    result_panel: ResultPanel
    cine: CineBar
    toolbox: ToolBox


class DocumentPresenter:
    def __init__(
        self,
        doc: Document,
        views: PresenterViews,
        prefs: Preferences,
        set_title: Callable[[str], None],
        status: Callable[[str, int], None],
        after_change: Callable[[str], None],
    ) -> None:
        self.doc, self.prefs = doc, prefs
        self.canvas, self.measurements, self.result_panel, self.cine, self.toolbox = views
        toolbox = views.toolbox
        self.set_title, self.status, self.after_change = set_title, status, after_change
        doc.events.connect(self.on_event)
        toolbox.tool_changed.connect(lambda _name: self.refresh_overlay())

    def ring_names(self) -> list[str]:
        return ring_names(self.doc.ring_radii_mm)

    def on_event(self, kind: str) -> None:
        if kind == "image":
            self.refresh_all()
        elif kind == "rings":
            self.measurements.set_ring_names(
                self.ring_names(), {n: self.prefs.ring_visible(n) for n in self.ring_names()}
            )
            self.refresh_overlay()
            self.refresh_measurements()
        elif kind == "ruler":
            self.refresh_ruler()
        if kind in ("contour", "calibration", "frame"):
            if kind == "frame":
                self.canvas.set_image(self.doc.image.display if self.doc.image else None, refit=False)
                self.cine.set_frames(
                    self.doc.frame, self.doc.base_image.frame_count if self.doc.base_image else 1
                )
            self.refresh_overlay()
            self.refresh_measurements()
            self.refresh_ruler()
        if kind in ("contour", "calibration", "frame", "result", "model"):
            self.refresh_result()
        if kind == "review":
            self.refresh_review()
        self.set_title(window_title(self.doc))
        self.after_change(kind)

    def refresh_all(self) -> None:
        image = self.doc.image
        self.canvas.set_image(None if image is None else image.display)
        self.canvas.set_cam(None)
        self.cine.set_frames(self.doc.frame, image.frame_count if image is not None else 0)
        self.canvas.set_scan_outline(self._scan_outlines())
        self.refresh_overlay()
        self.refresh_measurements()
        self.refresh_result()
        self.refresh_review()
        self.refresh_ruler()
        self.set_title(window_title(self.doc))

    def _scan_outlines(self) -> list[np.ndarray]:
        image = self.doc.image
        if image is None:
            return []
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi import Contour

        try:
            return [np.asarray(Contour.from_mask(image.scan_mask).points)]
        except (DlrsError, ValueError):
            return []

    def refresh_overlay(self) -> None:
        c = self.doc.contour
        tool = self.toolbox.tool
        editing = tool is not None and tool.name == "edit"
        self.canvas.set_contour(None if c is None else np.asarray(c.points), handles=editing)
        rois, _err = self.doc.rois()
        outlines = {name: [] for name in self.ring_names()}
        if rois is not None:
            for ring in rois.rings:
                outlines[ring.name] = ring.outlines
        self.canvas.set_rings(outlines)

    def refresh_ruler(self) -> None:
        line = self.doc.ruler
        if line is None or self.doc.image is None:
            self.canvas.set_measure(None)
        else:
            self.canvas.set_measure(line[0], line[1], self.doc.ruler_text(*line, translate))

    def refresh_measurements(self) -> None:
        doc = self.doc
        cal = doc.calibration
        if doc.image is None:
            self.measurements.set_badge(translate("presenter", "No image"), False)
        elif cal is None and (doc.image.calibration is not None or doc.image.regions):
            self.measurements.set_badge(
                translate("presenter", "Contour outside the calibrated ultrasound region"), False
            )
        elif cal is None:
            self.measurements.set_badge(
                translate("presenter", "Not calibrated — use the Calibrate tool (K)"), False
            )
        else:
            self.measurements.set_badge(cal.label(translate), True)
        c = doc.contour
        m = None
        if c is not None and cal is not None and len(c.points) >= 3:
            try:
                m = c.measurements()
            except DlrsError:
                m = None
        self.measurements.show_measurements(m)
        rois, err = doc.rois(translate)
        rings = {r.name: r for r in rois.rings} if rois is not None else None
        self.measurements.show_rings(rings, doc.contour_problem(translate) or err)

    def refresh_result(self) -> None:
        doc = self.doc
        stale = doc.result_is_stale
        verified, model_changed = doc.result_state != "unverified", doc.result_model_changed
        self.result_panel.show_result(
            doc.result, stale, verified=verified, model_changed=model_changed,
            computing=doc.sensitivity_computing and not stale,
        )  # fmt: skip
        pred = doc.prediction
        cams = (getattr(pred, "cams", None) or ()) if pred is not None and not stale else ()
        self.result_panel.set_cam_regions([c.name for c in cams])
        if stale or not cams:
            self.canvas.set_cam(None)

    def refresh_review(self) -> None:
        # lazy: ui.report stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.report import local_time

        r = self.doc.review

        self.result_panel.review.set_review(r.status, r.reviewer, local_time(r.time))
        if r.status == "reviewed":
            self.status(
                translate("presenter", "Reviewed by {reviewer} at {time}").format(
                    reviewer=r.reviewer or translate("presenter", "unknown"), time=local_time(r.time)
                ),
                6000,
            )
