"""A site's side of the federated radiomics signatures: sums over its own training cases only.

Why these shapes: a signature problem is "the training cases outside folds {a, b}" (a, b from the
site's own stacking folds, -1 for none), standardised by a mean and scale the server chose, at
coefficients (w, b) the server chose. The shipped signature uses every training case (-1, -1), a
fold refit the cases outside fold f (f, -1), and the cross-validation that picks C holds out one
more fold j (its fit cases (f, j) or (j, -1), its held-out cases fold j). So a site sends per-fold
feature moments, logistic-loss terms per problem and score histograms of held-out cases per
problem, and never a per-case feature or logit. The signatures' out-of-fold logits stay here
(`store_oof`) for the stacking tasks, as the networks' do.
"""

from __future__ import annotations

import numpy as np

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.radiomics import (
    Radiomics,
    Signature,
    feature_names,
    signature_columns,
    signature_name,
)
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated.protocol import Reply
from dlrs_desktop.training.stacking import row_specs


class BadRadiomicsRequest(DlrsError):
    """A radiomics request with wrong shapes or values (the site's BadRequest wraps it)."""


def fold_moments(x: np.ndarray, folds: np.ndarray, k: int) -> np.ndarray:
    """(k, 3, F) [count, sum, sum of squares] of the training features `x` (n, F) per fold."""
    out = np.zeros((k, 3, x.shape[1]))
    for f in range(k):
        block = x[folds == f]
        if len(block):
            out[f] = agg.moments(block)
    return out


def _cases(folds: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Mask of the training cases outside the excluded folds (-1: none)."""
    return ~np.isin(folds, [int(e) for e in exclude if e >= 0])


def _problems(arrays, k_folds: int, n_cols: int) -> tuple[np.ndarray, ...]:
    """[exclude (P, 2), mean (P, c), scale (P, c), w (P, c), b (P,)] checked."""
    if len(arrays) != 5:
        raise BadRadiomicsRequest("needs [exclude, mean, scale, w, b]")
    exclude, mean, scale, w, b = (np.asarray(a, np.float64) for a in arrays)
    p = exclude.shape[0] if exclude.ndim == 2 else -1
    if p < 1 or exclude.shape != (p, 2) or b.shape != (p,):
        raise BadRadiomicsRequest("exclude must be (problems, 2) and b (problems,)")
    if any(a.shape != (p, n_cols) for a in (mean, scale, w)):
        raise BadRadiomicsRequest(f"mean, scale and w must be (problems, {n_cols})")
    if np.any(exclude != np.round(exclude)) or np.any(exclude < -1) or np.any(exclude >= k_folds):
        raise BadRadiomicsRequest("excluded folds must be whole numbers in [-1, folds)")
    if np.any(scale <= 0) or np.any(np.abs(w) > 1e6) or np.any(np.abs(b) > 1e6):
        raise BadRadiomicsRequest("scales must be positive and coefficients below 1e6")
    return exclude.astype(np.int64), mean, scale, w, b


def problem_terms(x: np.ndarray, y: np.ndarray, folds: np.ndarray, k: int, arrays) -> np.ndarray:
    """(P, terms_size(c)) summed logistic terms of each problem's fit cases (x: the signature's columns)."""
    exclude, mean, scale, w, b = _problems(arrays, k, x.shape[1])
    out = []
    for e, m, s, wi, bi in zip(exclude, mean, scale, w, b, strict=True):
        sel = _cases(folds, e)
        out.append(agg.logistic_terms((x[sel] - m) / s, y[sel], wi, float(bi)))
    return np.asarray(out, np.float64)


def problem_hist(x: np.ndarray, y: np.ndarray, folds: np.ndarray, k: int, arrays) -> np.ndarray:
    """(P, 2, N_BINS) histograms of the held-out fold's scores: arrays[0][:, 1] is the fold held out
    (the problem's fit cases exclude it), arrays[0][:, 0] the outer fold (-1: none)."""
    exclude, mean, scale, w, b = _problems(arrays, k, x.shape[1])
    if np.any(exclude[:, 1] < 0):
        raise BadRadiomicsRequest("a histogram problem needs a held-out fold")
    out = []
    for e, m, s, wi, bi in zip(exclude, mean, scale, w, b, strict=True):
        sel = folds == e[1]
        z = (x[sel] - m) / s @ wi + bi
        out.append(agg.score_histogram(1.0 / (1.0 + np.exp(-np.clip(z, -500, 500))), y[sel]))
    return np.asarray(out, np.int64)


def oof_logits(x: np.ndarray, folds: np.ndarray, k: int, arrays) -> np.ndarray:
    """(n,) out-of-fold signature logits: each training case scored by its fold's refit (problem f
    of arrays is the refit without fold f: exclude (f, -1))."""
    exclude, mean, scale, w, b = _problems(arrays, k, x.shape[1])
    if exclude.shape[0] != k or np.any(exclude[:, 0] != np.arange(k)) or np.any(exclude[:, 1] != -1):
        raise BadRadiomicsRequest("the out-of-fold request needs one refit per fold, in fold order")
    out = np.zeros(len(folds))
    for f in range(k):
        sel = folds == f
        out[sel] = (x[sel] - mean[f]) / scale[f] @ w[f] + b[f]
    return out


def columns_of(region_names: tuple[str, ...], name: str) -> list[int]:
    """The feature columns of the signature `name` (a fusion row's); BadRadiomicsRequest otherwise."""
    for key, _label, regions, kind in row_specs(region_names):
        if kind == "fusion" and signature_name(key) == name:
            return signature_columns(region_names, regions)
    raise BadRadiomicsRequest(f"unknown signature {name!r}")


#: The site tasks of the radiomics signatures (site.TASKS includes them).
RADIOMICS_TASKS = ("radiomics_moments", "radiomics_terms", "radiomics_hist", "radiomics_oof")


class RadiomicsTasks:
    """site.CohortSite's radiomics tasks, on `loc.data.radiomics` of its training cases only.

    Config: "signature" (the fusion row's signature name). Arrays: the problems (see `_problems`)."""

    name: str

    def _signature_x(self, loc, request) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        cols = columns_of(tuple(loc.spec.region_names), str(request.config.get("signature", "")))
        return np.asarray(loc.data.radiomics, np.float64)[loc.train][:, cols], loc.data.y[loc.train]

    def _radiomics_moments(self, loc, request):  # type: ignore[no-untyped-def]
        """(folds, 3, F) moments of every feature of the training cases, per fold."""
        x = np.asarray(loc.data.radiomics, np.float64)[loc.train]
        return Reply(self.name, (fold_moments(x, loc.folds, loc.cfg.folds),), len(x), {"cases": len(x)})

    def _radiomics_terms(self, loc, request):  # type: ignore[no-untyped-def]
        x, y = self._signature_x(loc, request)
        terms = problem_terms(x, y, loc.folds, loc.cfg.folds, request.arrays)
        return Reply(self.name, (terms,), len(y), {"cases": len(y)})

    def _radiomics_hist(self, loc, request):  # type: ignore[no-untyped-def]
        x, y = self._signature_x(loc, request)
        h = problem_hist(x, y, loc.folds, loc.cfg.folds, request.arrays)
        return Reply(self.name, (h,), len(y), {"cases": len(y)})

    def _radiomics_oof(self, loc, request):  # type: ignore[no-untyped-def]
        """The signature's out-of-fold logits, kept here (as "oof"); only their number goes back."""
        x, y = self._signature_x(loc, request)
        sig = str(request.config["signature"])
        loc.signature_oof[sig] = oof_logits(x, loc.folds, loc.cfg.folds, request.arrays)
        return Reply(self.name, (), len(y), {"cases": len(y)})


# --- the stacking's signature inputs ------------------------------------------------------------
def signature_specs(region_names: tuple[str, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(row key, signature name, regions) of every fusion row: the signatures in the stacking's order
    (fit_federated_signatures makes them in row_specs order, as radiomics_fit.fit_signatures)."""
    return [
        (key, signature_name(key), regions)
        for key, _, regions, kind in row_specs(region_names)
        if kind == "fusion"
    ]


def pack_signatures(radiomics: Radiomics | None) -> np.ndarray:
    """The shipped signatures as one flat float64 array (per signature: mean, scale, coefficients,
    intercept; sizes from the regions): what a site needs for `Radiomics.logits`, numbers only.
    Empty without radiomics."""
    if radiomics is None:
        return np.zeros(0)
    parts = [np.r_[s.mean, s.scale, s.coefficients, s.intercept] for s in radiomics.signatures]
    return np.concatenate(parts).astype(np.float64)


def unpack_signatures(region_names: tuple[str, ...], flat: np.ndarray) -> Radiomics | None:
    """`pack_signatures`' array back into the signatures (None when empty); BadRadiomicsRequest when
    its length does not fit the regions' signatures or a scale or weight is out of bounds."""
    flat = np.asarray(flat, np.float64)
    if flat.size == 0:
        return None
    specs = signature_specs(region_names)
    sizes = [len(signature_columns(region_names, regions)) for _, _, regions in specs]
    if flat.shape != (sum(3 * c + 1 for c in sizes),):
        raise BadRadiomicsRequest(
            f"signatures must be one flat array of {sum(3 * c + 1 for c in sizes)} numbers"
        )
    sigs, at = [], 0
    for (_key, name, regions), c in zip(specs, sizes, strict=True):
        mean, scale, coef = (flat[at + i * c : at + (i + 1) * c] for i in range(3))
        if np.any(scale <= 1e-12) or np.any(np.abs(flat[at : at + 3 * c + 1]) > 1e12):
            raise BadRadiomicsRequest(f"signature {name}: scales must be positive and values bounded")
        cols = tuple(signature_columns(region_names, regions))
        sigs.append(
            Signature(
                name,
                name,
                tuple(regions),
                cols,
                tuple(mean),
                tuple(scale),
                tuple(coef),
                float(flat[at + 3 * c]),
            )
        )
        at += 3 * c + 1
    return Radiomics(tuple(feature_names(region_names)), tuple(sigs))


def with_signature_logits(loc, logits: np.ndarray, flat: np.ndarray, idx: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The stacking's inputs of the cases `idx`: region logits, then the shipped signatures' logits
    (model/radiomics.py, as prediction computes them); the region logits alone without signatures."""
    rad = unpack_signatures(tuple(loc.spec.region_names), flat)
    if rad is None:
        return logits
    feats = np.asarray(loc.data.radiomics, np.float64)[idx]
    return np.c_[logits, rad.logits(feats).reshape(len(idx), len(rad.signatures))]


def uses_signatures(config: dict) -> bool:
    """The stacking request's "radiomics" setting (absent: False); BadRadiomicsRequest if not a bool."""
    on = config.get("radiomics", False)
    if not isinstance(on, bool):
        raise BadRadiomicsRequest("setting radiomics must be true or false")
    return on


def oof_with_signatures(loc, f: int, logits: np.ndarray, on: bool) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Fold f's stored OOF inputs: region logits, then (on) every signature's stored OOF logit."""
    if not on:
        return logits
    names = [name for _, name, _ in signature_specs(tuple(loc.spec.region_names))]
    missing = [n for n in names if n not in loc.signature_oof]
    if missing:
        raise BadRadiomicsRequest(
            f"no out-of-fold logits stored for {missing[0]}: 'radiomics_oof' must come first"
        )
    sel = loc.folds == f
    return np.c_[
        logits, np.stack([loc.signature_oof[n][sel] for n in names], 1).reshape(int(sel.sum()), len(names))
    ]


def row_columns(region_names: tuple[str, ...], key: str, on: bool) -> list[int]:
    """The input columns of row `key` (a row's regions, then its own signature, as
    stacking.fit_row_models), or of a signature alone (its sign note); BadRadiomicsRequest otherwise."""
    sigs = signature_specs(region_names) if on else []
    r = len(region_names)
    for j, (_key, name, _regions) in enumerate(sigs):
        if key == name:
            return [r + j]
    for row, _label, regions, _kind in row_specs(region_names):
        if row == key:
            own = [r + j for j, (k, _, _) in enumerate(sigs) if k == key]
            return [region_names.index(x) for x in regions] + own
    raise BadRadiomicsRequest(f"unknown row {key!r}")
