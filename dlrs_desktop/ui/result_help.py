"""Plain words on the result panel: "How to read this" (expandable) and the contour's review state.

Every element of the panel is explained on screen, not only in tooltips: the big number, the line
under it, the bars with their dashed ticks, the box on Fusion, the weights, the stale/unverified
banners and the explanation map. The same text is the "Reading the result" section of F1 help. What
the number is the probability of is the loaded model's outcome (a benign-vs-malignant bundle's guide
speaks of malignancy, not of early response).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from dlrs_desktop.model.outcome import DEFAULT, OUTCOME, Outcome
from dlrs_desktop.regions import DEFAULT_RING_RADII_MM

# lupdate reads translate("context", text); a two-argument tr() it takes for (text, comment)
translate = QCoreApplication.translate


def reading_items(
    outcome: Outcome = DEFAULT, ring_radii: tuple[float, ...] = DEFAULT_RING_RADII_MM
) -> list[tuple[str, str]]:
    """(element, what it means) for every element of the result panel, in the loaded model's words
    (`outcome`) and with its rings (`ring_radii`, mm)."""
    return [*_headline_items(outcome), *_evidence_items(outcome, ring_radii)]


def _bars(ring_radii: tuple[float, ...]) -> str:
    """The bars: the study's 3, 5 and 10 mm rings in its own sentence, another model's by their widths."""
    if tuple(ring_radii) == DEFAULT_RING_RADII_MM:
        return translate(
            "ResultHelp",
            "one bar per network: the tumour itself and the 3, 5 and 10 mm rings around it. The dashed "
            "tick on each bar is that network's own threshold.",
        )
    if not ring_radii:
        return translate(
            "ResultHelp",
            "one bar, for the tumour's network (this model has no rings); the dashed tick is its own "
            "threshold.",
        )
    return translate(
        "ResultHelp",
        "one bar per network: the tumour itself and each ring around it ({radii} mm). The dashed tick on "
        "each bar is that network's own threshold.",
    ).format(radii=", ".join(f"{r:g}" for r in ring_radii))


def _big_number(outcome: Outcome) -> str:
    """What the number is the probability of: the study's own sentence for early response."""
    if outcome == DEFAULT:
        return translate(
            "ResultHelp",
            "the model's probability (0 to 1) of early response: the tumour shrinking well after two "
            "cycles of neoadjuvant chemotherapy. 1 = certain response, 0 = certain non-response.",
        )
    words = {k: translate(OUTCOME, v) for k, v in outcome.to_dict().items()}  # a bundle's own: as written
    return translate(
        "ResultHelp",
        "the model's probability (0 to 1) of {short_name} ({name}). 1 = certainly {positive_class}, "
        "0 = certainly {negative_class}.",
    ).format(**{k: words[k] for k in ("short_name", "name", "positive_class", "negative_class")})


def _headline_items(outcome: Outcome) -> list[tuple[str, str]]:
    """The answer: the number, its class, its prediction set and whether the image is in the domain."""
    return [
        (translate("ResultHelp", "Big number"), _big_number(outcome)),
        (
            translate("ResultHelp", "Line under it"),
            translate(
                "ResultHelp",
                "the class the probability falls in, compared with the model's decision threshold (shown "
                "with two decimals). It says 'uncertain' when moving the contour a little puts the "
                "probability on both sides of the threshold; then read the probability as borderline.",
            ),
        ),
        (
            translate("ResultHelp", "Prediction set"),
            translate(
                "ResultHelp",
                "the classes the model cannot rule out at the stated coverage (e.g. 90 %): one class, or "
                "'either (uncertain)'. The coverage is calibrated on the model's validation images and, for "
                "a model trained on several hospitals, on each hospital left out of its training; on a new "
                "hospital's images it can still be lower.",
            ),
        ),
        (
            translate("ResultHelp", "Training domain"),
            translate(
                "ResultHelp",
                "whether the image resembles those the model was trained on: inside; unusual (the number is "
                "shown with a caution); outside (no class and no number, only the reason). From the image "
                "alone it does not tell another organ from the one the model was trained on; a DICOM whose "
                "header names another body part or modality is outside. Use a model only on that organ.",
            ),
        ),
    ]


def _evidence_items(outcome: Outcome, ring_radii: tuple[float, ...]) -> list[tuple[str, str]]:
    """What stands behind the answer, and the states of the result and of the contour."""
    return [
        (translate("ResultHelp", "Bars"), _bars(ring_radii)),
        (
            translate("ResultHelp", "Fusion"),
            translate(
                "ResultHelp",
                "the final answer, combining all networks. The box on the Fusion bar is the range of the "
                "probability when the contour is moved in and out by the sensitivity offsets.",
            ),
        ),
        (
            translate("ResultHelp", "Weights in the fusion"),
            translate(
                "ResultHelp",
                "how much each network counts in the final answer; a weight of 0 means that network is "
                "not used.",
            ),
        ),
        (
            translate("ResultHelp", "STALE / SAVED — NOT VERIFIED"),
            translate(
                "ResultHelp",
                "the result no longer describes the contour shown (it was edited, or the result was read "
                "from a file): press Predict.",
            ),
        ),
        (
            translate("ResultHelp", "Explanation map"),
            translate(
                "ResultHelp",
                "colours the image where a network found evidence for (orange) or against (blue) {outcome}.",
            ).format(outcome=translate(OUTCOME, outcome.short_name)),
        ),
        (
            translate("ResultHelp", "Contour review"),
            translate(
                "ResultHelp",
                "'reviewed' once a person checked the contour (Ctrl+R); any edit returns it to draft.",
            ),
        ),
    ]


def reading_html(outcome: Outcome = DEFAULT, ring_radii: tuple[float, ...] = DEFAULT_RING_RADII_MM) -> str:
    """The F1 help section (and docs/USER_GUIDE.md says the same), in the loaded model's words."""
    item = translate("ResultHelp", "<b>{element}</b>: {meaning}")  # Chinese: a full-width colon
    items = "".join(
        f"<li>{item.format(element=html.escape(k), meaning=html.escape(v))}</li>"
        for k, v in reading_items(outcome, ring_radii)
    )
    title = QCoreApplication.translate("ResultHelp", "Reading the result")
    note = QCoreApplication.translate(
        "ResultHelp", "Research use only: a probability from one image, not a diagnosis."
    )
    return f"<h2>{html.escape(title)}</h2><ul>{items}</ul><p>{html.escape(note)}</p>"


class ReadingGuide(QWidget):
    """A "How to read this ▸" button that opens the plain-words explanation below it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.button = QToolButton()
        self.button.setText(self.tr("How to read this"))
        self.button.setCheckable(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.toggled.connect(self.set_open)
        lay.addWidget(self.button)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setVisible(False)
        lay.addWidget(self.text)
        self.set_model(DEFAULT)

    def set_model(self, outcome: Outcome, ring_radii: tuple[float, ...] = DEFAULT_RING_RADII_MM) -> None:
        """Speak of the loaded model's outcome and rings (the panel calls this when a model loads)."""
        item = translate("ResultHelp", "• {element}: {meaning}")
        items = reading_items(outcome, ring_radii)
        self.text.setText("\n".join(item.format(element=k, meaning=v) for k, v in items))

    def set_open(self, on: bool) -> None:
        self.button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.text.setVisible(on)
        if on:  # the panel scrolls: bring the opened text into view, not below the fold
            parent = self.parentWidget()
            while parent is not None and not isinstance(parent, QScrollArea):
                parent = parent.parentWidget()
            if parent is not None:
                area = parent
                QTimer.singleShot(0, lambda: area.ensureWidgetVisible(self, 0, 0))


class ReviewLine(QLabel):
    """The contour's review state on the panel itself (the status bar message fades)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)  # the reviewer's name is the user's text
        self.setWordWrap(True)
        self.set_review("draft", None, "")

    def set_review(self, status: str, reviewer: str | None, when: str) -> None:
        if status == "reviewed":
            self.setText(
                self.tr("Contour: reviewed by {who} at {when}").format(who=reviewer or "–", when=when)
            )
            self.setStyleSheet("color:#1b7837; font-weight:bold;")
        else:
            self.setText(self.tr("Contour: draft (not reviewed yet; Ctrl+R marks it reviewed)"))
            self.setStyleSheet("color:gray;")
