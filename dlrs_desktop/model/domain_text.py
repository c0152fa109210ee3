"""How the domain guard and the prediction set read aloud: one wording for GUI, PDF, SR and CLI.

Plain data in (`Prediction.to_dict()`), plain strings out; no Qt, no numpy. "outside" shows no
class and no probability, only the reason; "unusual" shows the number with a caution; the
conformal prediction set is the headline uncertainty (docs/DOMAIN_GUARD.md).
"""

from __future__ import annotations

from typing import Any

from dlrs_desktop.model.reading import class_text, is_uncertain, sensitivity_band, uncertain_text

NO_REFERENCE = "no domain reference in this bundle"
STATUS_WORDS = {
    "inside": "inside the training domain",
    "unusual": "unusual for this model",
    "outside": "outside the training domain",
    "unknown": "not checked",
}


def domain_of(pred: dict[str, Any]) -> dict[str, Any]:
    """The result's domain block; a result without one (older sidecars) reads as 'not checked'."""
    d = pred.get("domain")
    if isinstance(d, dict) and d.get("status") in STATUS_WORDS:
        return d
    return {"status": "unknown", "score": None, "unusual_above": None, "outside_above": None,
            "reason": NO_REFERENCE}  # fmt: skip


def is_outside(pred: dict[str, Any]) -> bool:
    """True when the image is outside the model's domain: no class and no probability may be shown."""
    return domain_of(pred)["status"] == "outside"


def is_unusual(pred: dict[str, Any]) -> bool:
    return domain_of(pred)["status"] == "unusual"


def set_text(pred: dict[str, Any]) -> str:
    """ "early responder", "non-responder" or "either (uncertain)"; "" without a calibrated set."""
    classes = pred.get("prediction_set")
    if not isinstance(classes, list) or pred.get("coverage") is None or not classes:
        return ""
    return str(classes[0]) if len(classes) == 1 else "either (uncertain)"


def set_line(pred: dict[str, Any]) -> str:
    """ "Prediction set at 90 % coverage: either (uncertain)"; "" when there is none or it is outside."""
    text = set_text(pred)
    if not text or is_outside(pred):
        return ""
    return f"Prediction set at {float(pred['coverage']):.0%} coverage: {text}"


def domain_line(pred: dict[str, Any]) -> str:
    """ "Domain: unusual (score 7.1; unusual above 6.7, outside above 8.4) — <reason>"."""
    d = domain_of(pred)
    if d["status"] == "unknown":
        return f"Domain: {d.get('reason') or NO_REFERENCE}"
    return (
        f"Domain: {d['status']} (score {float(d['score']):.2f}; "
        f"unusual above {float(d['unusual_above']):.2f}, "
        f"outside above {float(d['outside_above']):.2f}) — {d['reason']}"
    )


def outside_text(pred: dict[str, Any]) -> str:
    """The headline of a result outside the domain (the reason, no class)."""
    return f"No result: {domain_of(pred)['reason']}"


def caution_text(pred: dict[str, Any]) -> str:
    """The caution under an unusual result; "" otherwise."""
    return f"Caution — {domain_of(pred)['reason']}" if is_unusual(pred) else ""


def headline(pred: dict[str, Any]) -> tuple[str, bool]:
    """The class line under the probability and whether it is a warning (GUI panel, PDF).

    outside → the reason, no class; with a conformal set → the set is the headline uncertainty
    ("either (uncertain)"), the thresholded class beside it; without one (older bundles) → the
    contour-sensitivity wording of `reading.class_text`. An unusual image adds the caution.
    """
    if is_outside(pred):
        return outside_text(pred), True
    threshold = pred.get("threshold")
    thr = f" (threshold {float(threshold):.2f})" if threshold is not None else ""
    text = set_text(pred)
    if text:
        cov = float(pred["coverage"])
        line = f"{text} — {cov:.0%} prediction set · at the threshold: {pred.get('category', '')}{thr}"
        warn = len(pred.get("prediction_set") or []) != 1
    else:
        line, warn = f"{class_text(pred)}{thr}", is_uncertain(pred)
    caution = caution_text(pred)
    return (f"{line}\n{caution}" if caution else line), warn or bool(caution)


def evidence_lines(pred: dict[str, Any]) -> list[str]:
    """The domain line, and the contour sensitivity's uncertain state kept as evidence when a
    prediction set is the headline."""
    lines = [domain_line(pred)]
    band = sensitivity_band(pred)
    if set_text(pred) and band is not None and is_uncertain(pred) and not is_outside(pred):
        lines.append(f"Contour: {uncertain_text(band[2])}")
    return lines
