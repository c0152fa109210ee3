"""Sealing a bundle: stacking rows in the shipped network's units, and the guarded primary model.

Why guards: a bundle was once sealed with a primary fusion whose internal AUC was 0.49 (its
meta-learner had inverted the intratumoral region) and nobody was told. Now a row is never the
primary if its internal AUC is at or below chance, or if it is worse than the best single region
beyond that region's DeLong 95 % CI; the trainer then says so loudly, takes the best remaining
row, and the reason is recorded in the manifest (`primary_model_guard`, `warnings`) and shown by
the model card. A single-region row whose out-of-fold fit left it with no weight at all (its
fold networks' held-out logits pointed against the label) is refitted — non-negative again — on
the shipped network's own training-split logits, and marked as an in-sample fit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dlrs_desktop.training.metrics import auc, auc_ci, youden_threshold
from dlrs_desktop.training.stacking import RowModel, fit_nonnegative_logistic, to_network_units

PRIMARY_RULE = (
    "fusion with the highest internal-validation AUC (all regions on a tie), provided it is above 0.5 "
    "and not below the 95 % CI of the best single region there; otherwise the best remaining row"
)


@dataclass
class Sealed:
    rows: list[RowModel]
    primary: str
    guard: dict[str, Any]
    warnings: list[str]
    reference: dict[str, Any]


def refit_empty_singles(
    rows: list[RowModel],
    region_names: tuple[str, ...],
    logits_train: np.ndarray,
    y_train: np.ndarray,
    c: float = 1.0,
) -> list[RowModel]:
    """Single-region rows left with weight 0 → non-negative Platt scaling on the shipped net's logits."""
    out = []
    for r in rows:
        if r.kind != "single" or any(v != 0 for v in r.coefficients):
            out.append(r)
            continue
        i = region_names.index(r.regions[0])
        w, b = fit_nonnegative_logistic(logits_train[:, [i]], y_train, c)
        coef = [0.0] * len(r.coefficients)
        coef[i] = float(w[0])
        p = 1.0 / (1.0 + np.exp(-(logits_train[:, i] * w[0] + b)))
        note = (
            f"{r.regions[0]}: the out-of-fold fit gave it no weight; refitted (in-sample, non-negative) on "
            "the shipped network's training-split logits: its probabilities are optimistic on that split"
        )
        out.append(
            replace(
                r,
                coefficients=tuple(coef),
                intercept=b,
                threshold=youden_threshold(y_train, p),
                fit="in-sample (shipped network, training split)",
                notes=(*r.notes, note),
            )
        )
    return out


def unchecked_primary(rows: list[RowModel]) -> tuple[str, dict[str, Any], list[str]]:
    """The primary when no internal split has two cases of each class: all regions, unchecked."""
    fusions = [r for r in rows if r.kind == "fusion"]
    key = "fusion_all" if any(r.key == "fusion_all" for r in fusions) else fusions[-1].key
    msg = (
        f"No internal split with two cases of each class: primary model {key} was not checked against chance."
    )
    return key, {"rule": PRIMARY_RULE, "checked": False, "chosen": key, "rejected": {}}, [msg]


def guarded_primary(
    rows: list[RowModel], scores: dict[str, float], best_single_ci: tuple[float, float]
) -> tuple[str, dict[str, Any], list[str]]:
    """PRIMARY_RULE on internal AUCs `scores` (row key → AUC) and the best single region's 95 % CI:
    (primary key, guard record, warnings). Shared by the pooled trainer (exact scores) and the
    federated one (AUCs from the sites' summed histograms, training/federated/sealing.py)."""
    fusions = [r for r in rows if r.kind == "fusion"]
    best_single = max((r for r in rows if r.kind == "single"), key=lambda r: scores[r.key])
    lo, hi = best_single_ci
    rejected: dict[str, str] = {}
    for f in fusions:
        a = scores[f.key]
        if not a > 0.5:
            rejected[f.key] = f"internal AUC {a:.3f} is not above chance (0.5)"
        elif a < lo:
            rejected[f.key] = (
                f"internal AUC {a:.3f} is below the 95 % CI of the best single region "
                f"{best_single.key} ({scores[best_single.key]:.3f}, {lo:.3f}–{hi:.3f})"
            )
    order = sorted(
        range(len(rows)), key=lambda i: (-scores[rows[i].key], rows[i].key != "fusion_all", i)
    )  # best first; all regions on a tie
    ranked = [rows[i] for i in order]
    top_fusion = next(r.key for r in ranked if r.kind == "fusion")
    ok_fusions = [r.key for r in ranked if r.kind == "fusion" and r.key not in rejected]
    ok_singles = [r.key for r in ranked if r.kind == "single" and scores[r.key] > 0.5]
    warnings = []
    if ok_fusions:
        chosen = ok_fusions[0]
    elif ok_singles:
        chosen = ok_singles[0]
    else:
        chosen = ranked[0].key
        warnings.append(
            f"NO model beats chance on the internal split (best: {chosen}, AUC {scores[chosen]:.3f}). "
            "The bundle was written so that it can be inspected; it is not fit for any use."
        )
    if chosen != top_fusion:
        warnings.append(
            f"Primary model guard: {top_fusion} was rejected ({rejected.get(top_fusion, '')}); "
            f"the bundle is sealed with {chosen} (internal AUC {scores[chosen]:.3f})."
        )
    guard = {
        "rule": PRIMARY_RULE,
        "checked": True,
        "chosen": chosen,
        "internal_auc": scores,
        "best_single": {"key": best_single.key, "auc": scores[best_single.key], "ci": [lo, hi]},
        "rejected": rejected,
    }
    return chosen, guard, warnings


def choose_primary(
    rows: list[RowModel], internal_logits: np.ndarray | None, y_internal: np.ndarray | None
) -> tuple[str, dict[str, Any], list[str]]:
    """(primary key, guard record, warnings): the best fusion on the internal split that passes the guards."""
    y = None if y_internal is None else np.asarray(y_internal).astype(int)
    if internal_logits is None or y is None or min(int(y.sum()), len(y) - int(y.sum())) < 2:
        return unchecked_primary(rows)
    scores = {r.key: auc(y, r.predict(internal_logits)) for r in rows}
    best_single = max((r for r in rows if r.kind == "single"), key=lambda r: scores[r.key])
    _, lo, hi = auc_ci(y, best_single.predict(internal_logits))
    return guarded_primary(rows, scores, (lo, hi))


def seal_rows(
    rows_z: list[RowModel],
    region_names: tuple[str, ...],
    logits: np.ndarray,
    y: np.ndarray,
    splits: np.ndarray,
    c: float = 1.0,
) -> Sealed:
    """Rows fitted on standardised out-of-fold logits → the shipped network's rows and guarded primary."""
    iv = np.where(splits == "internal")[0]
    tr = np.where(splits == "train")[0]
    ref_name = "internal" if len(iv) > 1 else "train"
    rows, ref = to_network_units(rows_z, logits[iv if ref_name == "internal" else tr])
    rows = refit_empty_singles(rows, region_names, logits[tr], y[tr], c)
    primary, guard, warnings = choose_primary(
        rows, logits[iv] if len(iv) else None, y[iv] if len(iv) else None
    )
    notes = [f"{r.key}: {n}" for r in rows for n in r.notes]
    return Sealed(rows, primary, guard, notes + warnings, {"reference_split": ref_name, **ref})
