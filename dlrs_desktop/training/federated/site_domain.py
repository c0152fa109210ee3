"""A site's side of the federated domain reference: the sealed bundle observed on its own cases.

Why the site runs the shipped bundle: the domain guard describes the model as the app runs it (the
ONNX networks, the radiomics signatures, the stacking, the image statistics), exactly what
`dlrs model add-reference` observes on a pooled cohort (training/domain_fit.collect). So the server
sends the bundle's files once ("domain_observe"); the site loads them (every file checked against
the manifest it was told to expect), observes its cases (the fit reads the train and internal
splits, the report's section every split) and keeps those observations here. The server then asks
only for sums (features: Σx, Σxxᵀ; component scores: Σssᵀ, Σ‖s‖⁴, the residual) and, for the
one-dimensional quantities whose medians and percentiles the guard needs, moments and histograms
on grids the server chooses (federated/domain.py). No observation of a single case leaves the site.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model import domain as dm
from dlrs_desktop.model import domain_texture as dtx
from dlrs_desktop.training import domain_fit as dfit
from dlrs_desktop.training.conformal_fit import nonconformity
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import domain_texture as tex_wire
from dlrs_desktop.training.federated.protocol import Reply, Request

DOMAIN_TASKS = (
    "domain_observe", "domain_features", "domain_scores", "domain_texture", "domain_values", "domain_report",
)  # fmt: skip
TEXTURE_STEPS = ("moments", "fourth", "logistic")
SPLITS = ("train", "internal", "external")
#: Per split, what `domain_report` counts: cases, inside, unusual, outside, true class in the
#: prediction set, set "either", made outside by the synthetic-likeness gate.
REPORT_COUNTS = ("n", "inside", "unusual", "outside", "covered", "either", "gated")
#: The one-dimensional quantities the server asks about: name → split they are read on.
QUANTITIES = {"checks": "train", "score": "internal", "alpha": "internal"}
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_BINS = 4096


class BadDomainRequest(DlrsError):
    """A domain request with wrong shapes or values (the site's BadRequest wraps it)."""


class DomainTasks:
    """Mixin of CohortSite: the domain-reference tasks (state: the observations and the bundle's names)."""

    cases: list[Any]
    device: str
    name: str
    _domain: tuple[dfit.Observations, tuple[str, ...], tuple[str, ...]] | None = None
    _domain_key: str = ""

    def _domain_observe(self, _loc: Any, request: Request) -> Reply:
        """Load the sent bundle (hashes checked), observe every case of the site, keep the observations."""
        # lazy: onnxruntime and the bundle reader only when the server asks for the reference
        from dlrs_desktop.model.predictor import Predictor

        folder = Path(tempfile.mkdtemp(prefix="dlrs-domain-"))
        try:
            _write_files(folder, request)
            predictor = Predictor(folder, device="cpu", backend="onnx", precision="float")
            want = str(request.config.get("manifest_sha256", ""))
            if predictor.bundle.manifest_sha256 != want:
                raise BadDomainRequest("the bundle sent is not the one announced (manifest hash differs)")
            b = predictor.bundle
            key = observation_key(b.manifest)
            fresh = self._domain is None or self._domain_key != key
            if fresh:  # the report re-sends the bundle with its reference: same networks, same cases
                obs = dfit.collect(predictor, self.cases)  # the fit reads train and internal; the report all
                self._domain, self._domain_key = (obs, tuple(b.region_names), tuple(b.input_names)), key
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        obs = self._observed()[0]
        counts = {f"n_{s}": int(np.sum(obs.split == s)) for s in ("train", "internal")}
        return Reply(self.name, (), len(obs.y), {"cases": len(obs.y), **counts, "observed": int(fresh)})

    def _observed(self) -> tuple[dfit.Observations, tuple[str, ...], tuple[str, ...]]:
        if self._domain is None:
            raise BadDomainRequest("no observations: 'domain_observe' must come first")
        return self._domain

    def _domain_features(self, _loc: Any, request: Request) -> Reply:
        """Per region Σx (R, K) and Σxxᵀ (R, K, K) of the training cases' pooled features."""
        obs, _, _ = self._observed()
        x = obs.pooled[obs.split == "train"]
        return Reply(
            self.name,
            (x.sum(axis=0), np.einsum("nrk,nrl->rkl", x, x)),
            len(x),
            {"cases": len(x)},
        )

    def _domain_scores(self, _loc: Any, request: Request) -> Reply:
        """Per region Σssᵀ (R, k, k), Σ‖s‖⁴ (R,) and Σ(‖c‖² − ‖s‖²) (R,) of the training cases, s the
        scores on the sent components of c, the features centred on the sent mean."""
        obs = self._observed()[0]
        if len(request.arrays) != 2:
            raise BadDomainRequest("needs [mean, components]")
        mean, comp = (np.asarray(a, np.float64) for a in request.arrays)
        r, kdim = obs.pooled.shape[1:]
        if mean.shape != (r, kdim) or comp.ndim != 3 or comp.shape[0] != r or comp.shape[2] != kdim:
            raise BadDomainRequest(f"mean must be ({r}, {kdim}) and components ({r}, k, {kdim})")
        c = obs.pooled[obs.split == "train"] - mean
        s = np.einsum("rkd,nrd->nrk", comp, c)
        sq = np.sum(s * s, axis=2)
        res = np.sum(c * c, axis=2) - sq
        return Reply(
            self.name,
            (np.einsum("nrk,nrl->rkl", s, s), np.sum(sq * sq, axis=0), res.sum(axis=0)),
            len(c),
            {"cases": len(c)},
        )

    def _domain_texture(self, _loc: Any, request: Request) -> Reply:
        """The texture checks' sums over the training cases (federated/domain_texture.py): step "moments"
        Σx (D,), Σxxᵀ (D, D) of the descriptor; "fourth" [mean, scale] → Σuuᵀ, Σ‖u‖⁴ of the
        standardised u; "logistic" [mean, scale, (coef, intercept) (D + 1)] → aggregates.logistic_terms
        of the training cases, labelled 0 (the gate's real side)."""
        obs = self._observed()[0]
        x = obs.texture[obs.split == "train"]
        step, d = str(request.config.get("step", "")), x.shape[1]
        if step not in TEXTURE_STEPS:
            raise BadDomainRequest(f"unknown texture step {step!r}")
        want = {"moments": [], "fourth": [(d,), (d,)], "logistic": [(d,), (d,), (d + 1,)]}[step]
        got = [np.asarray(a, np.float64) for a in request.arrays]
        if [a.shape for a in got] != want:
            raise BadDomainRequest(f"texture step {step!r} needs arrays of shapes {want}")
        if step == "moments":
            out: tuple[np.ndarray, ...] = (x.sum(axis=0), x.T @ x)
        else:
            if np.any(got[1] <= 0):
                raise BadDomainRequest("texture scales must be positive")
            u = (x - got[0]) / got[1]
            if step == "fourth":
                out = (u.T @ u, np.array([float(np.sum(np.sum(u * u, axis=1) ** 2))]))
            else:  # the stacking's terms (aggregates.logistic_terms) with every training case labelled 0
                out = (agg.logistic_terms(u, np.zeros(len(u)), got[2][:d], float(got[2][d])),)
        return Reply(self.name, out, len(x), {"cases": len(x)})

    def _domain_values(self, _loc: Any, request: Request) -> Reply:
        """Moments (3, V) of a quantity, or with a grid [lo (V,), hi (V,)] appended its counts
        (V, 2 + bins): below lo, `bins` equal bins, at or above hi."""
        obs, regions, inputs = self._observed()
        quantity = str(request.config.get("quantity", ""))
        if quantity not in QUANTITIES:
            raise BadDomainRequest(f"unknown quantity {quantity!r}")
        arrays = list(request.arrays)
        bins = int(request.config.get("bins", 0))
        grid = None
        if bins:
            if not 1 <= bins <= MAX_BINS or len(arrays) < 2:
                raise BadDomainRequest(f"a grid needs 1..{MAX_BINS} bins and [lo, hi]")
            grid = (np.asarray(arrays[-2], np.float64), np.asarray(arrays[-1], np.float64), bins)
            arrays = arrays[:-2]
        part = obs.take(np.flatnonzero(obs.split == QUANTITIES[quantity]))
        v = _values(part, quantity, arrays, request.config, regions, inputs)
        if grid is None:
            out = agg.moments(v) if len(v) else np.zeros((3, v.shape[1]))
        else:
            out = grid_counts(v, *grid)
        return Reply(self.name, (np.asarray(out, np.float64),), len(v), {"cases": len(v)})

    def _domain_report(self, _loc: Any, request: Request) -> Reply:
        """Per split: the counts of REPORT_COUNTS (3, 6) and histograms of the fused probability by
        label among the cases inside and the flagged ones (3, 2, 2, bins), under the bundle's final
        reference [mean, components, precision, residual, checks, (unusual, outside, qhat, centre)]."""
        obs, regions, inputs = self._observed()
        if len(request.arrays) != 7 or np.asarray(request.arrays[6]).shape != (4,):
            raise BadDomainRequest("needs the reference, its checks and (unusual, outside, qhat, centre)")
        unusual, outside, qhat, centre = (float(v) for v in request.arrays[6])
        if not (0 < unusual <= outside and 0 <= qhat <= 1 and 0 < centre < 1):
            raise BadDomainRequest("thresholds, qhat or centre out of range")
        ref = reference_from(list(request.arrays[:6]), regions, inputs, obs.pooled.shape[2], with_checks=True)
        ref = replace(ref, unusual_above=unusual, outside_above=outside)
        table = dfit.values_table(ref, obs, inputs)
        status = np.array([dm.score_values(ref, v).status for v in table])
        gated = np.array([ref.gated(v) for v in table], bool)
        p = 1.0 / (1.0 + np.exp(-obs.fused))
        pc = dm.centred(p, centre)
        pos_in, neg_in = 1.0 - pc <= qhat, pc <= qhat
        empty = ~pos_in & ~neg_in
        covered = np.where(obs.y == 1, pos_in, neg_in) | empty
        either = (pos_in & neg_in) | empty
        counts = np.zeros((len(SPLITS), len(REPORT_COUNTS)))
        hists = np.zeros((len(SPLITS), 2, 2, agg.N_BINS))
        for i, split in enumerate(SPLITS):
            m = obs.split == split
            inside = m & (status == "inside")
            counts[i] = [m.sum(), inside.sum(), (m & (status == "unusual")).sum(),
                         (m & (status == "outside")).sum(), covered[m].sum(), either[m].sum(),
                         gated[m].sum()]  # fmt: skip
            for g, sel in enumerate((inside, m & ~inside)):
                hists[i, g] = agg.score_histogram(p[sel], obs.y[sel])
        return Reply(self.name, (counts, hists), len(obs.y), {"cases": len(obs.y)})


def observation_key(manifest: dict[str, Any]) -> str:
    """What a site's observations depend on: the manifest without the domain reference, the conformal
    block and the files a reference rewrites (its own file, the model card). Adding a reference keeps
    the key, so the report's second "domain_observe" reuses the fit's observations."""
    files = {n: e for n, e in manifest["files"].items() if n != dm.REFERENCE_FILE and not n.endswith(".md")}
    rest = {k: v for k, v in manifest.items() if k not in ("domain_reference", "conformal", "files")}
    text = json.dumps({"files": files, **rest}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _write_files(folder: Path, request: Request) -> None:
    """The bundle's files into `folder`: names from config "files" (a JSON list), bytes as uint8 arrays."""
    try:
        names = json.loads(str(request.config.get("files", "")))
    except ValueError as exc:
        raise BadDomainRequest("config 'files' is not a JSON list of names") from exc
    ok = isinstance(names, list) and len(names) == len(request.arrays) and len(set(names)) == len(names)
    if not ok or not all(isinstance(n, str) and _FILE_NAME.fullmatch(n) for n in names):
        raise BadDomainRequest("config 'files' must name each array once, as a plain file name")
    for n, a in zip(names, request.arrays, strict=True):
        if a.dtype != np.uint8 or a.ndim != 1:
            raise BadDomainRequest(f"file {n}: not a byte array")
        (folder / n).write_bytes(a.tobytes())


def _values(
    part: dfit.Observations, quantity: str, arrays: list[np.ndarray], config: dict[str, Any],
    regions: tuple[str, ...], inputs: tuple[str, ...],
) -> np.ndarray:  # fmt: skip
    """(n, V) values of one quantity on the site's cases of its split."""
    if quantity == "alpha":
        centre = float(config.get("centre", 0.5))
        if not 0.0 < centre < 1.0:
            raise BadDomainRequest("centre must lie in (0, 1)")
        p = 1.0 / (1.0 + np.exp(-part.fused))
        return nonconformity(p, part.y, centre)[:, None]
    ref = reference_from(arrays, regions, inputs, part.pooled.shape[2], with_checks=quantity == "score")
    table = dfit.values_table(ref, part, inputs)
    if quantity == "checks":
        names = check_names(regions, inputs, ref.texture)
        return np.array([[row[n] for n in names] for row in table]).reshape(len(table), len(names))
    return np.array([dm.score_values(ref, v).score for v in table])[:, None]


def check_names(
    regions: tuple[str, ...], inputs: tuple[str, ...], texture: dtx.TextureModel | None = None
) -> list[str]:
    """The checks of a bundle, in the order the pooled fit writes them (model.domain.reference_values)."""
    zero = dm.check_values(regions, inputs, np.zeros(len(regions)), np.zeros(len(inputs)), 0.0,
                           np.zeros(len(dm.IMAGE_STATS)))  # fmt: skip
    extra = texture.values(np.zeros(len(dtx.FEATURES))) if texture is not None else {}
    return [*zero, *extra]


#: A check on the wire: median, upper scale, lower scale, training low, training high, informative.
CHECK_FIELDS = ("median", "scale", "scale_low", "low", "high", "informative")


def checks_array(checks: list[dict[str, Any]]) -> np.ndarray:
    return np.array([[float(c[f]) for f in CHECK_FIELDS] for c in checks], np.float64)


def reference_from(
    arrays: list[np.ndarray], regions: tuple[str, ...], inputs: tuple[str, ...], kdim: int, *,
    with_checks: bool,
) -> dm.DomainReference:  # fmt: skip
    """[mean, components, precision, residual, texture(, checks (C, 6))] → the reference the server
    fitted (texture: federated/domain_texture.py's wire array, (0, D) for none)."""
    if len(arrays) != 5 + int(with_checks):
        tail = ", checks]" if with_checks else "]"
        raise BadDomainRequest(f"needs [mean, components, precision, residual, texture{tail}")
    mean, comp, prec, res = (np.asarray(a, np.float64) for a in arrays[:4])
    r = len(regions)
    k = comp.shape[1] if comp.ndim == 3 else -1
    if mean.shape != (r, kdim) or comp.shape != (r, k, kdim) or prec.shape != (r, k, k) or res.shape != (r,):
        raise BadDomainRequest("reference arrays of the wrong shapes")
    if np.any(res <= 0):
        raise BadDomainRequest("residuals must be positive")
    try:
        texture = tex_wire.unpack(arrays[4])
    except DlrsError as exc:
        raise BadDomainRequest(f"texture block: {exc}") from None
    names = ("features.mean", "features.components", "features.precision", "features.residual")
    blank = dfit.blank_reference(dict(zip(names, (mean, comp, prec, res), strict=True)), regions, texture)
    if not with_checks:
        return blank
    return dfit.with_checks(blank, checks_from(arrays[5], check_names(regions, inputs, texture)))


def checks_from(table: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """The server's checks (C, 6) as the manifest's check entries (names in check_names' order)."""
    t = np.asarray(table, np.float64)
    if t.shape != (len(names), len(CHECK_FIELDS)):
        raise BadDomainRequest(f"checks must be ({len(names)}, {len(CHECK_FIELDS)})")
    if np.any(t[:, 1:3] <= 0):
        raise BadDomainRequest("check scales must be positive")
    out = []
    for n, row in zip(names, t, strict=True):
        entry = {"name": n, "kind": dfit.check_kind(n)}
        entry.update({f: float(v) for f, v in zip(CHECK_FIELDS[:5], row[:5], strict=True)})
        out.append({**entry, "informative": bool(row[5])})
    return out


def grid_counts(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int) -> np.ndarray:
    """(V, 2 + bins) counts of each column of v (n, V): below lo, `bins` equal bins of [lo, hi), ≥ hi."""
    width = v.shape[1]
    if lo.shape != (width,) or hi.shape != (width,) or np.any(hi <= lo):
        raise BadDomainRequest(f"the grid needs lo < hi, both ({width},)")
    out = np.zeros((width, bins + 2))
    for j in range(width):
        pos = np.clip(np.floor((v[:, j] - lo[j]) / (hi[j] - lo[j]) * bins), -1, bins)  # before the cast
        out[j] = np.bincount(pos.astype(np.int64) + 1, minlength=bins + 2)
    return out
