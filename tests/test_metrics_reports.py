"""Every committed evaluation report recomputed from its own per-case predictions (predictions.csv):
AUC, DeLong CIs and tests, Holm, Brier, calibration intercept and slope, net benefit — equal to 1e-9.

Why: the statistics are computed with scipy / scikit-learn / statsmodels where they give the same
numbers; these reports were written by the earlier hand-written code, so equality here is the proof.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the [train] extra

from dlrs_desktop.training.metrics import delong_test, holm
from dlrs_desktop.training.validation import row_metrics

DOCS = Path(__file__).resolve().parents[1] / "docs" / "evaluation"
# The current report format (dlrs-demo's older reports round predictions.csv to 5 decimals: not comparable).
REPORTS = sorted(
    p.parent
    for p in DOCS.glob("**/metrics.json")
    if (p.parent / "predictions.csv").is_file() and "comparisons" in json.loads(p.read_text())
)
KEYS = ("auc", "auc_ci", "brier", "calibration_intercept", "calibration_intercept_ci", "calibration_slope",
        "calibration_slope_ci", "observed_expected", "net_benefit", "net_benefit_treat_all")  # fmt: skip


def close(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            close(u, v, f"{where}[{i}]")
    elif a is None or b is None:
        assert a is None and b is None, f"{where}: {a} vs {b}"
    else:
        assert abs(float(a) - float(b)) <= 1e-9, f"{where}: {a} vs {b}"


def _columns(report: Path) -> dict[str, list[str]]:
    with (report / "predictions.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: [r[k] for r in rows] for k in rows[0]}


def test_the_reports_are_found():
    assert len(REPORTS) >= 7


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: str(p.relative_to(DOCS)))
def test_committed_report_numbers_are_recomputed_exactly(report):
    committed = json.loads((report / "metrics.json").read_text())
    cols = _columns(report)
    split = np.array(cols["split"])
    label = np.array(cols["label"], float).astype(int)
    checked = 0
    for s, part in committed["splits"].items():
        idx = split == s
        y = label[idx]
        probs = {k: np.array(cols[k], float)[idx] for k in part["rows"]}
        for key, row in part["rows"].items():
            again = row_metrics(y, probs[key], row["threshold"], row["threshold_source"])
            close({k: row[k] for k in KEYS}, {k: again[k] for k in KEYS}, f"{s}.{key}")
            checked += 1
        mine = [d for d in committed["comparisons"] if d["split"] == s]
        tests = [delong_test(y, probs[d["model_a"]], probs[d["model_b"]]) for d in mine]
        for d, t, p_adj in zip(mine, tests, holm([t["p_value"] for t in tests]), strict=True):
            close({k: d[k] for k in t}, t, f"{s}.{d['model_b']}")
            close(d["p_holm"], p_adj, f"{s}.{d['model_b']}.p_holm")
    assert checked >= 8


@pytest.mark.parametrize("report", REPORTS[:2], ids=lambda p: str(p.relative_to(DOCS)))
def test_the_auc_is_scikit_learns(report):
    """`metrics.auc` (DeLong's components, so `dlrs synth` needs no scikit-learn) = `roc_auc_score`."""
    from sklearn.metrics import roc_auc_score

    from dlrs_desktop.training.metrics import auc

    cols = _columns(report)
    label = np.array(cols["label"], float).astype(int)
    for key in ("intratumoral", "ring_10mm", "fusion_all"):
        p = np.array(cols[key], float)
        assert abs(auc(label, p) - roc_auc_score(label, p)) <= 1e-12
