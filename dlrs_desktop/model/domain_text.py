"""How the domain guard and the prediction set read aloud: one wording for GUI, PDF, SR and CLI.

Plain data in (`Prediction.to_dict()`), plain strings out; no Qt, no numpy. "outside" shows no
class and no probability, only the reason; "unusual" shows the number with a caution; the
conformal prediction set is the headline uncertainty (docs/DOMAIN_GUARD.md).
"""

from __future__ import annotations

from typing import Any

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
