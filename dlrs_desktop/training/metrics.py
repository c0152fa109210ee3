"""Validation statistics: AUC with DeLong CI and test, threshold metrics, calibration, DCA.

The field's libraries where they give the same numbers (tests/test_metrics_reports.py recomputes every
committed report to 1e-9): ROC and Brier from scikit-learn, the normal quantile from SciPy, Holm and
the calibration regressions from statsmodels. Hand-written, each saying why: DeLong (no maintained
Python library provides the paired test and covariance) and the AUC from its components, the
equal-count calibration bins and net benefit.
All imported inside the functions: `dlrs --help` loads this module without the [train] extra.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


def _as_xy(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError("labels and scores differ in length")
    return y, s


def auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUC: P(score_pos > score_neg) + ½ P(tie); NaN for one class only.

    Computed from the midranks that DeLong's structural components below use anyway (the same
    arithmetic as ever, so bundles stay bit-identical), not by scikit-learn's `roc_auc_score`, which
    gives the same numbers (tests/test_metrics_reports.py compares the two):
    `dlrs synth` reports its ground-truth AUC on the default install, which has no scikit-learn."""
    y, s = _as_xy(y_true, score)
    if not (y == 1).any() or not (y == 0).any():
        return float("nan")
    pos, neg = s[y == 1], s[y == 0]
    ranks = _midrank(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _midrank(x: np.ndarray) -> np.ndarray:
    """Midranks (ties share the mean rank), as DeLong's structural components need them."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    n = len(x)
    t = np.zeros(n)
    i = 0
    while i < n:
        j = i
        while j < n and xs[j] == xs[i]:
            j += 1
        t[i:j] = 0.5 * (i + j - 1) + 1
        i = j
    out = np.empty(n)
    out[order] = t
    return out


def _structural_components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs (k,), V10 (k, m) over positives and V01 (k, n) over negatives for k score vectors."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    k = scores.shape[0]
    tx, ty, tz = np.empty((k, m)), np.empty((k, n)), np.empty((k, m + n))
    for r in range(k):
        tx[r] = _midrank(pos[r])
        ty[r] = _midrank(neg[r])
        tz[r] = _midrank(np.concatenate([pos[r], neg[r]]))
    aucs = tz[:, :m].sum(axis=1) / m / n - (m + 1.0) / 2.0 / n
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return aucs, v10, v01


def delong_covariance(y_true: np.ndarray, *scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix for several scores of the same cases.

    Hand-written on purpose: DeLong, DeLong & Clarke-Pearson (1988, Biometrics 44:837) with the fast
    midrank formulation of Sun & Xu (2014, IEEE SPL 21:1389). Neither SciPy, scikit-learn nor statsmodels
    provides the DeLong variance or the paired test of two correlated AUCs (R's pROC does; the Python
    packages that copy it are unmaintained single-file ports)."""
    y = np.asarray(y_true).astype(int).ravel()
    s = np.vstack([np.asarray(v, dtype=float).ravel() for v in scores])
    m, n = int((y == 1).sum()), int((y == 0).sum())
    if m < 2 or n < 2:
        raise ValueError("DeLong needs at least two cases of each class")
    aucs, v10, v01 = _structural_components(y, s)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, cov


def _norm_ppf(p: float) -> float:
    """Inverse standard normal CDF (SciPy's `ndtri`)."""
    # lazy: optional [train] extra; extras.require names the install
    from scipy.special import ndtri

    return float(ndtri(p))


def auc_ci(y_true: np.ndarray, score: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """AUC and its DeLong confidence interval (normal approximation, clipped to [0, 1])."""
    aucs, cov = delong_covariance(y_true, score)
    a, se = float(aucs[0]), math.sqrt(max(float(cov[0, 0]), 0.0))
    z = _norm_ppf(0.5 + level / 2)
    return a, max(0.0, a - z * se), min(1.0, a + z * se)


def delong_test(y_true: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> dict[str, float]:
    """Two-sided DeLong test of AUC(a) = AUC(b) on the same cases."""
    aucs, cov = delong_covariance(y_true, score_a, score_b)
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    diff = float(aucs[0] - aucs[1])
    if var <= 1e-15:
        z, p = 0.0, 1.0
    else:
        z = diff / math.sqrt(var)
        p = 2.0 * _norm_sf(abs(z))
    half = _norm_ppf(0.975) * math.sqrt(max(var, 0.0))
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "difference": diff,
            "difference_ci_low": diff - half, "difference_ci_high": diff + half,
            "z": z, "p_value": p}  # fmt: skip


def _norm_sf(z: float) -> float:
    """Upper tail of the standard normal (SciPy's `ndtr` of −z)."""
    # lazy: optional [train] extra; extras.require names the install
    from scipy.special import ndtr

    return float(ndtr(-z))


def youden_threshold(y_true: np.ndarray, prob: np.ndarray) -> float:
    """Probability threshold maximising sensitivity + specificity − 1 (ties: the lowest such cut)."""
    y, p = _as_xy(y_true, prob)
    best, best_t = -1.0, 0.5
    for t in np.unique(p):
        pred = p >= t
        sens = (pred & (y == 1)).sum() / max((y == 1).sum(), 1)
        spec = (~pred & (y == 0)).sum() / max((y == 0).sum(), 1)
        if sens + spec - 1 > best + 1e-12:
            best, best_t = sens + spec - 1, float(t)
    return best_t


@dataclass(frozen=True)
class BinaryMetrics:
    n: int
    auc: float
    auc_ci_low: float
    auc_ci_high: float
    accuracy: float
    sensitivity: float
    specificity: float
    ppv: float
    npv: float
    threshold: float

    def to_dict(self) -> dict[str, float | None]:
        """Plain JSON values: an undefined ratio (e.g. PPV with no positive call) becomes None."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def _ratio(a: int, b: int) -> float:
    return float(a) / b if b else float("nan")


def binary_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float) -> BinaryMetrics:
    """AUC (DeLong 95 % CI) and the confusion-matrix metrics at a fixed threshold."""
    y, p = _as_xy(y_true, prob)
    try:
        a, lo, hi = auc_ci(y, p)
    except ValueError:
        a, lo, hi = auc(y, p), float("nan"), float("nan")
    pred = p >= threshold
    tp = int((pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    return BinaryMetrics(
        n=len(y), auc=a, auc_ci_low=lo, auc_ci_high=hi, accuracy=_ratio(tp + tn, len(y)),
        sensitivity=_ratio(tp, tp + fn), specificity=_ratio(tn, tn + fp), ppv=_ratio(tp, tp + fp),
        npv=_ratio(tn, tn + fn), threshold=float(threshold),
    )  # fmt: skip


def roc_curve(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct score, from (0, 0) to (1, 1) (scikit-learn's
    `roc_curve`, every point kept)."""
    y, s = _as_xy(y_true, score)
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.metrics import roc_curve as sk_roc_curve

    fpr, tpr, _ = sk_roc_curve(y, s, drop_intermediate=False)
    return fpr, tpr


def brier(y_true: np.ndarray, prob: np.ndarray) -> float:
    """Mean squared error of the probabilities (scikit-learn's `brier_score_loss`)."""
    y, p = _as_xy(y_true, prob)
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(y, p))


def calibration_curve(y_true: np.ndarray, prob: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Observed frequency against mean predicted probability in equal-count bins.

    Hand-written on purpose: scikit-learn's `calibration_curve(strategy="quantile")` bins by quantile
    edges, so tied probabilities and small splits give other bins (and it drops empty ones silently);
    the figures show equal-count groups of the sorted cases, at least five cases per bin."""
    y, p = _as_xy(y_true, prob)
    order = np.argsort(p)
    groups = [g for g in np.array_split(order, min(bins, max(len(p) // 5, 1))) if len(g)]
    return {
        "predicted": [float(p[g].mean()) for g in groups],
        "observed": [float(y[g].mean()) for g in groups],
        "count": [len(g) for g in groups],
    }


def net_benefit(y_true: np.ndarray, prob: np.ndarray, thresholds: np.ndarray) -> dict[str, list[float]]:
    """Decision-curve analysis (Vickers & Elkin 2006): model, treat-all and treat-none net benefit.

    Hand-written: three lines of arithmetic; the maintained DCA packages (dcurves) pull pandas and
    statsmodels' formula layer in for them."""
    y, p = _as_xy(y_true, prob)
    n = len(y)
    prev = y.mean() if n else 0.0
    model, all_ = [], []
    for t in thresholds:
        w = t / (1 - t)
        pred = p >= t
        tp = (pred & (y == 1)).sum() / n
        fp = (pred & (y == 0)).sum() / n
        model.append(float(tp - fp * w))
        all_.append(float(prev - (1 - prev) * w))
    return {"threshold": [float(t) for t in thresholds], "model": model, "treat_all": all_,
            "treat_none": [0.0] * len(thresholds)}  # fmt: skip


NET_BENEFIT_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 20))  # 0.05, 0.10, …, 0.95


def wilson_ci(successes: int, total: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion (scipy's `binomtest(...).proportion_ci(method="wilson")`)."""
    if total <= 0:
        return None, None
    # lazy: optional [train] extra; extras.require names the install
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(total)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def _logistic_fit(x: np.ndarray, y: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unpenalised maximum-likelihood logistic regression with an offset: (coefficients, covariance),
    statsmodels' binomial GLM (IRLS to a tight tolerance)."""
    # lazy: optional [train] extra; extras.require names the install
    import statsmodels.api as sm

    model = sm.GLM(y, x, family=sm.families.Binomial(), offset=offset)
    params = np.asarray(model.fit(tol=1e-13, maxiter=100).params)
    # the covariance at the converged coefficients (IRLS reports the one of its last weights)
    return params, np.linalg.inv(-model.hessian(params))


def calibration_stats(y_true: np.ndarray, prob: np.ndarray, level: float = 0.95) -> dict[str, float | None]:
    """Calibration intercept (in the large), slope, their Wald CIs, and observed/expected events.

    Slope: logistic regression of the outcome on logit(p) (ideal 1; < 1 = predictions too extreme).
    Intercept: logistic regression with logit(p) as offset and only an intercept (ideal 0; > 0 =
    risks underestimated), as in Van Calster et al. (2019, BMC Med 17:230).
    """
    y, p = _as_xy(y_true, prob)
    keys = ("calibration_intercept", "calibration_intercept_ci", "calibration_slope",
            "calibration_slope_ci", "observed_expected")  # fmt: skip
    out: dict[str, float | None] = dict.fromkeys(keys)
    if len(y) == 0:
        return out
    out["observed_expected"] = float(y.sum() / p.sum()) if p.sum() > 0 else None
    if len(set(y.tolist())) < 2:
        return out
    lp = np.log(np.clip(p, 1e-12, 1 - 1e-12) / np.clip(1 - p, 1e-12, 1 - 1e-12))
    z = _norm_ppf(0.5 + level / 2)
    with np.errstate(over="ignore"):
        a, cov_a = _logistic_fit(np.ones((len(y), 1)), y.astype(float), lp)
        if np.ptp(lp) > 0:
            b, cov_b = _logistic_fit(np.c_[np.ones(len(y)), lp], y.astype(float), np.zeros(len(y)))
        else:
            b, cov_b = None, None
    se_a = math.sqrt(max(float(cov_a[0, 0]), 0.0))
    out["calibration_intercept"] = float(a[0])
    out["calibration_intercept_ci"] = [float(a[0] - z * se_a), float(a[0] + z * se_a)]
    if b is not None and cov_b is not None and np.isfinite(b).all():
        se_b = math.sqrt(max(float(cov_b[1, 1]), 0.0))
        out["calibration_slope"] = float(b[1])
        out["calibration_slope_ci"] = [float(b[1] - z * se_b), float(b[1] + z * se_b)]
    return out


def net_benefit_table(y_true: np.ndarray, prob: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """(model, treat-all) net benefit at 0.05, 0.10, …, 0.95, keyed by the threshold as "0.05"."""
    nb = net_benefit(y_true, prob, np.asarray(NET_BENEFIT_THRESHOLDS))
    keys = [f"{t:.2f}" for t in NET_BENEFIT_THRESHOLDS]
    return dict(zip(keys, nb["model"], strict=True)), dict(zip(keys, nb["treat_all"], strict=True))


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control for the comparisons of one split),
    statsmodels' `multipletests(method="holm")`."""
    if not p_values:
        return []
    # lazy: optional [train] extra; extras.require names the install
    from statsmodels.stats.multitest import multipletests

    return [float(p) for p in multipletests(p_values, method="holm")[1]]


def format_p(p: float | None) -> str:
    """p-values as journals print them: "< 0.0001" rather than "0.0000"."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"
