"""Report figures (matplotlib, Agg backend: no display, no Qt): ROC of every row, calibration with
CIs and decision curves of the primary model and the best single region, per split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.training.metrics import calibration_curve, net_benefit, roc_curve, wilson_ci
from dlrs_desktop.training.validation import SPLIT_LABELS


def _plt():
    # lazy: optional [train] extra; extras.require names the install
    import matplotlib

    matplotlib.use("Agg", force=True)
    # lazy: optional [train] extra; extras.require names the install
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path.name


def best_single(result: dict[str, Any], split: str) -> str | None:
    """The single region with the highest AUC on `split` (what the primary is compared with in the DCA)."""
    rows = result["splits"][split]["rows"]
    singles = [k for k, kind in result["kinds"].items() if kind == "single" and rows[k]["auc"] is not None]
    return max(singles, key=lambda k: rows[k]["auc"]) if singles else None


def _keys(result: dict[str, Any], s: str) -> list[str]:
    """The primary model and the best single region on `s` (the calibration and decision curves)."""
    return [result["primary"]] + [k for k in [best_single(result, s)] if k and k != result["primary"]]


def curve_data(result: dict[str, Any], s: str) -> dict[str, Any] | None:
    """The figures' curves of split `s`: ROC per row, calibration groups and net benefit of `_keys`.

    Why a step between the numbers and the plots: `dlrs evaluate` computes the curves from per-case
    scores (`curves[s]` holds y and probs), a federated report from score histograms (`curves[s]`
    already holds these curves); the plots draw either. None: one class only, no figure.
    """
    c = result["curves"][s]
    if "roc" in c:
        return c
    y = np.asarray(c["y"])
    if len(set(y.tolist())) < 2:
        return None
    probs = {k: np.asarray(p) for k, p in c["probs"].items()}
    th = np.linspace(0.01, 0.95, 95)
    return {
        "roc": {k: roc_curve(y, p) for k, p in probs.items()},
        "calibration": {k: calibration_curve(y, probs[k], bins=8) for k in _keys(result, s)},
        "dca": {k: net_benefit(y, probs[k], th) for k in _keys(result, s)},
        "prevalence": float(y.mean()),
    }


def _roc(out: Path, result: dict[str, Any], s: str, data: dict[str, Any]) -> str:
    plt = _plt()
    primary, labels, rows = result["primary"], result["labels"], result["splits"][s]["rows"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8))
    for ax, kind, title in ((axes[0], "single", "single regions"), (axes[1], "fusion", "fusions")):
        for key, (fpr, tpr) in data["roc"].items():
            if result["kinds"][key] != kind and key != primary:
                continue
            star = " (primary)" if key == primary else ""
            label = f"{labels[key]}{star} (AUC {rows[key]['auc']:.3f})"
            style = {"lw": 2.4, "color": "black", "zorder": 3} if key == primary else {"lw": 1.2}
            ax.plot(fpr, tpr, label=label, **style)
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set(xlabel="1 − specificity", ylabel="Sensitivity", title=f"ROC, {title} — {SPLIT_LABELS[s]}")
        ax.legend(fontsize=7, loc="lower right")
    return _save(fig, out / f"roc_{s}.png")


def _calibration(out: Path, result: dict[str, Any], s: str, data: dict[str, Any]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.4, 5))
    ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfect calibration")
    for j, (key, cal) in enumerate(data["calibration"].items()):
        lo, hi = [], []
        for obs, cnt in zip(cal["observed"], cal["count"], strict=True):
            a, b = wilson_ci(round(obs * cnt), cnt)
            lo.append(obs - (a or 0.0))
            hi.append((b or 0.0) - obs)
        m = result["splits"][s]["rows"][key]
        slope = m["calibration_slope"]
        extra = f", slope {slope:.2f}" if slope is not None else ""
        ax.errorbar(np.asarray(cal["predicted"]) + 0.004 * j, cal["observed"], yerr=[lo, hi], fmt="o-",
                    capsize=3, lw=1.6 if j == 0 else 1.0,
                    label=f"{result['labels'][key]} (Brier {m['brier']:.3f}{extra})")  # fmt: skip
    ax.set(xlabel="Predicted probability (8 equal-count groups)", xlim=(0, 1), ylim=(0, 1),
           ylabel="Observed frequency (Wilson 95 % CI)")  # fmt: skip
    ax.set_title(f"Calibration — {SPLIT_LABELS[s]}")
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, out / f"calibration_{s}.png")


def _dca(out: Path, result: dict[str, Any], s: str, data: dict[str, Any]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.8, 4.4))
    nb: dict[str, list[float]] = {}
    for j, (key, nb) in enumerate(data["dca"].items()):
        ax.plot(nb["threshold"], nb["model"], lw=2 if j == 0 else 1.2, label=result["labels"][key])
    ax.plot(nb["threshold"], nb["treat_all"], "--", lw=1, label="Treat all")
    ax.plot(nb["threshold"], nb["treat_none"], "k-", lw=0.8, label="Treat none")
    prev = float(data["prevalence"])
    ax.set(xlabel="Threshold probability", ylabel="Net benefit", ylim=(-0.05, max(prev, 0.05) * 1.1),
           title=f"Decision curve — {SPLIT_LABELS[s]}")  # fmt: skip
    ax.legend(fontsize=7)
    return _save(fig, out / f"dca_{s}.png")


def write_figures(out: Path, result: dict[str, Any]) -> dict[str, dict[str, str]]:
    figs: dict[str, dict[str, str]] = {}
    for s in result["split_order"]:
        data = curve_data(result, s)
        if data is None:
            continue
        figs[s] = {
            "roc": _roc(out, result, s, data),
            "calibration": _calibration(out, result, s, data),
            "dca": _dca(out, result, s, data),
        }
    return figs
