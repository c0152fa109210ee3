"""Side panels: tumour measurements and ring table, the prediction result, and a small bar chart.

The bar chart is plain QPainter (pyqtgraph costs ~0.7 s of start-up for one chart) and the same painting
function draws the bars in the PDF report.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.ui.canvas import CONTOUR_COLOR, RING_COLORS

REGION_LABELS = {
    "intratumoral": "Tumour",
    "ring_3mm": "Ring 3 mm",
    "ring_5mm": "Ring 5 mm",
    "ring_10mm": "Ring 10 mm",
    "fusion": "Fusion",
}
REGION_COLORS = {"intratumoral": CONTOUR_COLOR, **RING_COLORS, "fusion": QColor(0, 114, 178)}


def paint_bars(
    p: QPainter, rect: QRectF, values: dict[str, float], threshold: float | None, dim: bool = False
) -> None:
    """Horizontal bars 0..1 with labels and the decision threshold as a dashed line."""
    if not values:
        return
    label_w = rect.width() * 0.32
    row_h = rect.height() / len(values)
    bar_x0 = rect.left() + label_w
    bar_w = rect.width() - label_w - 40
    text_color = QColor(120, 120, 120) if dim else p.pen().color()
    for k, (name, value) in enumerate(values.items()):
        y = rect.top() + k * row_h
        p.setPen(text_color)
        p.drawText(
            QRectF(rect.left(), y, label_w - 6, row_h),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            REGION_LABELS.get(name, name),
        )
        color = QColor(REGION_COLORS.get(name, QColor(128, 128, 128)))
        if dim:
            color.setAlpha(70)
        bar = QRectF(bar_x0, y + row_h * 0.2, max(bar_w * float(value), 1.0), row_h * 0.6)
        p.fillRect(QRectF(bar_x0, y + row_h * 0.2, bar_w, row_h * 0.6), QColor(128, 128, 128, 40))
        p.fillRect(bar, color)
        p.drawText(
            QRectF(bar_x0 + bar_w + 4, y, 40, row_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{value:.2f}",
        )
    if threshold is not None:
        x = bar_x0 + bar_w * float(threshold)
        pen = QPen(text_color, 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))


class BarChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: dict[str, float] = {}
        self.threshold: float | None = None
        self.dim = False
        self.setMinimumHeight(96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, values: dict[str, float], threshold: float | None, dim: bool) -> None:
        self.values, self.threshold, self.dim = dict(values), threshold, dim
        self.setFixedHeight(max(24 * len(values), 24) + 8)
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(self.palette().windowText().color())
        paint_bars(p, QRectF(self.rect()).adjusted(2, 4, -2, -4), self.values, self.threshold, self.dim)
        p.end()


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    f = label.font()
    f.setBold(True)
    label.setFont(f)
    return label


class MeasurementsPanel(QWidget):
    """Tumour size and the three rings (area, clipped fraction, warning)."""

    ring_toggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.badge = QLabel("No image")
        self.badge.setTextFormat(Qt.TextFormat.PlainText)
        self.badge.setObjectName("calibrationBadge")
        self.badge.setWordWrap(True)
        lay.addWidget(self.badge)
        lay.addWidget(_heading("Tumour"))
        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, (key, text) in enumerate(
            [
                ("area", "Area"),
                ("long", "Longest diameter"),
                ("perp", "Perpendicular"),
                ("perim", "Perimeter"),
            ]
        ):
            grid.addWidget(QLabel(text), row, 0)
            self.values[key] = QLabel("–")
            self.values[key].setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(self.values[key], row, 1)
        lay.addLayout(grid)
        lay.addWidget(_heading("Peritumoral rings"))
        self.table = QTableWidget(3, 3)
        self.table.setHorizontalHeaderLabels(["Ring", "Area mm²", "Outside scan"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setFixedHeight(24 * 3 + self.table.horizontalHeader().sizeHint().height() + 4)
        for row, name in enumerate(RING_COLORS):
            item = QTableWidgetItem(REGION_LABELS[name].replace("Ring ", ""))
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(Qt.CheckState.Checked)
            item.setForeground(RING_COLORS[name])
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.table.setItem(row, 0, item)
        self.table.itemChanged.connect(self._item_changed)
        lay.addWidget(self.table)
        self.warning = QLabel("")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #d55e00;")
        lay.addWidget(self.warning)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.ring_toggled.emit(
                item.data(Qt.ItemDataRole.UserRole), item.checkState() == Qt.CheckState.Checked
            )

    def set_ring_checked(self, name: str, checked: bool) -> None:
        row = list(RING_COLORS).index(name)
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.table.item(row, 0).setCheckState(state)

    def set_badge(self, text: str, ok: bool) -> None:
        self.badge.setText(text)
        color = "#009e73" if ok else "#d55e00"
        self.badge.setStyleSheet(
            f"border: 1px solid {color}; border-radius: 4px; padding: 3px; color: {color};"
        )

    def show_measurements(self, m: Any | None) -> None:
        if m is None:
            for label in self.values.values():
                label.setText("–")
            return
        self.values["area"].setText(f"{m.area_mm2:.1f} mm²")
        self.values["long"].setText(f"{m.max_diameter_mm:.1f} mm")
        self.values["perp"].setText(f"{m.perpendicular_diameter_mm:.1f} mm")
        self.values["perim"].setText(f"{m.perimeter_mm:.1f} mm")

    def show_rings(self, rings: dict[str, Any] | None, message: str | None = None) -> None:
        flagged = []
        for row, name in enumerate(RING_COLORS):
            ring = (rings or {}).get(name)
            area = QTableWidgetItem("–" if ring is None else f"{ring.area_mm2:.1f}")
            clip = QTableWidgetItem("–" if ring is None else f"{100 * ring.clipped_fraction:.0f} %")
            if ring is not None and ring.flagged:
                clip.setForeground(QColor(213, 94, 0))
                flagged.append(REGION_LABELS[name])
            self.table.setItem(row, 1, area)
            self.table.setItem(row, 2, clip)
        if message:
            self.warning.setText(message)
        elif flagged:
            self.warning.setText(
                f"⚠ {', '.join(flagged)} leave the scan area too much: the prediction relies on less tissue."
            )
        else:
            self.warning.setText("")


class ResultPanel(QWidget):
    """Probability, category, threshold, per-region bars, sensitivity, model and the research notice."""

    predict_requested = Signal()
    cam_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.predict_button = QPushButton("Predict  (Ctrl+Enter)")
        self.predict_button.clicked.connect(self.predict_requested)
        row.addWidget(self.predict_button)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setVisible(False)
        row.addWidget(self.busy)
        lay.addLayout(row)
        self.model_state = QLabel("Loading model…")
        self.model_state.setTextFormat(Qt.TextFormat.PlainText)
        self.model_state.setWordWrap(True)
        lay.addWidget(self.model_state)
        self.stale = QLabel("")
        self.stale.setWordWrap(True)
        self.stale.setStyleSheet("background:#e69f00; color:black; padding:3px; border-radius:3px;")
        self.stale.setVisible(False)
        lay.addWidget(self.stale)
        self.probability = QLabel("–")
        f = QFont(self.probability.font())
        f.setPointSize(28)
        f.setBold(True)
        self.probability.setFont(f)
        self.probability.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.probability)
        self.caption = QLabel("probability of early response")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.caption)
        self.category = QLabel("")
        self.category.setTextFormat(Qt.TextFormat.PlainText)
        bold = QFont(self.category.font())
        bold.setBold(True)
        self.category.setFont(bold)
        self.category.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.category.setWordWrap(True)
        lay.addWidget(self.category)
        self.bars = BarChart()
        lay.addWidget(self.bars)
        self.details = QLabel("")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.details)
        cam_row = QHBoxLayout()
        cam_row.addWidget(QLabel("Explanation map:"))
        self.cam = QComboBox()
        self.cam.addItem("Off", "")
        self.cam.currentIndexChanged.connect(lambda _i: self.cam_changed.emit(self.cam.currentData() or ""))
        cam_row.addWidget(self.cam, 1)
        lay.addLayout(cam_row)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        lay.addWidget(line)
        self.notice = QLabel("Research use · demonstration model trained on synthetic data")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color:#d55e00; font-weight:bold; padding:4px;")
        lay.addStretch(1)

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.predict_button.setEnabled(not busy)

    def set_notice(self, text: str) -> None:
        self.notice.setText(text)

    def set_cam_regions(self, names: list[str]) -> None:
        current = self.cam.currentData()
        self.cam.blockSignals(True)
        self.cam.clear()
        self.cam.addItem("Off", "")
        for n in names:
            self.cam.addItem(REGION_LABELS.get(n, n), n)
        idx = self.cam.findData(current)
        self.cam.setCurrentIndex(max(idx, 0))
        self.cam.blockSignals(False)
        self.cam.setEnabled(bool(names))

    def show_result(self, result: dict[str, Any] | None, stale: bool, *, verified: bool = True) -> None:
        """Render a stored result dict; a stale or unverified one is greyed and labelled, never current.

        Every text here may come from a file (category, flags, model name): labels are plain text.
        """
        if result is None:
            self.caption.setText("No prediction yet: press Predict")
            self.probability.setText("–")
            self.probability.setStyleSheet("")
            self.category.setText("")
            self.details.setText("")
            self.bars.set_values({}, None, False)
            self.stale.setVisible(False)
            return
        pred = result.get("prediction", {})
        prob = float(pred.get("probability", float("nan")))
        threshold = pred.get("threshold")
        dim = stale or not verified
        self.caption.setText("probability of early response" if verified else UNVERIFIED_CAPTION)
        self.probability.setText(format_probability(prob, threshold))
        self.probability.setStyleSheet("color: gray;" if dim else "")
        cat = str(pred.get("category") or "")
        thr = f" (threshold {float(threshold):.2f})" if threshold is not None else ""
        self.category.setText(f"{cat}{thr}" if verified else f"saved: {cat}{thr}")
        self.bars.set_values(region_probabilities(pred), threshold, dim)
        self.stale.setVisible(dim)
        self.stale.setText(
            "STALE — the contour, calibration or frame changed after this prediction. Press Predict."
            if stale
            else UNVERIFIED_BANNER
        )
        self.details.setText("\n".join(result_lines(result)))


UNVERIFIED_CAPTION = "saved — not verified"
UNVERIFIED_BANNER = (
    "SAVED — NOT VERIFIED: this result was read from the annotation file, not computed on this "
    "computer. Press Predict to re-compute it for the contour shown."
)


def format_probability(p: float, threshold: float | None) -> str:
    """Two decimals, or three when two would print the threshold itself (0.4996 is not "0.50")."""
    text = f"{p:.2f}"
    if threshold is not None and text == f"{float(threshold):.2f}":
        text = f"{p:.3f}"
    return text


def region_probabilities(pred: dict[str, Any]) -> dict[str, float]:
    return {r["name"]: float(r["probability"]) for r in pred.get("regions") or []}


def sensitivity_text(pred: dict[str, Any]) -> str | None:
    sens = pred.get("sensitivity")
    if not isinstance(sens, dict) or sens.get("min") is None:
        return None
    offsets = [
        o for o, p in zip(sens.get("offsets_mm", []), sens.get("probabilities", []), strict=False) if p
    ]
    span = f" (contour moved {min(offsets):+g} to {max(offsets):+g} mm)" if offsets else ""
    return f"Contour sensitivity: {float(sens['min']):.2f} – {float(sens['max']):.2f}{span}"


def result_lines(result: dict[str, Any]) -> list[str]:
    """Plain-text facts under the probability (shared by the panel and the PDF report)."""
    pred = result.get("prediction", {})
    lines = []
    sens = sensitivity_text(pred)
    if sens:
        lines.append(sens)
    for flag in pred.get("flags") or []:
        mark = "⚠ " if flag.get("severity") == "warning" else ""
        lines.append(f"{mark}{flag.get('message', '')}")
    total = (pred.get("timings_ms") or {}).get("total")
    seconds = f" · {float(total) / 1000:.2f} s" if total is not None else ""
    lines.append(f"Device: {pred.get('device', '?')} ({pred.get('backend', '?')}){seconds}")
    if pred.get("device_note"):
        lines.append(str(pred["device_note"]))
    model = pred.get("model") or {}
    lines.append(f"Model: {model.get('id', '?')} {model.get('version', '')}")
    return lines
