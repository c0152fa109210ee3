"""Interaction modes as small handlers (napari's mode → handler table).

Each tool turns mouse/keyboard input in image-pixel coordinates into document edits pushed on the undo
stack, one command per gesture (a whole drag is one undo step). Geometry such as smoothing, vertex
insertion and simplification is done by `roi.Contour`; hit-testing here is screen-distance only.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent, QMouseEvent, QUndoStack

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.commands import SetCalibration, SetContour

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from dlrs_desktop.ui.canvas import ImageCanvas
    from dlrs_desktop.ui.document import Document


class Host(Protocol):
    canvas: ImageCanvas
    doc: Document
    undo_stack: QUndoStack

    def dialog_parent(self) -> QWidget: ...
    def show_status(self, text: str) -> None: ...


def nearest_vertex(points: np.ndarray, pos: np.ndarray, tol: float) -> int | None:
    if len(points) == 0:
        return None
    d = np.hypot(points[:, 0] - pos[0], points[:, 1] - pos[1])
    i = int(np.argmin(d))
    return i if d[i] <= tol else None


def nearest_edge(points: np.ndarray, pos: np.ndarray, tol: float) -> tuple[int, np.ndarray] | None:
    """Index i such that the closest closed-polygon edge is (i, i+1), and the foot point on it."""
    n = len(points)
    if n < 2:
        return None
    a = points
    b = np.roll(points, -1, axis=0)
    ab = b - a
    denom = np.maximum((ab**2).sum(axis=1), 1e-12)
    t = np.clip(((pos - a) * ab).sum(axis=1) / denom, 0.0, 1.0)
    foot = a + ab * t[:, None]
    d = np.hypot(*(foot - pos).T)
    i = int(np.argmin(d))
    return (i, foot[i]) if d[i] <= tol else None


class Tool:
    name = "none"
    label = "None"
    shortcut = ""
    tip = ""

    def __init__(self, host: Host) -> None:
        self.host = host

    def activate(self) -> None:
        self.host.canvas.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def deactivate(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.host.canvas.set_tool_preview(None)

    @property
    def busy(self) -> bool:
        """True while a gesture is half done (unsaved input the user would lose)."""
        return False

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def move(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def release(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def double_click(self, pos: np.ndarray, event: QMouseEvent) -> None: ...

    def key(self, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key.Key_Escape and self.busy:
            self.cancel()
            return True
        return False

    def commit_points(self, points: np.ndarray, text: str) -> None:
        doc = self.host.doc
        try:
            new = doc.make_contour(points) if len(points) else None
        except DlrsError as exc:
            dialogs.error(self.host.dialog_parent(), str(exc))
            return
        self.host.undo_stack.push(SetContour(doc, doc.contour, new, text))


class PanTool(Tool):
    name, label, shortcut, tip = (
        "pan",
        "Pan",
        "H",
        "Drag to move the image (middle button works in every tool)",
    )

    def activate(self) -> None:
        self.host.canvas.viewport().setCursor(Qt.CursorShape.OpenHandCursor)


class _PointsTool(Tool):
    """Collects points of a contour being drawn (polygon, freehand) until it is committed."""

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.points: list[np.ndarray] = []

    @property
    def busy(self) -> bool:
        return bool(self.points)

    def cancel(self) -> None:
        self.points = []
        super().cancel()


class PolygonTool(_PointsTool):
    name, label, shortcut = "polygon", "Polygon", "P"
    tip = "Click the vertices; double-click or Enter closes; Backspace removes the last; Esc cancels"

    def _preview(self, cursor: np.ndarray | None = None) -> None:
        pts = list(self.points) + ([cursor] if cursor is not None and self.points else [])
        self.host.canvas.set_tool_preview(np.array(pts) if pts else None)

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        tol = self.host.canvas.screen_tolerance(6)
        if len(self.points) >= 3 and np.hypot(*(pos - self.points[0])) <= tol:
            self.finish()  # clicking the first vertex closes, as in most tools
            return
        if not self.points or np.hypot(*(pos - self.points[-1])) > 0.5:
            self.points.append(pos.copy())
        self._preview(pos)

    def move(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.points:
            self._preview(pos)

    def double_click(self, pos: np.ndarray, event: QMouseEvent) -> None:
        self.finish()

    def key(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            self.finish()
            return True
        if event.key() == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._preview()
            return True
        return super().key(event)

    def finish(self) -> None:
        pts = np.array(self.points)
        self.cancel()
        if len(pts) < 3:
            self.host.show_status("A contour needs at least 3 points.")
            return
        self.commit_points(pts, "Draw polygon")


class FreehandTool(_PointsTool):
    name, label, shortcut = "freehand", "Freehand", "F"
    tip = "Drag around the tumour; release closes the contour"

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.points = [pos.copy()]

    def move(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.points and np.hypot(*(pos - self.points[-1])) >= self.host.canvas.screen_tolerance(2):
            self.points.append(pos.copy())
            self.host.canvas.set_tool_preview(np.array(self.points))

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        pts = np.array(self.points)
        self.cancel()
        if len(pts) < 3:
            return
        contour = self.host.doc.make_contour(pts)
        with contextlib.suppress(DlrsError):  # thin out the mouse trail; keep it raw if that fails
            contour = contour.simplified(0.5)
        self.commit_points(np.asarray(contour.points), "Draw freehand")


class EditTool(Tool):
    name, label, shortcut = "edit", "Edit", "E"
    tip = "Drag a vertex; drag an edge to insert one; right-click, Shift+click or Delete removes a vertex"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.drag_index: int | None = None
        self.before = None
        self.text = ""
        self.hover: np.ndarray | None = None

    def activate(self) -> None:
        self.host.canvas.viewport().setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def busy(self) -> bool:
        return self.drag_index is not None

    def cancel(self) -> None:
        if self.drag_index is not None and self.before is not None:
            self.host.doc.set_contour(self.before)
        self.drag_index, self.before = None, None
        super().cancel()

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        doc = self.host.doc
        if doc.contour is None:
            return
        pts = np.asarray(doc.contour.points, dtype=float)
        tol = self.host.canvas.screen_tolerance(8)
        i = nearest_vertex(pts, pos, tol)
        delete = event.button() == Qt.MouseButton.RightButton or (
            event.button() == Qt.MouseButton.LeftButton
            and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        )
        if delete:
            if i is not None:
                self.delete_vertex(i)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.before = doc.contour
        if i is not None:
            self.drag_index, self.text = i, "Move vertex"
            return
        hit = nearest_edge(pts, pos, tol)
        if hit is not None:
            edge, foot = hit
            doc.set_contour(doc.contour.insert_vertex(edge + 1, foot))
            self.drag_index, self.text = edge + 1, "Insert vertex"

    def move(self, pos: np.ndarray, event: QMouseEvent) -> None:
        self.hover = pos
        if self.drag_index is None or self.host.doc.contour is None:
            return
        doc = self.host.doc
        moved = doc.contour.move_vertex(self.drag_index, pos)
        doc.set_contour(doc.make_contour(np.asarray(moved.points)))

    def key(self, event: QKeyEvent) -> bool:
        """Delete/Backspace removes the vertex under the cursor."""
        doc = self.host.doc
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and doc.contour is not None:
            tol = self.host.canvas.screen_tolerance(8)
            i = (
                None
                if self.hover is None
                else nearest_vertex(np.asarray(doc.contour.points), self.hover, tol)
            )
            if i is not None:
                self.delete_vertex(i)
                return True
        return super().key(event)

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.drag_index is None:
            return
        doc = self.host.doc
        after = doc.contour
        before = self.before
        self.drag_index, self.before = None, None
        if after is not None and before is not None and after.content_hash() == before.content_hash():
            return
        self.host.undo_stack.push(SetContour(doc, before, after, self.text))

    def delete_vertex(self, i: int) -> None:
        doc = self.host.doc
        if doc.contour is None or len(doc.contour.points) <= 3:
            self.host.show_status("A contour needs at least 3 vertices; use Clear to remove it.")
            return
        self.host.undo_stack.push(SetContour(doc, doc.contour, doc.contour.delete_vertex(i), "Delete vertex"))


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
    name, label, shortcut, tip = "ruler", "Ruler", "R", "Drag to measure a distance in millimetres"

    def describe(self, p0: np.ndarray, p1: np.ndarray) -> str:
        cal = self.host.doc.image.calibration_for(np.array([p0, p1])) if self.host.doc.image else None
        if cal is None:
            return f"{math.hypot(*(p1 - p0)):.1f} px (not calibrated)"
        dx, dy = (p1 - p0) * (cal.mm_per_px_x, cal.mm_per_px_y)
        return f"{math.hypot(dx, dy):.1f} mm"

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.p0 is not None:
            self.show_line(self.p0, pos)  # stays on screen until the next measurement
            self.host.show_status(f"Distance: {self.describe(self.p0, pos)}")
        self.p0 = None


class CalibrateTool(_LineTool):
    name, label, shortcut = "calibrate", "Calibrate", "K"
    tip = "Drag a line along the depth ruler, then type its length in mm"

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.p0 is None:
            return
        p0, p1 = self.p0, pos.copy()
        self.p0 = None
        self.calibrate(p0, p1)
        self.host.canvas.set_measure(None)

    def calibrate(self, p0: np.ndarray, p1: np.ndarray, mm: float | None = None) -> bool:
        from dlrs_desktop.imaging import Calibration

        doc = self.host.doc
        if mm is None:
            mm = dialogs.ask_float(
                self.host.dialog_parent(),
                f"The line is {math.hypot(*(p1 - p0)):.1f} px long. How many millimetres is it?",
                10.0,
                0.01,
                1000.0,
                title="Manual calibration",
            )
            if mm is None:
                return False
        try:
            cal = Calibration.from_two_points(tuple(p0), tuple(p1), float(mm))
        except DlrsError as exc:
            dialogs.error(self.host.dialog_parent(), str(exc), "Manual calibration")
            return False
        self.host.undo_stack.push(SetCalibration(doc, doc.manual_calibration, cal, "Manual calibration"))
        self.host.show_status(f"Calibrated: {cal.label()}")
        return True


class BrushTool(Tool):
    """Touch-up painting: the stroke is added to (or, with Shift/right button, cut from) the tumour mask.

    The mask ↔ contour conversions are the core's (`Contour.to_mask`, `Contour.from_mask`, which keeps
    the largest piece and fills holes); the whole stroke is one undo step.
    """

    name, label, shortcut = "brush", "Brush", "B"
    tip = "Drag to paint the tumour (2 mm brush); Shift+drag or right-drag erases"
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
        self.host.undo_stack.push(SetContour(doc, before, after, "Erase" if self.erase else "Brush"))


TOOLS: tuple[type[Tool], ...] = (
    PanTool, PolygonTool, FreehandTool, EditTool, BrushTool, RulerTool, CalibrateTool,
)  # fmt: skip
