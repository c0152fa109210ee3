"""Every number of the evaluation report, per split and row, and the warnings a reader must not miss.

The keys of each row are fixed (`ROW_KEYS`, documented in docs/TRAINING.md): a row whose value is
undefined on a split (one class only, no positive call) carries the key with `null`, never omits it,
so a script reading `metrics.json` sees the same shape for every row and split.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from dlrs_desktop.training.metrics import (
    auc,
    auc_ci,
    brier,
    calibration_stats,
    delong_test,
    holm,
    net_benefit_table,
    wilson_ci,
)
from dlrs_desktop.training.stacking import RowModel

ROW_KEYS = (
    "n", "n_positive", "auc", "auc_ci", "threshold", "threshold_source", "sensitivity", "sensitivity_ci",
    "specificity", "specificity_ci", "ppv", "ppv_ci", "npv", "npv_ci", "accuracy", "accuracy_ci", "brier",
    "calibration_intercept", "calibration_intercept_ci", "calibration_slope", "calibration_slope_ci",
    "observed_expected", "net_benefit", "net_benefit_treat_all", "counts", "prediction_range",
)  # fmt: skip
METHODS = {
    "auc_ci": "DeLong et al. (1988), 95 %, normal approximation",
    "proportion_ci": "Wilson score interval, 95 % (accuracy, sensitivity, specificity, PPV, NPV)",
    "threshold": "each row's threshold fixed on the training split (Youden index) and stored in the bundle; "
    "never re-tuned on the evaluated cohort",
    "calibration": "intercept: logistic regression of the outcome with logit(p) as offset; slope: on "
    "logit(p); Wald 95 % CIs; observed/expected = responders / sum of predicted probabilities",
    "net_benefit": "Vickers & Elkin (2006): TP/n − FP/n · t/(1 − t) at thresholds t = 0.05 … 0.95",
    "comparisons": "paired DeLong test of the primary model against every other row on the same cases, "
    "two-sided; Holm-adjusted p-values within each split",
}
COMPRESSED_BAND = 0.2  # the central 90 % of the primary's predictions narrower than this is flagged
SPLIT_NAMES = {"train": "training", "internal": "internal", "external": "external"}
SPLIT_LABELS = {"train": "Training", "internal": "Internal validation", "external": "External validation"}


def _threshold_source(r: RowModel) -> str:
    if r.fit.startswith("in-sample"):
        return "Youden index on the shipped network's in-sample training-split probabilities (refitted row)"
    return "Youden index on the training split's out-of-fold probabilities"


def row_metrics(y: np.ndarray, p: np.ndarray, threshold: float, source: str) -> dict[str, Any]:
    """Every ROW_KEYS value of one row on one split (None where undefined)."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, np.float64)
    m: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    m.update(n=len(y), n_positive=int(y.sum()), threshold=float(threshold), threshold_source=source)
    if len(y) == 0:
        return m
    if len(set(y.tolist())) == 2:
        m["auc"] = auc(y, p)
        try:
            _, lo, hi = auc_ci(y, p)
            m["auc_ci"] = [lo, hi]
        except ValueError:  # DeLong needs two cases of each class
            m["auc_ci"] = [None, None]
    call = p >= threshold
    tp, fp = int((call & (y == 1)).sum()), int((call & (y == 0)).sum())
    tn, fn = int((~call & (y == 0)).sum()), int((~call & (y == 1)).sum())
    m.update(confusion_metrics(tp, fp, tn, fn))
    m["brier"] = brier(y, p)
    m.update(calibration_stats(y, p))
    m["net_benefit"], m["net_benefit_treat_all"] = net_benefit_table(y, p)
    m["prediction_range"] = [float(v) for v in np.percentile(p, [0, 5, 50, 95, 100])]
    return m


def confusion_metrics(tp: int, fp: int, tn: int, fn: int) -> dict[str, Any]:
    """counts, sensitivity, specificity, PPV, NPV, accuracy and their Wilson CIs (None where undefined).

    Apart from row_metrics because a federated report has the counts but not the cases."""
    m: dict[str, Any] = {"counts": {"tp": tp, "fp": fp, "tn": tn, "fn": fn}}
    for key, k, n in (("sensitivity", tp, tp + fn), ("specificity", tn, tn + fp), ("ppv", tp, tp + fp),
                      ("npv", tn, tn + fn), ("accuracy", tp + tn, tp + fp + tn + fn)):  # fmt: skip
        m[key] = k / n if n else None
        m[f"{key}_ci"] = list(wilson_ci(k, n))
    return m


def participants(cases, y: np.ndarray) -> dict[str, dict[str, Any]]:
    """n, responders and prevalence per split, and per centre within each split."""
    out: dict[str, dict[str, Any]] = {}
    for s in ("train", "internal", "external"):
        idx = [i for i, c in enumerate(cases) if c.split == s]
        if not idx:
            continue
        by_centre: dict[str, dict[str, Any]] = {}
        for centre in sorted({cases[i].centre for i in idx}):
            ci = [i for i in idx if cases[i].centre == centre]
            pos = int(y[ci].sum())
            by_centre[centre] = {"n": len(ci), "n_positive": pos, "prevalence": pos / len(ci)}
        pos = int(y[idx].sum())
        out[s] = {"n": len(idx), "n_positive": pos, "prevalence": pos / len(idx), "by_centre": by_centre}
    return out


def comparisons(ys: np.ndarray, probs: dict[str, np.ndarray], rows: list[RowModel], primary: str, split: str):
    """Paired DeLong tests: the primary model against every other row, Holm-adjusted within the split."""
    out = []
    for r in rows:
        if r.key == primary:
            continue
        t = delong_test(ys, probs[primary], probs[r.key])
        out.append({"split": split, "model_a": primary, "model_b": r.key, "kind_b": r.kind, **t})
    for d, p_adj in zip(out, holm([d["p_value"] for d in out]), strict=True):
        d["p_holm"] = p_adj
    return out


def multiplicity_note(rows: list[RowModel], primary: str) -> str:
    singles = sum(r.kind == "single" for r in rows if r.key != primary)
    fusions = sum(r.kind == "fusion" for r in rows if r.key != primary)
    return (
        f"{singles + fusions} comparisons per split ({singles} single regions, {fusions} other fusions) on "
        "the same cases: the unadjusted p-values are not protected against multiple testing; Holm-adjusted "
        "p-values (family = the comparisons of one split) are given beside them. The primary model was "
        "chosen on the internal split, so comparisons there are not confirmatory; the comparisons are "
        "exploratory unless a single one was specified in advance."
    )


def report_warnings(result: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """AUC < 0.5, degenerate operating points, compressed predictions, optimistic internal split."""
    out: list[str] = []
    primary = result["primary"]
    for s in result["split_order"]:
        rows = result["splits"][s]["rows"]
        name = SPLIT_NAMES[s]
        pa = rows[primary]["auc"]
        if pa is not None and pa < 0.5:
            out.append(f"AUC below 0.5 on the {name} split for the PRIMARY model {primary} ({pa:.3f}): "
                       "worse than chance.")  # fmt: skip
        low = [f"{k} ({m['auc']:.3f})" for k, m in rows.items() if k != primary and m["auc"] is not None
               and m["auc"] < 0.5]  # fmt: skip
        if low:
            out.append(f"AUC below 0.5 on the {name} split: {', '.join(low)}.")
        degenerate = []
        for k, m in rows.items():
            sens, spec = m["sensitivity"], m["specificity"]
            if sens is None or spec is None or m["auc"] is None:
                continue
            if sens in (0.0, 1.0) or spec in (0.0, 1.0):
                degenerate.append(f"{k} (sensitivity {sens:.3f}, specificity {spec:.3f})")
        if degenerate:
            out.append(f"Degenerate operating point on the {name} split at the stored threshold: "
                       f"{', '.join(degenerate)}.")  # fmt: skip
        rng = rows[primary]["prediction_range"]
        if rng is not None and rng[3] - rng[1] < COMPRESSED_BAND:
            out.append(
                f"Compressed predictions on the {name} split: 90 % of the primary model's probabilities lie "
                f"between {rng[1]:.3f} and {rng[3]:.3f} (narrower than {COMPRESSED_BAND}); they carry little "
                "information about an individual case and their calibration should not be trusted."
            )
    if "internal" in result["split_order"] and manifest.get("models") and result.get("training_cohort"):
        out.append(
            "The internal split was used for early stopping, logit standardisation and choosing the primary "
            "model: its figures are optimistic. Judge the model on the external split."
        )
    out += [f"Training: {w}" for w in manifest.get("warnings", []) if w]
    return out


def split_cases_sha256(cases, y: np.ndarray) -> str:
    """A fingerprint of who is in the train and internal splits, with their labels.

    Unlike the cohort file's checksum it does not change when the file names its images by another
    relative path (a cohort written elsewhere) or gains an external split, which is how a bundle is
    evaluated on the cohort it was trained on plus another centre.
    """
    rows = sorted(f"{c.case_id}\t{c.split}\t{int(label)}" for c, label in zip(cases, y, strict=True)
                  if c.split in ("train", "internal"))  # fmt: skip
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def is_training_cohort(
    manifest: dict[str, Any], cohort_sha256: str, parts: dict[str, Any], split_cases: str | None = None
) -> bool:
    """Are the evaluated cohort's train and internal splits the bundle's? (Then its internal figures flatter.)

    The fingerprint of the train and internal cases decides where the manifest records it; otherwise the
    cohort file's checksum when it is equal; otherwise the size and responders of the train and internal
    splits. A checksum that differs decides nothing on its own: it covers the image paths, which depend
    on where the cohort was written, and an added external split. Erring towards "trained on" only costs
    a caution that the internal figures are optimistic; erring the other way would hide it.
    """
    td = manifest.get("training_data") or {}
    if td.get("split_cases_sha256") and split_cases:
        return td["split_cases_sha256"] == split_cases
    if td.get("cohort_sha256") and td["cohort_sha256"] == cohort_sha256:
        return True
    recorded = td.get("splits") or {}
    for s in ("train", "internal"):
        mine, theirs = parts.get(s, {"n": 0, "n_positive": 0}), recorded.get(s, {"n": 0, "responders": 0})
        if (mine["n"], mine["n_positive"]) != (theirs.get("n"), theirs.get("responders")):
            return False
    return True


def compute(
    cases,
    y: np.ndarray,
    logits: np.ndarray,
    rows: list[RowModel],
    primary: str,
    truth: dict[str, float] | None,
    manifest: dict[str, Any] | None = None,
    training_cohort: bool = True,
) -> dict[str, Any]:
    """All numbers of the report (JSON-serialisable); `curves` holds per-case data for the figures."""
    splits = np.array([c.split for c in cases])
    present = [s for s in ("train", "internal", "external") if (splits == s).any()]
    result: dict[str, Any] = {
        "primary": primary,
        "primary_model": primary,
        "split_order": present,
        "training_cohort": training_cohort,
        "splits": participants(cases, y),
        "labels": {r.key: r.label for r in rows},
        "kinds": {r.key: r.kind for r in rows},
        "methods": METHODS,
        "comparisons": [],
        "multiplicity": multiplicity_note(rows, primary),
        "curves": {},
        "ground_truth": {},
    }
    for s in present:
        idx = np.where(splits == s)[0]
        ys = y[idx]
        probs = {r.key: r.predict(logits[idx]) for r in rows}
        result["curves"][s] = {"y": ys.tolist(), "probs": {k: v.tolist() for k, v in probs.items()}}
        result["splits"][s]["rows"] = {
            r.key: row_metrics(ys, probs[r.key], r.threshold, _threshold_source(r)) for r in rows
        }
        if min(int(ys.sum()), len(ys) - int(ys.sum())) >= 2:
            result["comparisons"] += comparisons(ys, probs, rows, primary, s)
        if truth is not None and len(set(ys.tolist())) == 2:
            tp = np.array([truth.get(cases[i].case_id, np.nan) for i in idx])
            if not np.isnan(tp).any():
                best, pa = auc(ys, tp), auc(ys, probs[primary])
                result["ground_truth"][s] = {
                    "ground_truth_auc": best,
                    "primary_auc": pa,
                    "ratio": pa / best if best > 0 else None,  # tiny or relabelled splits
                    "best_single_auc": max(auc(ys, probs[r.key]) for r in rows if r.kind == "single"),
                }
    result["table"] = flat_table(result)
    result["warnings"] = report_warnings(result, manifest or {})
    return result


def flat_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat record per (row, split), for table.csv and the Markdown headline."""
    out = []
    for key, label in result["labels"].items():
        for s in result["split_order"]:
            m = result["splits"][s]["rows"][key]
            lo, hi = m["auc_ci"] or (None, None)
            out.append({"model": key, "label": label, "kind": result["kinds"][key], "split": s, "n": m["n"],
                        "auc": m["auc"], "auc_ci_low": lo, "auc_ci_high": hi,
                        **{k: m[k] for k in ("accuracy", "sensitivity", "specificity", "ppv", "npv",
                                             "threshold", "brier", "calibration_intercept",
                                             "calibration_slope", "observed_expected")}})  # fmt: skip
    return out
