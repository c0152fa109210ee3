"""The image canvas: a QGraphicsView with zoom, pan, window/level and overlay layers.

Lighter than pyqtgraph at start-up (that import alone costs ~0.7 s). Mouse input goes to the active
tool (see tools.py) in image-pixel coordinates; the canvas itself only shows things.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QByteArray, QDataStream, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
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
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

if TYPE_CHECKING:
    from dlrs_desktop.ui.tools import Tool

# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
CONTOUR_COLOR = QColor(240, 228, 66)  # yellow
RING_COLORS = {
    "ring_3mm": QColor(86, 180, 233),  # sky blue
    "ring_5mm": QColor(230, 159, 0),  # orange
    "ring_10mm": QColor(204, 121, 167),  # reddish purple
}
SCAN_COLOR = QColor(0, 158, 115, 140)  # bluish green, faint
TOOL_COLOR = QColor(0, 114, 178)  # blue
MEASURE_COLOR = QColor(213, 94, 0)  # vermillion: visible on the white depth ruler


def array_to_qimage(rgb: np.ndarray) -> QImage:
    """Wrap an RGB/RGBA uint8 array; the copy detaches Qt from numpy's buffer."""
    arr = np.ascontiguousarray(rgb)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        return QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    if arr.shape[2] == 4:
        return QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def polyline_path(points: np.ndarray, closed: bool) -> QPainterPath:
    """A QPainterPath from an (N, 2) array in one step: deserialised from bytes built by numpy.

    Ring outlines have thousands of vertices; one Python `lineTo` call each cost ~1.4 ms per 800
    points, this ~0.05 ms (the trick pyqtgraph uses: QPainterPath's QDataStream format is
    int32 count, then per element int32 type (0 = move, 1 = line) + two float64, then int32 cStart
    and int32 fill rule, all big-endian).
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    path = QPainterPath()
    if len(pts) == 0:
        return path
    closing = closed and len(pts) > 2
    n = len(pts) + (1 if closing else 0)
    rec = np.empty(n, dtype=[("c", ">i4"), ("x", ">f8"), ("y", ">f8")])
    rec["x"][: len(pts)] = pts[:, 0]
    rec["y"][: len(pts)] = pts[:, 1]
    if closing:
        rec["x"][-1], rec["y"][-1] = pts[0]
    rec["c"] = 1
    rec["c"][0] = 0
    data = struct.pack(">i", n) + rec.tobytes() + struct.pack(">ii", 0, 0)
    stream = QDataStream(QByteArray(data))
    stream >> path
    return path


def _cosmetic(color: QColor, width: float = 2.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)  # same width on screen at any zoom
    return pen


class ImageCanvas(QGraphicsView):
    """Shows one image and its overlays; forwards mouse/keys to the current tool."""

    cursor_moved = Signal(float, float)  # image px (x, y); NaN when outside the image
    zoom_changed = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(16, 16, 16)))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tool: Tool | None = None
        self._display: np.ndarray | None = None
        self._window_level: tuple[float, float] | None = None
        self._panning: QPointF | None = None
        self._fit_pending = True

        scene = self.scene()
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        scene.addItem(self.image_item)
        self.cam_item = QGraphicsPixmapItem()
        self.cam_item.setZValue(1)
        self.cam_item.setOpacity(0.45)
        scene.addItem(self.cam_item)
        self.scan_item = self._path_item(_cosmetic(SCAN_COLOR, 1.0, Qt.PenStyle.DashLine), 2)
        self.ring_items = {
            name: self._path_item(_cosmetic(color, 1.6), 3) for name, color in RING_COLORS.items()
        }
        self.contour_item = self._path_item(_cosmetic(CONTOUR_COLOR, 2.0), 4)
        self.handles_item = self._path_item(_cosmetic(QColor(0, 0, 0), 1.0), 5)
        self.handles_item.setBrush(QBrush(CONTOUR_COLOR))
        self.tool_item = self._path_item(_cosmetic(TOOL_COLOR, 2.0, Qt.PenStyle.DashLine), 6)
        self.measure_item = self._path_item(_cosmetic(MEASURE_COLOR, 2.0), 6)
        self.measure_text = QGraphicsSimpleTextItem()
        self.measure_text.setBrush(QBrush(QColor(255, 255, 255)))
        self.measure_text.setPen(QPen(QColor(0, 0, 0), 0.5))
        self.measure_text.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.measure_text.setZValue(7)
        scene.addItem(self.measure_text)
        self._handle_points = np.zeros((0, 2))

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
            return
        self._render_image()
        h, w = display.shape[:2]
        self.scene().setSceneRect(QRectF(-0.5 * w, -0.5 * h, 2.0 * w, 2.0 * h))
        if refit:
            self._fit_pending = True
            self.fit()

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
        """Display-only contrast: never changes the pixels the model sees."""
        self._window_level = None if window is None else (float(window), float(level or 128.0))
        self._render_image()

    @property
    def window_level(self) -> tuple[float, float]:
        return self._window_level or (256.0, 128.0)

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

    def zoom_by(self, factor: float) -> None:
        new = self.zoom * factor
        if 0.05 <= new <= 40:
            self.scale(factor, factor)
            self.zoom_changed.emit(self.zoom)
            self._refresh_handles()

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

    def set_rings(self, outlines: dict[str, list[np.ndarray]]) -> None:
        for name, item in self.ring_items.items():
            path = QPainterPath()
            for line in outlines.get(name, []):
                path.addPath(polyline_path(line, closed=True))
            item.setPath(path)

    def set_ring_visible(self, name: str, visible: bool) -> None:
        self.ring_items[name].setVisible(visible)

    def set_scan_outline(self, outlines: list[np.ndarray]) -> None:
        path = QPainterPath()
        for line in outlines:
            path.addPath(polyline_path(line, closed=True))
        self.scan_item.setPath(path)

    def set_cam(self, rgba: np.ndarray | None) -> None:
        self.cam_item.setPixmap(QPixmap() if rgba is None else QPixmap.fromImage(array_to_qimage(rgba)))

    def set_tool_preview(self, points: np.ndarray | None, closed: bool = False) -> None:
        self.tool_item.setPath(QPainterPath() if points is None else polyline_path(points, closed))

    def set_measure(self, p0: np.ndarray | None, p1: np.ndarray | None = None, text: str = "") -> None:
        if p0 is None or p1 is None:
            self.measure_item.setPath(QPainterPath())
            self.measure_text.setText("")
            return
        self.measure_item.setPath(polyline_path(np.array([p0, p1]), closed=False))
        self.measure_text.setText(text)
        self.measure_text.setPos(QPointF(float(p1[0]), float(p1[1])))

    # ---------------------------------------------------------------- input
    def image_pos(self, view_pos) -> np.ndarray:
        p = self.mapToScene(view_pos)
        return np.array([p.x(), p.y()])

    def screen_tolerance(self, pixels: float = 8.0) -> float:
        """A distance in image px that is `pixels` on screen (for hit-testing handles)."""
        return pixels / max(self.zoom, 1e-6)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25**steps)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            self.tool is not None and self.tool.name == "pan" and event.button() == Qt.MouseButton.LeftButton
        ):
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if self.tool is not None and self._display is not None:
            self.tool.press(self.image_pos(event.position().toPoint()), event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            return
        pos = self.image_pos(event.position().toPoint())
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
        if self.tool is not None and self._display is not None:
            self.tool.release(self.image_pos(event.position().toPoint()), event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool is not None and self._display is not None:
            self.tool.double_click(self.image_pos(event.position().toPoint()), event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.tool is not None and self.tool.key(event):
            return
        super().keyPressEvent(event)
