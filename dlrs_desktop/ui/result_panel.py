"""The result panel: probability, class (or the explicit uncertain state), bars, facts, explanation map.

Shows a stored result (`SavedResult`: what the sidecar holds), so a restored result and a fresh one look the
same; a stale one is greyed and labelled, never shown as current.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.model.domain_text import headline, is_outside
from dlrs_desktop.model.outcome import DEFAULT, Outcome
from dlrs_desktop.model.result import SavedResult
from dlrs_desktop.regions import DEFAULT_RING_RADII_MM
from dlrs_desktop.textsafe import html_text
from dlrs_desktop.ui import i18n
from dlrs_desktop.ui.bars import COMPUTING, BarChart, bar_rows, format_probability, result_lines
from dlrs_desktop.ui.result_help import ReadingGuide, ReviewLine
from dlrs_desktop.ui.style import WARNING_CSS, region_label

translate = QCoreApplication.translate
OUTSIDE_CAPTION = QT_TRANSLATE_NOOP("ResultPanel", "outside the model's training domain: no class is shown")
STALE_TEXT = QT_TRANSLATE_NOOP(
    "ResultPanel", "STALE — the contour, calibration or frame changed after this prediction. Press Predict."
)
MODEL_STALE_TEXT = QT_TRANSLATE_NOOP(
    "ResultPanel",
    "STALE — computed with another model ({model}); the model loaded now has not assessed this contour. "
    "Press Predict.",
)
UNVERIFIED_CAPTION = QT_TRANSLATE_NOOP("ResultPanel", "saved — not verified")
UNVERIFIED_BANNER = QT_TRANSLATE_NOOP(
    "ResultPanel",
    "SAVED — NOT VERIFIED: this result was read from the annotation file, not computed on this "
    "computer. Press Predict to re-compute it for the contour shown.",
)


class ResultPanel(QWidget):
    """Probability, class, per-region bars with their own thresholds, sensitivity band, model, notice."""

    predict_requested = Signal()
    cam_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.predict_button = QPushButton(self.tr("Predict  (Ctrl+Enter)"))
        self.predict_button.clicked.connect(self.predict_requested)
        row.addWidget(self.predict_button)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setVisible(False)
        row.addWidget(self.busy)
        lay.addLayout(row)
        self.model_state = QLabel(self.tr("Loading model…"))
        self.model_state.setTextFormat(Qt.TextFormat.PlainText)
        self.model_state.setWordWrap(True)
        lay.addWidget(self.model_state)
        self.stale = QLabel("")
        self.stale.setTextFormat(Qt.TextFormat.PlainText)  # may name a model id read from a file
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
        self.outcome = DEFAULT  # the loaded model's (set_outcome); a result may name its own
        self.ring_radii = DEFAULT_RING_RADII_MM  # the loaded model's (set_outcome), for the reading guide
        self.caption = QLabel(DEFAULT.probability_of_in(translate))
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # the outcome's words come from the bundle
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)  # "outside the model's training domain: …" must not widen the panel
        lay.addWidget(self.caption)
        self.category = QLabel("")
        self.category.setTextFormat(Qt.TextFormat.PlainText)  # category and flags may come from a file
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
        cam_row.addWidget(QLabel(self.tr("Explanation map:")))
        self.cam = QComboBox()
        self.cam.addItem(self.tr("Off"), "")
        self.cam.currentIndexChanged.connect(lambda _i: self.cam_changed.emit(self.cam.currentData() or ""))
        cam_row.addWidget(self.cam, 1)
        lay.addLayout(cam_row)
        self.cam_legend = QLabel("")
        self._show_legend(DEFAULT)
        self.cam_legend.setWordWrap(True)
        self.cam_legend.setVisible(False)
        lay.addWidget(self.cam_legend)
        self.review = ReviewLine()  # the contour's review state, on the panel (issue 30)
        lay.addWidget(self.review)
        self.guide = ReadingGuide()  # "How to read this": every element above in plain words
        lay.addWidget(self.guide)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        lay.addWidget(line)
        self.notice = QLabel(self.tr("Research use only · the model's own notice appears once it is loaded"))
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(f"color:{WARNING_CSS}; font-weight:bold; padding:4px;")
        lay.addStretch(1)
        self.uncertain = False
        self.showing_result = False

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.predict_button.setEnabled(not busy)

    def set_notice(self, text: str) -> None:
        """The model's research notice: the bundled models' notices are in the catalogue (context
        "notice"); another bundle's own words are shown as written."""
        self.notice.setText(i18n.notice(text))

    def set_outcome(self, outcome: Outcome, ring_radii: tuple[float, ...] = DEFAULT_RING_RADII_MM) -> None:
        """The loaded model's outcome (what "probability of …" and the explanation map's legend say) and
        ring radii (what the reading guide names)."""
        if self.caption.text() == self.outcome.probability_of_in(translate) and not self.showing_result:
            self.caption.setText(
                outcome.probability_of_in(translate)
            )  # the initial caption, before any result
        self.outcome, self.ring_radii = outcome, tuple(ring_radii)
        self.guide.set_model(outcome, self.ring_radii)
        if not self.showing_result:
            self._show_legend(outcome)

    def _show_legend(self, outcome: Outcome) -> None:
        self.cam_legend.setText(
            self.tr(
                "<span style='color:#e69f00'>■</span> for {outcome} · "
                "<span style='color:#0072b2'>■</span> against · stronger = more opaque"
            ).format(outcome=html_text(translate("outcome", outcome.short_name)))
        )
        self.cam_legend.setToolTip(
            f"<p>{html_text(outcome.cam_legend_in(translate))}</p>"
        )  # rich text: escaped

    def set_cam_regions(self, names: list[str]) -> None:
        current = self.cam.currentData()
        self.cam.blockSignals(True)
        self.cam.clear()
        self.cam.addItem(self.tr("Off"), "")
        for n in names:
            self.cam.addItem(region_label(n), n)
        idx = self.cam.findData(current)
        self.cam.setCurrentIndex(max(idx, 0))
        self.cam.blockSignals(False)
        self.cam.setEnabled(bool(names))
        self.cam_legend.setVisible(bool(self.cam.currentData()))

    def show_result(
        self,
        result: SavedResult | None,
        stale: bool,
        *,
        verified: bool = True,
        model_changed: bool = False,
        computing: bool = False,
    ) -> None:
        """Render a stored result; a stale or unverified one is greyed and labelled, never current.

        `model_changed`: stale because another model is loaded now (the banner names the result's model).
        `computing`: the probability is here, its contour sensitivity not yet: every place the band (and
        the uncertainty it may show) goes says "computing…".

        Every text here may come from a file (category, flags, model name): labels are plain text.
        """
        if result is None:
            self.caption.setText(self.tr("No prediction yet: press Predict"))
            self.probability.setText("–")
            self.probability.setStyleSheet("")
            self.category.setText("")
            self.category.setStyleSheet("")
            self.details.setText("")
            self.bars.set_rows([], False)
            self.stale.setVisible(False)
            self.uncertain = False
            self.showing_result = False
            self._show_legend(self.outcome)
            return
        pred = result.prediction
        prob, threshold = pred.probability, pred.threshold
        dim = stale or not verified
        outcome = pred.outcome
        self._show_legend(outcome)
        self.showing_result = True
        outside = is_outside(pred)  # no class and no probability: only the reason
        self.caption.setText(
            self.tr(OUTSIDE_CAPTION)
            if outside
            else outcome.probability_of_in(translate)
            if verified
            else self.tr(UNVERIFIED_CAPTION)
        )
        self.probability.setText("—" if outside else format_probability(prob, threshold))
        self.probability.setStyleSheet("color: gray;" if dim else "")
        head, self.uncertain = headline(pred, translate)
        pending = computing and pred.sensitivity is None and not dim and not outside
        if pending:  # the class may still turn out uncertain within the contour's sensitivity
            head = f"{head}\n{translate('bars', COMPUTING)}"
        self.category.setText(head if verified else self.tr("saved: {headline}").format(headline=head))
        self.category.setStyleSheet(
            f"border: 2px solid {WARNING_CSS}; border-radius: 4px; padding: 3px; color: {WARNING_CSS};"
            if self.uncertain and not dim
            else ("color: gray;" if dim else "")
        )
        self.bars.set_rows([] if outside else bar_rows(result, pending), dim)
        self.stale.setVisible(dim)
        self.stale.setText(
            (_model_stale_text(result) if model_changed else self.tr(STALE_TEXT))
            if stale
            else self.tr(UNVERIFIED_BANNER)
        )
        self.details.setText("\n".join(result_lines(result, pending)))


def _model_stale_text(result: SavedResult) -> str:
    name = f"{result.model.id} {result.model.version}".strip()
    return translate("ResultPanel", MODEL_STALE_TEXT).format(
        model=name or translate("ResultPanel", "unknown")
    )
