"""Conformal prediction sets: the internal split's quantile, widened to held-out centres.

Split conformal (crepes) on the internal split promises its coverage only for scans exchangeable
with that split — the training hospitals' own scanners. On a new centre the fused probability
drifts (dlrs-bus-malignancy 1.1: calibration slope 0.44 on BrEaST, sets covering 78 % instead of
90 %), and nothing in the internal split can show it. A cohort with several training centres can:
a network trained without centre k, stacked by the bundle's own meta-learner, scores centre k as a
new hospital would be scored. Each centre's scores give its own split-conformal quantile; the bundle
keeps the largest of them and the internal split's, so its sets would have covered at least the
nominal share of every training centre had that centre been the new hospital.

This is the group-level reading of conformal prediction (Dunn, Wasserman & Ramdas, "Distribution-free
prediction sets for two-layer hierarchical models", JASA 2023): coverage for a *new group* needs
calibration scores from groups the model did not see. With two or three centres it is an estimate of
the coverage at a new hospital, not a guarantee; docs/DOMAIN_GUARD.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError
from dlrs_desktop.model import domain as dm
from dlrs_desktop.training.stacking import standardise_per_fold


def fit_conformal(p: np.ndarray, y: np.ndarray, coverage: float, centre: float = 0.5) -> dict[str, Any]:
    """Split conformal (crepes, non-smoothed p-values) on the internal split: score 1 − p'(true class),
    p' the probability centred on the bundle's decision threshold (`model.domain.centred`).

    Centring on the threshold makes a one-class set always agree with the category shown beside it
    (with p' = p, a bundle whose threshold is 0.27 showed "likely malignant" over the set "benign").
    """
    return conformal_block(nonconformity(p, y, centre), coverage, centre)


def nonconformity(p: np.ndarray, y: np.ndarray, centre: float) -> np.ndarray:
    """1 − p'(true class), p' centred on the decision threshold (the conformal score)."""
    p = dm.centred(np.asarray(p, dtype=np.float64), centre)
    return np.where(np.asarray(y) == 1, 1.0 - p, p).astype(np.float64)


def conformal_block(alphas: np.ndarray, coverage: float, centre: float) -> dict[str, Any]:
    """The manifest block `conformal` from the internal split's nonconformity scores.

    A class c is in the set when crepes' p-value of its score ≥ 1 − coverage; since that p-value only
    changes at calibration scores, the set is exactly {c : 1 − p'(c) ≤ qhat} with qhat stored here.
    """
    # lazy: optional [train] extra; extras.require names the install
    from crepes import ConformalClassifier

    cc = ConformalClassifier().fit(alphas)
    cands = np.unique(alphas)
    pv = cc.predict_p(cands, smoothing=False)
    ok = cands[pv >= 1.0 - coverage]
    qhat = 1.0 if 1.0 / (len(alphas) + 1) >= 1.0 - coverage else float(ok.max()) if ok.size else 0.0
    return {
        "method": "split conformal (crepes ConformalClassifier, non-smoothed p-values)",
        "score": "1 - probability of the true class, centred on the decision threshold",
        "centre": float(centre),
        "split": "internal",
        "n_calibration": len(alphas),
        "coverage": float(coverage),
        "qhat": qhat,
        "empty_set": "read as both classes (either, uncertain)",
    }


#: the manifest's `conformal.split` when the quantile also covers the held-out centres
CENTRE_SPLIT = "internal + leave-one-centre-out (training split)"


@dataclass(frozen=True)
class CentreScores:
    """The bundle's primary probability for every training case, each from networks (and a radiomics
    signature) that never saw that case's centre."""

    p: np.ndarray
    y: np.ndarray
    centre: np.ndarray  # str per case

    def __post_init__(self) -> None:
        if not (len(self.p) == len(self.y) == len(self.centre)) or not np.all(np.isfinite(self.p)):
            raise CohortError("Leave-one-centre-out scores need one finite probability per training case.")


def primary_row_in_z_units(manifest: dict[str, Any]) -> tuple[np.ndarray, float]:
    """(coefficients, intercept) of the bundle's primary row over per-fold z-scored inputs: the inverse of
    `stacking.to_network_units`, c·l + b = (c·s)·z + (b + Σ c·m) with z = (l − m)/s."""
    key = manifest["primary_model"]
    row = next(r for r in manifest["models"] if r["key"] == key)
    std = manifest["training"]["logit_standardisation"]
    c, m, s = (np.asarray(v, np.float64) for v in (row["coefficients"], std["mean"], std["sd"]))
    return c * s, float(row["intercept"] + np.sum(c * m))


def scores_from_out_of_fold(
    oof: np.ndarray, fold_rows: list[list[int]], y: np.ndarray, centres: np.ndarray, manifest: dict[str, Any]
) -> CentreScores:
    """The primary row applied to out-of-fold inputs (region logits, then signature logits), each
    fold's logits z-scored with that fold network's own mean and SD, as the stacking was fitted."""
    coef, intercept = primary_row_in_z_units(manifest)
    z = standardise_per_fold(oof, fold_rows)
    if z.shape[1] != coef.size:
        raise CohortError(
            f"The bundle's stacking takes {coef.size} inputs; the out-of-fold predictions have {z.shape[1]}."
        )
    p = 1.0 / (1.0 + np.exp(-(z @ coef + intercept)))
    return CentreScores(p, np.asarray(y).astype(int), np.asarray(centres).astype(str))


def with_centres(internal: dict[str, Any], scores: CentreScores) -> dict[str, Any]:
    """The `conformal` block: the internal split's quantile, each held-out centre's, and their maximum.

    A centre with fewer cases than the coverage needs (9 at 90 %) gets the quantile 1: every set is
    "either" — too few cases to say how the model does on a new hospital, and the sets say so."""
    cov, centre = float(internal["coverage"]), float(internal["centre"])
    parts = []
    for name in sorted(set(scores.centre.tolist())):
        k = scores.centre == name
        block = conformal_block(nonconformity(scores.p[k], scores.y[k], centre), cov, centre)
        parts.append({"centre": name, "n": int(k.sum()), "qhat": block["qhat"]})
    return merged(internal, parts)


def merged(internal: dict[str, Any], by_centre: list[dict[str, Any]]) -> dict[str, Any]:
    """`internal` (a block fitted on the internal split) widened to the held-out centres' quantiles."""
    q_int = float(internal.get("qhat_internal", internal["qhat"]))
    worst = max([q_int, *(float(c["qhat"]) for c in by_centre)])
    return {
        **internal,
        "split": CENTRE_SPLIT,
        "qhat_internal": q_int,
        "by_centre": by_centre,
        "qhat": worst,
        "rule": (
            "the largest of the internal split's quantile and each training centre's, that centre scored "
            "by networks and signatures fitted without it (the bundle's own stacking)"
        ),
    }


def carried_over(new_internal: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """A refitted internal block keeps the bundle's held-out-centre quantiles (`dlrs model add-reference`
    cannot recompute them: they need networks trained without each centre) when made at the same coverage."""
    if not previous or not previous.get("by_centre"):
        return new_internal
    if (
        abs(float(previous["coverage"]) - float(new_internal["coverage"])) > 1e-12
        or abs(float(previous.get("centre", 0.5)) - float(new_internal["centre"])) > 1e-12
    ):
        raise CohortError(
            f"This bundle's prediction sets are also calibrated on held-out centres at "
            f"{float(previous['coverage']):.0%} coverage; refit them with `dlrs model centre-sets "
            "--coverage …` rather than changing the coverage here."
        )
    return merged(new_internal, list(previous["by_centre"]))


def conformal_line(block: dict[str, Any]) -> str:
    """One console line: the stored quantile and where it came from."""
    parts = [f"internal {float(block.get('qhat_internal', block['qhat'])):.3f}"]
    parts += [
        f"{c['centre']} held out {float(c['qhat']):.3f} (n = {c['n']})" for c in block.get("by_centre") or []
    ]
    return (
        f"prediction sets at {float(block['coverage']):.0%}: qhat {float(block['qhat']):.4f} "
        f"(largest of {', '.join(parts)})"
    )
