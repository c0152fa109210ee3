"""View → Compare side by side: a second, read-only view beside the main one.

It shows another time point of the same patient (baseline beside "after cycle 2") or the orthogonal
view of the same exam (radial/antiradial). Zoom, pan and window/level are linked both ways; each view
keeps its own image and contour (the other image's contour is read from its saved annotation).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from dlrs_desktop.imaging import load_image
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.patients import Patient, exam_of, same_patient

if TYPE_CHECKING:
    from dlrs_desktop.store import AnnotationStore


class ViewLink(QObject):
    """Keeps two canvases at the same zoom, the same relative centre and the same window/level."""

    def __init__(self, a: ImageCanvas, b: ImageCanvas) -> None:
        super().__init__(a)
        self.a, self.b = a, b
        self._busy = False
        for src, dst in ((a, b), (b, a)):
            src.zoom_changed.connect(lambda _z, s=src, d=dst: self.follow(s, d))
            src.horizontalScrollBar().valueChanged.connect(lambda _v, s=src, d=dst: self.follow(s, d))
            src.verticalScrollBar().valueChanged.connect(lambda _v, s=src, d=dst: self.follow(s, d))
            src.window_level_changed.connect(lambda w, lv, s=src, d=dst: self.follow_wl(s, d, w, lv))

    @staticmethod
    def centre(canvas: ImageCanvas) -> tuple[float, float]:
        """The view centre as a fraction of the image (0..1 across, 0..1 down): images differ in size."""
        rect = canvas.image_rect()
        c = canvas.to_scene(QPointF(canvas.viewport().rect().center()))
        return c.x() / max(rect.width(), 1.0), c.y() / max(rect.height(), 1.0)

    def follow(self, src: ImageCanvas, dst: ImageCanvas) -> None:
        if self._busy or not (src.has_image and dst.has_image):
            return
        self._busy = True
        try:
            fx, fy = self.centre(src)
            factor = src.zoom / max(dst.zoom, 1e-9)
            if abs(factor - 1.0) > 1e-9:
                dst.scale(factor, factor)
            rect = dst.image_rect()
            dst.centerOn(QPointF(fx * rect.width(), fy * rect.height()))
        finally:
            self._busy = False

    def follow_wl(self, src: ImageCanvas, dst: ImageCanvas, window: float, level: float) -> None:
        if self._busy or dst.window_level == (window, level):
            return
        self._busy = True
        try:
            dst.set_window_level(window, level)
        finally:
            self._busy = False


class CompareView(QWidget):
    """The second view, its image chooser and the "orthogonal pair" button."""

    def __init__(self, store: AnnotationStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.path: Path | None = None
        self.sha256: str | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Compare with:")))
        self.chooser = QComboBox()
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(28)  # "name.dcm (after cycle 2)" readable, not cut
        self.chooser.currentIndexChanged.connect(self._chosen)
        top.addWidget(self.chooser, 1)
        self.pair_button = QPushButton(self.tr("Mark as orthogonal pair"))
        self.pair_button.setToolTip(self.tr("The two images show the same lesion in two planes at one exam"))
        lay.addLayout(top)
        row = QHBoxLayout()
        row.addWidget(self.pair_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.caption = QLabel("")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        self.canvas = ImageCanvas(self)
        self.canvas.hint_text = self.tr("Open a folder with another exam of this patient to compare")
        lay.addWidget(self.canvas, 1)

    def set_choices(self, patients: list[Patient], current: Path | None, partner: str | None) -> None:
        """Other images of the current image's patient: other exams first, then the same exam's."""
        self.chooser.blockSignals(True)
        self.chooser.clear()
        patient = same_patient(patients, current) if current is not None else None
        mine = exam_of(patients, current) if current is not None else None
        first = -1
        if patient is not None:
            for number, exam in enumerate(patient.exams, 1):
                label = exam.label or exam.date or self.tr("exam {n}").format(n=number)
                for p in exam.paths:
                    if p == current:
                        continue
                    same = exam is mine
                    text = (
                        self.tr("{name} (same exam: {label})") if same else self.tr("{name} ({label})")
                    ).format(name=p.name, label=label)
                    self.chooser.addItem(text, str(p))
                    if first < 0 and not same:
                        first = self.chooser.count() - 1
        self.chooser.blockSignals(False)
        index = max(first, 0)
        kept = self.chooser.findData(str(self.path)) if self.path is not None else -1
        if kept >= 0:
            index = kept  # the image compared now stays (the same patient's other image was opened)
        if partner:
            for i in range(self.chooser.count()):
                if self.store.known_sha(self.chooser.itemData(i)) == partner:
                    index = i
        if self.chooser.count():
            self.chooser.setCurrentIndex(index)
            self._chosen(index)
        else:
            self.show_image(None)

    def _chosen(self, index: int) -> None:
        data = self.chooser.itemData(index)
        self.show_image(Path(data) if data else None)

    def show_image(self, path: Path | None) -> None:
        """Show `path` with its saved contour (read-only here: edit it by opening it in the main view)."""
        self.path, self.sha256 = path, None
        if path is None:
            self.canvas.set_image(None)
            self.canvas.set_contour(None)
            self.caption.setText(self.tr("No other image of this patient in the worklist."))
            return

        ann = self.store.status_of(None, path)
        try:
            image = load_image(path, ann.frame if ann is not None else 0)
        except Exception as exc:  # one line in the caption; the main view is unaffected
            self.canvas.set_image(None)
            self.caption.setText(self.tr("Cannot open {name}: {why}").format(name=path.name, why=exc))
            return
        self.sha256 = image.sha256
        self.store.remember_path(path, image.sha256)
        self.canvas.set_image(image.display)
        points = _contour_points(ann.contour if ann is not None else None)
        self.canvas.set_contour(points)
        self.caption.setText(
            self.tr("{name}: contour as saved").format(name=path.name)
            if points is not None
            else self.tr("{name}: no contour saved").format(name=path.name)
        )


def _contour_points(contour: dict[str, Any] | None) -> np.ndarray | None:
    if not contour:
        return None
    # lazy: cv2 (~0.45 s) only when this runs, not at start-up
    from dlrs_desktop.roi import Contour

    try:
        return np.asarray(Contour.from_dict(contour).points)
    except Exception:  # a contour that does not parse is simply not drawn here
        return None


def split_central(main: QWidget, canvas: ImageCanvas, compare: CompareView) -> QSplitter:
    """Put the compare view beside the main canvas (the canvas keeps its place in the layout)."""
    layout = main.layout()
    index = layout.indexOf(canvas)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    layout.insertWidget(index, splitter, 1)
    splitter.addWidget(canvas)
    splitter.addWidget(compare)
    return splitter
