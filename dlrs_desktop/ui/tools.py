"""Interaction modes as small handlers (napari's mode → handler table); drag tools in tools_drag.py.

Each tool turns mouse/keyboard input in image-pixel coordinates into document edits pushed on the undo
stack, one command per gesture (a whole drag is one undo step). Geometry such as smoothing, vertex
insertion and simplification is done by `roi.Contour`; hit-testing here is screen-distance only.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QUndoStack

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.commands import SetContour

translate = QCoreApplication.translate

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
    label = QT_TRANSLATE_NOOP("tools", "None")
    shortcut = ""
    tip = ""

    def __init__(self, host: Host) -> None:
        self.host = host

    @property
    def title(self) -> str:
        """`label` in the interface language (menus, toolbar, help)."""
        return translate("tools", self.label)

    @property
    def hint(self) -> str:
        """`tip` in the interface language."""
        return translate("tools", self.tip) if self.tip else ""

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

    def uses_right_button(self, pos: np.ndarray) -> bool:
        """True where this tool acts on a right press; elsewhere right-drag is window/level."""
        return False

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
            dialogs.error(self.host.dialog_parent(), i18n.core_text(exc))
            return
        self.host.undo_stack.push(SetContour(doc, doc.contour, new, text))


class PanTool(Tool):
    name, label, shortcut, tip = (
        "pan",
        QT_TRANSLATE_NOOP("tools", "Pan"),
        "H",
        QT_TRANSLATE_NOOP("tools", "Drag to move the image (middle button works in every tool)"),
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
    name, label, shortcut = "polygon", QT_TRANSLATE_NOOP("tools", "Polygon"), "P"
    tip = QT_TRANSLATE_NOOP(
        "tools", "Click the vertices; double-click or Enter closes; Backspace removes the last; Esc cancels"
    )

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
            self.host.show_status(translate("tools", "A contour needs at least 3 points."))
            return
        self.commit_points(pts, translate("commands", "Draw polygon"))


class FreehandTool(_PointsTool):
    name, label, shortcut = "freehand", QT_TRANSLATE_NOOP("tools", "Freehand"), "F"
    tip = QT_TRANSLATE_NOOP("tools", "Drag around the tumour; release closes the contour")

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
        self.commit_points(np.asarray(contour.points), translate("commands", "Draw freehand"))


class EditTool(Tool):
    name, label, shortcut = "edit", QT_TRANSLATE_NOOP("tools", "Edit"), "E"
    tip = QT_TRANSLATE_NOOP(
        "tools",
        "Drag a vertex; drag an edge to insert one; right-click, Shift+click or Delete removes a vertex",
    )

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

    def uses_right_button(self, pos: np.ndarray) -> bool:
        """Right-click on a vertex deletes it; elsewhere right-drag adjusts window/level."""
        c = self.host.doc.contour
        if c is None:
            return False
        tol = self.host.canvas.screen_tolerance(8)
        return nearest_vertex(np.asarray(c.points, float), pos, tol) is not None

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
            self.drag_index, self.text = i, translate("commands", "Move vertex")
            return
        hit = nearest_edge(pts, pos, tol)
        if hit is not None:
            edge, foot = hit
            doc.set_contour(doc.contour.insert_vertex(edge + 1, foot))
            self.drag_index, self.text = edge + 1, translate("commands", "Insert vertex")

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
            self.host.show_status(
                translate("tools", "A contour needs at least 3 vertices; use Clear to remove it.")
            )
            return
        self.host.undo_stack.push(
            SetContour(doc, doc.contour, doc.contour.delete_vertex(i), translate("commands", "Delete vertex"))
        )


DRAWING_TOOLS: tuple[type[Tool], ...] = (PanTool, PolygonTool, FreehandTool, EditTool)
