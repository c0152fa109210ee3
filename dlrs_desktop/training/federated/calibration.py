"""Calibration intercept and slope of every row on every split by federated Newton steps, all at once.

Why not aggregates.fit_logistic_federated once per fit: a report has splits × rows × 2 fits, and each
Newton evaluation is a round trip to every site; solving them in lockstep (each with its own step
length) takes the round trips of the slowest fit instead of their sum. Why a dedicated Newton at all:
the intercept fit holds logit(p)'s coefficient at 1 (an offset), which the stacking fit cannot do,
and both fits are unpenalised maximum likelihood (metrics.calibration_stats, statsmodels' GLM), so
the answer is the pooled one to the tolerance, and the Wald SE is the summed Hessian's inverse.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlrs_desktop.training.federated.report_sums import CALIBRATION_FITS

#: Which of (slope, intercept) each fit frees: fit 0 both, fit 1 the intercept (offset logit(p)).
FREE = np.array([[True, True], [False, True]])
MAX_COEF = 1e4  # |θ| beyond this: separated data, no finite maximum likelihood (reported as none)
Z95 = 1.959963984540054


def _split(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loss, gradient (…, 2), Hessian (…, 2, 2)) from logistic_terms vectors (…, 7), k = 1."""
    return t[..., 0], t[..., 1:3], t[..., 3:7].reshape(*t.shape[:-1], 2, 2)


def _directions(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Newton directions of fits (…, 2 fits, 2): the full 2 × 2 solve for fit 0, the intercept's for
    fit 1; NaN where the Hessian is not positive definite."""
    d = np.full(g.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        h0, g0 = h[..., 0, :, :], g[..., 0, :]
        det = h0[..., 0, 0] * h0[..., 1, 1] - h0[..., 0, 1] * h0[..., 1, 0]
        good = (det > 0) & (h0[..., 0, 0] > 0)
        d0 = -(h0[..., 1, 1] * g0[..., 0] - h0[..., 0, 1] * g0[..., 1]) / det
        d1 = -(h0[..., 0, 0] * g0[..., 1] - h0[..., 1, 0] * g0[..., 0]) / det
        d[..., 0, 0], d[..., 0, 1] = np.where(good, d0, np.nan), np.where(good, d1, np.nan)
        hb = h[..., 1, 1, 1]
        d[..., 1, 0] = 0.0
        d[..., 1, 1] = np.where(hb > 0, -g[..., 1, 1] / hb, np.nan)
    return d


def _standard_errors(h: np.ndarray) -> np.ndarray:
    """Wald SEs: the slope's from the inverse 2 × 2 Hessian (fit 0), the intercept's 1/√H_bb (fit 1)."""
    se = np.full(h.shape[:-2], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        h0 = h[..., 0, :, :]
        det = h0[..., 0, 0] * h0[..., 1, 1] - h0[..., 0, 1] * h0[..., 1, 0]
        se[..., 0] = np.sqrt(h0[..., 1, 1] / det)
        se[..., 1] = np.sqrt(1.0 / h[..., 1, 1, 1])
    return se


def fit_calibration(
    terms: Callable[[np.ndarray], np.ndarray], active: np.ndarray, *, max_calls: int = 60, tol: float = 1e-10
) -> dict[str, np.ndarray | float]:
    """Damped Newton on every (split, row) where `active` (both classes present) → {"theta": (…, 2
    fits, [slope, intercept]), "se": (…, 2), "ok": (…, 2) converged, "z": the 95 % normal quantile}.

    `terms(theta)` returns the summed logistic_terms (…, 2, 7) at θ (…, 2, 2): one round trip. Start
    at perfect calibration (slope 1, intercept 0); Armijo backtracking per fit; a fit converges when
    its free gradient is below `tol`·max(1, |loss|) or its step below `tol`·(1 + |θ|).
    """
    shape = (*active.shape, CALIBRATION_FITS)
    theta = np.zeros((*shape, 2))
    theta[..., 0] = 1.0
    todo, ok, step = np.broadcast_to(active[..., None], shape).copy(), np.zeros(shape, bool), np.ones(shape)
    f, g, h = _split(terms(theta))
    for _ in range(max_calls):
        g = np.where(FREE, g, 0.0)
        d = _directions(g, h)
        bad = np.isnan(d).any(-1)
        todo &= ~bad
        d = np.where(bad[..., None], 0.0, d)
        small = np.abs(g).max(-1) <= tol * np.maximum(1.0, np.abs(f))
        small |= np.abs(d).max(-1) <= tol * (1.0 + np.abs(theta).max(-1))
        ok |= todo & small
        todo &= ~small
        if not todo.any():
            break
        cand = np.clip(theta + np.where(todo, step, 0.0)[..., None] * d, -10 * MAX_COEF, 10 * MAX_COEF)
        fc, gc, hc = _split(terms(cand))
        slack = 64 * np.finfo(float).eps * np.maximum(1.0, np.abs(f))
        accept = todo & (fc <= f + 1e-4 * step * (g * d).sum(-1) + slack)
        theta = np.where(accept[..., None], cand, theta)
        f, g = np.where(accept, fc, f), np.where(accept[..., None], gc, g)
        h = np.where(accept[..., None, None], hc, h)
        step = np.where(accept, 1.0, np.where(todo, step * 0.5, step))
        todo &= (step > 1e-10) & (np.abs(theta).max(-1) < MAX_COEF)
    return {"theta": theta, "se": _standard_errors(h), "ok": ok, "z": Z95}
