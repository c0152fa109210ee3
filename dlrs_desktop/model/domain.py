"""The domain guard: does this image look like the images the model was trained on? (numpy only)

A bundle may carry a *domain reference* (manifest block `domain_reference` + the hashed safetensors
file it names), fitted by `dlrs_desktop.training.domain_fit` on the training split:

* per region, the pooled penultimate features of the network (mean, top principal components, a
  Ledoit–Wolf-shrunk precision of the component scores, the mean squared residual off them);
* one-dimensional checks, each with the training split's median and robust SD: the distance of
  every region's features, the confidence (energy) of the fused logit, every region's and every
  radiomics signature's logit, and image-level statistics (grey levels in the scan area, mm/px,
  lesion size, depth, aspect, colour content).

At prediction every check gives a z (how many training SDs from the training median; distances and
confidence one-sided); the domain score is the largest z, and its check is the reason. The two
thresholds are the 95th and 99.5th percentiles of the score on the bundle's internal split:
inside / unusual / outside. The manifest's `conformal` block (split conformal on the internal split)
turns the probability into a prediction set at a stated coverage. docs/DOMAIN_GUARD.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.imaging.pixels import chroma
from dlrs_desktop.model import anatomy
from dlrs_desktop.model import domain_texture as dtx
from dlrs_desktop.model.outcome import Outcome

# the domain block is part of the typed result (model/result.py, light: the GUI reads it at start-up);
# re-exported here where it is computed
from dlrs_desktop.model.result import NO_DOMAIN as NO_DOMAIN
from dlrs_desktop.model.result import NO_REFERENCE as NO_REFERENCE
from dlrs_desktop.model.result import DomainResult
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

METHOD = "dlrs-domain-guard/1"
REFERENCE_FILE = "domain_reference.safetensors"
STATUSES = ("inside", "unusual", "outside")
MAX_COMPONENTS = 128
MAX_CHECKS = 96
MAX_ABS = 1e9
CHECK_KINDS = ("feature_distance", "confidence", "logit", "image", "texture")
#: kinds where only a large value is unusual (a distance, a confidence, a synthetic-likeness)
ONE_SIDED_KINDS = ("feature_distance", "confidence", "texture")
#: Image-level statistics: name → (plain words, smallest robust SD used, so a constant training value
#: still gives a finite z). Grey levels are 0–255 inside the scan area.
_GREY_STATS = {  # the grey levels: scanner, preset, gain and TGC
    "grey_mean": (QT_TRANSLATE_NOOP("domain_text", "mean grey level of the scan area"), 4.0),
    "grey_sd": (QT_TRANSLATE_NOOP("domain_text", "grey-level spread of the scan area"), 3.0),
    "grey_p10": (QT_TRANSLATE_NOOP("domain_text", "10th grey-level percentile of the scan area"), 4.0),
    "grey_p50": (QT_TRANSLATE_NOOP("domain_text", "median grey level of the scan area"), 4.0),
    "grey_p90": (QT_TRANSLATE_NOOP("domain_text", "90th grey-level percentile of the scan area"), 4.0),
}
_GEOMETRY_STATS = {  # calibration, lesion size and where the lesion lies
    "mm_per_px": (QT_TRANSLATE_NOOP("domain_text", "pixel spacing (mm/px)"), 0.005),
    "lesion_area_mm2": (QT_TRANSLATE_NOOP("domain_text", "lesion area (mm²)"), 5.0),
    "lesion_depth_mm": (
        QT_TRANSLATE_NOOP("domain_text", "lesion depth below the top of the scan area (mm)"),
        1.0,
    ),
    "lesion_aspect": (QT_TRANSLATE_NOOP("domain_text", "lesion depth-to-width ratio"), 0.05),
}
_TEXTURE_STATS = {  # colour overlays (Doppler, tints), speckle and edges
    "colour_fraction": (
        QT_TRANSLATE_NOOP("domain_text", "fraction of coloured pixels in the scan area"),
        0.005,
    ),
    "speckle_contrast": (
        QT_TRANSLATE_NOOP("domain_text", "speckle contrast around the lesion (local SD / local mean)"),
        0.01,
    ),
    "edge_strength": (
        QT_TRANSLATE_NOOP("domain_text", "edge strength around the lesion (mean gradient / mean grey level)"),
        0.01,
    ),
}
IMAGE_STATS: dict[str, tuple[str, float]] = {**_GREY_STATS, **_GEOMETRY_STATS, **_TEXTURE_STATS}
COLOUR_CHROMA_MIN = 40
#: the default coverage of conformal prediction sets
DEFAULT_COVERAGE = 0.9


def class_names(manifest: dict[str, Any]) -> tuple[str, str]:
    """(negative, positive) class names for prediction sets, from the manifest's outcome block.

    The one place prediction sets take their words from (older bundles: the early-response defaults).
    """
    out = Outcome.from_manifest(manifest)
    return out.negative_class, out.positive_class


@dataclass(frozen=True)
class Check:
    name: str  # e.g. "features:ring_10mm", "logit:radiomics_ring_10mm", "image:grey_p50", "confidence"
    kind: str
    median: float
    scale: float  # upper-tail SD equivalent on the training split (> 0)
    low: float  # training range (min, max): shown in reasons
    high: float
    one_sided: bool  # distances and confidence: only large values are unusual
    scale_low: float  # lower-tail SD equivalent (> 0)
    # False when the quantity did not vary over the training split (e.g. every training image had
    # the same nominal mm/px): a constant says nothing about where the domain ends, so it is shown
    # in the reference but does not enter the score.
    informative: bool = True

    def z(self, value: float) -> float:
        """SD-equivalent distance from the training median (tail-matched: 99th percentile = 2.33)."""
        d = value - self.median
        if self.one_sided:
            return float(max(d / self.scale, 0.0))
        return float(abs(d) / (self.scale if d >= 0 else self.scale_low))


@dataclass(frozen=True, eq=False)
class DomainReference:
    mean: np.ndarray  # (R, K) float64
    components: np.ndarray  # (R, k, K) orthonormal rows
    precision: np.ndarray  # (R, k, k) shrunk inverse covariance of the component scores
    residual: np.ndarray  # (R,) mean squared residual off the components (training split)
    checks: tuple[Check, ...]
    unusual_above: float
    outside_above: float
    region_names: tuple[str, ...]
    block: dict[str, Any]
    # the speckle-texture checks (model/domain_texture.py); None in references written before them
    texture: dtx.TextureModel | None = None

    @property
    def has_synthetic_gate(self) -> bool:
        return self.texture is not None and self.texture.gate_logit is not None

    def gated(self, values: dict[str, float]) -> bool:
        """True when the synthetic-likeness gate makes this case "outside" (model/domain_texture.py)."""
        return self.texture is not None and self.texture.gated(values)

    def feature_distances(self, pooled: np.ndarray) -> np.ndarray:
        """(R, K) pooled features → (R,) distance (≈ 1 for a typical training case)."""
        c = np.asarray(pooled, np.float64) - self.mean
        s = np.einsum("rkd,rd->rk", self.components, c)
        m2 = np.einsum("rk,rkl,rl->r", s, self.precision, s)
        res = np.maximum(np.einsum("rd,rd->r", c, c) - np.einsum("rk,rk->r", s, s), 0.0)
        k = self.components.shape[1]
        return np.sqrt(0.5 * (np.maximum(m2, 0.0) / k + res / self.residual))


# --- observations ---------------------------------------------------------------------------------
def pooled_features(feats: np.ndarray) -> np.ndarray:
    """(R, K, h, w) feature maps → (R, K) global-average-pooled (what the heads see)."""
    return np.asarray(feats, np.float64).mean(axis=(-2, -1))


def energy(fused_logit: float) -> float:
    """Negative energy of the two-class softmax with logits ±z/2: log(2 cosh(z/2)), grows with |z|."""
    a = abs(float(fused_logit)) / 2.0
    return a + math.log1p(math.exp(-2.0 * a))


def image_stats(image: Any, info: Any) -> np.ndarray:
    """The image-level statistics of IMAGE_STATS (order kept) for one image and its prepared contour."""
    mask = np.asarray(image.scan_mask, bool)
    step = max(1, int(math.sqrt(mask.size / 65536)))
    sub = mask[::step, ::step]
    hist = np.bincount(np.asarray(image.gray, np.uint8)[::step, ::step][sub], minlength=256).astype(
        np.float64
    )
    hist = hist if hist.sum() > 0 else np.r_[1.0, np.zeros(255)]
    levels = np.arange(256.0)
    cdf = np.cumsum(hist) / hist.sum()
    p10, p50, p90 = (float(np.searchsorted(cdf, q)) for q in (0.1, 0.5, 0.9))
    g_mean = float(levels @ hist / hist.sum())
    g_sd = math.sqrt(max(float((levels - g_mean) ** 2 @ hist / hist.sum()), 0.0))
    disp = np.asarray(image.display)
    colour = float(np.mean(chroma(disp[::step, ::step])[sub] >= COLOUR_CHROMA_MIN)) if disp.ndim == 3 else 0.0
    cal = info.calibration
    mx, my = float(cal.mm_per_px_x), float(cal.mm_per_px_y)
    pts = np.asarray(info.contour.points, np.float64)
    rows = np.flatnonzero(mask.any(axis=1))
    top = float(rows[0]) if rows.size else 0.0
    w_mm = max(float(np.ptp(pts[:, 0])) * mx, 1e-6)
    h_mm = float(np.ptp(pts[:, 1])) * my
    values = (
        g_mean, g_sd, p10, p50, p90, math.sqrt(mx * my), float(info.roiset.tumour.area_mm2),
        (float(pts[:, 1].mean()) - top) * my, h_mm / w_mm, colour, *_texture(image, info.roiset),
    )  # fmt: skip
    return np.asarray(values, np.float64)


def texture_of(ref: DomainReference | None, image: Any, info: Any) -> np.ndarray | None:
    """The speckle-texture descriptor when the reference scores it (model/domain_texture.py), else None."""
    if ref is None or ref.texture is None:
        return None
    return dtx.descriptor(image.gray, image.scan_mask, info.roiset)


def _texture(image: Any, roiset: Any) -> tuple[float, float]:
    """Speckle contrast (mean of 5×5 local SD / local mean, capped at 3) and relative edge strength,
    inside the scan area of the box around every region (the lesion's surroundings), at native
    resolution up to 65 536 pixels (strided beyond)."""
    g, m = dtx.lesion_box(image.gray, image.scan_mask, roiset)
    if g.size < 25 or m.sum() < 25:
        return 0.0, 0.0
    mean = cv2.blur(g, (5, 5))
    sd = np.sqrt(np.maximum(cv2.blur(g * g, (5, 5)) - mean * mean, 0.0))
    ok = m & (mean > 8.0)
    contrast = float(np.minimum(sd[ok] / mean[ok], 3.0).mean()) if ok.any() else 0.0
    grad = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    edge = float(grad[m].mean() / max(float(g[m].mean()), 1.0))
    return contrast, edge


def check_values(
    ref_regions: tuple[str, ...], input_names: tuple[str, ...], distances: np.ndarray, z: np.ndarray,
    fused_logit: float, stats: np.ndarray,
) -> dict[str, float]:  # fmt: skip
    """Every check's raw value for one case, keyed by check name (shared by fitting and scoring)."""
    out = {f"features:{r}": float(d) for r, d in zip(ref_regions, distances, strict=True)}
    out["confidence"] = energy(fused_logit)
    out.update({f"logit:{n}": float(v) for n, v in zip(input_names, z, strict=True)})
    out.update({f"image:{n}": float(v) for n, v in zip(IMAGE_STATS, stats, strict=True)})
    return out


def reference_values(
    ref: DomainReference, input_names: tuple[str, ...], pooled: np.ndarray, z: np.ndarray, fused_logit: float,
    stats: np.ndarray, texture: np.ndarray | None,
) -> dict[str, float]:  # fmt: skip
    """Every check of `ref` for one case: `check_values` plus the texture checks when it has them."""
    out = check_values(ref.region_names, input_names, ref.feature_distances(pooled), z, fused_logit, stats)
    if ref.texture is not None:
        if texture is None:
            raise ModelError("The domain reference has texture checks but no texture was measured.")
        out.update(ref.texture.values(texture))
    return out


# --- scoring ----------------------------------------------------------------------------------------
#: The reasons, as templates (translated at display time: domain_text.reason_of reads them back). One
#: string literal each, so that the catalogue tool (lupdate) sees the whole of it.
REASON_OUTSIDE = QT_TRANSLATE_NOOP(
    "domain_text", "this image is unlike the images this model was trained on: {why}"
)
REASON_UNUSUAL = QT_TRANSLATE_NOOP("domain_text", "this image is unusual for this model: {why}")
WHY = {  # what the largest contributing check says; {low} and {high}: its training range
    "feature_distance": QT_TRANSLATE_NOOP("domain_text", "the network's features of the {name} region are far from the training images' ({value}; training range {low} to {high})"),  # noqa: E501
    "confidence": QT_TRANSLATE_NOOP("domain_text", "the model is unusually confident for its training data (energy {value}; training range {low} to {high})"),  # noqa: E501
    "logit": QT_TRANSLATE_NOOP("domain_text", "the {name} logit {value} lies outside what training produced (training range {low} to {high})"),  # noqa: E501
    "synthetic": QT_TRANSLATE_NOOP("domain_text", "its speckle texture looks simulated (like the application's synthetic scans or a speckle phantom) rather than like a real scan (synthetic-likeness {value}; training range {low} to {high})"),  # noqa: E501
    "texture": QT_TRANSLATE_NOOP("domain_text", "the speckle texture around the lesion is unlike the training images' (distance {value}; training range {low} to {high})"),  # noqa: E501
    "image": QT_TRANSLATE_NOOP("domain_text", "the {name} is {value} (training range {low} to {high})"),
    "modality": anatomy.WHY_MODALITY,  # the DICOM header's own word (model/anatomy.py)
    "body_part": anatomy.WHY_BODY_PART,
    "description": anatomy.WHY_DESCRIPTION,
}  # fmt: skip


def check_words(check: Check, value: float) -> str:
    """The reason a check gives, in plain words with the value and the training range."""
    name = check.name.split(":", 1)[-1]
    kind = "synthetic" if check.name == dtx.SYNTHETIC else check.kind
    if kind == "image":
        name = IMAGE_STATS.get(name, (name, 0.0))[0]
    shown = f"{value:.3g}" if kind == "image" else f"{value:.2f}"
    return WHY[kind].format(name=name, value=shown, low=f"{check.low:.3g}", high=f"{check.high:.3g}")


def score_values(ref: DomainReference, values: dict[str, float]) -> DomainResult:
    """Check values → status, score (largest z), thresholds and the largest contributing factor."""
    zs = [(c, c.z(values[c.name]), values[c.name]) for c in ref.checks if c.informative]
    zs.sort(key=lambda t: -t[1])
    top, _, top_value = zs[0]
    score = float(math.sqrt(sum(z * z for _, z, _ in zs)))
    status = (
        "inside" if score <= ref.unusual_above else "unusual" if score <= ref.outside_above else "outside"
    )
    if ref.gated(values):
        # the synthetic-likeness classifier is a rule of its own (like the colour rule): named as the reason
        status = "outside"
        top = next(c for c in ref.checks if c.name == dtx.SYNTHETIC)
        top_value = values[dtx.SYNTHETIC]
    if status in ("outside", "unusual"):
        reason = (REASON_OUTSIDE if status == "outside" else REASON_UNUSUAL).format(
            why=check_words(top, top_value)
        )
    else:
        reason = QT_TRANSLATE_NOOP("domain_text", "within the range of the model's training images")
    factors = tuple((c.name, round(float(z), 3)) for c, z, _ in zs[:3])
    return DomainResult(status, score, ref.unusual_above, ref.outside_above, reason, factors)


def header_outside(prior: DomainResult | None, why: str) -> DomainResult:
    """The domain block when the DICOM header rules the image out (`anatomy.header_reason`): outside,
    whatever the image-based score says; that score and its thresholds are kept as evidence."""
    reason = REASON_OUTSIDE.format(why=why)
    if prior is None or prior.status == "unknown":
        return DomainResult("outside", None, None, None, reason)
    return replace(prior, status="outside", reason=reason)


def centred(p: Any, centre: float) -> Any:
    """p moved on the logit scale so that the decision threshold `centre` reads 0.5: p ≥ centre ⇔ p' ≥ 0.5."""
    with np.errstate(divide="ignore", over="ignore"):
        z = np.log(p) - np.log1p(-p) - (math.log(centre) - math.log1p(-centre))
        return 1.0 / (1.0 + np.exp(-z))


def prediction_set(
    probability: float, conformal: dict[str, Any] | None, names: tuple[str, str]
) -> tuple[str, ...]:
    """Split-conformal set: a class is in when 1 − p'(class) ≤ qhat, p' centred on the threshold the
    block was fitted with (0.5 for blocks written before `centre` existed); an empty set reads as both."""
    if not conformal:
        return ()
    qhat = float(conformal["qhat"])
    pc = float(centred(float(probability), float(conformal.get("centre", 0.5))))
    out = tuple(n for n, p in ((names[1], pc), (names[0], 1.0 - pc)) if 1.0 - p <= qhat)
    return out or (names[1], names[0])


def set_text(classes: tuple[str, ...] | list[str]) -> str:
    """ "early responder", "non-responder" or "either (uncertain)"."""
    return classes[0] if len(classes) == 1 else "either (uncertain)" if classes else ""


# --- loading (validated like every other number of a bundle) ------------------------------------------
def _bad(field: str, what: str) -> ModelError:
    return ModelError(f"Manifest field '{field}' {what}; refusing the bundle's domain reference.")


def _num(v: Any, field: str, *, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or abs(v) > MAX_ABS:
        raise _bad(field, "must be a finite number")
    if positive and not v > 0:
        raise _bad(field, "must be greater than 0 (a variance or spread cannot be zero or negative)")
    return float(v)


def _parse_checks(block: dict[str, Any], expected: set[str]) -> tuple[Check, ...]:
    raw = block.get("checks")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CHECKS:
        raise _bad("domain_reference.checks", f"must be a list of 1 to {MAX_CHECKS} checks")
    checks = []
    for i, c in enumerate(raw):
        f = f"domain_reference.checks[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or c.get("kind") not in CHECK_KINDS:
            raise _bad(f, f"needs a name and a kind in {CHECK_KINDS}")
        low, high = _num(c.get("low"), f + ".low"), _num(c.get("high"), f + ".high")
        if low > high:
            raise _bad(f + ".low", "is above .high")
        checks.append(Check(c["name"], c["kind"], _num(c.get("median"), f + ".median"),
                            _num(c.get("scale"), f + ".scale", positive=True), low, high,
                            c["kind"] in ONE_SIDED_KINDS,
                            _num(c.get("scale_low"), f + ".scale_low", positive=True),
                            _flag(c.get("informative", True), f + ".informative")))  # fmt: skip
    names = [c.name for c in checks]
    if len(set(names)) != len(names) or set(names) != expected:
        raise _bad("domain_reference.checks", "must name each region, logit and image statistic once")
    if not any(c.informative for c in checks):
        raise _bad("domain_reference.checks", "must hold at least one check that varied in training")
    return tuple(checks)


def _flag(v: Any, field: str) -> bool:
    if not isinstance(v, bool):
        raise _bad(field, "must be true or false")
    return v


def _arrays(blob: bytes, r: int, k_dim: int) -> tuple[np.ndarray, ...]:
    # lazy: safetensors (~0.15 s) only when a bundle is read
    from safetensors.numpy import load as np_load

    try:
        t = np_load(blob)
    except Exception as exc:
        raise ModelError(f"The domain reference file is not readable safetensors ({exc}).") from None
    names = ("features.mean", "features.components", "features.precision", "features.residual")
    if set(t) != set(names):
        raise ModelError(f"The domain reference file must hold exactly the tensors {', '.join(names)}.")
    mean, comp, prec, res = (np.asarray(t[n], np.float64) for n in names)
    k = comp.shape[1] if comp.ndim == 3 else 0
    shapes = {
        "features.mean": (mean.shape, (r, k_dim)),
        "features.components": (comp.shape, (r, k, k_dim)),
        "features.precision": (prec.shape, (r, k, k)),
        "features.residual": (res.shape, (r,)),
    }
    for n, (got, want) in shapes.items():
        if got != want or not 1 <= k <= min(MAX_COMPONENTS, k_dim):
            raise ModelError(
                f"Domain reference tensor '{n}' has shape {got}, expected {want} (k ≤ {MAX_COMPONENTS})."
            )
    for n, a in zip(names, (mean, comp, prec, res), strict=True):
        if not np.all(np.isfinite(a)) or np.max(np.abs(a)) > MAX_ABS:
            raise ModelError(f"Domain reference tensor '{n}' holds a non-finite or out-of-range number.")
    diag = np.diagonal(prec, axis1=1, axis2=2)
    if (
        not np.all(res > 0)
        or not np.all(diag > 0)
        or not np.allclose(prec, prec.transpose(0, 2, 1), atol=1e-6)
    ):
        raise ModelError(
            "Domain reference tensors 'features.residual'/'features.precision' must hold positive variances "
            "(a symmetric precision with a positive diagonal)."
        )
    return mean, comp, prec, res


def parse_reference(m: dict[str, Any], files: dict[str, bytes]) -> DomainReference | None:
    """The bundle's domain reference, or None when it has none; anything malformed is a ModelError."""
    block = m.get("domain_reference")
    if block is None:
        return None
    if not isinstance(block, dict) or block.get("method") != METHOD:
        raise _bad("domain_reference.method", f"must be {METHOD!r}")
    fname = block.get("file")
    if not isinstance(fname, str) or fname not in m["files"] or fname not in files:
        raise _bad("domain_reference.file", "must name a file listed in 'files'")
    regions = tuple(str(r.get("name")) for r in m["regions"])
    mean, comp, prec, res = _arrays(files[fname], len(regions), int(m["architecture"]["feature_dim"]))
    sigs = [s.get("name") for s in (m.get("radiomics") or {}).get("signatures", [])]
    expected = {f"features:{r}" for r in regions} | {"confidence"}
    expected |= {f"logit:{n}" for n in (*regions, *sigs)} | {f"image:{n}" for n in IMAGE_STATS}
    texture = dtx.parse_texture(block["texture"]) if "texture" in block else None
    expected |= texture.check_names() if texture is not None else set()
    checks = _parse_checks(block, expected)
    lo = _num(block.get("unusual_above"), "domain_reference.unusual_above", positive=True)
    hi = _num(block.get("outside_above"), "domain_reference.outside_above", positive=True)
    if lo > hi:
        raise _bad("domain_reference.unusual_above", "is above 'outside_above'")
    parse_conformal(m)
    return DomainReference(mean, comp, prec, res, checks, lo, hi, regions, block, texture)


def parse_conformal(m: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's `conformal` block (checked), or None."""
    c = m.get("conformal")
    if c is None:
        return None
    if not isinstance(c, dict):
        raise _bad("conformal", "must be an object")
    cov, q = _num(c.get("coverage"), "conformal.coverage"), _num(c.get("qhat"), "conformal.qhat")
    if not 0.5 <= cov < 1.0 or not 0.0 <= q <= 1.0:
        raise _bad("conformal", "needs a coverage in [0.5, 1) and a qhat in [0, 1]")
    centre = _num(c.get("centre", 0.5), "conformal.centre")
    if not 0.0 < centre < 1.0:
        raise _bad("conformal", "needs a centre (the decision threshold) strictly between 0 and 1")
    if "by_centre" in c or "qhat_internal" in c:
        _check_centre_quantiles(c, q)
    return c


def _check_centre_quantiles(c: dict[str, Any], qhat: float) -> None:
    """Sets widened to held-out centres (training/conformal_fit.py): the stored qhat is the largest part."""
    by = c.get("by_centre")
    if not isinstance(by, list) or not 1 <= len(by) <= 64 or not all(isinstance(e, dict) for e in by):
        raise _bad("conformal.by_centre", "must list 1 to 64 held-out centres")
    parts = [_num(c.get("qhat_internal"), "conformal.qhat_internal")]
    for e in by:
        n = e.get("n")
        if not isinstance(e.get("centre"), str) or not 0 < len(e["centre"]) <= 200:
            raise _bad("conformal.by_centre", "needs a centre name (1 to 200 characters) in every entry")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise _bad("conformal.by_centre", "needs a positive case count in every entry")
        parts.append(_num(e.get("qhat"), "conformal.by_centre.qhat"))
    if not all(0.0 <= v <= 1.0 for v in parts) or abs(max(parts) - qhat) > 1e-9:
        raise _bad("conformal.qhat", "must be the largest of its internal and held-out-centre quantiles")
