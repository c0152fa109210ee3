"""Drag tools: ruler, calibration line, brush (and the DragTool base the assist box uses).

The ruler's line belongs to the image it was drawn on: it lives in the Document, which forgets it when
another image opens, and the Document words the distance (mm and px, or "not calibrated").
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer
from PySide6.QtGui import QMouseEvent

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.imaging import Calibration
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.commands import SetCalibration, SetContour
from dlrs_desktop.ui.tools import Host, Tool

translate = QCoreApplication.translate


class DragTool(Tool):
    """Press-drag-release from a start point `p0` (ruler, calibration line, assist box)."""

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.p0: np.ndarray | None = None

    @property
    def busy(self) -> bool:
        return self.p0 is not None

    def cancel(self) -> None:
        self.p0 = None
        super().cancel()

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.p0 = pos.copy()


class _LineTool(DragTool):
    """Shared by the ruler and the calibration line: press-drag-release a segment."""

    def move(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.p0 is not None:
            self.show_line(self.p0, pos)

    def show_line(self, p0: np.ndarray, p1: np.ndarray) -> None:
        self.host.canvas.set_measure(p0, p1, self.describe(p0, p1))

    def describe(self, p0: np.ndarray, p1: np.ndarray) -> str:
        return f"{math.hypot(*(p1 - p0)):.1f} px"


class RulerTool(_LineTool):
    name, label, shortcut, tip = (
        "ruler", QT_TRANSLATE_NOOP("tools", "Ruler"), "R",
        QT_TRANSLATE_NOOP("tools", "Drag to measure a distance in millimetres"),
    )  # fmt: skip

    def describe(self, p0: np.ndarray, p1: np.ndarray) -> str:
        return self.host.doc.ruler_text(p0, p1, translate)

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        p0, self.p0 = self.p0, None
        if p0 is None:
            return
        if math.hypot(*(pos - p0)) < self.host.canvas.screen_tolerance(3):
            self.host.doc.set_ruler(None)
            self.host.show_status(
                translate(
                    "tools", "Ruler: drag from one point to the other (a click alone measures nothing)."
                )
            )
            return
        self.host.doc.set_ruler((p0.copy(), pos.copy()))  # stays with this image until the next one
        self.host.show_status(
            translate("tools", "Distance: {distance}").format(distance=self.describe(p0, pos))
        )


class CalibrateTool(_LineTool):
    name, label, shortcut = "calibrate", QT_TRANSLATE_NOOP("tools", "Calibrate"), "K"
    tip = QT_TRANSLATE_NOOP("tools", "Drag a line along the depth ruler, then type its length in mm")

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.p0 is None:
            return
        p0, p1 = self.p0, pos.copy()
        self.p0 = None
        self.calibrate(p0, p1)
        self.host.canvas.set_measure(None)

    def calibrate(self, p0: np.ndarray, p1: np.ndarray, mm: float | None = None) -> bool:

        doc = self.host.doc
        if mm is None:
            mm = dialogs.ask_float(
                self.host.dialog_parent(),
                translate("tools", "The line is {length} px long. How many millimetres is it?").format(
                    length=f"{math.hypot(*(p1 - p0)):.1f}"
                ),
                10.0,
                0.01,
                1000.0,
                title=translate("tools", "Manual calibration"),
            )
            if mm is None:
                return False
        try:
            cal = Calibration.from_two_points(tuple(p0), tuple(p1), float(mm))
        except DlrsError as exc:
            dialogs.error(
                self.host.dialog_parent(), i18n.core_text(exc), translate("tools", "Manual calibration")
            )
            return False
        self.host.undo_stack.push(
            SetCalibration(doc, doc.manual_calibration, cal, translate("commands", "Manual calibration"))
        )
        self.host.show_status(
            translate("tools", "Calibrated: {calibration}").format(calibration=cal.label(translate))
        )
        return True


class BrushTool(Tool):
    """Touch-up painting: the stroke is added to (or, with Shift/right button, cut from) the tumour mask.

    The mask ↔ contour conversions are the core's (`Contour.to_mask`, `Contour.from_mask`, which keeps
    the largest piece and fills holes); the whole stroke is one undo step.
    """

    name, label, shortcut = "brush", QT_TRANSLATE_NOOP("tools", "Brush"), "B"
    tip = QT_TRANSLATE_NOOP("tools", "Drag to paint the tumour (2 mm brush); Shift+drag or right-drag erases")
    radius_mm = 1.0

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.mask: np.ndarray | None = None
        self.erase = False
        self.before = None
        self.pending = False

    @property
    def busy(self) -> bool:
        return self.mask is not None

    def uses_right_button(self, pos: np.ndarray) -> bool:
        return True  # right-drag erases

    def cancel(self) -> None:
        if self.mask is not None and self.before is not None:
            self.host.doc.set_contour(self.before)
        self.mask, self.before = None, None
        super().cancel()

    def _radius_px(self, pos: np.ndarray) -> tuple[float, float]:
        image = self.host.doc.image
        cal = image.calibration_for(pos[None]) if image is not None else None
        if cal is None:
            return 8.0, 8.0
        return self.radius_mm / cal.mm_per_px_x, self.radius_mm / cal.mm_per_px_y

    def _dab(self, pos: np.ndarray) -> None:
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi import Contour

        doc = self.host.doc
        rx, ry = self._radius_px(pos)
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        disk = Contour(np.c_[pos[0] + rx * np.cos(t), pos[1] + ry * np.sin(t)]).to_mask(doc.image.shape)
        if self.erase:
            self.mask &= ~disk
        else:
            self.mask |= disk
        if not self.pending:  # coalesce: the outline is rebuilt once per event-loop turn, not per move
            self.pending = True
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi import Contour

        self.pending = False
        doc = self.host.doc
        if self.mask is None:
            return
        if not self.mask.any():
            doc.set_contour(None)
            return
        try:
            shape = Contour.from_mask(self.mask)
        except DlrsError:
            return
        doc.set_contour(doc.make_contour(np.asarray(shape.points)))

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        doc = self.host.doc
        if doc.image is None or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self.erase = event.button() == Qt.MouseButton.RightButton or bool(
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        )
        if self.erase and doc.contour is None:
            return
        self.before = doc.contour
        self.mask = (
            doc.contour.to_mask(doc.image.shape)
            if doc.contour is not None
            else np.zeros(doc.image.shape, bool)
        )
        self._dab(pos)

    def move(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.mask is not None:
            self._dab(pos)

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.mask is None:
            return
        doc = self.host.doc
        self._flush()
        self.mask = None
        after = doc.contour
        if after is not None:
            with contextlib.suppress(DlrsError):  # pixel staircase → a lighter polygon
                after = doc.make_contour(np.asarray(after.simplified(0.7).points))
        before, self.before = self.before, None
        self.host.undo_stack.push(
            SetContour(
                doc,
                before,
                after,
                translate("commands", "Erase") if self.erase else translate("commands", "Brush"),
            )
        )


TOOLS: tuple[type[Tool], ...] = (BrushTool, RulerTool, CalibrateTool)  # after the drawing tools
