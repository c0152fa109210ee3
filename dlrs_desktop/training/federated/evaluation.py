"""The federated evaluation report: `dlrs evaluate`'s report.html, metrics.json and table.csv, from
the sites' aggregates.

Why the same files: a reader compares a federated model with a pooled one table by table, so the
server fills the result dict of validation.compute (same keys, `null` where undefined) and hands it
to the same renderer (report.write_report) and the same table.csv writer. What it is filled from:
the score histograms the bundle's metrics already came from (AUC with DeLong's CI on the bins), the
sites' sums (report_sums.py: exact counts at each row's threshold and at the net-benefit thresholds,
Σp, Σ(p−y)²), and a federated Newton fit of y on logit(p) for the calibration intercept and slope
(logistic-loss terms summed over sites). What cannot be computed without per-case values is listed
in NOT_AVAILABLE, shown in one note of the report and in metrics.json's "federated" block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import report_sums as rs
from dlrs_desktop.training.federated.calibration import fit_calibration
from dlrs_desktop.training.federated.protocol import Expect, Reply
from dlrs_desktop.training.federated.site import SPLITS
from dlrs_desktop.training.metrics import NET_BENEFIT_THRESHOLDS
from dlrs_desktop.training.stacking import RowModel
from dlrs_desktop.training.validation import (
    METHODS,
    ROW_KEYS,
    confusion_metrics,
    flat_table,
    report_warnings,
)

COMPUTED_FROM = "aggregates (score histograms of 0.01-logit bins, sums)"
NOT_AVAILABLE = (
    "paired DeLong comparisons between rows (they need each case's pair of scores)",
    "the comparison with ground-truth probabilities (per case, synthetic cohorts only)",
    "the int8 model's change (per case; federated bundles carry no int8 model)",
    "per-case predictions (predictions.csv, delong.csv)",
)
FED_METHODS = {
    **METHODS,
    "auc_ci": "DeLong et al. (1988), 95 %, on the pooled score histograms (0.01-logit bins: cases in a "
    "bin tie); the AUC is the binned scores' (within ~1e-3 of the exact one)",
    "threshold": "each row's threshold fixed on the training split (Youden index on the pooled "
    "out-of-fold score histograms, a bin edge) and stored in the bundle; never re-tuned",
    "counts": "true and false positives counted at each site at the stored threshold and at the "
    "net-benefit thresholds, summed over sites: exact",
    "calibration": METHODS["calibration"] + "; fitted by federated Newton steps on the sites' summed "
    "logistic-loss gradients and Hessians (the pooled maximum-likelihood fit)",
    "prediction_range": "percentiles of the pooled score histograms (a bin's centre)",
    "figures": "ROC curves, calibration groups (whole bins, about equal counts, mean predicted at the "
    "bins' centres) and decision curves (cases in the bin a threshold cuts counted negative) from "
    "the pooled histograms",
}
FED_METHODS.pop("comparisons")
THRESHOLD_SOURCE = "Youden index on the training split's out-of-fold probabilities (pooled histograms)"
# the centre of each bin as a probability (the open end bins: their edge)
_CENTRES = np.r_[agg.PROB_EDGES[0], 1 / (1 + np.exp(-(agg.LOGIT_EDGES[:-1] + agg.LOGIT_EDGES[1:]) / 2)),
                 agg.PROB_EDGES[-1]]  # fmt: skip

Ask = Callable[[str, tuple, dict, Expect], list[Reply]]


@dataclass(frozen=True)
class Sealed:
    """What the server sealed into the bundle, and the sites' counts from "describe"."""

    final: tuple[np.ndarray, ...]
    rows: list[RowModel]
    primary: str
    hists: np.ndarray  # (splits, rows, 2, N_BINS): the "metrics" histograms summed over sites
    sites: dict[str, dict[str, int]]  # site → split → cases
    positives: dict[str, dict[str, int]]  # site → split → responders
    signatures: np.ndarray = field(default_factory=lambda: np.zeros(0))  # site_radiomics.pack_signatures


def write_federated_report(ask: Ask, sealed: Sealed, bundle: Path, out: Path) -> dict[str, Any]:
    """Ask the sites for the report's sums and calibration terms; write out/report.html, metrics.json,
    table.csv and the figures. Returns the result (as metrics.json, with the figures)."""
    # lazy: the renderer loads matplotlib; table_csv's module the ONNX predictor
    from dlrs_desktop.fileio import atomic_write_json, atomic_write_text
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.training.evaluate import NOT_IN_METRICS_JSON, table_csv
    from dlrs_desktop.training.federated.domain_report import federated_guard
    from dlrs_desktop.training.report import write_report

    rows = sealed.rows
    coef = np.array([r.coefficients for r in rows], np.float64)
    icpt = np.array([r.intercept for r in rows], np.float64)
    thr = np.array([r.threshold for r in rows], np.float64)
    shape = (len(SPLITS), len(rows), rs.SUMS_SIZE)
    arrays = (*sealed.final, sealed.signatures, coef, icpt, thr)
    sums = _summed(ask("report_sums", arrays, {}, Expect((shape,), metrics=("cases",))))
    both = (sums[..., 1] > 0) & (sums[..., 1] < sums[..., 0])
    tshape = (len(SPLITS), len(rows), rs.CALIBRATION_FITS, rs.TERMS_SIZE)

    def terms(theta: np.ndarray) -> np.ndarray:
        return _summed(ask("calibration_terms", (theta,), {}, Expect((tshape,), metrics=("cases",))))

    cal = fit_calibration(terms, both)
    loaded = load_bundle(bundle)
    result = federated_result(sealed, sums, cal, loaded.manifest)
    result["domain_guard"] = federated_guard(ask, bundle, loaded)
    result["model"] = {"id": loaded.id, "version": loaded.version, "synthetic": loaded.is_synthetic,
                       "demo": loaded.is_demo, "manifest_sha256": loaded.manifest_sha256}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "table.csv", table_csv(result))
    result["figures"] = write_report(out, result, loaded.manifest)
    atomic_write_json(out / "metrics.json", {k: v for k, v in result.items() if k not in NOT_IN_METRICS_JSON})
    return result


def _summed(replies: list[Reply]) -> np.ndarray:
    return sum(r.arrays[0].astype(np.float64) for r in replies)  # type: ignore[return-value]


def federated_result(
    sealed: Sealed, sums: np.ndarray, cal: dict[str, np.ndarray], manifest: dict[str, Any]
) -> dict[str, Any]:
    """validation.compute's dict from aggregates: participants, rows per split, curves, table, warnings."""
    rows, primary = sealed.rows, sealed.primary
    parts = participants(sealed.sites, sealed.positives)
    present = [s for s in SPLITS if s in parts]
    result: dict[str, Any] = {
        "primary": primary, "primary_model": primary, "split_order": present, "training_cohort": True,
        "splits": parts, "participants_by": "Site", "labels": {r.key: r.label for r in rows},
        "kinds": {r.key: r.kind for r in rows}, "methods": FED_METHODS, "comparisons": [],
        "multiplicity": "", "curves": {}, "ground_truth": {}, "cohort_sha256": None, "int8": None,
        "domain_guard": None, "cohort": f"federated: {len(sealed.sites)} site cohorts (never pooled)",
        "ground_truth_file": None,
        "figures_note": "No per-case values: the figures were drawn from the pooled score histograms.",
        "federated": {"sites": len(sealed.sites), "computed_from": COMPUTED_FROM,
                      "not_available": list(NOT_AVAILABLE)},
    }  # fmt: skip
    for s in present:
        i = SPLITS.index(s)
        h = sealed.hists[i]
        result["splits"][s]["rows"] = {
            r.key: row_metrics(h[j], sums[i, j], _calibration_of(cal, i, j), r.threshold)
            for j, r in enumerate(rows)
        }
        result["curves"][s] = curves(result, s, h)
    result["table"] = flat_table(result)
    result["warnings"] = report_warnings(result, manifest)
    return result


def participants(sites: dict[str, dict[str, int]], positives: dict[str, dict[str, int]]) -> dict[str, Any]:
    """validation.participants from the sites' counts: per split, and per site in place of centre."""
    out: dict[str, dict[str, Any]] = {}
    for s in SPLITS:
        n, pos = sum(v[s] for v in sites.values()), sum(v[s] for v in positives.values())
        if n == 0:
            continue
        by = {
            k: {"n": sites[k][s], "n_positive": positives[k][s], "prevalence": positives[k][s] / sites[k][s]}
            for k in sorted(sites)
            if sites[k][s]
        }
        out[s] = {"n": n, "n_positive": pos, "prevalence": pos / n, "by_centre": by}
    return out


def _none(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def _calibration_of(cal: dict[str, np.ndarray], i: int, j: int) -> dict[str, Any]:
    """calibration_stats' keys (without observed/expected) from the federated fits of split i, row j."""
    est, se, ok = cal["theta"][i, j], cal["se"][i, j], cal["ok"][i, j]
    out: dict[str, Any] = {}
    for name, fit, k in (("calibration_slope", 0, 0), ("calibration_intercept", 1, 1)):
        if ok[fit]:
            v, e = float(est[fit, k]), float(se[fit]) * cal["z"]
            out[name], out[f"{name}_ci"] = v, [v - e, v + e]
    return out


def row_metrics(h: np.ndarray, sums: np.ndarray, cal: dict[str, Any], threshold: float) -> dict[str, Any]:
    """validation.row_metrics of one row on one split from its histogram, sums and calibration fits."""
    m: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    n, pos = int(sums[0]), int(sums[1])
    m.update(n=n, n_positive=pos, threshold=float(threshold), threshold_source=THRESHOLD_SOURCE)
    if n == 0:
        return m
    if 0 < pos < n:
        a, lo, hi = agg.auc_ci_from_histogram(h)
        m["auc"], m["auc_ci"] = float(a), [_none(lo), _none(hi)]
    tp, fp = int(sums[4]), int(sums[5])
    m.update(confusion_metrics(tp, fp, n - pos - fp, pos - tp))
    m["brier"] = float(sums[3]) / n
    m["observed_expected"] = pos / float(sums[2]) if sums[2] > 0 else None
    m.update(cal)
    m["net_benefit"], m["net_benefit_treat_all"] = net_benefit(sums)
    m["prediction_range"] = [float(_CENTRES[b]) for b in _percentile_bins(h[0] + h[1], (0, 5, 50, 95, 100))]
    return m


def net_benefit(sums: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """metrics.net_benefit_table from the exact counts at each threshold (the same arithmetic)."""
    n, k = float(sums[0]), rs.N_THRESHOLDS
    tps, fps = sums[len(rs.SUMS) : len(rs.SUMS) + k], sums[len(rs.SUMS) + k :]
    prev = sums[1] / n
    model, treat_all = {}, {}
    for t, tp, fp in zip(np.asarray(NET_BENEFIT_THRESHOLDS), tps, fps, strict=True):
        w = t / (1 - t)
        model[f"{t:.2f}"] = float(tp / n - fp / n * w)
        treat_all[f"{t:.2f}"] = float(prev - (1 - prev) * w)
    return model, treat_all


def _percentile_bins(counts: np.ndarray, qs: tuple[int, ...]) -> list[int]:
    """The bin of the case at each percentile's rank (nearest rank of np.percentile's (n−1)·q)."""
    cum = np.cumsum(counts)
    n = int(cum[-1])
    return [int(np.searchsorted(cum, round((n - 1) * q / 100), side="right")) for q in qs]


def curves(result: dict[str, Any], s: str, h: np.ndarray) -> dict[str, Any]:
    """figures.curve_data's dict from the histograms (rows, 2, B) of split s ({"roc": None}: one class)."""
    # lazy: figures loads matplotlib only to draw; best_single is the figures' choice of rows
    from dlrs_desktop.training.figures import best_single

    idx = {r: j for j, r in enumerate(result["labels"])}
    if min(int(h[0, 0].sum()), int(h[0, 1].sum())) == 0:
        return {"roc": None}
    keys = [result["primary"]] + [k for k in [best_single(result, s)] if k and k != result["primary"]]
    th = np.linspace(0.01, 0.95, 95)
    return {
        "roc": {k: roc(h[j]) for k, j in idx.items()},
        "calibration": {k: reliability(h[idx[k]]) for k in keys},
        "dca": {k: decision_curve(h[idx[k]], th) for k in keys},
        "prevalence": float(h[0, 1].sum() / h[0].sum()),
    }


def roc(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) at every bin edge, from the highest score down."""
    fpr = np.r_[0.0, np.cumsum(h[0][::-1]) / max(h[0].sum(), 1)]
    tpr = np.r_[0.0, np.cumsum(h[1][::-1]) / max(h[1].sum(), 1)]
    return fpr, tpr


def reliability(h: np.ndarray, groups: int = 8) -> dict[str, list[float]]:
    """metrics.calibration_curve from a histogram: whole bins in about equal-count groups (at least
    five cases a group, as the pooled figure), observed rate against mean predicted (bin centres)."""
    tot = h[0] + h[1]
    n = int(tot.sum())
    g = min(groups, max(n // 5, 1))
    before = np.cumsum(tot) - tot
    group = np.minimum((before * g) // max(n, 1), g - 1)
    out: dict[str, list[float]] = {"predicted": [], "observed": [], "count": []}
    for k in range(g):
        sel = (group == k) & (tot > 0)
        c = int(tot[sel].sum())
        if c:
            out["predicted"].append(float((tot[sel] * _CENTRES[sel]).sum() / c))
            out["observed"].append(float(h[1][sel].sum() / c))
            out["count"].append(c)
    return out


def decision_curve(h: np.ndarray, th: np.ndarray) -> dict[str, list[float]]:
    """metrics.net_benefit from a histogram: p ≥ t read at the first edge ≥ t (cases in the bin that
    t cuts count as negative, as aggregates.metrics_from_histogram)."""
    n, prev = float(h.sum()), float(h[1].sum() / h.sum())
    model, treat_all = [], []
    for t in th:
        i = int(np.searchsorted(agg.PROB_EDGES, t, side="left"))
        tp, fp = float(h[1, i + 1 :].sum()), float(h[0, i + 1 :].sum())
        w = t / (1 - t)
        model.append(tp / n - fp / n * w)
        treat_all.append(prev - (1 - prev) * w)
    return {"threshold": [float(t) for t in th], "model": model, "treat_all": treat_all,
            "treat_none": [0.0] * len(th)}  # fmt: skip
