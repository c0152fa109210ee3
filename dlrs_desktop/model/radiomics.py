"""Radiomics signatures: hand-made grey-level features of each region, beside the region networks.

Why: the study is a *deep learning radiomics* model. With a few hundred training cases the ring
networks measured the peritumoral findings poorly (correlation 0.3–0.5 with the synthetic
cohorts' hidden oedema and distortion, benchmarks/label_ceiling.py), while a logistic model on
plain first-order statistics of the same regions measured them better (docs/TRAINING.md,
"Radiomics signatures"). A fusion row therefore stacks the networks of its regions *and* a
radiomics signature of the same regions.

The features are generic (IBSI-style first-order statistics, a gradient texture measure, the
angular spread of the region round the tumour, and two shape measures), computed on the full-
resolution grey levels inside the app's own ROIs, with grey levels z-scored over the image's scan
area so a brighter or flatter scanner does not move them. Nothing here knows where `dlrs synth`
draws its findings. A signature is a standardised logistic model stored as numbers in the
manifest (no pickle).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.errors import ModelError

REGION_FEATURES = (
    "mean", "sd", "p10", "p50", "p90", "skewness", "kurtosis", "entropy",
    "gradient", "sector_sd", "sector_range",
)  # fmt: skip
#: The two shape measures of a bundle (manifest `radiomics.shape_features`; absent: "outline").
#: "outline" ratios change with how tightly the outline is drawn: moved out by 1 mm, an irregular
#: lesion's area grows faster than its hull's, so its solidity rises (ICC 0.70 over the drawn and
#: ±1 mm outlines on the real-data study's training split). The depth of its concavities below the
#: convex hull does not change when outline and hull move out together (ICC 0.95–0.98 there), and
#: separates benign from malignant as well. The fused answer's −1 mm class flips were not fewer for it
#: (docs/evaluation/real-bus, "Shape that a 1 mm move leaves alone"): it is an option, not the default.
SHAPE_SETS = {
    "outline": ("compactness", "solidity"),
    "concavity": ("concavity_max_mm", "concavity_mean_mm"),
}
N_SHAPE_FEATURES = 2  # every shape set has two measures: a signature's columns do not depend on the set
CONCAVITY_STEP_MM = 0.1  # the outline is sampled this finely (by arc length) for the concavity depths
MAX_OUTLINE_SAMPLES = 8192
#: Each feature's IBSI equivalent (Zwanenburg et al., Radiology 2020; IBSI reference manual codes), or
#: why it has none. PyRadiomics, the IBSI-aligned library, is not used: PyPI has no wheels of it
#: for any Python (sdists only, and pip refuses 3.1.0's for inconsistent metadata), so it does not
#: install cleanly with the app (docs/TRAINING.md, "Radiomics signatures").
IBSI_EQUIVALENTS = {
    "mean": "intensity-based statistics: mean (Q4LE)",
    "sd": "intensity-based statistics: square root of variance (ECT3)",
    "p10": "intensity-based statistics: 10th percentile (QG58)",
    "p50": "intensity-based statistics: median (Y12H)",
    "p90": "intensity-based statistics: 90th percentile (8DWT)",
    "skewness": "intensity-based statistics: skewness (KE2A)",
    "kurtosis": "intensity-based statistics: (excess) kurtosis (IPH6)",
    "entropy": "intensity histogram: entropy (TLU2), fixed bin number 16 over ±3 SD of the scan area",
    "gradient": "none (mean Sobel gradient magnitude: an edge-strength measure outside IBSI)",
    "sector_sd": "none (spread of 30° sector means round the tumour: an angular heterogeneity measure)",
    "sector_range": "none (range of 30° sector means round the tumour)",
    "compactness": "2D morphology, perimeter²/area (the 2D analogue of IBSI's compactness family)",
    "solidity": "2D morphology, area/convex-hull area (2D analogue of volume density, convex hull, R3ER)",
    "concavity_max_mm": "none (deepest point of the outline below its convex hull, mm: a 2D margin measure)",
    "concavity_mean_mm": "none (mean depth of the outline below its convex hull by arc length, mm)",
}
N_SECTORS = 12  # 30° sectors round the tumour centroid
MIN_PIXELS = 5  # fewer pixels in a region (a ring clipped away): its features are 0 (= the image mean)
MAX_SIGNATURES = 16
MAX_CORE_MM = 10.0  # `radiomics.intratumoral_core_mm`: an erosion deeper than this is not a core
MAX_WEIGHT = 1000.0  # |coefficient|, |intercept|: on standardised features they are O(1)
MAX_FEATURE_SCALE = 1e6  # |mean| and scale of a feature (z-scored grey levels, shape ratios: O(10))
FEATURE_METHOD = (
    "grey levels z-scored over the scan area; per region (tumour, each ring's annulus): mean, SD, "
    "10th/50th/90th percentile, skewness, excess kurtosis, entropy of a 16-bin histogram over ±3 SD, "
    "mean Sobel gradient magnitude, SD and range of the means of 12 sectors of 30° round the tumour "
    "centroid; shape: perimeter²/area and area/convex-hull area of the contour"
)
CONCAVITY_METHOD = (
    "; shape: the deepest and the mean (by arc length) distance in mm of the contour below its convex "
    "hull, instead of the two ratios"
)


def _bounded(v: Any, bound: float) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= bound


@dataclass(frozen=True)
class FeatureSettings:
    """How a bundle's features are computed (manifest `radiomics`): which part of the tumour its
    statistics read and which shape measures it takes. One object travels from `dlrs train` through
    the manifest to the predictor, `dlrs evaluate` and the benchmarks, so they cannot disagree."""

    core_mm: float = 0.0  # intratumoral features on the tumour eroded by this (`tumour_core`); 0: whole
    shape: str = "outline"  # the shape measures (`SHAPE_SETS`)

    def __post_init__(self) -> None:
        shape_ok = isinstance(self.shape, str) and self.shape in SHAPE_SETS
        if not (shape_ok and _bounded(self.core_mm, MAX_CORE_MM) and self.core_mm >= 0):
            raise ModelError(
                f"Radiomics settings need a core of 0–{MAX_CORE_MM:g} mm and shape measures "
                f"{' or '.join(SHAPE_SETS)}."
            )
        object.__setattr__(self, "core_mm", float(self.core_mm))  # an integer from JSON reads as mm too


#: The settings of every bundle written before either option existed (whole tumour, outline ratios).
DEFAULT_FEATURES = FeatureSettings()


def feature_names(region_names: Sequence[str], shape: str = "outline") -> list[str]:
    """Column names of `case_features`, e.g. "ring_5mm.entropy", then "shape.compactness"."""
    return [f"{r}.{f}" for r in region_names for f in REGION_FEATURES] + [
        f"shape.{f}" for f in SHAPE_SETS[shape]
    ]


def signature_columns(region_names: Sequence[str], regions: Sequence[str]) -> list[int]:
    """Columns of `feature_names(region_names)` a signature of `regions` reads: theirs, then the shape
    (two measures in every shape set)."""
    width = len(REGION_FEATURES)
    shape = len(region_names) * width
    own = [list(region_names).index(r) * width + j for r in regions for j in range(width)]
    return own + list(range(shape, shape + N_SHAPE_FEATURES))


def outline_ratios(points_px: np.ndarray) -> tuple[float, float]:
    """(compactness perimeter²/area, solidity area/convex-hull area) of a closed outline, in pixels."""
    pts = np.asarray(points_px, np.float32)
    area = max(float(cv2.contourArea(pts)), 1.0)
    hull = max(float(cv2.contourArea(cv2.convexHull(pts))), 1.0)
    return float(cv2.arcLength(pts, True)) ** 2 / area, area / hull


def concavity_depths_mm(points_px: np.ndarray, mm_per_px: tuple[float, float]) -> tuple[float, float]:
    """(deepest, mean by arc length) distance in mm of the closed outline below its convex hull.

    An outline moved out by d mm everywhere has its hull moved out by d too, so a concavity wider than
    2d keeps its depth: unlike solidity, these barely change with how tightly the outline is drawn."""
    p = np.asarray(points_px, np.float64) * np.asarray(mm_per_px, np.float64)
    closed = np.vstack([p, p[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    length = np.concatenate([[0.0], np.cumsum(seg)])
    n = int(np.clip(length[-1] / CONCAVITY_STEP_MM, len(p), MAX_OUTLINE_SAMPLES))
    at = np.linspace(0.0, length[-1], n, endpoint=False)
    samples = np.c_[np.interp(at, length, closed[:, 0]), np.interp(at, length, closed[:, 1])]
    hull = cv2.convexHull(p.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if len(hull) < 3:
        return 0.0, 0.0
    a, b = hull, np.roll(hull, -1, axis=0)
    edge = b - a
    norm = np.hypot(edge[:, 0], edge[:, 1])
    ok = norm > 1e-9
    a, edge, norm = a[ok], edge[ok], norm[ok]
    # every sample lies in the (convex) hull: its distance to the boundary is the nearest edge line's
    pts = np.vstack([samples, p])  # the vertices too: the deepest point of a notch is one
    cross = edge[:, 0] * (pts[:, None, 1] - a[:, 1]) - edge[:, 1] * (pts[:, None, 0] - a[:, 0])
    depth = np.min(np.abs(cross) / norm, axis=1)
    return float(depth.max()), float(depth[: len(samples)].mean())


def _percentiles_10_50_90(levels: np.ndarray, counts: np.ndarray) -> tuple[float, float, float]:
    """np.percentile(values, [10, 50, 90]) (linear interpolation) of values given as sorted levels and
    how many pixels have each: the k-th smallest value is the level whose cumulative count passes k."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    out = []
    for q in (10, 50, 90):
        pos = q / 100.0 * (n - 1)
        i = math.floor(pos)
        a, b = (float(levels[np.searchsorted(cum, k, side="right")]) for k in (i, min(i + 1, n - 1)))
        out.append(a + (b - a) * (pos - i))
    return out[0], out[1], out[2]


def _sector_map(boxes: list[tuple[int, int, int, int]], cx: float, cy: float) -> tuple[np.ndarray, int, int]:
    """The 30° sector (0–11, uint8) round (cx, cy) of every pixel of the boxes' union, and its origin.

    Why one map: every region shares the tumour's centroid, so the angles are computed once for the
    largest box instead of per region (the same float64 arithmetic per pixel as before)."""
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    dy = np.arange(y0, y1, dtype=np.float64) - cy
    dx = np.arange(x0, x1, dtype=np.float64) - cx
    t = np.arctan2(dy[:, None], dx[None, :])
    t += math.pi
    t /= 2 * math.pi
    t *= N_SECTORS
    np.floor(t, out=t)
    t %= N_SECTORS
    return t.astype(np.uint8), x0, y0


def _region_features(
    grey: np.ndarray, levels: np.ndarray, grad: np.ndarray, sector: np.ndarray
) -> list[float]:
    """Features of one region from its pixels' 8-bit grey levels, `levels` (the z-score of each of
    the 256 grey levels), gradients and 30° sectors round the tumour.

    Why by grey level: every first-order statistic of the z-scored pixels is a statistic of 256
    values weighted by how many pixels have each, so the ~150 000 pixels of a 10 mm ring are
    counted once instead of sorted and raised to powers on every mouse-up; the numbers equal the
    per-pixel ones to float32 rounding (tests)."""
    n = grey.size
    if n < MIN_PIXELS:
        return [0.0] * len(REGION_FEATURES)
    key = sector.astype(np.intp)
    key *= 256
    key += grey
    # pixels per (sector, grey level): one pass gives the level counts and the sector means
    joint = np.bincount(key, minlength=256 * N_SECTORS).reshape(N_SECTORS, 256)
    counts = joint.sum(axis=0)
    present = np.flatnonzero(counts)
    w, lv = counts[present].astype(np.float64), levels[present].astype(np.float64)
    mean = float(w @ lv) / n
    centred = lv - mean
    c2 = centred * centred
    var = float(w @ c2) / n
    sd = math.sqrt(var)
    skew = float(w @ (c2 * centred)) / n / sd**3 if sd > 1e-9 else 0.0
    kurt = float(w @ (c2 * c2)) / n / sd**4 - 3.0 if sd > 1e-9 else 0.0
    hist, _ = np.histogram(levels[present], bins=16, range=(-3.0, 3.0), weights=w)
    p = hist[hist > 0] / max(float(hist.sum()), 1.0)
    entropy = float(-(p * np.log(p)).sum())
    sector_n = joint.sum(axis=1)
    sums = joint[:, present] @ levels[present].astype(np.float64)
    means = sums[sector_n > 3] / sector_n[sector_n > 3]
    spread = (float(means.std()), float(np.ptp(means))) if len(means) > 2 else (0.0, 0.0)
    p10, p50, p90 = _percentiles_10_50_90(lv, w)
    return [mean, sd, p10, p50, p90, skew, kurt, entropy, float(grad.mean()), *spread]


def _box(g: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
    """The image inside `bbox`, zero where the box leaves the image (a view when it does not)."""
    x0, y0, x1, y1 = bbox
    h, w = g.shape
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
        return g[y0:y1, x0:x1]
    sub = np.zeros((y1 - y0, x1 - x0), g.dtype)
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    sub[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = g[iy0:iy1, ix0:ix1]
    return sub


def case_features(
    gray: np.ndarray,
    scan_mask: np.ndarray,
    roiset,
    contour_points: np.ndarray,
    region_names: Sequence[str] | None = None,
    settings: FeatureSettings = DEFAULT_FEATURES,
) -> np.ndarray:
    """Feature vector (`feature_names(region_names)` order) of one contour on one image.

    `gray` is the image's 8-bit grey levels; `roiset` the app's `RoiSet` (tumour + rings, clipped
    to the scan area); `region_names` the bundle's regions in order (default: the RoiSet's). Rings
    are read as annuli whatever the model's region kind, so the features mean the same for every
    bundle. `settings.core_mm` > 0: the intratumoral features read the lesion's core (`tumour_core`),
    which a small move of the outline does not reach; the sectors stay centred on the whole tumour.
    `settings.shape`: the bundle's shape measures (`SHAPE_SETS`).
    """
    g = np.ascontiguousarray(gray)
    if g.dtype != np.uint8 or g.ndim != 2:
        raise ModelError("Radiomics features are computed on 8-bit grey levels (one channel).")
    scan = np.ascontiguousarray(scan_mask, dtype=np.uint8)
    mean_sd = cv2.meanStdDev(g, mask=scan if scan.any() else None)  # no full-size copies: per mouse-up
    mu, sd = float(mean_sd[0][0, 0]), float(mean_sd[1][0, 0])
    sd = sd if sd > 1e-6 else 1.0
    levels = (np.arange(256, dtype=np.float32) - mu) / sd  # each grey level z-scored over the scan area
    tumour = roiset.tumour
    ty, tx = np.nonzero(tumour.annulus)
    cy, cx = float(ty.mean() + tumour.bbox[1]), float(tx.mean() + tumour.bbox[0])
    out: list[float] = []
    names = list(region_names) if region_names is not None else [r.name for r in roiset.all]
    core_mm = settings.core_mm
    inner = tumour_core(tumour, roiset.calibration, core_mm) if core_mm > 0 else tumour
    rois = [inner if name == names[0] else roiset[name] for name in names]
    sectors, sx0, sy0 = _sector_map([r.bbox for r in rois], cx, cy)
    for roi in rois:
        x0, y0, x1, y1 = roi.bbox
        sub = _box(g, roi.bbox)
        idx = np.flatnonzero(np.asarray(roi.annulus, bool))  # clipped to the scan area by compute_rois
        # the gradient of the z-scored image is the grey-level gradient / sd (Sobel ignores the offset)
        gx = cv2.Sobel(sub, cv2.CV_32F, 1, 0).ravel()[idx]
        gy = cv2.Sobel(sub, cv2.CV_32F, 0, 1).ravel()[idx]
        gx *= gx
        gy *= gy
        gx += gy
        grad = np.sqrt(gx, out=gx)  # not np.hypot: 5x slower, and these are far from overflow
        grad /= np.float32(sd)
        sector = np.ascontiguousarray(sectors[y0 - sy0 : y1 - sy0, x0 - sx0 : x1 - sx0]).ravel()[idx]
        out += _region_features(np.ascontiguousarray(sub).ravel()[idx], levels, grad, sector)
    pts = np.asarray(contour_points, np.float32)
    if settings.shape == "concavity":
        cal = roiset.calibration
        out += concavity_depths_mm(pts, (cal.mm_per_px_x, cal.mm_per_px_y))
    else:
        out += outline_ratios(pts)
    f = np.asarray(out, np.float64)
    if not np.all(np.isfinite(f)):
        raise ModelError("The radiomics features of this contour are not finite numbers; no result is shown.")
    return f


def tumour_core(tumour, calibration, core_mm: float):  # type: ignore[no-untyped-def]
    """The tumour region eroded by `core_mm`, but by no more than half its inscribed radius (a small
    lesion keeps a core): a dark lesion's outline moved by a millimetre then no longer takes its
    bright rim into the intratumoral statistics (docs/evaluation/real-bus, "The ±1 mm contour flips")."""
    mask = np.pad(np.asarray(tumour.annulus, np.uint8), 1)
    sx, sy = calibration.mm_per_px_x, calibration.mm_per_px_y
    inscribed_mm = float(cv2.distanceTransform(mask, cv2.DIST_L2, 5).max()) * min(sx, sy)
    depth = min(core_mm, 0.5 * inscribed_mm)
    rx, ry = round(depth / sx), round(depth / sy)
    if rx < 1 and ry < 1:
        return tumour
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rx + 1, 2 * ry + 1))
    core = cv2.erode(mask, kernel)[1:-1, 1:-1] > 0
    return dataclasses.replace(tumour, annulus=core) if core.any() else tumour


@dataclass(frozen=True)
class Signature:
    """One radiomics signature: logit = intercept + Σ coefficientᵢ · (featureᵢ − meanᵢ) / scaleᵢ."""

    name: str  # e.g. "radiomics_ring_10mm": the signature of the fusion row "fusion_ring_10mm"
    label: str
    regions: tuple[str, ...]
    columns: tuple[int, ...]  # indices into the bundle's feature vector
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float

    def logit(self, features: np.ndarray) -> np.ndarray:
        f = np.asarray(features, np.float64)[..., list(self.columns)]
        z = (f - np.asarray(self.mean)) / np.asarray(self.scale)
        return z @ np.asarray(self.coefficients) + self.intercept

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "regions": list(self.regions),
            "features": [names[i] for i in self.columns],
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coefficients": list(self.coefficients),
            "intercept": self.intercept,
        }


@dataclass(frozen=True)
class Radiomics:
    """The bundle's radiomics part: the feature list and its signatures (manifest key `radiomics`)."""

    features: tuple[str, ...]
    signatures: tuple[Signature, ...]
    settings: FeatureSettings = DEFAULT_FEATURES

    @property
    def core_mm(self) -> float:
        return self.settings.core_mm

    @property
    def shape(self) -> str:
        return self.settings.shape

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.signatures)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(..., F) features → (..., S) signature logits."""
        return np.stack([s.logit(features) for s in self.signatures], axis=-1)

    def to_dict(self) -> dict[str, Any]:
        core = (
            f"; the tumour's statistics read its core, eroded by {self.core_mm:g} mm (at most half its "
            "inscribed radius)"
        )
        concave = self.shape == "concavity"
        out = {
            "method": FEATURE_METHOD + (core if self.core_mm else "") + (CONCAVITY_METHOD if concave else ""),
            "features": list(self.features),
            "signatures": [s.to_dict(self.features) for s in self.signatures],
        }
        if self.core_mm:
            out["intratumoral_core_mm"] = self.core_mm
        if self.shape != "outline":
            out["shape_features"] = self.shape
        return out

    @classmethod
    def from_dict(cls, d: Any, region_names: Sequence[str]) -> Radiomics:
        """Parse and check the manifest's `radiomics`; every problem is a ModelError naming the field."""
        settings = DEFAULT_FEATURES
        if isinstance(d, dict):  # FeatureSettings checks both fields: the manifest's names are added here
            try:
                core, shape = d.get("intratumoral_core_mm", 0.0), d.get("shape_features", "outline")
                settings = FeatureSettings(core, shape)
            except ModelError:
                raise ModelError(
                    f"Manifest fields 'radiomics.intratumoral_core_mm' (a number of mm from 0 to "
                    f"{MAX_CORE_MM:g}) and 'radiomics.shape_features' ({' or '.join(SHAPE_SETS)}) are "
                    "out of range."
                ) from None
        want = feature_names(region_names, settings.shape)
        if not isinstance(d, dict) or d.get("features") != want:
            raise ModelError(
                "Manifest field 'radiomics.features' must list this version's features of the bundle's "
                "regions."
            )
        sigs = d.get("signatures")
        if not isinstance(sigs, list) or not 1 <= len(sigs) <= MAX_SIGNATURES:
            raise ModelError(f"Manifest field 'radiomics.signatures' must be a list of 1–{MAX_SIGNATURES}.")
        out = []
        for i, s in enumerate(sigs):
            where = f"radiomics.signatures[{i}]"
            if (
                not isinstance(s, dict)
                or not isinstance(s.get("name"), str)
                or not isinstance(s.get("label"), str)
            ):
                raise ModelError(f"Manifest field '{where}' needs a name and a label.")
            regions, feats = s.get("regions"), s.get("features")
            if not (isinstance(regions, list) and regions and set(regions) <= set(region_names)):
                raise ModelError(f"Manifest field '{where}.regions' must name regions of this bundle.")
            if not (isinstance(feats, list) and feats and set(feats) <= set(want)):
                raise ModelError(f"Manifest field '{where}.features' must name features of this bundle.")
            n = len(feats)
            arrays = {}
            for key, bound in (
                ("mean", MAX_FEATURE_SCALE),
                ("scale", MAX_FEATURE_SCALE),
                ("coefficients", MAX_WEIGHT),
            ):
                v = s.get(key)
                if not (isinstance(v, list) and len(v) == n and all(_bounded(x, bound) for x in v)):
                    raise ModelError(
                        f"Manifest field '{where}.{key}' must be {n} finite numbers within ±{bound:g}."
                    )
                arrays[key] = tuple(float(x) for x in v)
            if not all(x > 1e-12 for x in arrays["scale"]) or not _bounded(s.get("intercept"), MAX_WEIGHT):
                raise ModelError(
                    f"Manifest field '{where}' needs positive scales and an intercept within ±{MAX_WEIGHT:g}."
                )
            out.append(
                Signature(
                    s["name"],
                    s["label"],
                    tuple(regions),
                    tuple(want.index(f) for f in feats),
                    arrays["mean"],
                    arrays["scale"],
                    arrays["coefficients"],
                    float(s["intercept"]),
                )
            )
        if len({s.name for s in out}) != len(out):
            raise ModelError("Manifest field 'radiomics.signatures' has two signatures with the same name.")
        return cls(tuple(want), tuple(out), settings)


def signature_name(row_key: str) -> str:
    """The signature that belongs to a fusion row: "fusion_ring_5mm" → "radiomics_ring_5mm"."""
    return "radiomics_" + row_key.removeprefix("fusion_")
