"""The one-page HTML validation report: what TRIPOD+AI asks a validation to show (docs/TRIPOD_AI.md).

Every value is escaped; numbers come from `validation.compute`, the same dict as `metrics.json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.fileio import atomic_write_text
from dlrs_desktop.model.card import distillation_text
from dlrs_desktop.model.outcome import Outcome
from dlrs_desktop.textsafe import html_text
from dlrs_desktop.training.domain_eval import guard_html
from dlrs_desktop.training.figures import best_single, write_figures
from dlrs_desktop.training.metrics import NET_BENEFIT_THRESHOLDS, format_p
from dlrs_desktop.training.validation import SPLIT_LABELS


def _e(v: Any) -> str:
    """Every text from a file (ids, labels, centres, descriptions) leaves through here (textsafe)."""
    return html_text(str(v))


def _f(v: Any, nd: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return "–" if np.isnan(v) else f"{v:.{nd}f}"
    return _e(v)


def _ci(v: Any, ci: Any, nd: int = 3) -> str:
    if v is None:
        return "–"
    if not ci or ci[0] is None:
        return _f(v, nd)
    return f"{_f(v, nd)} [{_f(ci[0], nd)}, {_f(ci[1], nd)}]"  # brackets: readable with negative bounds


def _participants_html(result: dict[str, Any], positive_class: str) -> str:
    """Who is in which split; the positive column is named by the bundle's outcome (e.g. "malignant")."""
    body = []
    for s in result["split_order"]:
        d = result["splits"][s]
        body.append(f"<tr><th>{SPLIT_LABELS[s]}</th><td>all</td><td>{d['n']}</td><td>{d['n_positive']}</td>"
                    f"<td>{_f(d['prevalence'])}</td></tr>")  # fmt: skip
        for centre, c in d["by_centre"].items():
            body.append(f"<tr><td></td><td>{_e(centre)}</td><td>{c['n']}</td><td>{c['n_positive']}</td>"
                        f"<td>{_f(c['prevalence'])}</td></tr>")  # fmt: skip
    by = _e(result.get("participants_by", "Centre"))
    return (f"<table><tr><th>Split</th><th>{by}</th><th>n</th><th>Positive ({_e(positive_class)})</th>"
            "<th>Prevalence</th></tr>"
            + "".join(body) + "</table>")  # fmt: skip


_COLS = ("AUC (95 % CI)", "Threshold", "Accuracy", "Sensitivity", "Specificity", "PPV", "NPV", "Brier",
         "Cal. intercept", "Cal. slope", "O/E")  # fmt: skip


def _performance_html(result: dict[str, Any], s: str) -> str:
    rows = result["splits"][s]["rows"]
    body = []
    for key, m in rows.items():
        cls = " class=primary" if key == result["primary"] else ""
        if m["auc"] is None:
            cells = f"<td colspan={len(_COLS)}>one class only: discrimination undefined</td>"
        else:
            cells = "".join(
                f"<td>{c}</td>"
                for c in (
                    _ci(m["auc"], m["auc_ci"]),
                    _f(m["threshold"]),
                    *(
                        _ci(m[k], m[f"{k}_ci"])
                        for k in ("accuracy", "sensitivity", "specificity", "ppv", "npv")
                    ),
                    _f(m["brier"]),
                    _ci(m["calibration_intercept"], m["calibration_intercept_ci"], 2),
                    _ci(m["calibration_slope"], m["calibration_slope_ci"], 2),
                    _f(m["observed_expected"], 2),
                )
            )
        star = " (primary)" if key == result["primary"] else ""
        body.append(f"<tr{cls}><th>{_e(result['labels'][key])}{star}</th>{cells}</tr>")
    head = "".join(f"<th>{c}</th>" for c in _COLS)
    return f"<table><tr><th>Model</th>{head}</tr>{''.join(body)}</table>"


def _net_benefit_html(result: dict[str, Any], s: str) -> str:
    rows = result["splits"][s]["rows"]
    keys = [result["primary"]] + [k for k in [best_single(result, s)] if k and k != result["primary"]]
    ts = [f"{t:.2f}" for t in NET_BENEFIT_THRESHOLDS]
    head = "".join(f"<th>{t}</th>" for t in ts)
    body = "".join(
        f"<tr><th>{_e(result['labels'][k])}</th>"
        + "".join(f"<td>{_f(rows[k]['net_benefit'][t])}</td>" for t in ts)
        + "</tr>"
        for k in keys
    )
    treat_all = rows[keys[0]]["net_benefit_treat_all"]
    body += "<tr><th>Treat all</th>" + "".join(f"<td>{_f(treat_all[t])}</td>" for t in ts) + "</tr>"
    return f"<table><tr><th>Net benefit at threshold</th>{head}</tr>{body}</table>"


def _comparisons_html(result: dict[str, Any]) -> str:
    rows = result["comparisons"]
    if not rows:
        return "<p>DeLong tests need at least two cases of each class in a split.</p>"
    body = "".join(
        f"<tr><td>{SPLIT_LABELS[d['split']]}</td><td>{_e(result['labels'][d['model_b']])}</td>"
        f"<td>{_f(d['auc_a'])}</td><td>{_f(d['auc_b'])}</td>"
        f"<td>{_f(d['difference'])} [{_f(d['difference_ci_low'])}, {_f(d['difference_ci_high'])}]</td>"
        f"<td>{_f(d['z'], 2)}</td><td>{format_p(d['p_value'])}</td><td>{format_p(d['p_holm'])}</td></tr>"
        for d in rows
    )
    return ("<table><tr><th>Split</th><th>Compared with</th><th>AUC primary</th><th>AUC other</th>"
            "<th>Δ AUC (95 % CI)</th><th>z</th><th>p (two-sided)</th><th>p (Holm)</th></tr>"
            f"{body}</table><p class=note>{_e(result['multiplicity'])}</p>")  # fmt: skip


def _federated_html(result: dict[str, Any]) -> str:
    """One visible note in a federated report: what it was computed from and what it cannot show
    (so that no section stands empty without a reason)."""
    fed = result.get("federated")
    if not fed:
        return ""
    items = "".join(f"<li>{_e(x)}</li>" for x in fed["not_available"])
    return (
        f"<div class=notice id=federated><b>Federated evaluation across {_e(fed['sites'])} sites.</b> "
        f"Every number was computed from {_e(fed['computed_from'])} that the sites sent; no per-patient "
        f"value left a site. Not available in a federated report:<ul>{items}</ul></div>"
    )


def _comparisons_section(result: dict[str, Any]) -> str:
    if result.get("federated"):
        return ""  # the federated note says why
    return f"<h2>DeLong comparisons: primary model vs every other row</h2>{_comparisons_html(result)}"


def _ground_truth_html(result: dict[str, Any]) -> str:
    gt = result.get("ground_truth") or {}
    if not gt:
        return ""
    rows = "".join(
        f"<tr><td>{SPLIT_LABELS[s]}</td><td>{_f(v['ground_truth_auc'])}</td><td>{_f(v['primary_auc'])}</td>"
        f"<td>{_f(v['ratio'])}</td><td>{_f(v['best_single_auc'])}</td></tr>"
        for s, v in gt.items()
    )
    return (
        "<h2>Against the best achievable AUC (synthetic cohorts)</h2><p>The synthetic cohort's true response "
        f"probabilities ({_e(result.get('ground_truth_file'))}, column <code>true_probability</code>, never "
        "read by training) give the best AUC any model can reach on these labels.</p>"
        "<table><tr><th>Split</th><th>Ground-truth AUC</th><th>Primary AUC</th><th>Ratio</th>"
        f"<th>Best single-region AUC</th></tr>{rows}</table>"
    )


def _change(v: Any) -> str:
    return "–" if v is None else f"{v:+.4f}"


def _int8_html(result: dict[str, Any]) -> str:
    """The bundle's int8 model against its float model on this cohort (training/quantize.py)."""
    q = result.get("int8") or {}
    if not q.get("splits"):
        return ""
    rows = "".join(
        f"<tr><td>{_e(SPLIT_LABELS.get(s, s))}</td><td>{_e(d['n'])}</td><td>{_f(d['max_abs_dp'], 4)}</td>"
        f"<td>{_f(d['mean_abs_dp'], 4)}</td><td>{_f(d['auc_float'])}</td><td>{_f(d['auc_int8'])}</td>"
        f"<td>{_change(d['auc_change'])}</td></tr>"
        for s, d in q["splits"].items()
    )
    return (
        f"<h2>int8 model</h2><p>The bundle's int8 model (<code>{_e(q.get('file'))}</code>, used where the "
        "CPU runs int8 fast) against its float model, primary model's probability: largest and mean "
        "absolute difference, and the AUC of both. All other numbers in this report are the float model's."
        "</p><table><tr><th>Split</th><th>n</th><th>max |Δp|</th><th>mean |Δp|</th><th>AUC float</th>"
        f"<th>AUC int8</th><th>AUC change</th></tr>{rows}</table>"
    )


def _cohort_note(result: dict[str, Any]) -> str:
    if result.get("training_cohort"):
        return (
            "This is the cohort the bundle was trained on. Its internal split was used for early stopping, "
            "for the logit standardisation of the stacking and for choosing the primary model: its figures "
            "are optimistic. The external split (another centre, never used for any choice) is the "
            "validation."
        )
    return (
        "This cohort is not the one the bundle was trained on (its checksum or split sizes differ from the "
        "manifest's training data): none of its cases was used for training or model selection, and its "
        "split names only say how the cohort file labels them. Each row keeps the threshold stored in the "
        "bundle."
    )


def _distillation_html(manifest: dict[str, Any]) -> str:
    """The distilled student's and the ensemble's internal AUCs and which shipped (training/distil.py)."""
    text = distillation_text((manifest.get("training") or {}).get("distillation"))
    return f"<p id=distillation>{_e(text[0].upper() + text[1:])}.</p>" if text else ""


def _notice(model: dict[str, Any]) -> str:
    if model.get("demo"):
        return "Research use only — demonstration model trained on SYNTHETIC data (not patient data)."
    if model.get("synthetic"):
        return "Research use only — model trained on SYNTHETIC data (not patient data)."
    return "Research use only."


#: The figures paragraph's last sentence (a federated report has no per-case file: its own note).
_FIGURES_NOTE = "Per-case values: <code>predictions.csv</code> (full double precision)."


def _figures_note(result: dict[str, Any]) -> str:
    return _e(result["figures_note"]) if result.get("figures_note") else _FIGURES_NOTE


_CSS = """body{font-family:sans-serif;max-width:1300px;margin:auto;padding:1em}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0}
td,th{border:1px solid #bbb;padding:3px 6px;text-align:center}
tr.primary{background:#eef6ff;font-weight:bold}
.notice{background:#fff3cd;padding:0.6em;border:1px solid #e0c060}
.warnings{background:#fde2e1;padding:0.6em 1em;border:2px solid #c0392b;color:#5a1510}
.note{font-size:12px;color:#333}
.figs img{width:48%;margin-right:1%}"""


def write_report(out: Path, result: dict[str, Any], manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    figs = write_figures(out, result)
    m = result["model"]
    warn = result.get("warnings") or []
    banner = (
        "<div class=warnings id=warnings><b>Warnings</b><ul>"
        + "".join(f"<li>{_e(w)}</li>" for w in warn)
        + "</ul></div>"
        if warn
        else ""
    )
    guard = manifest.get("primary_model_guard") or {}
    rejected = "".join(
        f"<li><code>{_e(k)}</code>: {_e(v)}</li>" for k, v in (guard.get("rejected") or {}).items()
    )
    methods = "".join(f"<li>{_e(k.replace('_', ' '))}: {_e(v)}</li>" for k, v in result["methods"].items())
    per_split = "".join(
        f"<h3>{SPLIT_LABELS[s]}</h3>{_performance_html(result, s)}"
        + (f"<h4>Net benefit</h4>{_net_benefit_html(result, s)}" if s in figs else "")
        for s in result["split_order"]
    )
    fig_html = "".join(
        f"<h3>{SPLIT_LABELS[s]}</h3><div class=figs>"
        + "".join(f"<img src='{_e(f)}' alt='{_e(k)} {_e(s)}'>" for k, f in d.items())
        + "</div>"
        for s, d in figs.items()
    )
    td = manifest.get("training_data", {})
    title = f"DLRS validation report — {_e(m['id'])}"
    page = f"""<!doctype html><html><head><meta charset=utf-8><title>{title}</title>
<style>{_CSS}</style></head><body>
<h1>Validation report: {_e(m["id"])} {_e(m["version"])}</h1>
<p class=notice>{_e(_notice(m))}</p>
{banner}
{_federated_html(result)}
<p>Cohort <code>{_e(result["cohort"])}</code>.
Model manifest sha256 <code>{_e(m["manifest_sha256"][:16])}…</code>.
Training data: {_e(td.get("description", ""))}.
Primary model (what the application shows): <b>{_e(result["labels"][result["primary"]])}</b>
(<code>{_e(result["primary"])}</code>; rule: {_e(manifest.get("primary_model_rule", "–"))}).</p>
{f"<p>Rows the guard did not accept as primary:</p><ul>{rejected}</ul>" if rejected else ""}
{_distillation_html(manifest)}
<p class=note>{_cohort_note(result)}</p>
<h2>Participants</h2>{_participants_html(result, Outcome.from_manifest(manifest).positive_class)}
<h2>Performance at each row's stored threshold</h2>
<ul class=note>{methods}</ul>{per_split}
{_comparisons_section(result)}
{_ground_truth_html(result)}
{guard_html(result.get("domain_guard"))}
{_int8_html(result)}
<h2>Figures</h2><p>ROC curves of every row; calibration (8 equal-count groups, Wilson 95 % CIs) and
decision curves (net benefit against treat-all and treat-none) of the primary model and the best single
region on that split. {_figures_note(result)}</p>{fig_html}
</body></html>
"""
    atomic_write_text(out / "report.html", page)
    return figs
