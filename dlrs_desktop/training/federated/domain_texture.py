"""The guard's texture checks of a federated bundle, fitted from the sites' sums (model/domain_texture.py).

What `training/domain_texture_fit.fit_texture` fits on a pooled cohort, without pooling:

* mean and SD of the 15-number descriptor over the training split from Σx and Σxxᵀ; the
  Ledoit–Wolf precision of the standardised descriptor from Σuuᵀ and Σ‖u‖⁴ (the features' formula,
  `aggregates.ledoit_wolf_precision`): exact;
* the synthetic-likeness gate: the negatives are `dlrs synth` images and simulated phantom scans the
  server draws itself (no patient in them), the training images stay at the sites. The same
  L2-penalised logistic regression with balanced class weights as scikit-learn's, solved by the
  stacking's federated Newton solver (aggregates.fit_logistic_federated): each round the sites
  return the log-loss, gradient and Hessian of their training cases at the server's coefficients
  (1 + 16 + 256 numbers), the server adds the negatives' terms and the penalty. Converges to the
  optimum scikit-learn's solver approximates.

The wire form of a texture block is one (D + 4, D) array: mean, scale, coefficients, [intercept, gate
logit, has gate, 0…], then the precision's D rows; a (0, D) array means "no texture checks".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError
from dlrs_desktop.model import domain_texture as dtx
from dlrs_desktop.training import domain_texture_fit as tfit
from dlrs_desktop.training.federated import aggregates as agg

D = len(dtx.FEATURES)
Sum = Callable[..., list[Any]]  # federated.domain._Fit._sum: (task, arrays, config, shapes) -> sums + [n]


def pack(block: dict[str, Any] | None) -> np.ndarray:
    """A texture block (manifest form) → its wire array; None → the empty (0, D) array."""
    if block is None:
        return np.zeros((0, D))
    syn = block.get("synthetic")
    head = np.zeros(D)
    coef = np.zeros(D)
    if syn is not None:
        coef = np.asarray(syn["coef"], np.float64)
        head[:3] = (float(syn["intercept"]), float(syn["gate_logit"]), 1.0)
    rows = [np.asarray(block["mean"]), np.asarray(block["scale"]), coef, head, np.asarray(block["precision"])]
    return np.vstack(rows).astype(np.float64)


def unpack(wire: np.ndarray) -> dtx.TextureModel | None:
    """The wire array → the texture model, validated like a manifest's block (ModelError otherwise)."""
    a = np.asarray(wire, np.float64)
    if a.shape == (0, D):
        return None
    if a.shape != (D + 4, D):
        raise CohortError(f"a texture block must be ({D + 4}, {D}) or (0, {D}), not {a.shape}")
    block: dict[str, Any] = {
        "method": dtx.METHOD,
        "features": list(dtx.FEATURES),
        "mean": a[0].tolist(),
        "scale": a[1].tolist(),
        "precision": a[4:].tolist(),
        "synthetic": None,
    }
    if a[3, 2] == 1.0:
        intercept, gate = float(a[3, 0]), float(a[3, 1])
        block["synthetic"] = {"coef": a[2].tolist(), "intercept": intercept, "gate_logit": gate}
    return dtx.parse_texture(block)


def fit(sums: Sum, n: int, spec: Any, negatives: int) -> dict[str, Any]:
    """The manifest block `domain_reference.texture` from the sites (and `negatives` dlrs synth patients
    plus as many simulated phantom scans)."""
    s1, s2, n_sent = sums("domain_texture", [], {"step": "moments"}, [(D,), (D, D)])
    agg.same_cases(n, n_sent)
    mean = s1 / n
    scale = np.maximum(np.sqrt(np.maximum(np.diag(s2) / n - mean**2, 0.0)), tfit.SCALE_FLOOR)
    uu, u4, n_sent = sums("domain_texture", [mean, scale], {"step": "fourth"}, [(D, D), (1,)])
    agg.same_cases(n, n_sent)
    prec = agg.ledoit_wolf_precision(uu, float(u4[0]), n)
    block: dict[str, Any] = {
        "method": dtx.METHOD,
        "features": list(dtx.FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "precision": prec.tolist(),
        "n_train": int(n),
        "synthetic": None,
    }
    if negatives > 0:
        neg, source = tfit.synthetic_negatives(spec, negatives)
        w = _logistic(sums, n, mean, scale, (neg - mean) / scale)
        block["synthetic"] = {
            "coef": w[:D].tolist(),
            "intercept": float(w[D]),
            "gate_logit": 0.0,
            "negatives": source,
            "n_negatives": len(neg),
            "rule": "logistic regression (balanced classes) of synthetic images against the training split, "
            "fitted across sites by Newton's method; outside above logit 0",
        }
    return block


def _logistic(sums: Sum, n: int, mean: np.ndarray, scale: np.ndarray, v: np.ndarray) -> np.ndarray:
    """argmin of Σ_i sw_i·logloss_i + ½‖coef‖² (intercept free): scikit-learn's
    LogisticRegression(C=1, class_weight="balanced") objective, by the federated Newton solver of the
    stacking (aggregates.fit_logistic_federated). The training cases (label 0) at the sites, the
    synthetic negatives `v` (label 1) here; each side's terms scaled by its balanced class weight."""
    total = n + len(v)
    w0, w1 = total / (2.0 * n), total / (2.0 * len(v))
    ones = np.ones(len(v))

    def terms(w: np.ndarray, b: float) -> np.ndarray:
        site, n_sent = sums("domain_texture", [mean, scale, np.r_[w, b]], {"step": "logistic"},
                             [(agg.terms_size(D),)])  # fmt: skip
        agg.same_cases(n, n_sent)
        return w0 * site + w1 * agg.logistic_terms(v, ones, w, b)

    coef, intercept, _ = agg.fit_logistic_federated(terms, D, 1.0, 0.0, nonneg=False)
    return np.r_[coef, intercept]
