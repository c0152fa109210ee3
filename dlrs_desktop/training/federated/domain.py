"""The domain guard and conformal sets of a federated bundle, fitted from the sites' sums.

What `dlrs model add-reference` fits on a pooled cohort (training/domain_fit.py), fitted without
pooling: the sites observe the sealed bundle on their own train and internal cases
(federated/site_domain.py) and reply only sums and histograms.

* Features, exact: the pooled mean and covariance from Σx and Σxxᵀ; the top principal components are
  the covariance's leading eigenvectors (what the pooled SVD gives, up to sign); the Ledoit–Wolf
  shrinkage of the component scores from Σssᵀ and Σ‖s‖⁴ (scikit-learn's formula); the residual
  from its sum.
* Medians, percentiles and the conformal quantile, to a bin: per quantity the sites send moments,
  then counts on a coarse grid that holds every value (Samuelson's bound: no value lies further
  than √n population SDs from the mean), then counts on a fine grid over the central part the
  percentiles read. The server reads them off a sample of bin centres with the pooled counts; the
  conformal quantile is rounded up to its bin's upper edge, so the stated coverage still holds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError
from dlrs_desktop.model import domain as dm
from dlrs_desktop.training import domain_fit as dfit
from dlrs_desktop.training.conformal_fit import conformal_block
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import domain_texture as tex_wire
from dlrs_desktop.training.federated.aggregates import ledoit_wolf_precision
from dlrs_desktop.training.federated.protocol import Expect, Reply
from dlrs_desktop.training.federated.site_domain import CHECK_FIELDS, check_names, checks_array

BINS = 2048
MIN_CASES = 10
#: The order statistics the fine grid must resolve: the checks' 1st/99th percentiles, the thresholds'
#: 95th/99.5th, the conformal quantile (~ the coverage).
CENTRAL = (0.01, 0.995)
Ask = Callable[..., list[Reply]]  # (task, arrays, config, expect) -> replies, as coordinator._Run.ask


def add_federated_reference(
    ask: Ask,
    bundle_dir: str | Path,
    log: Callable[[str], None] = print,
    *,
    components: int = dfit.DEFAULT_COMPONENTS,
    coverage: float = dm.DEFAULT_COVERAGE,
    counts: tuple[int, int] | None = None,
    negatives: int = 0,
) -> dict[str, Any] | None:
    """Fit the domain reference and conformal sets from the sites and write them into the bundle
    (manifest re-pinned, weights byte-identical); None, logged, when the federation has fewer than
    10 training or 10 internal cases (the pooled rule). `counts` (training, internal), when the
    server knows them, skips sending the bundle to a federation that is too small. `negatives` > 0:
    that many `dlrs synth` patients, drawn here, teach the synthetic-likeness gate."""
    # lazy: the bundle reader (safetensors, hashes) and the bundle rewriter
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.bundle_edit import rewrite_with_files

    if counts is not None and _too_few(*counts, log):
        return None
    bundle = load_bundle(bundle_dir)
    files, config = bundle_files(bundle_dir, bundle)
    replies = ask("domain_observe", files, config, Expect((), metrics=("cases", "n_train", "n_internal")))
    n_train, n_int = (sum(int(r.metrics[f"n_{s}"]) for r in replies) for s in ("train", "internal"))
    if _too_few(n_train, n_int, log):
        return None
    fit = _Fit(
        ask, bundle.region_names, bundle.input_names, int(bundle.manifest["architecture"]["feature_dim"])
    )
    arrays = fit.features(n_train, components)
    texture = tex_wire.fit(fit._sum, n_train, bundle.spec, negatives)
    wire = [*(arrays[k] for k in _ARRAY_NAMES), tex_wire.pack(texture)]
    checks = fit.checks(wire)
    scores = fit.sample("score", [*wire, checks_array(checks)], {})[0][0]
    block = dfit.guard_block(arrays, checks, scores, n_train)
    block["texture"] = texture
    block["cohort"] = f"federated: {len(replies)} site cohorts (never pooled)"
    block["federated"] = FEDERATED_NOTE
    threshold = float(bundle.manifest["threshold"])
    alphas, half, _ = fit.sample("alpha", [], {"centre": threshold})[0]
    conformal = conformal_block(np.minimum(alphas + half, 1.0), coverage, threshold)
    conformal["method"] += "; federated: from the sites' summed histograms, rounded up to a bin edge"

    def update(m: dict[str, Any]) -> None:
        m["domain_reference"] = block
        m["conformal"] = conformal

    rewritten = rewrite_with_files(bundle_dir, {dm.REFERENCE_FILE: dfit.reference_bytes(arrays)}, update)
    log(
        f"domain reference from {len(replies)} sites ({n_train} training, {n_int} internal cases): "
        f"unusual above {block['unusual_above']:.2f}, outside above {block['outside_above']:.2f}; "
        f"conformal qhat {conformal['qhat']:.3f} at {coverage:.0%}"
    )
    return {"manifest_sha256": rewritten.manifest_sha256, "domain_reference": block, "conformal": conformal}


def _too_few(n_train: int, n_internal: int, log: Callable[[str], None]) -> bool:
    if min(n_train, n_internal) >= MIN_CASES:
        return False
    log(
        f"no domain reference: the sites hold {n_train} training and {n_internal} internal cases "
        f"(at least {MIN_CASES} of each needed)"
    )
    return True


def bundle_files(bundle_dir: str | Path, bundle: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The arrays and config of "domain_observe": the manifest and every file it lists, as bytes."""
    names = ["manifest.json", *sorted(bundle.manifest["files"])]
    files = [np.frombuffer((Path(bundle_dir) / n).read_bytes(), np.uint8) for n in names]
    return files, {"files": json.dumps(names), "manifest_sha256": bundle.manifest_sha256}


FEDERATED_NOTE = (
    "fitted across sites from sums: feature mean, components, shrinkage and residual exact; texture "
    "mean, scale and shrinkage exact, the synthetic-likeness gate by Newton's method; medians, "
    f"percentiles and ranges of the checks and the thresholds from summed histograms ({BINS} bins "
    "over each quantity's central range)"
)
_ARRAY_NAMES = ("features.mean", "features.components", "features.precision", "features.residual")


class _Fit:
    """The server's side of one reference fit: asks, sums and checks the replies' shapes."""

    def __init__(self, ask: Ask, regions: tuple[str, ...], inputs: tuple[str, ...], kdim: int) -> None:
        self.ask, self.regions, self.inputs, self.kdim = ask, regions, inputs, kdim

    def _sum(self, task: str, arrays: list[np.ndarray], config: dict[str, Any], shapes) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
        """Every array of the replies summed over sites, then the number of cases behind them."""
        replies = self.ask(task, arrays, config, Expect(tuple(shapes), metrics=("cases",)))
        sums = [sum(r.arrays[i].astype(np.float64) for r in replies) for i in range(len(shapes))]
        return [*sums, sum(int(r.n) for r in replies)]  # type: ignore[misc]

    def features(self, n: int, components: int) -> dict[str, np.ndarray]:
        """Mean, components, Ledoit–Wolf precision and residual per region (domain_fit.fit_features)."""
        r, kd = len(self.regions), self.kdim
        s1, s2, n_sent = self._sum("domain_features", [], {}, [(r, kd), (r, kd, kd)])
        agg.same_cases(n, n_sent)
        mean = s1 / n
        k = max(1, min(components, n - 2, kd))
        comp = np.zeros((r, k, kd))
        for i in range(r):
            cov = s2[i] / n - np.outer(mean[i], mean[i])
            _, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
            comp[i] = vecs[:, ::-1][:, :k].T
        sst, s4, res, n_sent = self._sum("domain_scores", [mean, comp], {}, [(r, k, k), (r,), (r,)])
        agg.same_cases(n, n_sent)
        prec = np.stack([agg.ledoit_wolf_precision(sst[i], float(s4[i]), n) for i in range(r)])
        return {
            "features.mean": mean.astype(np.float32),
            "features.components": comp.astype(np.float32),
            "features.precision": prec.astype(np.float32),
            "features.residual": np.maximum(res / n, 1e-12).astype(np.float32),
        }

    def checks(self, wire: list[np.ndarray]) -> list[dict[str, Any]]:
        """Every check's entry (domain_fit.check_entry) from its training-split sample of bin centres;
        `wire`: the features' four arrays and the texture block's wire array."""
        names = check_names(self.regions, self.inputs, tex_wire.unpack(wire[4]))
        samples = self.sample("checks", wire, {}, width=len(names))
        return [
            dfit.check_entry(name, values, informative)
            for name, (values, _, informative) in zip(names, samples, strict=True)
        ]

    def sample(
        self, quantity: str, arrays: list[np.ndarray], config: dict[str, Any], width: int = 1
    ) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """Per variable: (sample of bin centres with the pooled counts, their half bin widths, whether
        the values vary). Three asks: moments, the coarse grid, the fine grid."""
        cfg = {"quantity": quantity, **config}
        mom, _ = self._sum("domain_values", arrays, cfg, [(3, width)])
        n = mom[0]
        mean = mom[1] / np.maximum(n, 1.0)
        sd = np.sqrt(np.maximum(mom[2] / np.maximum(n, 1.0) - mean**2, 0.0))
        pad = 1e-9 * (1.0 + np.abs(mean)) + 1e-12
        lo, hi = mean - sd * np.sqrt(n) - pad, mean + sd * np.sqrt(n) + pad
        shape = [(width, BINS + 2)]
        coarse, _ = self._sum("domain_values", [*arrays, lo, hi], {**cfg, "bins": BINS}, shape)
        a, b = _central(coarse, lo, hi)
        fine, _ = self._sum("domain_values", [*arrays, a, b], {**cfg, "bins": BINS}, shape)
        return [_merge(coarse[j], fine[j], (lo[j], hi[j]), (a[j], b[j]), mean[j]) for j in range(width)]


def _order_positions(n: int) -> tuple[int, int]:
    """0-based order statistics the fine grid must hold (np.percentile's neighbours of CENTRAL)."""
    return math.floor(CENTRAL[0] * (n - 1)), math.ceil(CENTRAL[1] * (n - 1))


def _central(coarse: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per variable, the coarse bins' edges around the central order statistics (the fine grid)."""
    width = coarse.shape[0]
    a, b = np.empty(width), np.empty(width)
    for j in range(width):
        n = round(coarse[j].sum())
        step = (hi[j] - lo[j]) / BINS
        cum = coarse[j, 0] + np.cumsum(coarse[j, 1:-1])  # below lo: none by Samuelson's bound
        first, last = _order_positions(max(n, 1))
        i0 = int(np.searchsorted(cum, first + 1))
        i1 = int(np.searchsorted(cum, last + 1))
        a[j], b[j] = lo[j] + min(i0, BINS - 1) * step, lo[j] + (min(i1, BINS - 1) + 1) * step
    return a, b


def _merge(
    coarse: np.ndarray, fine: np.ndarray, outer: tuple[float, float], inner: tuple[float, float], mean: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """A sample of bin centres: fine bins inside [a, b), coarse bins outside; CohortError when the two
    grids do not count the same cases (a site answered inconsistently)."""
    (lo, hi), (a, b) = outer, inner
    n = round(coarse.sum())
    cstep, fstep = (hi - lo) / BINS, (b - a) / BINS
    centres = np.r_[lo, lo + (np.arange(BINS) + 0.5) * cstep, hi]  # the outer buckets read as lo, hi
    below, above = centres < a, centres > b
    if round(coarse[below].sum()) != round(fine[0]) or round(fine.sum()) != n:
        raise CohortError(
            "The sites' histograms of the domain reference do not add up (an inconsistent site)."
        )
    outside = below | above
    coarse_part = np.repeat(centres[outside], coarse[outside].astype(np.int64))
    fine_part = np.repeat(a + (np.arange(BINS) + 0.5) * fstep, fine[1:-1].astype(np.int64))
    values = np.sort(np.r_[coarse_part, fine_part])
    half = np.where((values >= a) & (values <= b), fstep / 2, cstep / 2)
    varies = int(np.count_nonzero(coarse[1:-1])) > 1 or int(np.count_nonzero(fine[1:-1])) > 1
    if not varies:  # one value over the whole split: the exact mean, not a bin centre
        values, half = np.full(n, mean), np.zeros(n)
    return values, half, varies


__all__ = ["CHECK_FIELDS", "add_federated_reference", "ledoit_wolf_precision"]
