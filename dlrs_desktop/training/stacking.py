"""Stacking meta-learners over region logits, fitted on out-of-fold predictions.

Why out-of-fold: the base network has seen every training case, so its in-sample logits are
over-confident; a meta-learner fitted on them learns to trust the most over-fitted region and
inflates the training AUC. As scikit-learn's StackingClassifier does with `cross_val_predict`,
the training cases are split into K folds grouped by patient, K networks each predict the fold
they did not train on, and the logistic meta-learner is fitted on those predictions. The
network shipped in the bundle is then trained on all training cases (same recipe).

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def fit_row_models(
    oof_logits: np.ndarray, y: np.ndarray, region_names: tuple[str, ...], c: float = 1.0
) -> list[RowModel]:
    """Fit every row's logistic meta-learner on out-of-fold logits (N, R) of the training split."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y).astype(int)
    out = []
    for key, label, regions, kind in row_specs(region_names):
        idx = [region_names.index(r) for r in regions]
        lr = LogisticRegression(C=c, max_iter=1000)
        lr.fit(oof_logits[:, idx], y)
        coef = np.zeros(len(region_names))
        coef[idx] = lr.coef_[0]
        model = RowModel(
            key,
            label,
            regions,
            kind,
            tuple(float(v) for v in coef),
            float(lr.intercept_[0]),
            0.5,
            float("nan"),
        )
        p = model.predict(oof_logits)
        thr = youden_threshold(y, p)
        out.append(RowModel(key, label, regions, kind, model.coefficients, model.intercept, thr, auc(y, p)))
    return out


def choose_primary(
    rows: list[RowModel], internal_logits: np.ndarray | None, y_internal: np.ndarray | None
) -> str:
    """The fusion with the best internal-validation AUC (all regions if no internal split)."""
    fusions = [r for r in rows if r.kind == "fusion"]
    if internal_logits is None or y_internal is None or len(set(np.asarray(y_internal).tolist())) < 2:
        return "fusion_all" if any(r.key == "fusion_all" for r in fusions) else fusions[-1].key
    scores = {r.key: auc(y_internal, r.predict(internal_logits)) for r in fusions}
    best = max(scores.values())
    # prefer all regions on a tie (more evidence, same performance)
    for key in ["fusion_all"] + [r.key for r in fusions]:
        if key in scores and scores[key] >= best - 1e-12:
            return key
    return fusions[-1].key


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
            )
        )
    return out, {"mean": [float(v) for v in m], "sd": [float(v) for v in sd], "n": len(ref)}
