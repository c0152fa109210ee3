"""How a prediction is read aloud: one wording and one explanation-map colouring for GUI, PDF and CLI.

The typed result (`Prediction`) and the bundle manifest in, plain data out; no Qt. Keeping the
words here means the workstation, its PDF report and `dlrs predict` can never disagree about whether a
result is uncertain, how long it took, what the probability is of (the bundle's `outcome`) or which
colour means "evidence for" it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dlrs_desktop.model.outcome import DEFAULT, Outcome
from dlrs_desktop.model.result import Prediction, check_finite
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Translate, english

OUTCOME, READING = "outcome", "reading"  # translation contexts (see dlrs_desktop/wording.py)
UNCERTAIN = QT_TRANSLATE_NOOP("reading", "uncertain — the class changes within ±{offset} mm of the contour")
AS_DRAWN = QT_TRANSLATE_NOOP("reading", "{uncertain} (as drawn: {category})")

#: Diverging map for class-activation values in logit units: evidence FOR the bundle's positive class
#: (e.g. early response, malignancy) is orange, AGAINST is blue (Okabe–Ito, colour-vision safe);
#: opacity grows with |value|.
CAM_FOR_RGB = (230, 159, 0)
CAM_AGAINST_RGB = (0, 114, 178)
#: The legend of a bundle without its own outcome wording; `outcome_of(pred).cam_legend` in general.
CAM_LEGEND = DEFAULT.cam_legend


def outcome_of(pred: Prediction | None, fallback: Outcome = DEFAULT) -> Outcome:
    """The outcome a result names, else `fallback` (the loaded model's, when there is no result)."""
    return fallback if pred is None else pred.outcome


def sensitivity_band(p: Prediction) -> tuple[float, float, float] | None:
    """(low, high, max offset mm) of the fused probability over the contour offsets, incl. the contour."""
    sens = p.sensitivity
    if sens is None or not sens.valid:
        return None
    probs = [*sens.valid, p.probability]
    offsets = [abs(o) for o, q in zip(sens.offsets_mm, sens.probabilities, strict=False) if q is not None]
    return min(probs), max(probs), max(offsets, default=0.0)


def uncertain_text(offset_mm: float, tr: Translate = english) -> str:
    return tr(READING, UNCERTAIN).format(offset=f"{offset_mm:g}")


def is_uncertain(p: Prediction) -> bool:
    """True when moving the contour by the sensitivity offsets puts the probability on both sides."""
    band = sensitivity_band(p)
    if band is None:
        return False
    low, high, _ = band
    return low < p.threshold <= high


def class_text(p: Prediction, tr: Translate = english) -> str:
    """The category, or the explicit uncertain state when the sensitivity band crosses the threshold.

    `tr`: the GUI's translation (the category is the bundle's word: translated when the catalogue has it)."""
    band = sensitivity_band(p)
    category = tr(OUTCOME, p.category)
    if band is not None and is_uncertain(p):
        return tr(READING, AS_DRAWN).format(uncertain=uncertain_text(band[2], tr), category=category)
    return category


def waited_seconds(pred: Prediction, waited_ms: float | None = None) -> float | None:
    """What the user waited for: the measured wall time when known, else prediction + sensitivity."""
    if waited_ms is not None:
        return float(waited_ms) / 1000
    t = pred.timings_ms
    if t.get("total") is None:
        return None
    return (t["total"] + t.get("sensitivity", 0.0)) / 1000


def region_thresholds(manifest: dict[str, Any]) -> dict[str, float]:
    """Each region network's own decision threshold, as chosen on the training split (from metrics)."""
    out: dict[str, float] = {}
    for row in manifest.get("metrics") or []:
        if row.get("split") == "train" and row.get("threshold") is not None:
            out[str(row.get("model"))] = float(row["threshold"])
    return out


def ring_radii(manifest: dict[str, Any]) -> tuple[float, ...]:
    """The ring radii (mm) of the bundle's validated preprocessing spec (`PreprocessSpec.ring_radii`):
    the rings on screen are exactly the ones the predictor measures, read through one validator."""
    # lazy: preprocess imports cv2 and roi (~0.45 s); the GUI calls this once a model has loaded
    from dlrs_desktop.model.preprocess import PreprocessSpec

    return PreprocessSpec.from_dict(manifest.get("preprocessing") or {}, manifest.get("regions")).ring_radii


@dataclass(frozen=True)
class BundleReading:
    """What the GUI reads from a loaded bundle's manifest, typed and checked once when the model loads
    (the manifest itself stays the bundle's JSON: `model/bundle.py` validates it for the predictor)."""

    outcome: Outcome
    ring_radii: tuple[float, ...]
    region_thresholds: dict[str, float]
    body_part: str | None = None  # training_data.body_part (validated at load; model/anatomy.py)

    def __post_init__(self) -> None:
        check_finite(self)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any] | None) -> BundleReading:
        """An empty or missing manifest (no model loaded) reads as the default outcome, no rings."""
        if not manifest:
            return cls(DEFAULT, (), {})
        part = (manifest.get("training_data") or {}).get("body_part")
        return cls(Outcome.from_manifest(manifest), ring_radii(manifest), region_thresholds(manifest), part)


def cam_rgba(values: np.ndarray, max_alpha: int = 200) -> np.ndarray | None:
    """(H, W) logit-unit map (NaN = outside the region) → RGBA uint8 with the signed diverging colouring.

    Opacity is |value| relative to the region's strongest value, so the sign never depends on a min–max
    stretch (in a JET map red could mean "against").
    """
    finite = np.isfinite(values)
    if not finite.any():
        return None
    scale = float(np.nanmax(np.abs(values))) or 1.0
    v = np.where(finite, values / scale, 0.0)
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    pos = v > 0
    rgba[pos, :3] = CAM_FOR_RGB
    rgba[~pos, :3] = CAM_AGAINST_RGB
    rgba[..., 3] = (max_alpha * np.abs(v)).clip(0, 255).astype(np.uint8)
    return rgba


def blend_cam(display_rgb: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The image with the explanation map laid over it (what the GUI shows), as RGB uint8."""
    base = np.asarray(display_rgb, dtype=np.float32)
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    rgba = cam_rgba(values)
    if rgba is None:
        return base.astype(np.uint8)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    return (base[..., :3] * (1 - alpha) + rgba[..., :3] * alpha).round().astype(np.uint8)
