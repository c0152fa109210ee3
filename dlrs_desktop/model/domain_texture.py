"""Texture part of the domain guard: is the speckle around the lesion that of a real scan? (numpy + cv2)

The network's pooled features of a model trained on real breast scans place a speckle phantom or a
`dlrs synth` image among its training images (docs/DOMAIN_GUARD.md): a ResNet trained to tell benign
from malignant keeps what separates those classes and discards the texture that makes a picture a
scan. So the guard also describes that texture directly, with 15 numbers measured in the box around
the regions (the same box as the speckle contrast):

* local coefficient of variation (5×5-style local SD / local mean) at three window sizes, 3, 7 and
  15 px: speckle grain and how it averages out;
* axial-versus-lateral gradient energy (log ratio): real speckle is elongated along the beam;
* the normalised autocorrelation of the high-passed image at lags 1, 2 and 4 px, axially and
  laterally: speckle size in each direction;
* fine-scale sharpness (Laplacian energy over gradient energy, log);
* shape of the grey-level distribution: skewness, log kurtosis, fraction of near-black and of
  saturated pixels.

Two checks use them (manifest block `domain_reference.texture`, every number validated at load):

* `texture:distance` — a one-class distance: Mahalanobis distance (Ledoit–Wolf-shrunk precision of
  the standardised descriptor over the training split) divided by √15, so ≈ 1 for a typical
  training image. Generic: it needs nothing but the training images.
* `texture:synthetic` — optional, fitted only when asked (`--synthetic-negatives N`): the logit of a
  logistic regression telling the training images from simulated ones: the application's own generator,
  `dlrs synth` (its bundled sample data are synthetic), and simulated QA-phantom scans
  (training/phantom.py) — outlier exposure with known sources of non-patients. Above the block's
  `gate_logit` (0: the classifier's own boundary, fitted with balanced classes) the image is
  "outside" whatever the other checks say, with that reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.errors import ModelError

METHOD = "dlrs-texture/1"
FEATURES = (
    "local_cv_3px", "local_cv_7px", "local_cv_15px", "axial_lateral_gradient_log_ratio",
    "autocorr_axial_1px", "autocorr_lateral_1px", "autocorr_axial_2px", "autocorr_lateral_2px",
    "autocorr_axial_4px", "autocorr_lateral_4px", "laplacian_gradient_log_ratio",
    "grey_skewness", "grey_log_kurtosis", "fraction_near_black", "fraction_saturated",
)  # fmt: skip
DISTANCE = "texture:distance"
SYNTHETIC = "texture:synthetic"
MAX_ABS = 1e9
_MAX_PIXELS = 65536


def lesion_box(gray: np.ndarray, scan_mask: np.ndarray, roiset: Any) -> tuple[np.ndarray, np.ndarray]:
    """(grey levels as float32, scan area) of the box around every region — the lesion's surroundings —
    at native resolution up to 65 536 pixels (strided beyond): where the guard measures texture."""
    boxes = np.array([r.bbox for r in roiset.all], dtype=int)
    x0, y0 = boxes[:, :2].min(axis=0)
    x1, y1 = boxes[:, 2:].max(axis=0)
    step = max(1, math.ceil(math.sqrt((x1 - x0) * (y1 - y0) / _MAX_PIXELS)))
    g = np.asarray(gray)[y0:y1:step, x0:x1:step].astype(np.float32)  # crop first: the whole image is larger
    return g, np.asarray(scan_mask, bool)[y0:y1:step, x0:x1:step]


def descriptor(gray: np.ndarray, scan_mask: np.ndarray, roiset: Any) -> np.ndarray:
    """The 15 texture numbers (FEATURES order) in the scan area of the box around every region."""
    g, m = lesion_box(gray, scan_mask, roiset)
    if g.shape[0] < 16 or g.shape[1] < 16 or m.sum() < 64:
        return np.zeros(len(FEATURES))
    out = []
    for k in (3, 7, 15):
        mean = cv2.blur(g, (k, k))
        sd = np.sqrt(np.maximum(cv2.blur(g * g, (k, k)) - mean * mean, 0.0))
        ok = m & (mean > 8.0)
        out.append(float(np.minimum(sd[ok] / mean[ok], 3.0).mean()) if ok.any() else 0.0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)
    ex, ey = float((gx[m] ** 2).mean()), float((gy[m] ** 2).mean())
    out.append(math.log(ey + 1.0) - math.log(ex + 1.0))
    hp = np.where(m, g - cv2.GaussianBlur(g, (0, 0), 4.0), 0.0)
    power = max(float((hp * hp).mean()), 1e-9)
    for d in (1, 2, 4):
        out.append(float((hp[d:, :] * hp[:-d, :]).mean()) / power)  # along the beam (axial)
        out.append(float((hp[:, d:] * hp[:, :-d]).mean()) / power)  # across it (lateral)
    lap = cv2.Laplacian(g, cv2.CV_32F)
    out.append(math.log(float((lap[m] ** 2).mean()) + 1.0) - math.log(ex + ey + 1.0))
    v = g[m].astype(np.float64)
    u = (v - v.mean()) / (v.std() + 1e-6)
    u2 = u * u  # products, not u**3 / u**4 (a float power per pixel is ten times slower)
    out += [float(np.mean(u2 * u)), math.log(float(np.mean(u2 * u2)) + 1e-6)]
    out += [float(np.mean(v < 10)), float(np.mean(v > 240))]
    return np.asarray(out, np.float64)


@dataclass(frozen=True, eq=False)
class TextureModel:
    mean: np.ndarray  # (D,) training-split mean of the descriptor
    scale: np.ndarray  # (D,) training-split SD (> 0)
    precision: np.ndarray  # (D, D) Ledoit–Wolf-shrunk precision of the standardised descriptor
    coef: np.ndarray | None  # (D,) synthetic-vs-training logistic regression on the standardised descriptor
    intercept: float
    gate_logit: float | None  # "outside" above this synthetic-likeness logit

    def values(self, desc: np.ndarray) -> dict[str, float]:
        """The texture checks' raw values for one descriptor."""
        u = (np.asarray(desc, np.float64) - self.mean) / self.scale
        out = {DISTANCE: float(math.sqrt(max(float(u @ self.precision @ u), 0.0) / len(u)))}
        if self.coef is not None:
            out[SYNTHETIC] = float(u @ self.coef + self.intercept)
        return out

    def check_names(self) -> set[str]:
        return {DISTANCE} | ({SYNTHETIC} if self.coef is not None else set())

    def gated(self, values: dict[str, float]) -> bool:
        """True when the synthetic-likeness classifier says "not a scan" (above its gate)."""
        return self.gate_logit is not None and values.get(SYNTHETIC, -math.inf) > self.gate_logit


def _bad(field: str, what: str) -> ModelError:
    return ModelError(
        f"Manifest field 'domain_reference.texture.{field}' {what}; refusing the bundle's domain reference."
    )


def _vector(v: Any, field: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise _bad(field, "must hold numbers") from None
    if a.shape != shape:
        raise _bad(field, f"must have shape {shape}")
    if not np.all(np.isfinite(a)) or np.max(np.abs(a)) > MAX_ABS:
        raise _bad(field, "must hold finite numbers")
    return a


def parse_texture(block: Any) -> TextureModel:
    """The texture block of a domain reference, every number checked (a ModelError otherwise)."""
    if not isinstance(block, dict) or block.get("method") != METHOD:
        raise _bad("method", f"must be {METHOD!r}")
    if block.get("features") != list(FEATURES):
        raise _bad("features", "must name the texture features of this version, in order")
    d = len(FEATURES)
    mean, scale = _vector(block.get("mean"), "mean", (d,)), _vector(block.get("scale"), "scale", (d,))
    prec = _vector(block.get("precision"), "precision", (d, d))
    if not np.all(scale > 0):
        raise _bad("scale", "must be greater than 0")
    if not np.all(np.diagonal(prec) > 0) or not np.allclose(prec, prec.T, atol=1e-6):
        raise _bad("precision", "must be symmetric with a positive diagonal")
    syn = block.get("synthetic")
    if syn is None:
        return TextureModel(mean, scale, prec, None, 0.0, None)
    if not isinstance(syn, dict):
        raise _bad("synthetic", "must be an object or null")
    coef = _vector(syn.get("coef"), "synthetic.coef", (d,))
    intercept = float(_vector(syn.get("intercept"), "synthetic.intercept", ()))
    gate = float(_vector(syn.get("gate_logit"), "synthetic.gate_logit", ()))
    return TextureModel(mean, scale, prec, coef, intercept, gate)
