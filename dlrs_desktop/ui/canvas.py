"""The image canvas: a QGraphicsView with zoom at the cursor, pan, window/level and overlay layers.

Lighter than pyqtgraph at start-up (that import alone costs ~0.7 s). Mouse input goes to the active
input handler (a tool, see tools.py) in image-pixel coordinates; the canvas itself only shows things.
Right-drag changes window/level unless the tool wants the right button there (Edit on a vertex, Brush).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
)

from dlrs_desktop.ui.qtdraw import LabelItem, array_to_qimage, cosmetic_pen, cross_marks, polyline_path
from dlrs_desktop.ui.style import (
    CONTOUR_COLOR,
    EXCLUDE_COLOR,
    INCLUDE_COLOR,
    MEASURE_COLOR,
    SCAN_COLOR,
    TOOL_COLOR,
    ring_color,
)

translate = QCoreApplication.translate

FULL_WINDOW_LEVEL = (256.0, 128.0)  # the 8-bit display as stored: no contrast change
WL_DRAG_GAIN = 1.0  # window/level units per screen pixel of right-drag
EMPTY_HINT = QT_TRANSLATE_NOOP(
    "canvas",
    "No image open.\n\nOpen an image: Ctrl+O · a folder as worklist: Ctrl+Shift+O\n"
    "or drop a file here · File → Open demo case",
)


class InputHandler(Protocol):
    """What the canvas needs from a tool (tools.Tool satisfies it)."""

    name: str

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def move(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def release(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def double_click(self, pos: np.ndarray, event: QMouseEvent) -> None: ...
    def key(self, event: QKeyEvent) -> bool: ...
    def uses_right_button(self, pos: np.ndarray) -> bool: ...


class ImageCanvas(QGraphicsView):
    """Shows one image and its overlays; forwards mouse/keys to the current input handler."""

    cursor_moved = Signal(float, float)  # image px (x, y); NaN when outside the image
    zoom_changed = Signal(float)
    window_level_changed = Signal(float, float)  # window, level (display only)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(16, 16, 16)))
        # Zoom anchoring is done explicitly in zoom_at (Qt's AnchorUnderMouse needs every mouse move to
        # reach QGraphicsView, which the tools intercept).
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tool: InputHandler | None = None
        self.hint_text = translate("canvas", EMPTY_HINT)
        self.cam_region = ""  # the region whose explanation map is shown, "" when none
        self._display: np.ndarray | None = None
        self._window_level: tuple[float, float] | None = None
        self._panning: QPointF | None = None
        self._wl_drag: tuple[QPointF, float, float] | None = None
        self._fit_pending = True

        scene = self.scene()
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        scene.addItem(self.image_item)
        self.cam_item = QGraphicsPixmapItem()
        self.cam_item.setZValue(1)
        self.cam_item.setOpacity(1.0)  # the colouring carries its own alpha (model.reading.cam_rgba)
        scene.addItem(self.cam_item)
        self.scan_item = self._path_item(cosmetic_pen(SCAN_COLOR, 1.0, Qt.PenStyle.DashLine), 2)
        self.ring_items: dict[str, QGraphicsPathItem] = {}
        self._ring_hidden: set[str] = set()
        self.contour_item = self._path_item(cosmetic_pen(CONTOUR_COLOR, 2.0), 4)
        self.handles_item = self._path_item(cosmetic_pen(QColor(0, 0, 0), 1.0), 5)
        self.handles_item.setBrush(QBrush(CONTOUR_COLOR))
        self.tool_item = self._path_item(cosmetic_pen(TOOL_COLOR, 2.0, Qt.PenStyle.DashLine), 6)
        self.measure_item = self._path_item(cosmetic_pen(MEASURE_COLOR, 2.0), 6)
        self.measure_text = LabelItem()
        self.measure_text.setZValue(7)
        scene.addItem(self.measure_text)
        self._handle_points = np.zeros((0, 2))
        # the assist's corrective clicks: include (+) and exclude (×), as interactive tools mark them
        self.include_item = self._path_item(cosmetic_pen(INCLUDE_COLOR, 2.5), 7)
        self.exclude_item = self._path_item(cosmetic_pen(EXCLUDE_COLOR, 2.5), 7)
        self._marks: tuple[np.ndarray, np.ndarray] = (np.zeros((0, 2)), np.zeros((0, 2)))

    def _path_item(self, pen: QPen, z: float) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        item.setPen(pen)
        item.setZValue(z)
        self.scene().addItem(item)
        return item

    # ---------------------------------------------------------------- image & view
    def set_image(self, display: np.ndarray | None, *, refit: bool = True) -> None:
        self._display = display
        if display is None:
            self.image_item.setPixmap(QPixmap())
            self.viewport().update()
            return
        self._render_image()
        h, w = display.shape[:2]
        # Room around the image so the point under the cursor can stay put at any zoom, also zoomed out.
        self.scene().setSceneRect(QRectF(-3.0 * w, -3.0 * h, 7.0 * w, 7.0 * h))
        if refit:
            self._fit_pending = True
            self.fit()

    @property
    def has_image(self) -> bool:
        return self._display is not None

    def _render_image(self) -> None:
        if self._display is None:
            return
        img = self._display
        if self._window_level is not None:
            window, level = self._window_level
            lo = level - window / 2.0
            lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / max(window, 1.0)), 0, 255)
            img = lut.astype(np.uint8)[img]
        self.image_item.setPixmap(QPixmap.fromImage(array_to_qimage(img)))

    def set_window_level(self, window: float | None, level: float | None = None) -> None:
        """Display-only contrast: never changes the pixels the model sees. None = full range."""
        if window is None:
            self._window_level = None
        else:
            w = float(np.clip(window, 1.0, 4096.0))
            lv = float(np.clip(FULL_WINDOW_LEVEL[1] if level is None else level, -128.0, 383.0))
            self._window_level = None if (w, lv) == FULL_WINDOW_LEVEL else (w, lv)
        self._render_image()
        self.window_level_changed.emit(*self.window_level)

    @property
    def window_level(self) -> tuple[float, float]:
        return self._window_level or FULL_WINDOW_LEVEL

    def image_rect(self) -> QRectF:
        return self.image_item.boundingRect()

    def fit(self) -> None:
        if self._display is None:
            return
        self.fitInView(self.image_rect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom)

    def one_to_one(self) -> None:
        self.resetTransform()
        self.centerOn(self.image_rect().center())
        self.zoom_changed.emit(self.zoom)

    def to_scene(self, view_pos: QPointF) -> QPointF:
        """Sub-pixel view → scene mapping (QGraphicsView.mapToScene rounds to whole view pixels)."""
        inverse, _ok = self.viewportTransform().inverted()
        return inverse.map(QPointF(view_pos))

    def zoom_at(self, factor: float, view_pos: QPointF | None = None) -> None:
        """Zoom keeping the scene point under `view_pos` (default: the view centre) where it is."""
        new = self.zoom * factor
        if not 0.05 <= new <= 40:
            return
        if view_pos is None:
            view_pos = QPointF(self.viewport().rect().center())
        anchor = self.to_scene(view_pos)
        self.scale(factor, factor)
        moved = self.viewportTransform().map(anchor) - QPointF(view_pos)
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setValue(hbar.value() + round(moved.x()))
        vbar.setValue(vbar.value() + round(moved.y()))
        self.zoom_changed.emit(self.zoom)
        self._refresh_handles()

    def zoom_by(self, factor: float) -> None:
        """Keyboard/menu zoom: about the view centre, as in ITK-SNAP and PACS viewers."""
        self.zoom_at(factor, None)

    @property
    def zoom(self) -> float:
        return float(self.transform().m11())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._fit_pending:
            self.fit()
            self._fit_pending = False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_pending:
            self.fit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self._display is not None:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(200, 200, 200))
        font = QFont(painter.font())
        font.setPointSizeF(12)
        painter.setFont(font)
        painter.drawText(QRectF(self.viewport().rect()), Qt.AlignmentFlag.AlignCenter, self.hint_text)
        painter.restore()

    # ---------------------------------------------------------------- overlays
    def set_contour(self, points: np.ndarray | None, *, closed: bool = True, handles: bool = False) -> None:
        if points is None or len(points) == 0:
            self.contour_item.setPath(QPainterPath())
            self._handle_points = np.zeros((0, 2))
        else:
            self.contour_item.setPath(polyline_path(points, closed))
            self._handle_points = np.asarray(points, dtype=float) if handles else np.zeros((0, 2))
        self._refresh_handles()

    def _refresh_handles(self) -> None:
        path = QPainterPath()
        r = 3.5 / max(self.zoom, 1e-6)  # ~7 screen px squares at any zoom
        for x, y in self._handle_points:
            path.addRect(QRectF(x - r, y - r, 2 * r, 2 * r))
        self.handles_item.setPath(path)
        r = 6.0 / max(self.zoom, 1e-6)  # ~12 screen px marks at any zoom
        self.include_item.setPath(cross_marks(self._marks[0], r, diagonal=False))  # +
        self.exclude_item.setPath(cross_marks(self._marks[1], r, diagonal=True))  # ×

    def set_marks(self, include: np.ndarray | None = None, exclude: np.ndarray | None = None) -> None:
        """The assist's corrective clicks on the outline shown: include (+) and exclude (×) points."""
        self._marks = (
            np.asarray(include if include is not None else np.zeros((0, 2)), float).reshape(-1, 2),
            np.asarray(exclude if exclude is not None else np.zeros((0, 2)), float).reshape(-1, 2),
        )
        self._refresh_handles()

    def set_rings(self, outlines: dict[str, list[np.ndarray]]) -> None:
        """Ring outlines by region name; a ring the model bundle defines gets an item on first use."""
        names = list(outlines)
        for name in names:
            color = ring_color(name, names)  # by the ring's place among this model's rings
            if name not in self.ring_items:
                item = self._path_item(cosmetic_pen(color, 1.6), 3)
                item.setVisible(name not in self._ring_hidden)
                self.ring_items[name] = item
            elif self.ring_items[name].pen().color() != color:  # another model's rings (runs per mouse move)
                self.ring_items[name].setPen(cosmetic_pen(color, 1.6))
        for name, item in self.ring_items.items():
            path = QPainterPath()
            for line in outlines.get(name, []):
                path.addPath(polyline_path(line, closed=True))
            item.setPath(path)

    def set_ring_visible(self, name: str, visible: bool) -> None:
        (self._ring_hidden.discard if visible else self._ring_hidden.add)(name)
        if name in self.ring_items:
            self.ring_items[name].setVisible(visible)

    def set_scan_outline(self, outlines: list[np.ndarray]) -> None:
        path = QPainterPath()
        for line in outlines:
            path.addPath(polyline_path(line, closed=True))
        self.scan_item.setPath(path)

    def set_cam(self, rgba: np.ndarray | None, region: str = "") -> None:
        """An explanation-map overlay (colours from model.reading.cam_rgba) and the region it shows."""
        self.cam_region = region if rgba is not None else ""
        self.cam_item.setPixmap(QPixmap() if rgba is None else QPixmap.fromImage(array_to_qimage(rgba)))

    def set_tool_preview(self, points: np.ndarray | None, closed: bool = False) -> None:
        self.tool_item.setPath(QPainterPath() if points is None else polyline_path(points, closed))

    def set_measure(self, p0: np.ndarray | None, p1: np.ndarray | None = None, text: str = "") -> None:
        if p0 is None or p1 is None:
            self.measure_item.setPath(QPainterPath())
            self.measure_text.set_text("")
            return
        self.measure_item.setPath(polyline_path(np.array([p0, p1]), closed=False))
        anchor = QPointF(float(p1[0]), float(p1[1]))
        self.measure_text.left = self.mapFromScene(anchor).x() > self.viewport().width() - 220
        self.measure_text.set_text(text)
        self.measure_text.setPos(anchor)

    # ---------------------------------------------------------------- input
    def image_pos(self, view_pos) -> np.ndarray:
        p = self.to_scene(QPointF(view_pos))
        return np.array([p.x(), p.y()])

    def screen_tolerance(self, pixels: float = 8.0) -> float:
        """A distance in image px that is `pixels` on screen (for hit-testing handles)."""
        return pixels / max(self.zoom, 1e-6)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_at(1.25**steps, event.position())

    def viewportEvent(self, event: QEvent) -> bool:
        if (  # trackpad pinch (macOS, Wayland, X11 libinput)
            event.type() == QEvent.Type.NativeGesture
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):
            pos = self.viewport().mapFromGlobal(event.globalPosition().toPoint())
            self.zoom_at(1.0 + float(event.value()), QPointF(pos))
            return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = self.image_pos(event.position())
        tool = self.tool
        if event.button() == Qt.MouseButton.MiddleButton or (
            tool is not None and tool.name == "pan" and event.button() == Qt.MouseButton.LeftButton
        ):
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if (
            event.button() == Qt.MouseButton.RightButton
            and self._display is not None
            and (tool is None or not tool.uses_right_button(pos))
        ):
            self._wl_drag = (event.position(), *self.window_level)
            return
        if tool is not None and self._display is not None:
            tool.press(pos, event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            return
        if self._wl_drag is not None:
            start, window, level = self._wl_drag
            d = (event.position() - start) * WL_DRAG_GAIN
            # right = wider window (less contrast), up = brighter (lower level), as in ITK-SNAP/Slicer
            self.set_window_level(max(window + d.x(), 1.0), level + d.y())
            return
        pos = self.image_pos(event.position())
        if self._display is not None:
            h, w = self._display.shape[:2]
            inside = 0 <= pos[0] < w and 0 <= pos[1] < h
            self.cursor_moved.emit(*(pos if inside else (float("nan"), float("nan"))))
            if self.tool is not None:
                self.tool.move(pos, event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            self._panning = None
            self.viewport().unsetCursor()
            return
        if self._wl_drag is not None:
            self._wl_drag = None
            return
        if self.tool is not None and self._display is not None:
            self.tool.release(self.image_pos(event.position()), event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool is not None and self._display is not None:
            self.tool.double_click(self.image_pos(event.position()), event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.tool is not None and self.tool.key(event):
            return
        super().keyPressEvent(event)
