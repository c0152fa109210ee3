"""Figures (matplotlib, Agg backend: no display, no Qt) and the one-page HTML validation report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.fileio import atomic_write_text
from dlrs_desktop.textsafe import html_text
from dlrs_desktop.training.evaluate import SPLIT_LABELS, table_rows
from dlrs_desktop.training.metrics import brier, calibration_curve, net_benefit, roc_curve


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path.name


def write_figures(out: Path, result: dict[str, Any]) -> dict[str, dict[str, str]]:
    plt = _plt()
    primary = result["primary_model"]
    labels = {r["model"]: r["label"] for r in result["table"]}
    figs: dict[str, dict[str, str]] = {}
    for s in result["splits"]:
        c = result["curves"][s]
        y = np.asarray(c["y"])
        if len(set(y.tolist())) < 2:
            continue
        figs[s] = {}
        fig, ax = plt.subplots(figsize=(5.2, 5))
        for key, p in c["probs"].items():
            if not (key == primary or not key.startswith("fusion")):
                continue
            fpr, tpr = roc_curve(y, np.asarray(p))
            a = next(r["auc"] for r in result["table"] if r["model"] == key and r["split"] == s)
            ax.plot(fpr, tpr, lw=2.2 if key == primary else 1.2, label=f"{labels[key]} (AUC {a:.3f})")
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set(xlabel="1 − specificity", ylabel="Sensitivity", title=f"ROC — {SPLIT_LABELS[s]}")
        ax.legend(fontsize=7, loc="lower right")
        figs[s]["roc"] = _save(fig, out / f"roc_{s}.png")

        p = np.asarray(c["probs"][primary])
        cal = calibration_curve(y, p, bins=8)
        fig, ax = plt.subplots(figsize=(5.2, 5))
        ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfect calibration")
        ax.plot(cal["predicted"], cal["observed"], "o-", label=f"{labels[primary]} (Brier {brier(y, p):.3f})")
        ax.set(xlabel="Predicted probability", ylabel="Observed frequency", xlim=(0, 1), ylim=(0, 1),
               title=f"Calibration — {SPLIT_LABELS[s]}")  # fmt: skip
        ax.legend(fontsize=7, loc="upper left")
        figs[s]["calibration"] = _save(fig, out / f"calibration_{s}.png")

        th = np.linspace(0.01, 0.9, 90)
        nb = net_benefit(y, p, th)
        fig, ax = plt.subplots(figsize=(5.6, 4.4))
        ax.plot(th, nb["model"], lw=2, label=labels[primary])
        ax.plot(th, nb["treat_all"], "--", lw=1, label="Treat all")
        ax.plot(th, nb["treat_none"], "k-", lw=0.8, label="Treat none")
        prev = float(y.mean())
        ax.set(xlabel="Threshold probability", ylabel="Net benefit", ylim=(-0.05, max(prev, 0.05) * 1.1),
               title=f"Decision curve — {SPLIT_LABELS[s]}")  # fmt: skip
        ax.legend(fontsize=7)
        figs[s]["dca"] = _save(fig, out / f"dca_{s}.png")
    return figs


def _f(v: Any, nd: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return "–" if np.isnan(v) else f"{v:.{nd}f}"
    return html_text(str(v))


def _table_html(result: dict[str, Any]) -> str:
    splits = result["splits"]
    head = "".join(f"<th colspan=7>{SPLIT_LABELS[s]}</th>" for s in splits)
    cols = ("AUC (95% CI)", "Acc", "Sens", "Spec", "PPV", "NPV", "Brier")
    sub = "".join(f"<th>{c}</th>" for _ in splits for c in cols)
    body = []
    for key, label, rows in table_rows(result):
        cells = []
        for r in rows:
            if r.get("auc") is None:
                cells.append("<td colspan=7>one class only</td>")
                continue
            cells.append(
                f"<td>{_f(r['auc'])} ({_f(r['auc_ci_low'])}–{_f(r['auc_ci_high'])})</td>"
                + "".join(
                    f"<td>{_f(r[k])}</td>" for k in ("accuracy", "sensitivity", "specificity", "ppv", "npv")
                )
                + f"<td>{_f(r['brier'])}</td>"
            )
        cls = " class=primary" if key == result["primary_model"] else ""
        body.append(f"<tr{cls}><th>{html_text(label)}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th rowspan=2>Model</th>{head}</tr><tr>{sub}</tr>{''.join(body)}</table>"


def _delong_html(result: dict[str, Any]) -> str:
    rows = [d for d in result["delong"] if d["fusion"] == result["primary_model"]]
    if not rows:
        return "<p>DeLong tests need at least two cases of each class in a split.</p>"
    body = "".join(
        f"<tr><td>{SPLIT_LABELS[d['split']]}</td><td>{html_text(d['single'])}</td><td>{_f(d['auc_a'])}</td>"
        f"<td>{_f(d['auc_b'])}</td><td>{_f(d['difference'])}</td><td>{_f(d['z'], 2)}</td>"
        f"<td>{_f(d['p_value'], 4)}</td></tr>"
        for d in rows
    )
    return ("<table><tr><th>Split</th><th>Single ROI</th><th>AUC fusion</th><th>AUC single</th><th>Δ</th>"
            f"<th>z</th><th>p (two-sided)</th></tr>{body}</table>")  # fmt: skip


_CSS = """body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0}
td,th{border:1px solid #bbb;padding:3px 6px;text-align:center}
tr.primary{background:#eef6ff;font-weight:bold}
.notice{background:#fff3cd;padding:0.6em;border:1px solid #e0c060}
.figs img{width:32%;margin-right:1%}"""


def write_report(out: Path, result: dict[str, Any], manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    figs = write_figures(out, result)
    m = result["model"]
    notice = ("Research use only — demonstration model trained on SYNTHETIC data (not patient data)."
              if m["synthetic"] else "Research use only.")  # fmt: skip
    gt = result.get("ground_truth") or {}
    gt_html = ""
    if gt:
        gt_rows = "".join(
            f"<tr><td>{SPLIT_LABELS[s]}</td><td>{_f(v['ground_truth_auc'])}</td><td>{_f(v['primary_auc'])}</td>"
            f"<td>{_f(v['ratio'])}</td><td>{_f(v['best_single_auc'])}</td></tr>"
            for s, v in gt.items()
        )
        gt_html = (
            f"<h2>Against the best achievable AUC</h2><p>The synthetic cohort's true response probabilities "
            f"({html_text(str(result.get('ground_truth_file')))}, never read by training) give the "
            "best AUC any model can reach on these labels.</p>"
            "<table><tr><th>Split</th><th>Ground-truth AUC</th>"
            f"<th>Primary fusion AUC</th><th>Ratio</th><th>Best single-ROI AUC</th></tr>{gt_rows}</table>"
        )
    fig_html = "".join(
        f"<h3>{SPLIT_LABELS[s]}</h3><div class=figs>"
        + "".join(f"<img src='{html_text(f)}' alt='{k} {s}'>" for k, f in d.items())
        + "</div>"
        for s, d in figs.items()
    )
    td = manifest.get("training_data", {})
    title = f"DLRS validation report — {html_text(m['id'])}"
    page = f"""<!doctype html><html><head><meta charset=utf-8><title>{title}</title>
<style>{_CSS}</style></head><body>
<h1>Validation report: {html_text(m["id"])} {html_text(m["version"])}</h1>
<p class=notice>{notice}</p>
<p>Cohort <code>{html_text(result["cohort"])}</code>.
Model manifest sha256 <code>{m["manifest_sha256"][:16]}…</code>.
Training data: {html_text(str(td.get("description", "")))}.
Primary model (chosen on the internal split): <b>{html_text(result["primary_model"])}</b>.
Metrics at the threshold of each model fixed on the training split (Youden, out-of-fold);
AUC 95 % CI by DeLong.</p>
<h2>Performance</h2>{_table_html(result)}
<h2>DeLong test: primary fusion vs each single ROI</h2>{_delong_html(result)}
{gt_html}
<h2>Figures</h2><p>ROC curves (single ROIs and the primary fusion), calibration curve with Brier score, and
decision-curve analysis (net benefit against treat-all and treat-none) of the primary fusion.</p>{fig_html}
</body></html>
"""
    atomic_write_text(out / "report.html", page)
    return figs
