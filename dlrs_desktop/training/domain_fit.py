"""Fitting the domain guard and the conformal prediction sets of a bundle (`dlrs model add-reference`).

Reference statistics come from the cohort's `train` split; the two domain thresholds (95th and
99.5th percentile of the score) and the conformal quantile come from its `internal` split. The
`external` split is never read. The scoring itself is `dlrs_desktop.model.domain` (numpy only).

Needs the [train] extra: scikit-learn (Ledoit–Wolf shrinkage) and crepes (split conformal).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.model import domain as dm
from dlrs_desktop.model import domain_texture as dtx
from dlrs_desktop.model.bundle_edit import rewrite_with_files
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.model.preprocess import prepare_inputs
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.conformal_fit import CentreScores, carried_over, fit_conformal, with_centres
from dlrs_desktop.training.domain_texture_fit import fit_texture
from dlrs_desktop.training.domain_texture_fit import synthetic_negatives as texture_negatives

UNUSUAL_PERCENTILE = 95.0
OUTSIDE_PERCENTILE = 99.5
DEFAULT_COMPONENTS = 32


@dataclass
class Observations:
    """Per case: pooled features (N, R, K), stacking inputs (N, R+S), fused logit, image statistics,
    speckle-texture descriptor (N, 15)."""

    pooled: np.ndarray
    z: np.ndarray
    fused: np.ndarray
    stats: np.ndarray
    texture: np.ndarray
    y: np.ndarray
    split: np.ndarray
    centre: np.ndarray

    def take(self, idx: np.ndarray) -> Observations:
        return Observations(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def observe(
    predictor: Any, image: Any, contour: Any
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
    """One case as the predictor sees it: pooled features (R, K), stacking inputs, fused logit, stats,
    texture descriptor."""
    x, info = prepare_inputs(image, contour, predictor.bundle.spec)
    logits, feats = predictor.run_crops(x[None], features=True)
    z = np.r_[logits[0].astype(np.float64), predictor.signature_logits(image, info)]
    st = predictor.bundle.stacking
    fused = float(st.intercept + np.dot(st.coefficients, z))
    texture = dtx.descriptor(image.gray, image.scan_mask, info.roiset)
    return dm.pooled_features(feats[0]), z, fused, dm.image_stats(image, info), texture


def collect(
    predictor: Any, cases: list[Any], progress: Callable[[int, int], None] | None = None
) -> Observations:
    """Observe every case of a cohort (a case that cannot be predicted is a CohortError, all listed)."""
    rows, problems = [], []
    for k, case in enumerate(cases):
        try:
            image, contour = load_case(case)
            rows.append((*observe(predictor, image, contour), case.label, case.split, case.centre))
        except DlrsError as exc:
            problems.append(f"case {case.case_id}: {exc}")
        if progress:
            progress(k + 1, len(cases))
    if problems:
        raise CohortError("The domain reference cannot be fitted: " + "; ".join(problems[:5]))
    cols = list(zip(*rows, strict=True))
    return Observations(*(np.asarray(np.stack(c) if i < 5 else c) for i, c in enumerate(cols)))


#: z of the 99th percentile of a normal distribution: each tail is scaled so that the training
#: split's 1st/99th percentile reads as z = 2.33, whatever the shape of the check's distribution
Z99 = 2.3263


def _robust(values: np.ndarray, floor: float) -> tuple[float, float, float]:
    """Median, upper and lower tail scale: max(tail-matched, MAD, floor) — heavy tails count alike."""
    med = float(np.median(values))
    mad = 1.4826 * float(np.median(np.abs(values - med)))
    q01, q99 = np.percentile(values, (1, 99))
    up = max((float(q99) - med) / Z99, mad, floor, 1e-6)
    low = max((med - float(q01)) / Z99, mad, floor, 1e-6)
    return med, up, low


def fit_features(pooled: np.ndarray, components: int) -> dict[str, np.ndarray]:
    """Per region: mean, top principal components, Ledoit–Wolf-shrunk precision of their scores,
    mean squared residual off them (training split)."""
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.covariance import LedoitWolf

    n, r, kdim = pooled.shape
    k = max(1, min(components, n - 2, kdim))
    mean = pooled.mean(axis=0)
    comp = np.zeros((r, k, kdim))
    prec = np.zeros((r, k, k))
    res = np.zeros(r)
    for i in range(r):
        c = pooled[:, i] - mean[i]
        _, _, vt = np.linalg.svd(c, full_matrices=False)
        comp[i] = vt[:k]
        s = c @ vt[:k].T
        prec[i] = LedoitWolf(assume_centered=True).fit(s).precision_
        prec[i] = 0.5 * (prec[i] + prec[i].T)
        res[i] = max(float(np.mean(np.sum(c * c, axis=1) - np.sum(s * s, axis=1))), 1e-12)
    return {
        "features.mean": mean.astype(np.float32),
        "features.components": comp.astype(np.float32),
        "features.precision": prec.astype(np.float32),
        "features.residual": res.astype(np.float32),
    }


def values_table(
    ref: dm.DomainReference, obs: Observations, input_names: tuple[str, ...]
) -> list[dict[str, float]]:
    """Every check's raw value for every case (the same `check_values` the predictor uses)."""
    return [
        dm.reference_values(
            ref, input_names, obs.pooled[i], obs.z[i], obs.fused[i], obs.stats[i], obs.texture[i]
        )
        for i in range(len(obs.y))
    ]


def check_kind(name: str) -> str:
    """The kind of a check from its name (the same rule for pooled and federated fits)."""
    if name.startswith("image:"):
        return "image"
    if name.startswith("texture:"):
        return "texture"
    return name.split(":")[0].replace("features", "feature_distance")


def check_floor(name: str) -> float:
    """The smallest robust SD a check may have (a constant training value still gives a finite z)."""
    kind = check_kind(name)
    return dm.IMAGE_STATS[name[6:]][1] if kind == "image" else 0.05 if kind == "logit" else 0.02


def check_entry(name: str, values: np.ndarray, informative: bool) -> dict[str, Any]:
    """One check of the manifest block from its training-split values (robust centre and tails).

    `informative` False: the quantity did not vary over the training split (e.g. a nominal spacing);
    a constant says nothing about where the domain ends."""
    med, scale, scale_low = _robust(values, check_floor(name))
    return {
        "name": name,
        "kind": check_kind(name),
        "median": med,
        "scale": scale,
        "scale_low": scale_low,
        "low": float(values.min()),
        "high": float(values.max()),
        "informative": bool(informative),
    }


def _checks(table: list[dict[str, float]]) -> list[dict[str, Any]]:
    out = []
    for name in table[0]:
        v = np.array([row[name] for row in table])
        out.append(check_entry(name, v, bool(np.ptp(v) > 0.0)))
    return out


def fit_guard(
    predictor: Any,
    obs: Observations,
    *,
    components: int = DEFAULT_COMPONENTS,
    coverage: float = dm.DEFAULT_COVERAGE,
    negatives: tuple[np.ndarray, str] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """(manifest block `domain_reference`, its arrays, manifest block `conformal`) from observations;
    `negatives`: texture descriptors of synthetic images and their source, for the synthetic-likeness gate."""
    train, internal = (obs.take(np.flatnonzero(obs.split == s)) for s in ("train", "internal"))
    if len(train.y) < 10 or len(internal.y) < 10:
        raise CohortError(
            "The domain reference needs at least 10 cases in the cohort's train split and 10 in its "
            f"internal split (it has {len(train.y)} and {len(internal.y)})."
        )
    b = predictor.bundle
    arrays = fit_features(train.pooled, components)
    tex = fit_texture(train.texture, *(negatives or (None, "")))
    blank = blank_reference(arrays, b.region_names, dtx.parse_texture(tex))
    checks = _checks(values_table(blank, train, b.input_names))
    ref = with_checks(blank, checks)
    scores = np.array([dm.score_values(ref, v).score for v in values_table(ref, internal, b.input_names)])
    block = guard_block(arrays, checks, scores, len(train.y))
    block["texture"] = tex
    p_int = 1.0 / (1.0 + np.exp(-internal.fused))
    return block, arrays, fit_conformal(p_int, internal.y, coverage, float(b.manifest["threshold"]))


def blank_reference(
    arrays: dict[str, np.ndarray], region_names: tuple[str, ...], texture: dtx.TextureModel | None = None
) -> dm.DomainReference:
    """The feature and texture parts of a reference (no checks yet): what the distance checks need."""
    return dm.DomainReference(
        *(arrays[n].astype(np.float64) for n in arrays), (), 1.0, 1.0, region_names, {}, texture
    )


def guard_block(
    arrays: dict[str, np.ndarray], checks: list[dict[str, Any]], scores: np.ndarray, n_train: int
) -> dict[str, Any]:
    """The manifest block `domain_reference`: the checks and the two thresholds, the 95th and 99.5th
    percentiles of the domain score on the internal split (`scores`)."""
    q95, q995 = (float(np.percentile(scores, q)) for q in (UNUSUAL_PERCENTILE, OUTSIDE_PERCENTILE))
    return {
        "method": dm.METHOD,
        "file": dm.REFERENCE_FILE,
        "checks": checks,
        "unusual_above": max(q95, 1e-3),
        "outside_above": max(q995, q95, 1e-3),
        "threshold_rule": (
            f"{UNUSUAL_PERCENTILE:g}th and {OUTSIDE_PERCENTILE:g}th percentiles of the domain score on the "
            f"internal split (n = {len(scores)})"
        ),
        "n_train": int(n_train),
        "n_internal": len(scores),
        "components": int(arrays["features.components"].shape[1]),
        "feature_dim": int(arrays["features.mean"].shape[1]),
        "image_stats": list(dm.IMAGE_STATS),
    }


def with_checks(ref: dm.DomainReference, checks: list[dict[str, Any]]) -> dm.DomainReference:
    parsed = tuple(
        dm.Check(
            c["name"],
            c["kind"],
            c["median"],
            c["scale"],
            c["low"],
            c["high"],
            c["kind"] in dm.ONE_SIDED_KINDS,
            c["scale_low"],
            bool(c.get("informative", True)),  # the thresholds score what the loaded reference scores
        )
        for c in checks
    )
    return dm.DomainReference(
        ref.mean,
        ref.components,
        ref.precision,
        ref.residual,
        parsed,
        1.0,
        1.0,
        ref.region_names,
        {},
        ref.texture,
    )


def reference_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    # lazy: safetensors (~0.15 s) only when a bundle is read
    from safetensors.numpy import save

    return save(
        {k: np.ascontiguousarray(v) for k, v in arrays.items()},
        metadata={"content": "DLRS domain reference (training split statistics)"},
    )


def add_reference(
    bundle_dir: str | os.PathLike[str],
    cohort_csv: str | os.PathLike[str],
    *,
    components: int = DEFAULT_COMPONENTS,
    coverage: float = dm.DEFAULT_COVERAGE,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    synthetic_negatives: int = 0,
    held_out: CentreScores | None = None,
) -> dict[str, Any]:
    """Fit the domain reference and conformal sets on the cohort's train/internal splits and write them
    into the bundle folder (weights byte-identical; manifest re-pinned). Returns a summary.

    `held_out`: the primary probability of each training case from networks that never saw its centre
    (`dlrs train --fold-by centre`): the sets are widened to those centres' quantiles (conformal_fit.py);
    without it, a bundle's earlier held-out-centre quantiles are kept (same coverage only).

    `synthetic_negatives` > 0: that many `dlrs synth` patients and as many simulated phantom scans teach
    the synthetic-likeness gate (model/domain_texture.py) — for a model trained on real scans; never for
    one trained on synthetic."""
    if not 0.5 <= coverage < 1.0:
        raise CohortError("--coverage must be at least 0.5 and below 1.")
    cases = [c for c in read_cohort(cohort_csv, require_train=False) if c.split in ("train", "internal")]
    # the reference describes the float model (the int8 graph is checked against it, quantize.py)
    predictor = Predictor(bundle_dir, device="cpu", backend="onnx", threads=threads, precision="float")
    obs = collect(predictor, cases, progress)
    enough = min(int(np.sum(obs.split == s)) for s in ("train", "internal")) >= 10  # else fit_guard refuses
    spec = predictor.bundle.spec
    negatives = texture_negatives(spec, synthetic_negatives) if synthetic_negatives > 0 and enough else None
    block, arrays, conformal = fit_guard(
        predictor, obs, components=components, coverage=coverage, negatives=negatives
    )
    block["cohort"] = Path(cohort_csv).name
    previous = predictor.bundle.manifest.get("conformal")
    conformal = carried_over(conformal, previous) if held_out is None else with_centres(conformal, held_out)

    def update(m: dict[str, Any]) -> None:
        m["domain_reference"] = block
        m["conformal"] = conformal

    bundle = rewrite_with_files(bundle_dir, {dm.REFERENCE_FILE: reference_bytes(arrays)}, update)
    return {
        "bundle": str(bundle_dir),
        "manifest_sha256": bundle.manifest_sha256,
        "domain_reference": block,
        "conformal": conformal,
    }


def flagged_summary(statuses: list[str]) -> dict[str, Any]:
    n = len(statuses)
    return {s: (sum(x == s for x in statuses) / n if n else math.nan) for s in dm.STATUSES} | {"n": n}
