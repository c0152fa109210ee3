"""The result chart (one row per region network and radiomics signature + the fused result) and its wording.

Plain QPainter (pyqtgraph costs ~0.7 s of start-up for one chart); the same painting function draws
the chart in the PDF report. Each row carries its own decision threshold; a region the fusion gives
zero weight is greyed and says so; the fused row shows the contour-sensitivity band (or says it is still
computing: the probability is shown before its band arrives).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from dlrs_desktop.model.domain_text import evidence_lines, is_outside
from dlrs_desktop.model.reading import class_text, sensitivity_band, waited_seconds
from dlrs_desktop.model.result import Prediction, SavedResult, SignatureResult
from dlrs_desktop.ui.style import region_color, region_label

translate = QCoreApplication.translate
NOT_USED = QT_TRANSLATE_NOOP("bars", "not used by the fusion")
COMPUTING = QT_TRANSLATE_NOOP("bars", "Contour sensitivity: computing…")
WAITED = QT_TRANSLATE_NOOP(
    "bars", "Device: {device} ({backend}) · {seconds} s (prediction and contour sensitivity)"
)
WAITED_COMPUTING = QT_TRANSLATE_NOOP(
    "bars", "Device: {device} ({backend}) · probability in {seconds} s (contour sensitivity: computing…)"
)
WAITED_NO_BAND = QT_TRANSLATE_NOOP(
    "bars", "Device: {device} ({backend}) · {seconds} s (prediction, no contour sensitivity)"
)


#: the labels' column takes at most this share of the chart; a longer label is drawn smaller (down to
#: MIN_LABEL_SCALE of the font), then elided in the middle: never cut at the chart's edge
LABEL_SHARE, MIN_LABEL_SCALE = 0.5, 0.75


def _label_font(font: QFont, widest: float, room: float) -> QFont:
    """The row labels' font: the chart's own, or smaller where the widest label would not fit."""
    smaller = QFont(font)
    if widest > room > 0:
        scale = max(room / widest, MIN_LABEL_SCALE)
        if font.pointSizeF() > 0:
            smaller.setPointSizeF(font.pointSizeF() * scale)
        else:  # a font sized in pixels (the PDF painter's)
            smaller.setPixelSize(max(1, int(font.pixelSize() * scale)))
    return smaller


@dataclass(frozen=True)
class BarRow:
    name: str
    value: float
    threshold: float | None
    weight: float | None  # stacking coefficient; None for the fused row
    band: tuple[float, float] | None = None  # sensitivity band (fused row only)
    pending: bool = False  # the band is still being computed (fused row only)

    @property
    def used(self) -> bool:
        return self.weight is None or abs(self.weight) > 1e-9


def bar_rows(result: SavedResult, computing: bool = False) -> list[BarRow]:
    """Rows for a stored result: the region networks in bundle order, then the fused probability.

    `computing`: the fused row's band is still being computed (it says so where the band goes)."""
    pred = result.prediction
    thresholds = result.model.region_thresholds
    rows = [
        BarRow(r.name, r.probability, thresholds.get(r.name), r.coefficient)
        for r in [*pred.regions, *used_signatures(pred)]
    ]
    band = sensitivity_band(pred)
    pending = computing and pred.sensitivity is None
    rows.append(
        BarRow("fusion", pred.probability, pred.threshold, None, None if band is None else band[:2], pending)
    )
    return rows


def used_signatures(pred: Prediction) -> list[SignatureResult]:
    """The radiomics signatures the shown fusion weighs (the others belong to other rows of the study
    table: the result keeps them for the record, the chart and the weights line leave them out)."""
    return [s for s in pred.signatures if abs(s.coefficient) > 1e-9]


def paint_bars(p: QPainter, rect: QRectF, rows: list[BarRow], dim: bool = False) -> None:
    """Horizontal bars 0..1 with labels; each row's own threshold as a short dashed tick."""
    if not rows:
        return
    widest = max(QFontMetricsF(p.font()).horizontalAdvance(region_label(r.name)) for r in rows)
    label_w = min(rect.width() * LABEL_SHARE, widest + 10)
    label_font = _label_font(p.font(), widest, label_w - 6)
    row_h = rect.height() / len(rows)
    bar_x0 = rect.left() + label_w
    bar_w = rect.width() - label_w - 44
    base_pen = QColor(p.pen().color())
    grey = QColor(130, 130, 130)
    small = QFont(p.font())
    small.setPointSizeF(max(small.pointSizeF() * 0.8, 6.0))
    small.setItalic(True)
    normal = QFont(p.font())
    ring_names = [r.name for r in rows if r.name.startswith("ring_")]
    for k, row in enumerate(rows):
        y = rect.top() + k * row_h
        faded = dim or not row.used
        p.setFont(label_font)
        p.setPen(grey if faded else base_pen)
        label = QFontMetricsF(label_font).elidedText(
            region_label(row.name), Qt.TextElideMode.ElideMiddle, label_w - 6
        )
        p.drawText(
            QRectF(rect.left(), y, label_w - 6, row_h),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            label,
        )
        p.setFont(normal)
        track = QRectF(bar_x0, y + row_h * 0.2, bar_w, row_h * 0.6)
        p.fillRect(track, QColor(128, 128, 128, 40))
        color = QColor(grey if not row.used else region_color(row.name, ring_names))
        if faded:
            color.setAlpha(70)
        p.fillRect(QRectF(bar_x0, track.top(), max(bar_w * row.value, 1.0), track.height()), color)
        if row.band is not None:
            lo, hi = row.band
            band = QRectF(bar_x0 + bar_w * lo, y + row_h * 0.1, max(bar_w * (hi - lo), 2.0), row_h * 0.8)
            p.setPen(QPen(QColor(0, 0, 0) if not dim else grey, 1.5))
            p.setBrush(QColor(255, 255, 255, 90))
            p.drawRect(band)
            p.setBrush(Qt.BrushStyle.NoBrush)
        if row.pending:
            _paint_pending(p, QRectF(bar_x0, y + row_h * 0.1, bar_w, row_h * 0.8), row.value, small)
            p.setFont(normal)
        if row.threshold is not None:
            x = bar_x0 + bar_w * row.threshold
            p.setPen(QPen(grey if faded else base_pen, 1.5, Qt.PenStyle.DashLine))
            p.drawLine(int(x), int(y + 1), int(x), int(y + row_h - 1))
        p.setPen(grey if faded else base_pen)
        p.drawText(
            QRectF(bar_x0 + bar_w + 4, y, 44, row_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{row.value:.2f}",
        )
        if not row.used:
            p.setFont(small)
            p.setPen(base_pen if not dim else grey)
            fits = QFontMetricsF(small)
            weight = f"{row.weight:.2f}"
            texts = (translate("bars", "not used by the fusion (weight {weight})").format(weight=weight),
                     translate("bars", "not used by the fusion (w {weight})").format(weight=weight),
                     translate("bars", "not used (weight {weight})").format(weight=weight))  # fmt: skip
            text = next((t for t in texts if fits.horizontalAdvance(t) <= track.width() - 6), texts[-1])
            p.drawText(
                track.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
            )
    p.setFont(normal)


MIDDLE = Qt.AlignmentFlag.AlignVCenter


def _paint_pending(p: QPainter, frame: QRectF, value: float, font: QFont) -> None:
    """Where the band goes while it is computing: a dotted frame over the whole track and the word,
    beside the bar's end where it fits (never over it: the bar's length is the probability)."""
    p.setPen(QPen(QColor(110, 110, 110), 1.0, Qt.PenStyle.DotLine))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(frame)
    p.setFont(font)
    text = translate("bars", "computing…")
    need = QFontMetricsF(font).horizontalAdvance(text) + 8
    end = frame.left() + frame.width() * value
    if frame.right() - end >= need:  # on the empty track, right of the bar
        p.setPen(QColor(60, 60, 60))
        p.drawText(
            frame.adjusted(0, 0, -4, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text
        )
    elif end - frame.left() >= need:  # inside the bar, on its colour
        p.setPen(QColor(255, 255, 255))
        p.drawText(
            frame.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
        )


class BarChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[BarRow] = []
        self.dim = False
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: list[BarRow], dim: bool) -> None:
        self.rows, self.dim = list(rows), dim
        self.setFixedHeight(max(26 * len(rows), 24) + 8)
        self.setToolTip(
            self.tr(
                "Each bar: that network's probability; dashed tick: its own threshold; "
                "the box on Fusion: the range when the contour moves by the sensitivity offsets."
            )
        )
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(self.palette().windowText().color())
        paint_bars(p, QRectF(self.rect()).adjusted(2, 4, -2, -4), self.rows, self.dim)
        p.end()


def format_probability(p: float, threshold: float | None) -> str:
    """Two decimals, or three when two would print the threshold itself (0.4996 is not "0.50")."""
    text = f"{p:.2f}"
    if threshold is None or p == float(threshold):
        return text
    for digits in (3, 4, 5, 6):  # 0.4996 is not "0.500" either: as many decimals as tell them apart
        if text != f"{float(threshold):.{digits - 1}f}":
            break
        text = f"{p:.{digits}f}"
    return text


def sensitivity_text(pred: Prediction) -> str | None:
    band = sensitivity_band(pred)
    if band is None:
        return None
    lo, hi, offset = band
    threshold = pred.threshold  # a bound printed like the threshold gets a third decimal
    return translate("bars", "Contour sensitivity: {lo} – {hi} (contour moved by up to ±{offset} mm)").format(
        lo=format_probability(lo, threshold), hi=format_probability(hi, threshold), offset=f"{offset:g}"
    )


def weights_text(pred: Prediction) -> str | None:
    regions = [*pred.regions, *used_signatures(pred)]
    if not regions:
        return None
    used = [f"{region_label(r.name)} {r.coefficient:.2f}" for r in regions if r.coefficient]
    unused = [region_label(r.name) for r in regions if not r.coefficient]
    sep = translate("bars", ", ")
    weights = sep.join(used) or translate("bars", "none")
    if unused:
        return translate(
            "bars", "Weights in the fusion: {weights}; not used by the fusion (weight 0): {unused}"
        ).format(weights=weights, unused=sep.join(unused))
    return translate("bars", "Weights in the fusion: {weights}").format(weights=weights)


def result_lines(result: SavedResult, computing: bool = False) -> list[str]:
    """Plain-text facts under the probability (shared by the panel and the PDF report).

    `computing`: the first stage only; the contour sensitivity (and the uncertainty it may show) is still
    being computed, and the lines say so where it goes."""
    pred = result.prediction
    pending = computing and pred.sensitivity is None
    lines = evidence_lines(pred, translate)
    sens = translate("bars", COMPUTING) if pending else sensitivity_text(pred)
    for line in (None if is_outside(pred) else sens, weights_text(pred)):
        if line:
            lines.append(line)
    for flag in pred.flags:
        mark = "⚠ " if flag.severity == "warning" else ""
        lines.append(f"{mark}{translate('flags', flag.message)}")
    waited = waited_seconds(pred, result.waited_ms)
    device, backend = pred.device or "?", f"{pred.backend or '?'}, {pred.precision}"  # e.g. onnxruntime, int8
    if waited is not None:
        said = WAITED_COMPUTING if pending else WAITED_NO_BAND if pred.sensitivity is None else WAITED
        lines.append(translate("bars", said).format(device=device, backend=backend, seconds=f"{waited:.2f}"))
    else:
        lines.append(translate("bars", "Device: {device} ({backend})").format(device=device, backend=backend))
    if pred.device_note:
        lines.append(translate("device", pred.device_note))
    model = result.model
    lines.append(
        translate("bars", "Model: {id} {version} (sha256 {sha})").format(
            id=model.id or pred.model_id or "?",
            version=model.version or pred.model_version,
            sha=(model.bundle_hash or pred.bundle_hash)[:12],
        )
    )
    return lines


def class_line(pred: Prediction) -> str:
    """ "likely malignant (threshold 0.57)" (the bundle's category) or the uncertain state."""
    return translate("domain_text", "{text} (threshold {threshold})").format(
        text=class_text(pred, translate), threshold=f"{pred.threshold:.2f}"
    )
