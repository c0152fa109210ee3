"""The statistics that may cross the wire, and how the server combines them (issue 32).

A site never sends a per-case value. It sends sums over its cases: column moments (count, sum, sum
of squares), the log-loss with its gradient and Hessian at coefficients the server chose, and counts
of scores in fixed bins. The server adds them up over sites and gets what the pooled trainer
(stacking.py, selection.py, metrics.py) computes from the pooled cases: the same standardisation,
the same non-negative logistic fit (to ~1e-8), and AUC, Youden threshold and confusion counts from
histograms (exact at bin edges; the AUC within binning, < 1e-3 with 0.01-logit bins).

Disclosure: a sum over one case is that case. A site should refuse a task over fewer cases than its
minimum (site.py); the histogram's bins are 0.01 logit wide, so a bin with a single case still
reveals that one score to within 0.01 logit — docs/FEDERATED.md discusses it.

numpy only at import; scipy (the [train] extra) inside `fit_logistic_federated` and the CIs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.training.metrics import BinaryMetrics

__all__ = [
    "LOGIT_EDGES",
    "N_BINS",
    "PROB_EDGES",
    "AggregateError",
    "auc_ci_from_histogram",
    "auc_from_histogram",
    "fit_logistic_federated",
    "logistic_terms",
    "mean_sd",
    "metrics_from_histogram",
    "moments",
    "score_histogram",
    "terms_size",
    "youden_from_histogram",
]

SD_FLOOR = 1e-6  # as stacking.standardise_per_fold / to_network_units

#: Bin edges on the logit scale: 0.01 wide over [-15, 15] (3,001 edges), plus one open bin below and
#: one above: 3,002 bins. Fine enough that pooled AUCs from histograms match the exact ones within
#: 1e-3 on realistic scores (tests/test_federated_aggregates.py), coarse enough that a bin is not a
#: patient's exact score. Fixed in the code, not chosen by the server: a site bins the same way for
#: every request, so no request can ask for finer bins.
LOGIT_EDGES: np.ndarray = np.linspace(-15.0, 15.0, 3001)
LOGIT_EDGES.setflags(write=False)
#: The same edges as probabilities. Sites bin probabilities against these (not logits against
#: LOGIT_EDGES), so that "p ≥ PROB_EDGES[i]" is exactly "in a bin above edge i": a threshold that is
#: an edge then gives exact confusion counts, with no rounding in a logit transform in between.
PROB_EDGES: np.ndarray = 1.0 / (1.0 + np.exp(-LOGIT_EDGES))
PROB_EDGES.setflags(write=False)
#: Bin j holds PROB_EDGES[j-1] ≤ p < PROB_EDGES[j] (bin 0: below the first edge; the last: at or above
#: the last edge).
N_BINS = len(LOGIT_EDGES) + 1


class AggregateError(DlrsError):
    """An aggregate that cannot be computed or combined (shape, NaN, a fit that did not converge)."""


# ---------------------------------------------------------------------------------------------------
# validation helpers


def _finite_array(a, name: str, ndim: int | None = None) -> np.ndarray:
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise AggregateError(f"{name} is not numeric") from None
    if ndim is not None and out.ndim != ndim:
        raise AggregateError(f"{name} must be {ndim}-D, got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise AggregateError(f"{name} holds NaN or Inf")
    return out


def _labels(y, n: int) -> np.ndarray:
    yf = _finite_array(y, "labels", 1)
    if len(yf) != n:
        raise AggregateError(f"{len(yf)} labels for {n} cases")
    if not np.all((yf == 0) | (yf == 1)):
        raise AggregateError("labels must be 0 or 1")
    return yf


def _histogram(h) -> np.ndarray:
    a = _finite_array(h, "histogram", 2)
    if a.shape != (2, N_BINS):
        raise AggregateError(f"histogram must have shape (2, {N_BINS}), got {a.shape}")
    if np.any(a < 0) or np.any(a != np.round(a)):
        raise AggregateError("histogram counts must be whole numbers ≥ 0")
    return a.astype(np.int64)


# ---------------------------------------------------------------------------------------------------
# moments: pooled mean and SD (the logit standardisation of stacking.py)


def moments(x: np.ndarray) -> np.ndarray:
    """Site side: (3, k) float64 = [count, sum, sum of squares] per column of x (N, k).

    Why sums and not a site's mean and SD: sums add across sites, so the server's pooled mean and SD
    equal np.mean / np.std of the pooled cases (what to_network_units uses), whatever the site sizes.
    """
    a = _finite_array(x, "x", 2)
    n = np.full(a.shape[1], float(a.shape[0]))
    return np.stack([n, a.sum(axis=0), np.square(a).sum(axis=0)])


def mean_sd(total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Server side, from moments summed over sites: mean and population SD (np.std), SD ≥ 1e-6.

    The SD comes from sums of squares: its relative error is ~1e-16·(mean/SD)², negligible for logits.
    """
    t = _finite_array(total, "moments", 2)
    if t.shape[0] != 3 or t.shape[1] < 1:
        raise AggregateError(f"moments must have shape (3, k), got {t.shape}")
    n, s, ss = t
    if np.any(n <= 0) or np.any(n != np.round(n)):
        raise AggregateError("moments' counts must be whole numbers > 0")
    if np.any(ss < 0):
        raise AggregateError("moments' sums of squares must be ≥ 0")
    mean = s / n
    var = np.maximum(ss / n - mean**2, 0.0)
    return mean, np.maximum(np.sqrt(var), SD_FLOOR)


# ---------------------------------------------------------------------------------------------------
# the non-negative L2 logistic fit (stacking.fit_nonnegative_logistic), by federated Newton steps


def terms_size(k: int) -> int:
    """Length of a `logistic_terms` vector for k inputs: 1 + (k+1) + (k+1)²."""
    return 1 + (k + 1) + (k + 1) ** 2


def logistic_terms(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Site side: [loss, gradient (k+1), Hessian ((k+1)², row-major)] of Σ[log(1+e^z) − y·z], z = x·w + b.

    Unpenalised and unscaled (the server adds C and the penalty), summed over the site's cases, so
    that the server's sum over sites is the pooled loss; the intercept is the last index. Why the
    Hessian too: every evaluation is one network round trip, and Newton steps converge in a handful.
    A site with no cases returns zeros.
    """
    # lazy: scipy is the optional [train] extra
    from scipy.special import expit

    xa = _finite_array(x, "x", 2)
    n, k = xa.shape
    yf = _labels(y, n)
    wa = _finite_array(w, "w", 1)
    if len(wa) != k:
        raise AggregateError(f"w has {len(wa)} coefficients for {k} inputs")
    if not isinstance(b, int | float | np.floating | np.integer) or not math.isfinite(float(b)):
        raise AggregateError("b must be a finite number")
    z = xa @ wa + float(b)
    p = expit(z)
    r = p - yf
    d = p * (1.0 - p)
    x1 = np.c_[xa, np.ones(n)]
    loss = float(np.sum(np.logaddexp(0.0, z) - yf * z))
    grad = x1.T @ r
    hess = (x1 * d[:, None]).T @ x1
    return np.concatenate([[loss], grad, hess.ravel()])


def _split_terms(t, k: int) -> tuple[float, np.ndarray, np.ndarray]:
    a = _finite_array(t, "logistic terms", 1)
    if len(a) != terms_size(k):
        raise AggregateError(f"logistic terms have {len(a)} numbers, expected {terms_size(k)} for k={k}")
    h = a[k + 2 :].reshape(k + 1, k + 1)
    return float(a[0]), a[1 : k + 2], 0.5 * (h + h.T)


def _newton_step(g: np.ndarray, h: np.ndarray, theta: np.ndarray, k: int, nonneg: bool) -> np.ndarray:
    """argmin_d g·d + ½dᵀHd subject to θ_w + d_w ≥ 0: an exact bounded least-squares problem."""
    # lazy: scipy is the optional [train] extra
    from scipy.linalg import cho_factor, solve_triangular
    from scipy.optimize import lsq_linear

    jitter = 0.0
    for _ in range(8):
        try:
            hj = h + jitter * np.eye(k + 1)
            u, _lower = cho_factor(hj, lower=False)  # H = UᵀU
            break
        except np.linalg.LinAlgError:
            jitter = max(jitter * 100, 1e-12 * max(float(np.trace(h)), 1.0))
    else:
        raise AggregateError("the summed Hessian is not positive definite (inconsistent site terms?)")
    u = np.triu(u)
    rhs = -solve_triangular(u, g, trans="T", lower=False)  # ½‖U d − rhs‖² = g·d + ½dᵀHd + const
    if not nonneg:
        return solve_triangular(u, rhs, lower=False)
    lb = np.r_[-theta[:k], -np.inf]
    res = lsq_linear(u, rhs, bounds=(lb, np.full(k + 1, np.inf)), method="bvls", tol=1e-14)
    d = res.x
    d[:k] = np.maximum(d[:k], lb[:k])  # exactly feasible
    return d


def fit_logistic_federated(
    terms: Callable[[np.ndarray, float], np.ndarray],
    k: int,
    c: float,
    start_b: float,
    *,
    nonneg: bool = True,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, float, int]:
    """Server side: minimise c·Σ loss + ½‖w‖² (intercept free; w ≥ 0 when `nonneg`) → (w, b, calls).

    The objective of stacking.fit_nonnegative_logistic, whose pooled answer this reproduces (~1e-8).
    `terms(w, b)` must return the sum over sites of `logistic_terms` at (w, b): one round trip per
    call, so each step is a full Newton step (the box-constrained quadratic model solved exactly),
    with a backtracking (Armijo) line search on the summed objective; every evaluation the search
    accepts is also the next step's gradient and Hessian. Typically 5–10 calls. `max_iter` bounds
    the calls; stops when the projected gradient is below `tol`·max(1, |objective|) or the step is
    below `tol`·(1 + |θ|). Start: w = 0, b = `start_b` (the log-odds of the pooled prevalence, as
    the pooled fit starts).
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise AggregateError(f"k must be a whole number ≥ 1, got {k!r}")
    k = int(k)
    if not (isinstance(c, int | float | np.floating) and math.isfinite(float(c)) and float(c) > 0):
        raise AggregateError(f"c must be a finite number > 0, got {c!r}")
    if not (isinstance(start_b, int | float | np.floating) and math.isfinite(float(start_b))):
        raise AggregateError("start_b must be a finite number")
    if max_iter < 1 or not tol > 0:
        raise AggregateError("max_iter must be ≥ 1 and tol > 0")
    c = float(c)
    penal = np.r_[np.ones(k), 0.0]
    calls = 0

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        nonlocal calls
        calls += 1
        loss, g, h = _split_terms(terms(theta[:k].copy(), float(theta[k])), k)
        w = theta[:k]
        f = c * loss + 0.5 * float(w @ w)
        return f, c * g + penal * theta, c * h + np.diag(penal)

    def projected_norm(theta: np.ndarray, g: np.ndarray) -> float:
        pg = g.copy()
        if nonneg:
            held = (theta[:k] <= 0.0) & (g[:k] > 0.0)
            pg[:k][held] = 0.0
        return float(np.max(np.abs(pg)))

    theta = np.r_[np.zeros(k), float(start_b)]
    f, g, h = evaluate(theta)
    while True:
        if projected_norm(theta, g) <= tol * max(1.0, abs(f)):
            return theta[:k].copy(), float(theta[k]), calls
        d = _newton_step(g, h, theta, k, nonneg)
        if float(np.max(np.abs(d))) <= tol * (1.0 + float(np.max(np.abs(theta)))):
            return theta[:k].copy(), float(theta[k]), calls
        slope = float(g @ d)
        if slope >= 0:  # the quadratic model has no descent left: at the optimum to rounding
            return theta[:k].copy(), float(theta[k]), calls
        t = 1.0
        slack = 64 * np.finfo(float).eps * max(1.0, abs(f))  # rounding of a sum over all cases
        while True:
            if calls >= max_iter:
                raise AggregateError(f"the federated logistic fit did not converge in {max_iter} evaluations")
            cand = theta + t * d
            if nonneg:
                cand[:k] = np.maximum(cand[:k], 0.0)
            f_new, g_new, h_new = evaluate(cand)
            if f_new <= f + 1e-4 * t * slope + slack:
                break
            t *= 0.5
        theta, f, g, h = cand, f_new, g_new, h_new


# ---------------------------------------------------------------------------------------------------
# histograms of scores: AUC, its CI, the Youden threshold and confusion counts


def score_histogram(prob: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Site side: (2, N_BINS) int64 counts of its probabilities in the fixed bins; row 0 y=0, row 1 y=1.

    Why: a histogram of 3,002 bins is what crosses the wire instead of per-patient scores. Counts of
    0.01-logit bins do not identify a patient in practice, but a bin with one case still reveals
    that case's score to 0.01 logit (and its label) — docs/FEDERATED.md discusses it. Binned as
    probabilities against PROB_EDGES (bin j: PROB_EDGES[j-1] ≤ p < PROB_EDGES[j]), which is
    logit(p) against LOGIT_EDGES without a transform's rounding.
    """
    p = _finite_array(prob, "probabilities", 1)
    if np.any(p < 0) or np.any(p > 1):
        raise AggregateError("probabilities must lie in [0, 1]")
    yf = _labels(y, len(p))
    bins = np.searchsorted(PROB_EDGES, p, side="right")
    out = np.zeros((2, N_BINS), np.int64)
    np.add.at(out, (yf.astype(np.int64), bins), 1)
    return out


def _components(h: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per bin: the share of negatives a positive there outranks (V10), and of positives above a
    negative there (V01), ties within a bin counting ½ — DeLong's structural components."""
    neg, pos = h[0].astype(np.float64), h[1].astype(np.float64)
    n_neg, n_pos = int(h[0].sum()), int(h[1].sum())
    neg_below = np.cumsum(neg) - neg
    pos_above = pos.sum() - np.cumsum(pos)
    v10 = (neg_below + 0.5 * neg) / max(n_neg, 1)
    v01 = (pos_above + 0.5 * pos) / max(n_pos, 1)
    return v10, v01, n_pos, n_neg


def auc_from_histogram(h: np.ndarray) -> float:
    """Mann–Whitney AUC of the binned scores (cases in one bin count as ties, ½); NaN for one class.

    Equals metrics.auc of the pooled scores up to the pairs that share a bin (< 1e-3 with 0.01-logit
    bins on realistic scores).
    """
    a = _histogram(h)
    v10, _, n_pos, n_neg = _components(a)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float(np.sum(a[1] * v10) / n_pos)


def auc_ci_from_histogram(h: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(AUC, CI low, CI high): DeLong's interval on the binned scores (NaN bounds under 2 per class).

    Pooled trains compute DeLong on the exact scores (metrics.auc_ci); here DeLong's structural
    components come from the bins (cases in one bin tie), so the interval is exactly that of
    metrics.auc_ci on the bin indices — it needs no per-case value, unlike Hanley–McNeil's
    approximation it does not assume a distribution, and it matches pooled trains to binning.
    """
    a = _histogram(h)
    v10, v01, n_pos, n_neg = _components(a)
    if n_pos == 0 or n_neg == 0:
        return float("nan"), float("nan"), float("nan")
    auc = float(np.sum(a[1] * v10) / n_pos)
    if n_pos < 2 or n_neg < 2:
        return auc, float("nan"), float("nan")

    def sample_var(v: np.ndarray, w: np.ndarray, n: int) -> float:
        mean = float(np.sum(w * v) / n)
        return float(np.sum(w * (v - mean) ** 2) / (n - 1))

    var = sample_var(v10, a[1], n_pos) / n_pos + sample_var(v01, a[0], n_neg) / n_neg
    # lazy: scipy is the optional [train] extra (as metrics._norm_ppf)
    from scipy.special import ndtri

    z = float(ndtri(0.5 + level / 2))
    se = math.sqrt(max(var, 0.0))
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def youden_from_histogram(h: np.ndarray) -> float:
    """The edge (as a probability) maximising sensitivity + specificity − 1, with p ≥ threshold ⇒ positive.

    Only bin edges are candidates, so on the pooled cases it gives the same sensitivity and
    specificity as metrics.youden_threshold unless that optimum cuts inside a bin (then within the
    cases of that bin). Ties: the lowest such edge, as metrics.youden_threshold.
    """
    a = _histogram(h)
    n_neg, n_pos = int(a[0].sum()), int(a[1].sum())
    if n_neg == 0 or n_pos == 0:
        raise AggregateError("a Youden threshold needs cases of both classes")
    # cut at edge i: bins i+1 … are positive
    tp = n_pos - np.cumsum(a[1])[:-1]
    tn = np.cumsum(a[0])[:-1]
    j = tp / n_pos + tn / n_neg - 1.0
    best = float(np.max(j))
    i = int(np.flatnonzero(j >= best - 1e-12)[0])
    return float(PROB_EDGES[i])


def _edge_index(threshold: float) -> int:
    """Index of the first edge ≥ threshold: bins above it are called positive."""
    return int(np.searchsorted(PROB_EDGES, threshold, side="left"))


def metrics_from_histogram(h: np.ndarray, threshold: float) -> dict:
    """binary_metrics(...).to_dict() from a histogram: AUC with DeLong CI on the bins, and the
    confusion-matrix metrics at `threshold`.

    Counts are exact when the threshold is a bin edge (youden_from_histogram's are); any other
    threshold is applied at the next edge above it, so the cases of the one bin it cuts are counted
    as negative.
    """
    a = _histogram(h)
    if not (isinstance(threshold, int | float | np.floating) and 0.0 <= float(threshold) <= 1.0):
        raise AggregateError(f"threshold must be a probability in [0, 1], got {threshold!r}")
    i = _edge_index(float(threshold))
    tp = int(a[1, i + 1 :].sum())
    fp = int(a[0, i + 1 :].sum())
    fn = int(a[1].sum()) - tp
    tn = int(a[0].sum()) - fp
    n = tp + fp + fn + tn
    auc, lo, hi = auc_ci_from_histogram(a)

    def ratio(x: int, y: int) -> float:
        return float(x) / y if y else float("nan")

    return BinaryMetrics(
        n=n, auc=auc, auc_ci_low=lo, auc_ci_high=hi, accuracy=ratio(tp + tn, n),
        sensitivity=ratio(tp, tp + fn), specificity=ratio(tn, tn + fp), ppv=ratio(tp, tp + fp),
        npv=ratio(tn, tn + fn), threshold=float(threshold),
    ).to_dict()  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# the domain reference from sums (federated/domain.py, federated/domain_texture.py)


def same_cases(expected: int, sent: int) -> None:
    """The training cases behind a step are the ones the fit started with (no site lost on the way)."""
    if sent != expected:
        raise CohortError(
            f"The domain reference's sums came from {sent} training cases where the sites reported "
            f"{expected} (a site dropped out during the fit); run it again with every site."
        )


def ledoit_wolf_precision(sst: np.ndarray, s4: float, n: int) -> np.ndarray:
    """sklearn.covariance.LedoitWolf(assume_centered=True).fit(S).precision_ from Σssᵀ and Σ‖s‖⁴.

    sklearn's ledoit_wolf_shrinkage reads S only through SᵀS and Σ_i ‖s_i‖⁴ (its `beta_` sums the
    coefficients of (S²)ᵀS², which is Σ_i (Σ_j s_ij²)²), so the sums give the same shrinkage."""
    # lazy: scipy comes with the [train] extra's scikit-learn
    from scipy.linalg import pinvh

    p = sst.shape[0]
    emp = sst / n
    mu = float(np.trace(emp)) / p
    shrinkage = 0.0
    if p > 1:
        delta_ = float(np.sum(sst**2)) / n**2
        beta = (s4 / n - delta_) / (p * n)
        delta = (delta_ - 2.0 * mu * float(np.trace(emp)) + p * mu**2) / p
        beta = min(beta, delta)
        shrinkage = 0.0 if beta == 0 else beta / delta
    cov = (1.0 - shrinkage) * emp + shrinkage * mu * np.eye(p)
    prec = pinvh(cov)
    return 0.5 * (prec + prec.T)
