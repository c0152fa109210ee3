"""The server's side of the federated radiomics signatures: radiomics_fit.fit_signatures from sums.

Pooled, each fusion row's signature is StandardScaler + L2 LogisticRegressionCV (C from C_GRID by
cross-validated AUC), refitted on the whole training split, plus out-of-fold logits from refits
without each stacking fold. Here the same, from the sites' sums (site_radiomics.py):

- standardisation: mean and population SD (StandardScaler's; an SD of 0 scales by 1) of the fit
  cases, from per-fold moments summed over sites;
- the fit at a fixed C: C·Σ log-loss + ½‖w‖², intercept unpenalised (scikit-learn's objective), by
  damped Newton steps on the sites' summed gradients and Hessians, every problem of a signature in
  lockstep (one round trip per step for all C values and folds);
- C: the first C of C_GRID with the best mean held-out AUC over the inner folds (scikit-learn picks
  the same way), the AUCs from pooled score histograms (0.01-logit bins). What differs: the inner
  folds are the sites' stacking folds (patient-grouped, per site), not scikit-learn's stratified
  min(5, smallest class) folds, and the AUC is the binned one;
- out-of-fold logits: each fold's refit (its own C by the same CV on the other folds) is sent to the
  sites, which score their held-out cases and keep the logits.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dlrs_desktop.model.radiomics import (
    DEFAULT_FEATURES,
    FeatureSettings,
    Radiomics,
    Signature,
    feature_names,
    signature_columns,
    signature_name,
)
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.radiomics_fit import C_GRID, DEFAULT_C
from dlrs_desktop.training.stacking import REGION_LABELS, row_specs

#: (task, arrays, config, reply shape) → the replies' arrays summed over sites.
SumAsk = Callable[[str, tuple[np.ndarray, ...], dict, tuple[int, ...]], np.ndarray]
MAX_COEF = 1e5


def scaler_from_moments(total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """StandardScaler's mean_ and scale_ from summed moments (3, F): population SD, 0 → 1."""
    n, s, ss = np.asarray(total, np.float64)
    mean = s / n
    sd = np.sqrt(np.maximum(ss / n - mean**2, 0.0))
    tiny = sd < 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
    return mean, np.where(tiny, 1.0, sd)


def fit_l2_batched(
    terms: Callable[[np.ndarray], np.ndarray],
    k: int,
    c: np.ndarray,
    *,
    max_calls: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise C_p·Σ loss + ½‖w_p‖² for P problems at once → (θ (P, k+1) [w…, b], converged (P,)).

    `terms(θ)` returns the summed logistic_terms (P, terms_size(k)) at θ: one round trip. Newton
    directions from the penalised Hessian (positive definite in w; the intercept's curvature is the
    loss's), Armijo backtracking per problem, as calibration.fit_calibration.
    """
    c = np.asarray(c, np.float64)
    p = len(c)
    penal = np.r_[np.ones(k), 0.0]

    def evaluate(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(terms(theta), np.float64)
        h = t[:, k + 2 :].reshape(p, k + 1, k + 1)
        f = c * t[:, 0] + 0.5 * np.sum(theta[:, :k] ** 2, 1)
        g = c[:, None] * t[:, 1 : k + 2] + penal * theta
        return f, g, c[:, None, None] * 0.5 * (h + h.transpose(0, 2, 1)) + np.diag(penal)

    theta = np.zeros((p, k + 1))
    todo, ok, step = np.ones(p, bool), np.zeros(p, bool), np.ones(p)
    f, g, h = evaluate(theta)
    for _ in range(max_calls):
        jitter = 1e-12 * np.maximum(np.trace(h, axis1=1, axis2=2), 1.0)
        d = -np.linalg.solve(h + jitter[:, None, None] * np.eye(k + 1), g[..., None])[..., 0]
        small = np.abs(g).max(1) <= tol * np.maximum(1.0, np.abs(f))
        small |= np.abs(d).max(1) <= tol * (1.0 + np.abs(theta).max(1))
        small |= (g * d).sum(1) >= 0  # no descent left: at the optimum to rounding
        ok |= todo & small
        todo &= ~small
        if not todo.any():
            break
        cand = theta + np.where(todo, step, 0.0)[:, None] * d
        fc, gc, hc = evaluate(cand)
        slack = 64 * np.finfo(float).eps * np.maximum(1.0, np.abs(f))
        accept = todo & (fc <= f + 1e-4 * step * (g * d).sum(1) + slack)
        theta = np.where(accept[:, None], cand, theta)
        f, g = np.where(accept, fc, f), np.where(accept[:, None], gc, g)
        h = np.where(accept[:, None, None], hc, h)
        step = np.where(accept, 1.0, np.where(todo, step * 0.5, step))
        todo &= (step > 1e-10) & (np.abs(theta).max(1) < MAX_COEF)
    return theta, ok


class _Problems:
    """One signature's problems: each (excluded folds (a, b), mean, scale, C) → fitted θ."""

    def __init__(self, ask: SumAsk, key: str, fold_moments: np.ndarray, n_cols: int) -> None:
        self.ask, self.key, self.moments, self.k = ask, key, fold_moments, n_cols

    def scaler(self, outer: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and scale of the training cases outside fold `outer` (-1: all)."""
        keep = [f for f in range(len(self.moments)) if f != outer]
        return scaler_from_moments(self.moments[keep].sum(0))

    def arrays(self, exclude: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        ms = [self.scaler(int(a)) for a in exclude[:, 0]]
        mean, scale = np.stack([m for m, _ in ms]), np.stack([s for _, s in ms])
        return exclude.astype(np.float64), mean, scale, theta[:, : self.k], theta[:, self.k]

    def fit(self, exclude: np.ndarray, c: np.ndarray) -> np.ndarray:
        size = agg.terms_size(self.k)

        def terms(theta: np.ndarray) -> np.ndarray:
            sig = {"signature": self.key}
            return self.ask("radiomics_terms", self.arrays(exclude, theta), sig, (len(exclude), size))

        return fit_l2_batched(terms, self.k, c)[0]

    def held_out_auc(self, exclude: np.ndarray, theta: np.ndarray) -> np.ndarray:
        shape = (len(exclude), 2, agg.N_BINS)
        h = self.ask("radiomics_hist", self.arrays(exclude, theta), {"signature": self.key}, shape)
        return np.array([agg.auc_from_histogram(x) for x in h])


def choose_c(problems: _Problems, outers: list[int], folds: int, grid=C_GRID) -> dict[int, float]:
    """Per outer fold (-1: the shipped fit), the first C of `grid` with the best mean inner-fold AUC."""
    rows = [(o, j, c) for o in outers for j in range(folds) if j != o for c in grid]
    if not rows:
        return dict.fromkeys(outers, DEFAULT_C)
    exclude = np.array([(o, j) for o, j, _ in rows])
    theta = problems.fit(exclude, np.array([c for *_, c in rows]))
    auc = problems.held_out_auc(exclude, theta)
    out = {}
    for o in outers:
        means = []
        for c in grid:
            vals = [a for (oo, _, cc), a in zip(rows, auc, strict=True) if oo == o and cc == c]
            means.append(np.nanmean(vals) if np.isfinite(vals).any() else -math.inf)
        out[o] = float(grid[int(np.argmax(means))]) if np.isfinite(max(means)) else DEFAULT_C
    return out


def fit_signature(
    ask: SumAsk, key: str, fold_moments: np.ndarray, n_cols: int, c_fixed: float | None = None
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], list[float]]:
    """[(mean, scale, θ)] of the shipped fit (first) and of each fold's refit, and their C values.

    `c_fixed` skips the cross-validation (tests; a cohort too small to cross-validate)."""
    folds = len(fold_moments)
    outers = [-1, *range(folds)]
    pr = _Problems(ask, key, fold_moments, n_cols)
    cs = dict.fromkeys(outers, c_fixed) if c_fixed else choose_c(pr, outers, folds)
    exclude = np.array([(o, -1) for o in outers])
    theta = pr.fit(exclude, np.array([cs[o] for o in outers]))
    return [(*pr.scaler(o), t) for o, t in zip(outers, theta, strict=True)], [cs[o] for o in outers]


def fit_federated_signatures(
    ask: SumAsk,
    region_names: tuple[str, ...],
    fold_moments: np.ndarray,
    log=print,
    sent: dict[str, list[list]] | None = None,
    settings: FeatureSettings = DEFAULT_FEATURES,
) -> Radiomics:
    """Every fusion row's signature, its out-of-fold logits stored at the sites ("radiomics_oof").
    `settings`: how the sites computed the features (the recipe's core and shape), for the manifest.

    `sent` (optional) receives each signature's "radiomics_oof" arrays as lists: the server
    checkpoints them, so that after a restart it asks the sites to store the logits again
    (`resend_oof`) without refitting."""
    sigs = []
    for key, _label, regions, kind in row_specs(region_names):
        if kind != "fusion":
            continue
        cols = signature_columns(region_names, regions)
        name = signature_name(key)
        fits, cs = fit_signature(ask, name, fold_moments[:, :, cols], len(cols))
        k = len(cols)
        refits = fits[1:]
        arrays = (
            np.array([(f, -1) for f in range(len(refits))], np.float64),
            np.stack([m for m, _, _ in refits]),
            np.stack([s for _, s, _ in refits]),
            np.stack([t[:k] for *_, t in refits]),
            np.array([t[k] for *_, t in refits]),
        )
        ask("radiomics_oof", arrays, {"signature": name}, ())
        if sent is not None:
            sent[name] = [a.tolist() for a in arrays]
        mean, scale, theta = fits[0]
        log(f"radiomics signature {name}: C {cs[0]:g} (fold refits: {', '.join(f'{c:g}' for c in cs[1:])})")
        sigs.append(
            Signature(
                name=name,
                label="Radiomics: " + " + ".join(REGION_LABELS.get(r, r) for r in regions),
                regions=tuple(regions),
                columns=tuple(cols),
                mean=tuple(float(v) for v in mean),
                scale=tuple(float(v) for v in scale),
                coefficients=tuple(float(v) for v in theta[:k]),
                intercept=float(theta[k]),
            )
        )
    return Radiomics(tuple(feature_names(region_names, settings.shape)), tuple(sigs), settings)


def resend_oof(ask: SumAsk, sent: dict[str, list[list]]) -> None:
    """The checkpointed "radiomics_oof" requests again: a restarted site keeps no OOF logits."""
    for name, arrays in sent.items():
        ask("radiomics_oof", tuple(np.asarray(a, np.float64) for a in arrays), {"signature": name}, ())
