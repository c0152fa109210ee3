"""Stacking meta-learners over region logits, fitted on out-of-fold predictions.

Why out-of-fold: the base network has seen every training case, so its in-sample logits are
over-confident; a meta-learner fitted on them learns to trust the most over-fitted region and
inflates the training AUC. As scikit-learn's StackingClassifier does with `cross_val_predict`,
the training cases are split into K folds grouped by patient (or one fold per centre with
`--fold-by centre`), K networks each predict the fold they did not train on, and the logistic
meta-learner is fitted on those predictions. The network shipped in the bundle is then trained
on all training cases (same recipe).

Why each network's logits are standardised first: K+1 networks trained from scratch on a few
hundred cases do not share a logit scale (measured: one fold's intratumoral head gave logits with
mean -8.5 and SD 8.2, the others SD 0.2-0.7). Pooled raw, such out-of-fold logits teach the
meta-learner a weight that means nothing for the shipped network (that fold drove the
intratumoral weight to 0.05, although the shipped network's intratumoral head was its best
region). So each fold's held-out logits are z-scored per region with that fold network's own mean
and SD, the meta-learner is fitted in those units, and its coefficients are converted to the
shipped network's raw logits with that network's mean and SD on held-out cases (the internal
split; the training split if there is none) — a linear change, so the bundle format and
`Stacking.fuse` are unchanged.

Every row of the evaluation table is such a logistic model over a subset of the regions
(a single region = Platt scaling of its head), stored as a full-length coefficient vector with
zeros for the regions it does not use, so the bundle's `Stacking.fuse` applies to all of them.

Why the coefficients are constrained to be non-negative: every region head is trained toward the
label, so a larger logit always means "more likely to respond". A negative weight can only come
from weak fold networks whose held-out logits happen to point the wrong way — measured: a
3-epoch run gave the intratumoral region −1.36 although the shipped network's intratumoral head
had AUC 0.70–0.73, and every fusion fell below 0.5. The meta-learners therefore minimise
scikit-learn's L2-penalised logistic loss with the bounds w ≥ 0 (scipy L-BFGS-B); a region whose
out-of-fold logits point against the label gets weight 0 and a note that `selection.py` turns into
a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlrs_desktop.model.radiomics import signature_name
from dlrs_desktop.training.metrics import auc, youden_threshold

REGION_LABELS = {
    "intratumoral": "Intratumoral",
    "ring_3mm": "Peritumoral 3 mm",
    "ring_5mm": "Peritumoral 5 mm",
    "ring_10mm": "Peritumoral 10 mm",
}


@dataclass(frozen=True)
class RowModel:
    """One row of the study table: a logistic model over some region logits."""

    key: str  # e.g. "intratumoral", "fusion_ring_5mm", "fusion_all"
    label: str
    regions: tuple[str, ...]
    kind: str  # "single" | "fusion"
    coefficients: tuple[float, ...]  # full length (all regions)
    intercept: float
    threshold: float  # Youden on the training split's out-of-fold probabilities
    oof_auc: float
    fit: str = "out-of-fold"  # where the coefficients come from (selection.py may refit a single row)
    notes: tuple[str, ...] = ()  # why a coefficient was constrained or a row refitted

    def predict(self, logits: np.ndarray) -> np.ndarray:
        z = np.asarray(logits, np.float64) @ np.asarray(self.coefficients) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "regions": list(self.regions),
            "kind": self.kind,
            "coefficients": list(self.coefficients),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "oof_auc": self.oof_auc,
            "fit": self.fit,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict) -> RowModel:
        return cls(
            d["key"],
            d["label"],
            tuple(d["regions"]),
            d["kind"],
            tuple(float(c) for c in d["coefficients"]),
            float(d["intercept"]),
            float(d["threshold"]),
            float(d.get("oof_auc", float("nan"))),
            str(d.get("fit", "out-of-fold")),
            tuple(str(n) for n in d.get("notes", ())),
        )


def row_specs(region_names: tuple[str, ...]) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(key, label, regions, kind): singles, intratumoral + each ring, all regions."""
    rows = [(n, REGION_LABELS.get(n, n), (n,), "single") for n in region_names]
    tumour = region_names[0]
    for n in region_names[1:]:
        rows.append(
            (
                f"fusion_{n}",
                f"Fusion: {REGION_LABELS.get(tumour, tumour)} + {REGION_LABELS.get(n, n)}",
                (tumour, n),
                "fusion",
            )
        )
    if len(region_names) > 2:
        rows.append(("fusion_all", "Fusion: all regions", tuple(region_names), "fusion"))
    return rows


def fit_nonnegative_logistic(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, float]:
    """scikit-learn's L2 logistic objective, C·Σ log-loss + ½‖w‖², minimised with w ≥ 0 (intercept free)."""
    # lazy: optional [train] extra; extras.require names the install
    from scipy.optimize import minimize
    from scipy.special import expit

    x = np.asarray(x, np.float64)
    yf = np.asarray(y, np.float64)
    k = x.shape[1]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k], theta[k]
        z = x @ w + b
        loss = c * float(np.sum(np.logaddexp(0.0, z) - yf * z)) + 0.5 * float(w @ w)
        r = expit(z) - yf
        return loss, np.r_[c * (x.T @ r) + w, c * r.sum()]

    start = np.zeros(k + 1)
    start[k] = np.log(max(yf.mean(), 1e-3) / max(1 - yf.mean(), 1e-3))
    bounds = [(0.0, None)] * k + [(None, None)]
    res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 2000, "gtol": 1e-10, "ftol": 1e-14})  # fmt: skip
    return np.maximum(res.x[:k], 0.0), float(res.x[k])


def sign_note(region: str, free: float, own_auc: float, constrained: float) -> str:
    """Why a region's weight was held at its bound: inverted on its own, or only given the others."""
    if own_auc < 0.5:
        why = f"out-of-fold logits point against the label (out-of-fold AUC {own_auc:.3f})"
    else:
        why = (
            f"negative weight only given the other regions (collinear with them; its own out-of-fold "
            f"AUC {own_auc:.3f} is above chance)"
        )
    return f"{region}: {why}; unconstrained coefficient {free:.2f}, constrained to {constrained:.2f}"


def fit_row_models(
    oof_logits: np.ndarray,
    y: np.ndarray,
    region_names: tuple[str, ...],
    c: float = 1.0,
    signatures: tuple[str, ...] = (),
) -> list[RowModel]:
    """Fit every row's non-negative logistic meta-learner on out-of-fold inputs of the training split.

    Inputs (N, R + S): the region logits, then the radiomics signature logits named `signatures`
    (model/radiomics.py); a fusion row stacks its regions and its own signature, if there is one.
    An input whose unconstrained weight would be negative (its out-of-fold logits point against the
    label) is noted on the row; the weight stays at its bound, 0.
    """
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y).astype(int)
    names = tuple(region_names) + tuple(signatures)
    out = []
    for key, label, regions, kind in row_specs(region_names):
        idx = [region_names.index(r) for r in regions]
        if kind == "fusion" and signature_name(key) in signatures:
            idx.append(names.index(signature_name(key)))
            label += " + radiomics"
        w, b = fit_nonnegative_logistic(oof_logits[:, idx], y, c)
        free = LogisticRegression(C=c, max_iter=1000).fit(oof_logits[:, idx], y).coef_[0]
        notes = tuple(
            sign_note(names[i], f, auc(y, oof_logits[:, i]), wi)
            for i, f, wi in zip(idx, free, w, strict=True)
            if f < 0
        )
        coef = np.zeros(len(names))
        coef[idx] = w
        model = RowModel(key, label, regions, kind, tuple(float(v) for v in coef), b, 0.5, float("nan"))
        p = model.predict(oof_logits)
        thr = youden_threshold(y, p)
        out.append(RowModel(key, label, regions, kind, model.coefficients, b, thr, auc(y, p), notes=notes))
    return out


def standardise_per_fold(logits: np.ndarray, fold_rows: list[list[int]]) -> np.ndarray:
    """Out-of-fold logits (N, R) z-scored per region within each fold (each fold = one network)."""
    z = np.full(np.shape(logits), np.nan)
    for rows in fold_rows:
        block = np.asarray(logits, np.float64)[rows]
        z[rows] = (block - block.mean(axis=0)) / np.maximum(block.std(axis=0), 1e-6)
    return z


def to_network_units(rows: list[RowModel], reference_logits: np.ndarray) -> tuple[list[RowModel], dict]:
    """Row models fitted on standardised logits → the same models on one network's raw logits.

    With m, s the network's per-region mean and SD on `reference_logits` (held-out cases):
    c·(l − m)/s + b = (c/s)·l + (b − Σ c·m/s). Thresholds are probabilities: unchanged.
    """
    ref = np.asarray(reference_logits, np.float64)
    m, sd = ref.mean(axis=0), np.maximum(ref.std(axis=0), 1e-6)
    out = []
    for r in rows:
        c = np.asarray(r.coefficients)
        out.append(
            RowModel(
                r.key,
                r.label,
                r.regions,
                r.kind,
                tuple(float(v) for v in c / sd),
                float(r.intercept - np.sum(c * m / sd)),
                r.threshold,
                r.oof_auc,
                r.fit,
                r.notes,
            )
        )
    return out, {"mean": [float(v) for v in m], "sd": [float(v) for v in sd], "n": len(ref)}
