"""What a site sends for the federated evaluation report: sums over its cases, never a case's value.

Why sums beside the score histograms: the histograms give AUC, its DeLong CI and the counts at a
bin edge, but the pooled report (validation.row_metrics) also shows the Brier score, observed /
expected, counts at each row's stored threshold, net benefit at 0.05 … 0.95 and the calibration
intercept and slope. Each of those is a sum over cases (or a logistic fit whose loss, gradient and
Hessian are sums), so a site's sums add up, over sites, to exactly what the pooled cases give:
counts at a threshold are counted at the threshold itself (not at the nearest bin edge), so they
are exact for any threshold.

numpy only at import (scipy inside aggregates.logistic_terms).
"""

from __future__ import annotations

import numpy as np

from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.metrics import NET_BENEFIT_THRESHOLDS

#: The head of a `score_sums` vector; then true and false positives at each NET_BENEFIT_THRESHOLDS.
SUMS = ("n", "n_positive", "sum_p", "sum_squared_error", "tp", "fp")
N_THRESHOLDS = len(NET_BENEFIT_THRESHOLDS)
SUMS_SIZE = len(SUMS) + 2 * N_THRESHOLDS
#: Calibration fits per split and row: 0 = slope (logit(p) and intercept free), 1 = intercept
#: (logit(p) as offset: its coefficient held at 1).
CALIBRATION_FITS = 2
TERMS_SIZE = agg.terms_size(1)
LOGIT_CLIP = 1e-12  # as metrics.calibration_stats


def score_sums(p: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    """(SUMS_SIZE,) float64: n, responders, Σp, Σ(p−y)², TP and FP at `threshold` (p ≥ threshold is
    positive, as validation.row_metrics), then TP at each net-benefit threshold, then FP at each."""
    p, y = np.asarray(p, np.float64), np.asarray(y, np.float64)
    call = p >= threshold
    at = [p >= t for t in NET_BENEFIT_THRESHOLDS]
    pos, neg = y == 1, y == 0
    head = [len(p), y.sum(), p.sum(), np.square(p - y).sum(), (call & pos).sum(), (call & neg).sum()]
    tps = [(c & pos).sum() for c in at]
    fps = [(c & neg).sum() for c in at]
    return np.asarray([*head, *tps, *fps], np.float64)


def logit(p: np.ndarray) -> np.ndarray:
    """logit(p) clipped as metrics.calibration_stats clips it (so the fits see the same inputs)."""
    q = np.clip(np.asarray(p, np.float64), LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(q / (1 - q))


def calibration_terms(p: np.ndarray, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """(J, TERMS_SIZE): aggregates.logistic_terms of y on x = logit(p) at each (slope, intercept) row
    of `theta` (J, 2); zeros for a site without cases on the split."""
    out = np.zeros((len(theta), TERMS_SIZE))
    if len(p) == 0:
        return out
    x = logit(p)[:, None]
    for j, (w, b) in enumerate(np.asarray(theta, np.float64)):
        out[j] = agg.logistic_terms(x, np.asarray(y, np.float64), np.array([w]), float(b))
    return out
