"""How the domain guard and the prediction set read aloud: one wording for GUI, PDF, SR and CLI.

The typed result (`Prediction`) in, plain strings out; no Qt. "outside" shows no
class and no probability, only the reason; "unusual" shows the number with a caution; the
conformal prediction set is the headline uncertainty (docs/DOMAIN_GUARD.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from dlrs_desktop.model.anatomy import header_reason
from dlrs_desktop.model.domain import REASON_OUTSIDE, REASON_UNUSUAL, WHY, header_outside
from dlrs_desktop.model.reading import (
    class_text,
    is_uncertain,
    sensitivity_band,
    uncertain_text,
)
from dlrs_desktop.model.result import DomainResult, Prediction
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Translate, english

C, OUTCOME = "domain_text", "outcome"  # translation contexts (the GUI translates these at display time)
NO_REFERENCE = QT_TRANSLATE_NOOP("domain_text", "no domain reference in this bundle")
STATUS_WORDS = {
    "inside": QT_TRANSLATE_NOOP("domain_text", "inside the training domain"),
    "unusual": QT_TRANSLATE_NOOP("domain_text", "unusual for this model"),
    "outside": QT_TRANSLATE_NOOP("domain_text", "outside the training domain"),
    "unknown": QT_TRANSLATE_NOOP("domain_text", "not checked"),
}
STATUS_NAMES = {  # the status word inside "Domain: …" (a translation may not leave it in English)
    "inside": QT_TRANSLATE_NOOP("domain_text", "inside"),
    "unusual": QT_TRANSLATE_NOOP("domain_text", "unusual"),
    "outside": QT_TRANSLATE_NOOP("domain_text", "outside"),
}
EITHER = QT_TRANSLATE_NOOP("domain_text", "either (uncertain)")
#: check names that appear inside a reason: the default regions and their radiomics signatures
CHECK_NAMES = (
    QT_TRANSLATE_NOOP("domain_text", "intratumoral"),
    QT_TRANSLATE_NOOP("domain_text", "ring_3mm"),
    QT_TRANSLATE_NOOP("domain_text", "ring_5mm"),
    QT_TRANSLATE_NOOP("domain_text", "ring_10mm"),
    QT_TRANSLATE_NOOP("domain_text", "radiomics_ring_3mm"),
    QT_TRANSLATE_NOOP("domain_text", "radiomics_ring_5mm"),
    QT_TRANSLATE_NOOP("domain_text", "radiomics_ring_10mm"),
    QT_TRANSLATE_NOOP("domain_text", "radiomics_all"),
)
SET_LINE = QT_TRANSLATE_NOOP("domain_text", "Prediction set at {coverage} coverage: {classes}")
DOMAIN_UNKNOWN = QT_TRANSLATE_NOOP("domain_text", "Domain: {reason}")
DOMAIN_LINE = QT_TRANSLATE_NOOP(
    "domain_text",
    "Domain: {status} (score {score}; unusual above {unusual}, outside above {outside}) — {reason}",
)
OUTSIDE_TEXT = QT_TRANSLATE_NOOP("domain_text", "No result: {reason}")
CAUTION_TEXT = QT_TRANSLATE_NOOP("domain_text", "Caution — {reason}")
THRESHOLD = QT_TRANSLATE_NOOP("domain_text", "{text} (threshold {threshold})")
SET_HEADLINE = QT_TRANSLATE_NOOP(
    "domain_text", "{classes} — {coverage} prediction set · at the threshold: {category}"
)
CONTOUR_EVIDENCE = QT_TRANSLATE_NOOP("domain_text", "Contour: {text}")


def reason_of(d: DomainResult, tr: Translate) -> str:
    """The domain block's reason; the known core wordings translated (the guard's reasons are read back
    into their template and values, so a saved English reason reads in the interface's language too),
    any other text as written."""
    text = d.reason or NO_REFERENCE
    for outer in (REASON_OUTSIDE, REASON_UNUSUAL):
        m = _pattern(outer).fullmatch(text)
        if m:
            try:
                return tr(C, outer).format(why=_why(m["why"], tr))
            except (KeyError, IndexError, ValueError):  # a broken translation: the English words
                return text
    return tr(C, text)


def _why(text: str, tr: Translate) -> str:
    """One check's words translated; a check name or image statistic inside them too when known."""
    for template in WHY.values():
        m = _pattern(template).fullmatch(text)
        if m:
            fields = m.groupdict()
            if "name" in fields:
                fields["name"] = tr(C, fields["name"])
            try:
                return tr(C, template).format(**fields)
            except (KeyError, IndexError, ValueError):  # a broken translation: the English words
                return text
    return text


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    """A reason template as a regular expression with one named group per {field}."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(template)))


def domain_of(pred: Prediction) -> DomainResult:
    """The result's domain block; a result without one (older sidecars) reads as 'not checked'."""
    return pred.domain


def is_outside(pred: Prediction) -> bool:
    """True when the image is outside the model's domain: no class and no probability may be shown."""
    return domain_of(pred).status == "outside"


def is_unusual(pred: Prediction) -> bool:
    return domain_of(pred).status == "unusual"


def set_text(p: Prediction, tr: Translate = english) -> str:
    """ "early responder", "non-responder" or "either (uncertain)"; "" without a calibrated set."""
    classes = p.prediction_set
    if p.coverage is None or not classes:
        return ""
    return tr(OUTCOME, classes[0]) if len(classes) == 1 else tr(C, EITHER)


def set_line(p: Prediction, tr: Translate = english) -> str:
    """ "Prediction set at 90 % coverage: either (uncertain)"; "" when there is none or it is outside."""
    text = set_text(p, tr)
    if not text or is_outside(p) or p.coverage is None:
        return ""
    return tr(C, SET_LINE).format(coverage=f"{p.coverage:.0%}", classes=text)


def domain_line(pred: Prediction, tr: Translate = english) -> str:
    """ "Domain: unusual (score 7.1; unusual above 6.7, outside above 8.4) — <reason>"."""
    d = domain_of(pred)
    if d.status == "unknown" or None in (d.score, d.unusual_above, d.outside_above):
        return tr(C, DOMAIN_UNKNOWN).format(reason=reason_of(d, tr))
    return tr(C, DOMAIN_LINE).format(
        status=tr(C, STATUS_NAMES.get(d.status, d.status)),
        score=f"{d.score:.2f}",
        unusual=f"{d.unusual_above:.2f}",
        outside=f"{d.outside_above:.2f}",
        reason=reason_of(d, tr),
    )


def outside_text(pred: Prediction, tr: Translate = english) -> str:
    """The headline of a result outside the domain (the reason, no class)."""
    return tr(C, OUTSIDE_TEXT).format(reason=reason_of(domain_of(pred), tr))


def header_notice(metadata: Mapping[str, Any], body_part: str | None, tr: Translate = english) -> str:
    """ "No result: …" for an image whose DICOM header rules it out for a model of `body_part`
    (model/anatomy.py), said when it opens rather than after a contour is drawn; "" otherwise."""
    why = header_reason(metadata, body_part)
    return tr(C, OUTSIDE_TEXT).format(reason=reason_of(header_outside(None, why), tr)) if why else ""


def caution_text(pred: Prediction, tr: Translate = english) -> str:
    """The caution under an unusual result; "" otherwise."""
    return tr(C, CAUTION_TEXT).format(reason=reason_of(domain_of(pred), tr)) if is_unusual(pred) else ""


def headline(p: Prediction, tr: Translate = english) -> tuple[str, bool]:
    """The class line under the probability and whether it is a warning (GUI panel, PDF).

    outside → the reason, no class; with a conformal set → the set is the headline uncertainty
    ("either (uncertain)"), the thresholded class beside it; without one (older bundles) → the
    contour-sensitivity wording of `reading.class_text`. An unusual image adds the caution.
    """
    if is_outside(p):
        return outside_text(p, tr), True

    def with_threshold(text: str) -> str:
        return tr(C, THRESHOLD).format(text=text, threshold=f"{p.threshold:.2f}")

    text = set_text(p, tr)
    if text and p.coverage is not None:
        category = tr(OUTCOME, p.category)
        line = with_threshold(
            tr(C, SET_HEADLINE).format(classes=text, coverage=f"{p.coverage:.0%}", category=category)
        )
        warn = len(p.prediction_set) != 1
    else:
        line, warn = with_threshold(class_text(p, tr)), is_uncertain(p)
    caution = caution_text(p, tr)
    return (f"{line}\n{caution}" if caution else line), warn or bool(caution)


def evidence_lines(p: Prediction, tr: Translate = english) -> list[str]:
    """The domain line, and the contour sensitivity's uncertain state kept as evidence when a
    prediction set is the headline."""
    lines = [domain_line(p, tr)]
    band = sensitivity_band(p)
    if set_text(p) and band is not None and is_uncertain(p) and not is_outside(p):
        lines.append(tr(C, CONTOUR_EVIDENCE).format(text=uncertain_text(band[2], tr)))
    return lines
