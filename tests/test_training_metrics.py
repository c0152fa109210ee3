"""Validation statistics checked against independent computations (textbook formulas, sklearn, bootstrap)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlrs_desktop.training.metrics import (
    auc,
    auc_ci,
    binary_metrics,
    calibration_curve,
    delong_covariance,
    delong_test,
    net_benefit,
    roc_curve,
    youden_threshold,
)


def _naive_delong(y, *scores):
    """Textbook DeLong (1988) structural components with explicit double loops."""
    pos = [np.asarray(s)[y == 1] for s in scores]
    neg = [np.asarray(s)[y == 0] for s in scores]
    m, n = len(pos[0]), len(neg[0])
    k = len(scores)
    v10 = np.zeros((k, m))
    v01 = np.zeros((k, n))
    for r in range(k):
        for i in range(m):
            v10[r, i] = np.mean([1.0 if pos[r][i] > b else 0.5 if pos[r][i] == b else 0.0 for b in neg[r]])
        for j in range(n):
            v01[r, j] = np.mean([1.0 if a > neg[r][j] else 0.5 if a == neg[r][j] else 0.0 for a in pos[r]])
    aucs = v10.mean(axis=1)
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return aucs, s10 / m + s01 / n


def _data(seed=0, n=80, ties=True):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    a = y * 1.0 + rng.normal(0, 1.0, n)
    b = y * 0.5 + 0.5 * a + rng.normal(0, 1.0, n)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    return y, a, b


def test_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    y, a, b = _data()
    assert auc(y, a) == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert auc(y, b) == pytest.approx(roc_auc_score(y, b), abs=1e-12)


def test_delong_covariance_matches_textbook_structural_components():
    y, a, b = _data(1)
    aucs, cov = delong_covariance(y, a, b)
    aucs_n, cov_n = _naive_delong(y, a, b)
    np.testing.assert_allclose(aucs, aucs_n, atol=1e-12)
    np.testing.assert_allclose(cov, cov_n, atol=1e-12)


def test_delong_variance_agrees_with_bootstrap():
    y, a, _ = _data(2, n=200, ties=False)
    _, cov = delong_covariance(y, a)
    rng = np.random.default_rng(0)
    boots = []
    for _ in range(1500):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            boots.append(auc(y[i], a[i]))
    assert math.sqrt(cov[0, 0]) == pytest.approx(np.std(boots), rel=0.15)


def test_delong_ci_and_test_behave():
    y, a, b = _data(3)
    est, lo, hi = auc_ci(y, a)
    se = math.sqrt(delong_covariance(y, a)[1][0, 0])
    assert lo == pytest.approx(est - 1.959964 * se, abs=1e-5)
    assert hi == pytest.approx(min(1.0, est + 1.959964 * se), abs=1e-5)
    same = delong_test(y, a, a)
    assert same["p_value"] == 1.0 and same["difference"] == 0.0
    rng = np.random.default_rng(4)
    noise = rng.normal(size=len(y))
    strong = delong_test(y, y + rng.normal(0, 0.3, len(y)), noise)
    assert strong["p_value"] < 1e-4 and strong["difference"] > 0.3
    # z is the difference over its naive standard error
    _, cov = _naive_delong(y, a, b)
    t = delong_test(y, a, b)
    assert t["z"] == pytest.approx((auc(y, a) - auc(y, b)) / math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))


def test_threshold_metrics_by_hand():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.4, 0.7])
    m = binary_metrics(y, p, 0.5)
    # predicted positive: 0.9, 0.8, 0.6, 0.7 → TP 3, FP 1, FN 1, TN 3
    assert (m.sensitivity, m.specificity, m.ppv, m.npv, m.accuracy) == (0.75, 0.75, 0.75, 0.75, 0.75)
    assert youden_threshold(y, p) == 0.7  # TP 3 FP 0 → J = 0.75, the best cut
    fpr, tpr = roc_curve(y, p)
    assert fpr[0] == 0 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc(y, p))


def test_decision_curve_and_calibration_by_hand():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.8, 0.6, 0.4, 0.2, 0.1])
    nb = net_benefit(y, p, np.array([0.5]))
    # threshold 0.5: TP 1, FP 1 → 1/5 − 1/5 × 1 = 0; treat all: 2/5 − 3/5 × 1 = −0.2
    assert nb["model"][0] == pytest.approx(0.0) and nb["treat_all"][0] == pytest.approx(-0.2)
    cal = calibration_curve(np.r_[y, y], np.r_[p, p], bins=2)
    assert sum(cal["count"]) == 10 and cal["predicted"][0] < cal["predicted"][1]
