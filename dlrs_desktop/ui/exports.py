"""File → Export: the PDF report, ROI masks as PNG, the annotation JSON.

A component with explicit dependencies (the document, the canvas it renders, preferences, a status
callback and the loaded model's info); it knows nothing of the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QWidget

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.fileio import atomic_write_bytes, atomic_write_json
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.qtdraw import array_to_qimage, png_bytes
from dlrs_desktop.ui.settings import Preferences

translate = QCoreApplication.translate
STILL_COMPUTING = QT_TRANSLATE_NOOP(
    "exports", "The contour sensitivity of this result is still being computed; export again in a moment."
)

if TYPE_CHECKING:
    from dlrs_desktop.ui.report import ReportOptions
    from dlrs_desktop.ui.worker import ModelInfo


def render_view(canvas: ImageCanvas, max_side: int = 1400) -> QImage:
    """The image with contour and rings as on screen (no tool previews, rulers or cursors)."""
    rect = canvas.image_rect()
    scale = min(1.0, max_side / max(rect.width(), rect.height(), 1))
    out = QImage(int(rect.width() * scale), int(rect.height() * scale), QImage.Format.Format_RGB32)
    out.fill(QColor(0, 0, 0))
    hidden = [canvas.tool_item, canvas.measure_item, canvas.measure_text, canvas.handles_item]
    states = [i.isVisible() for i in hidden]
    for i in hidden:
        i.setVisible(False)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    canvas.scene().render(p, QRectF(out.rect()), rect)
    p.end()
    for i, s in zip(hidden, states, strict=True):
        i.setVisible(s)
    return out


class Exporter:
    def __init__(
        self,
        parent: QWidget,
        doc: Document,
        canvas: ImageCanvas,
        prefs: Preferences,
        status: Callable[[str], None],
        model_info: Callable[[], ModelInfo],
    ) -> None:
        self.parent, self.doc, self.canvas, self.prefs = parent, doc, canvas, prefs
        self.status, self.model_info = status, model_info
        # The patient's exams for the report's timeline table (ui/timeline_wiring.py sets it).
        self.timeline: Callable[[], tuple[Any, ...]] = tuple
        # Waits for a contour sensitivity still computing (PredictionController.settle): an export
        # carries the complete result; False if it did not come in time.
        self.settle: Callable[[], bool] = lambda: True

    def _complete(self) -> bool:
        """The result is complete (or there is none); else the user is told to export again."""
        if self.settle():
            return True
        dialogs.error(self.parent, translate("exports", STILL_COMPUTING))
        return False

    def _cannot_write(self, message: str, exc: OSError) -> None:
        """One error dialog: what could not be written (`message` with {error}) and the system's reason."""
        dialogs.error(self.parent, message.format(error=exc.strerror or exc))

    def _ask_path(self, title: str, name: str, flt: str) -> str | None:
        start = str(Path(self.prefs.export_folder or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self.parent, title, start, flt)
        if path:
            self.prefs.export_folder = str(Path(path).parent)
        return path or None

    def default_name(self, options: ReportOptions | None = None) -> str:
        """The hash, or the patient ID and exam date when the user chose to include identifiers."""
        # lazy: ui.report stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.report import identified_name

        base = self.doc.base_image
        if options is not None and options.include_identifiers:
            named = identified_name(options.identifiers)
            if named:
                return named
        return f"dlrs-{base.sha256[:12]}" if base is not None else "dlrs"

    def identifier_defaults(self) -> dict[str, str]:

        # lazy: ui.report stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.report import dicom_identifiers

        ids = dicom_identifiers(self.doc.path)
        if not ids.get("operator") and self.prefs.reviewer:
            ids["operator"] = self.prefs.reviewer
        return ids

    def pdf(self, path: str | None = None, options: ReportOptions | None = None) -> Path | None:
        # lazy: ui.report stays off the window's start-up (importtime of ui.mainwindow)
        # lazy: ui.report_dialog stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.report import write_pdf
        from dlrs_desktop.ui.report_dialog import ask_report_options

        if self.doc.image is None:
            dialogs.error(self.parent, translate("exports", "Open an image before exporting a report."))
            return None
        if not self._complete():
            return None

        if options is None:
            options = ask_report_options(self.parent, self.identifier_defaults())
            if options is None:
                return None
        options = replace(
            options, cam_region=self.canvas.cam_region, institution=str(self.prefs.institution),
            reviewer=str(self.prefs.reviewer), timeline=self.timeline(),
        )  # fmt: skip
        path = path or self._ask_path(
            translate("exports", "Export PDF report"),
            self.default_name(options) + ".pdf",
            translate("exports", "PDF (*.pdf)"),
        )
        if not path:
            return None
        try:
            out = write_pdf(path, self.doc, render_view(self.canvas), options, self.model_info())
        except (DlrsError, OSError) as exc:
            dialogs.error(
                self.parent,
                translate("exports", "The report could not be written: {error}").format(error=exc),
            )
            return None
        said = (
            translate("exports", "Report written (with patient identifiers): {path}")
            if options.include_identifiers
            else translate("exports", "Report written (without patient identifiers): {path}")
        )
        self.status(said.format(path=out))
        return out

    def write_report(self, path: str | Path, options: ReportOptions | None = None) -> Path:
        """The PDF without dialogs (DICOM export embeds it); identifiers only if `options` ask for them."""
        # lazy: ui.report stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.report import ReportOptions, write_pdf

        if not self.settle():
            raise DlrsError(translate("exports", STILL_COMPUTING))
        options = replace(
            options or ReportOptions(), cam_region=self.canvas.cam_region, timeline=self.timeline()
        )
        return write_pdf(path, self.doc, render_view(self.canvas), options, self.model_info())

    def masks(self, folder: str | None = None) -> list[Path]:
        doc = self.doc
        rois, err = doc.rois(translate)
        if rois is None or doc.image is None:
            dialogs.error(
                self.parent, err or translate("exports", "Draw a contour on a calibrated image first.")
            )
            return []
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self.parent, translate("exports", "Export masks to folder"), self.prefs.export_folder
            )
            if not folder:
                return []
        out: list[Path] = []
        stem = self.default_name()
        shape = doc.image.shape
        masks = [("intratumoral", rois.tumour.full("expanded", shape))]
        masks += [(ring.name, ring.full("annulus", shape)) for ring in rois.rings]
        try:
            for name, mask in masks:
                img = array_to_qimage((np.asarray(mask, dtype=bool) * np.uint8(255)).astype(np.uint8))
                out.append(atomic_write_bytes(Path(folder) / f"{stem}_{name}.png", png_bytes(img)))
        except OSError as exc:
            self._cannot_write(translate("exports", "The masks could not be written: {error}"), exc)
            return out
        self.status(
            translate("exports", "{count} masks written to {folder}").format(count=len(out), folder=folder)
        )
        return out

    def annotation(self, path: str | None = None) -> Path | None:
        if self.doc.base_image is None:
            dialogs.error(self.parent, translate("exports", "Open an image first."))
            return None
        if not self._complete():
            return None
        path = path or self._ask_path(
            translate("exports", "Export annotation"),
            self.default_name() + ".json",
            translate("exports", "JSON (*.json)"),
        )
        if not path:
            return None
        try:
            out = atomic_write_json(path, self.doc.to_annotation().to_dict())
        except OSError as exc:
            self._cannot_write(translate("exports", "The annotation could not be written: {error}"), exc)
            return None
        self.status(translate("exports", "Annotation written: {path}").format(path=out))
        return out
