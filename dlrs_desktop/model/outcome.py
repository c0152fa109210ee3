"""What a bundle's probability is of: the manifest's `outcome` block, its checks and its wording.

Every surface (result panel, PDF report, DICOM SR, `dlrs predict`, the model card) says "probability
of <short_name>" and names the classes with the bundle's own words, so a benign-vs-malignant bundle
never reads as an early-response one. Bundles written before these fields existed (the bundled
demonstration model) lack `short_name`, `positive_class` and `negative_class`: they read with the
early-response wording they were trained for. No Qt, no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from dlrs_desktop.errors import ModelError
from dlrs_desktop.textsafe import escape_controls
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Translate, english

#: The bundled demonstration model's outcome, and what an older manifest's missing fields read as.
DEFAULT_OUTCOME: dict[str, str] = {
    "name": QT_TRANSLATE_NOOP("outcome", "early response to neoadjuvant chemotherapy"),
    "definition": (
        "Early response of a breast tumour to neoadjuvant chemotherapy, predicted from one B-mode "
        "ultrasound image taken after two cycles (positive class = early responder)."
    ),
    "short_name": QT_TRANSLATE_NOOP("outcome", "early response"),
    "positive_label": QT_TRANSLATE_NOOP("outcome", "likely early responder"),
    "negative_label": QT_TRANSLATE_NOOP("outcome", "likely non-responder"),
    "positive_class": QT_TRANSLATE_NOOP("outcome", "early responder"),
    "negative_class": QT_TRANSLATE_NOOP("outcome", "non-responder"),
}
#: The intended use the early-response bundles were written with (`write_bundle`'s default).
DEFAULT_INTENDED_USE = (
    "Research use only. An adjunct that estimates the probability of early response of a breast "
    "tumour to neoadjuvant chemotherapy from one grayscale B-mode ultrasound image after two cycles, "
    "given a tumour contour drawn or checked by a sonographer. Never the sole basis of a clinical decision."
)
#: Ready-made outcomes for `dlrs train --outcome` and `dlrs model set-outcome --outcome`.
PRESETS: dict[str, dict[str, str]] = {
    "early-response": DEFAULT_OUTCOME,
    "malignancy": {
        "name": QT_TRANSLATE_NOOP("outcome", "malignancy of a breast lesion"),
        "definition": (
            "Malignancy of a breast lesion seen on one B-mode ultrasound image (positive class = "
            "malignant, negative class = benign), as established by the reference standard of the "
            "training data (histopathology or follow-up)."
        ),
        "short_name": QT_TRANSLATE_NOOP("outcome", "malignancy"),
        "positive_label": QT_TRANSLATE_NOOP("outcome", "likely malignant"),
        "negative_label": QT_TRANSLATE_NOOP("outcome", "likely benign"),
        "positive_class": QT_TRANSLATE_NOOP("outcome", "malignant"),
        "negative_class": QT_TRANSLATE_NOOP("outcome", "benign"),
    },
}
OUTCOME = "outcome"  # the translation context of the outcome words
PROBABILITY_OF = QT_TRANSLATE_NOOP("outcome", "probability of {short_name}")
CAM_LEGEND = QT_TRANSLATE_NOOP(
    "outcome", "Explanation map: orange = evidence for {short_name}, blue = against; stronger = more opaque"
)
#: Each text field of `outcome` and its longest allowed length (characters).
MAX_LENGTH: dict[str, int] = {
    "name": 200,
    "definition": 2000,
    "short_name": 80,
    "positive_label": 120,
    "negative_label": 120,
    "positive_class": 80,
    "negative_class": 80,
}
REQUIRED_FIELDS = ("name", "definition", "positive_label", "negative_label")
#: Added after schema v1 shipped: optional, and the early-response wording when absent.
OPTIONAL_FIELDS = ("short_name", "positive_class", "negative_class")


def text_problem(value: Any, max_len: int) -> str | None:
    """Why `value` is not acceptable manifest text (None when it is): shown in lists, reports, DICOM."""
    if not isinstance(value, str):
        return "must be text"
    if not value.strip():
        return "must not be empty"
    if len(value) > max_len:
        return f"must be at most {max_len} characters"
    if escape_controls(value) != value:
        return "must not hold control characters (line breaks, tabs, escapes, bidi overrides)"
    return None


def check_outcome(outcome: Any) -> None:
    """Refuse an `outcome` block with a missing or unusable text field, naming the field."""
    if not isinstance(outcome, dict):
        raise ModelError("Manifest field 'outcome' has the wrong type.")
    for key, max_len in MAX_LENGTH.items():
        if key not in outcome:
            if key in REQUIRED_FIELDS:
                raise ModelError(f"The model manifest is missing the required field 'outcome.{key}'.")
            continue
        problem = text_problem(outcome[key], max_len)
        if problem:
            raise ModelError(f"Manifest field 'outcome.{key}' {problem}.")


@dataclass(frozen=True)
class Outcome:
    """The words for what the model predicts (a validated manifest's `outcome`, defaults filled in)."""

    name: str
    definition: str
    short_name: str
    positive_label: str  # the result's category at or above the threshold, e.g. "likely malignant"
    negative_label: str
    positive_class: str  # the class itself, e.g. "malignant" (prediction sets, explanation maps)
    negative_class: str

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Outcome:
        """The outcome of a manifest `validate_manifest` accepted (older bundles: defaults filled in)."""
        return cls.from_dict(manifest.get("outcome"))

    @classmethod
    def from_dict(cls, d: Any) -> Outcome:
        """Lenient: any missing or unusable field reads as the default (a saved result is a file)."""
        d = d if isinstance(d, dict) else {}
        return cls(
            **{
                f.name: d[f.name]
                if text_problem(d.get(f.name), MAX_LENGTH[f.name]) is None
                else DEFAULT_OUTCOME[f.name]
                for f in fields(cls)
            }
        )

    @property
    def probability_of(self) -> str:
        """ "probability of malignancy" (lower case; `.capitalize()` it at the start of a sentence)."""
        return self.probability_of_in(english)

    def probability_of_in(self, tr: Translate) -> str:
        """`probability_of` in the GUI's language (`tr`: QCoreApplication.translate)."""
        return tr(OUTCOME, PROBABILITY_OF).format(short_name=tr(OUTCOME, self.short_name))

    @property
    def cam_legend(self) -> str:
        return self.cam_legend_in(english)

    def cam_legend_in(self, tr: Translate) -> str:
        return tr(OUTCOME, CAM_LEGEND).format(short_name=tr(OUTCOME, self.short_name))

    def label(self, positive: bool) -> str:
        return self.positive_label if positive else self.negative_label

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def summary(self) -> dict[str, str]:
        """What a script needs to know what the probability is of (`dlrs predict --json`)."""
        return {k: v for k, v in self.to_dict().items() if k != "definition"}


DEFAULT = Outcome.from_dict(DEFAULT_OUTCOME)


def task_for(outcome: Outcome) -> str:
    """The manifest's `task` for this outcome ("binary classification (probability of malignancy)")."""
    return f"binary classification ({outcome.probability_of})"


def intended_use_for(outcome: Outcome) -> str:
    """The default intended use for this outcome (the early-response bundles keep their own text)."""
    if outcome.short_name == DEFAULT.short_name:
        return DEFAULT_INTENDED_USE
    return (
        f"Research use only. An adjunct that estimates the {outcome.probability_of} ({outcome.name}) "
        "from one grayscale B-mode breast ultrasound image, given a tumour contour drawn or checked by "
        "a sonographer. Never the sole basis of a clinical decision."
    )


def apply_outcome(manifest: dict[str, Any], outcome: dict[str, str]) -> None:
    """Give a manifest a new outcome (in place); `task` and `intended_use` follow it unless they were
    written by hand (only the text derived from the old outcome is replaced)."""
    check_outcome(outcome)
    old, new = Outcome.from_manifest(manifest), Outcome.from_dict(outcome)
    if manifest.get("task") == task_for(old):
        manifest["task"] = task_for(new)
    if manifest.get("intended_use") == intended_use_for(old):
        manifest["intended_use"] = intended_use_for(new)
    manifest["outcome"] = dict(outcome)


def sentence_start(text: str) -> str:
    """The first letter upper-cased, the rest as written ("probability of HER2 …" keeps HER2)."""
    return text[:1].upper() + text[1:]
