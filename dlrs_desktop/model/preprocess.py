"""THE preprocessing: image + contour → one square crop per region, as declared in the bundle.

Training and prediction both call `prepare_inputs(image, contour, spec)`, so the network sees
exactly the same pixels in both. Everything that shapes those pixels is a field of
`PreprocessSpec`, stored in the bundle manifest (never hard-coded in the predictor):

- grayscale: the image's BT.601 luma (`image.gray`), coloured caliper marks inside the ROIs
  inpainted first (`inpaint_colour_marks`);
- physical scale: every crop is resampled to `mm_per_px` millimetres per output pixel whatever the
  scanner's calibration (anisotropic calibrations included), with antialiasing when shrinking;
- crop: a square centred on each region's bounding box. `crop="fixed"`: side = input_size ×
  mm_per_px (the same field of view for every case; grown — and reported — only if the region
  plus `margin_mm` would not fit). `crop="fit"`: side = region extent + 2 × margin, so the scale
  varies from case to case;
- fill: pixels outside the region (and outside the scan area) become 0 ("zero") or the mean
  intensity of the region ("mean"); "none" keeps the surrounding tissue (still blanking non-tissue);
- normalisation: (v − mean) / std on intensities in [0, 1] ("fixed"); z-score over the region's
  pixels ("roi_zscore"); or z-score over the scan-area tissue of the crop's whole field of view
  ("tissue_zscore": the lesion's surroundings are the reference, as a reader judges echogenicity
  against the neighbouring tissue, so a scanner's overall gain and dynamic range cancel while
  the tumour's and rings' brightness relative to the breast around them is kept); or z-score over
  the image's scan area outside every region ("image_zscore": the breast away from the lesion
  and its rings is the reference, measured at the crops' scale, so a scanner's gain and dynamic
  range — a linear map of the log-compressed echo — cancel, while nothing the regions show, the
  halo, oedema and distortion included, enters the reference that rescales them);
  `channels` copies (1, or 3 for ImageNet-style stems);
- distance_channel: one more channel after the intensity copies, the signed distance of each crop
  pixel to the tumour outline (mm / 10; negative inside). Why: the crops are filled outside their
  region, so a network cannot tell how far from the margin a ring pixel lies, while the
  peritumoral findings sit in bands at set distances (halo, oedema, distortion); the channel
  gives the network that coordinate (CoordConv-style) without changing a single intensity.

numpy + cv2 only: the CPU predictor must not import torch.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from dlrs_desktop.errors import CalibrationError, ModelError
from dlrs_desktop.limits import MAX_RING_RADIUS_MM
from dlrs_desktop.model.colour import NO_COLOUR, ColourReport, clean_colour
from dlrs_desktop.regions import DEFAULT_RING_RADII_MM, TUMOUR, ring_name
from dlrs_desktop.roi import compute_rois, validate_contour
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

if TYPE_CHECKING:  # imported lazily at run time: the roi package is not needed to read a spec
    from dlrs_desktop.imaging.types import Calibration, UltrasoundImage
    from dlrs_desktop.roi import Contour, RoiSet

REGION_KINDS = ("tumour", "annulus", "expanded", "shell")
NORMALISATIONS = ("fixed", "roi_zscore", "tissue_zscore", "image_zscore")


@dataclass(frozen=True)
class RegionSpec:
    """One region of interest: its name in `RoiSet`, ring radius (0 for the tumour) and which pixels."""

    name: str
    radius_mm: float
    kind: str  # "tumour" | "annulus" (ring only) | "expanded" (tumour + ring) | "shell" (see RoiMask)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "radius_mm": self.radius_mm, "kind": self.kind}


DEFAULT_REGIONS: tuple[RegionSpec, ...] = (
    RegionSpec(TUMOUR, 0.0, "tumour"),
    *(RegionSpec(ring_name(r), r, "annulus") for r in DEFAULT_RING_RADII_MM),
)


@dataclass(frozen=True)
class PreprocessSpec:
    """Declared preprocessing (JSON in the manifest's `preprocessing` block; regions are separate)."""

    input_size: int = 224
    mm_per_px: float = 0.25
    crop: str = "fixed"  # "fixed" | "fit"
    margin_mm: float = 2.0
    fill: str = "zero"  # "zero" | "mean" | "none"
    normalisation: str = "fixed"  # "fixed" | "roi_zscore" | "tissue_zscore" | "image_zscore"
    mean: float = 0.5
    std: float = 0.25
    channels: int = 1
    grayscale: str = "bt601"
    antialias: bool = True
    inpaint_colour_marks: bool = True
    colour_chroma_min: int = 40
    distance_channel: bool = False
    regions: tuple[RegionSpec, ...] = field(default=DEFAULT_REGIONS)

    def __post_init__(self) -> None:
        problems = _spec_problems(self)
        if problems:
            raise ModelError(f"Invalid preprocessing: {problems[0]}.")

    @property
    def ring_radii(self) -> tuple[float, ...]:
        return tuple(sorted({r.radius_mm for r in self.regions if r.radius_mm > 0}))

    @property
    def in_channels(self) -> int:
        """Channels of the network input: the intensity copies, plus the distance map if declared."""
        return self.channels + int(self.distance_channel)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)

    def to_dict(self) -> dict[str, Any]:
        """The manifest's `preprocessing` block (regions go to the `regions` block)."""
        d = asdict(self)
        d.pop("regions")
        if not d["distance_channel"]:  # written only when used: older readers stay able to open it
            d.pop("distance_channel")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], regions: list[dict[str, Any]] | None = None) -> PreprocessSpec:
        """Parse a manifest block; a wrong field is reported by name (ModelError)."""
        if not isinstance(d, dict):
            raise ModelError("The manifest field 'preprocessing' must be an object.")
        known = {f.name for f in fields(cls)} - {"regions"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelError(f"Unknown preprocessing field 'preprocessing.{unknown[0]}' in the manifest.")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "regions" or f.name not in d:
                continue
            default = f.default
            value = d[f.name]
            want = type(default)
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise ModelError(f"Manifest field 'preprocessing.{f.name}' must be of type {want.__name__}.")
            kwargs[f.name] = value
        if regions is not None:
            kwargs["regions"] = tuple(parse_region(r, i) for i, r in enumerate(regions))
        return cls(**kwargs)


def parse_region(r: Any, i: int) -> RegionSpec:
    if not isinstance(r, dict):
        raise ModelError(f"Manifest field 'regions[{i}]' must be an object.")
    for key in ("name", "radius_mm", "kind"):
        if key not in r:
            raise ModelError(f"Manifest field 'regions[{i}].{key}' is missing.")
    try:
        return RegionSpec(str(r["name"]), float(r["radius_mm"]), str(r["kind"]))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"Manifest field 'regions[{i}]' is invalid: {exc}.") from None


def _spec_problems(s: PreprocessSpec) -> list[str]:
    p = []
    if not 16 <= s.input_size <= 1024:
        p.append(f"input_size {s.input_size} is outside 16..1024")
    if not (math.isfinite(s.mm_per_px) and 0.01 <= s.mm_per_px <= 5):
        p.append(f"mm_per_px {s.mm_per_px} is outside 0.01..5")
    if s.crop not in ("fixed", "fit"):
        p.append(f"crop must be 'fixed' or 'fit', not {s.crop!r}")
    if not (math.isfinite(s.margin_mm) and 0 <= s.margin_mm <= 50):
        p.append(f"margin_mm {s.margin_mm} is outside 0..50")
    if s.fill not in ("zero", "mean", "none"):
        p.append(f"fill must be 'zero', 'mean' or 'none', not {s.fill!r}")
    if s.normalisation not in NORMALISATIONS:
        p.append(f"normalisation must be one of {NORMALISATIONS}, not {s.normalisation!r}")
    if not (math.isfinite(s.mean) and -10.0 <= s.mean <= 10.0):
        p.append(f"mean {s.mean} is outside -10..10 (pixels are scaled to 0..1 first)")
    if not (math.isfinite(s.std) and 1e-3 <= s.std <= 100.0):
        p.append(f"std {s.std} is outside 0.001..100")
    if s.channels not in (1, 3):
        p.append(f"channels must be 1 or 3, not {s.channels}")
    if s.grayscale != "bt601":
        p.append(f"grayscale {s.grayscale!r} is not supported (only 'bt601')")
    if not s.regions:
        p.append("at least one region is needed")
    names = [r.name for r in s.regions]
    if len(set(names)) != len(names):
        p.append("region names must be unique")
    for r in s.regions:
        if r.kind not in REGION_KINDS:
            p.append(f"region {r.name!r}: kind must be one of {REGION_KINDS}")
        elif not math.isfinite(r.radius_mm) or (r.kind == "tumour") != (r.radius_mm == 0) or r.radius_mm < 0:
            p.append(f"region {r.name!r}: the tumour has radius 0 and rings a positive radius")
        elif r.radius_mm > MAX_RING_RADIUS_MM:
            p.append(
                f"region {r.name!r}: ring radius {r.radius_mm:g} mm is over the limit "
                f"of {MAX_RING_RADIUS_MM:g} mm"
            )
    return p


@dataclass(frozen=True)
class CropInfo:
    """Where one crop came from: enough to map a CAM back onto the image."""

    name: str
    matrix: np.ndarray  # (2, 3) float64: crop pixel (u, v, 1) → image pixel (x, y)
    side_mm: float  # physical side of the square crop
    out_mm_per_px: float
    grown: bool  # fixed field of view too small for this region: shown at a reduced scale
    roi_pixels: int  # crop pixels inside the region
    mask: np.ndarray  # (S, S) bool: crop pixels inside the region


@dataclass(frozen=True)
class PrepInfo:
    """Everything `prepare_inputs` computed besides the array (for quality gates, CAM and reports)."""

    contour: Contour  # the validated (possibly repaired) contour the crops were made from
    calibration: Calibration
    roiset: RoiSet
    crops: tuple[CropInfo, ...]
    colour: ColourReport
    timings_ms: dict[str, float] = field(default_factory=dict)  # validate, rois, colour, crops


def mask_kind(region_kind: str) -> str:
    """The `RoiMask` mask a region kind reads (the tumour's three masks are the same)."""
    return "expanded" if region_kind == "tumour" else region_kind


def _region_mask(roiset: RoiSet, region: RegionSpec) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    roi = roiset.tumour if region.kind == "tumour" else roiset[ring_name(region.radius_mm)]
    mask = roi.mask(mask_kind(region.kind))
    return np.asarray(mask, dtype=bool), tuple(int(v) for v in roi.bbox)  # type: ignore[return-value]


def _crop_geometry(
    outline: np.ndarray, radius_mm: float, cal: Calibration, spec: PreprocessSpec
) -> tuple[float, float, float, bool]:
    """Centre (cv2 pixel coordinates), side in mm, and whether a fixed view had to grow.

    Every crop is centred on the centre of the tumour outline's bounding box (continuous
    coordinates, so the centre does not jump with pixel rasterisation), and must hold the
    outline's extent + 2 × ring radius + 2 × margin.
    """
    lo, hi = outline.min(axis=0), outline.max(axis=0)
    # Contour coordinates put pixel centres at +0.5; cv2 (used below) puts them at integers.
    cx, cy = (lo[0] + hi[0]) / 2.0 - 0.5, (lo[1] + hi[1]) / 2.0 - 0.5
    need = max((hi[0] - lo[0]) * cal.mm_per_px_x, (hi[1] - lo[1]) * cal.mm_per_px_y)
    need += 2 * radius_mm + 2 * spec.margin_mm
    fov = spec.input_size * spec.mm_per_px
    grown = spec.crop == "fixed" and need > fov
    return cx, cy, (need if (grown or spec.crop == "fit") else fov), grown


_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


def _view(
    gray: np.ndarray,
    scan_mask: np.ndarray,
    cx: float,
    cy: float,
    side: float,
    cal: Calibration,
    spec: PreprocessSpec,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The square view (S, S) of the image: crop→image matrix, intensities in [0, 1], tissue mask.

    Regions with the same view (all of them, usually, in "fixed" mode) share it: one blur, one warp.
    """
    s = spec.input_size
    sx, sy = side / s / cal.mm_per_px_x, side / s / cal.mm_per_px_y  # source pixels per crop pixel
    m = np.array([[sx, 0.0, cx - (s - 1) / 2.0 * sx], [0.0, sy, cy - (s - 1) / 2.0 * sy]])
    # Work on a padded source patch only (speed); out-of-image pixels are invalid → filled.
    h, w = gray.shape
    px0 = max(math.floor(cx - s / 2 * sx) - 4 - int(3 * sx), 0)
    py0 = max(math.floor(cy - s / 2 * sy) - 4 - int(3 * sy), 0)
    px1 = min(math.ceil(cx + s / 2 * sx) + 5 + int(3 * sx), w)
    py1 = min(math.ceil(cy + s / 2 * sy) + 5 + int(3 * sy), h)
    if px1 <= px0 or py1 <= py0:
        raise ModelError.of(QT_TRANSLATE_NOOP("core", "The regions of interest lie outside the image."))
    mp = m.copy()
    mp[:, 2] -= (px0, py0)
    src = gray[py0:py1, px0:px1].astype(np.float32) * np.float32(1.0 / 255.0)
    if spec.antialias and (sx > 1.0 or sy > 1.0):
        sig_x, sig_y = max((sx - 1) / 2, 1e-3), max((sy - 1) / 2, 1e-3)
        src = cv2.GaussianBlur(src, (0, 0), sigmaX=sig_x, sigmaY=sig_y)
    valid = scan_mask[py0:py1, px0:px1].view(np.uint8)
    img = cv2.warpAffine(src, mp, (s, s), flags=_FLAGS, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    tissue = cv2.warpAffine(valid * np.uint8(255), mp, (s, s), flags=_FLAGS, borderMode=cv2.BORDER_CONSTANT)
    return m, img, tissue >= 128


def _crop(
    view: tuple[np.ndarray, np.ndarray, np.ndarray],
    mask: np.ndarray,
    bbox: tuple[int, int, int, int],
    side: float,
    grown: bool,
    spec: PreprocessSpec,
    name: str,
    image_stats: tuple[float, float] = (0.0, 1.0),
) -> tuple[np.ndarray, CropInfo]:
    """One region from its view: region mask, fill, normalise → (S, S) float32."""
    s = spec.input_size
    m, img, tissue = view
    mm = m.copy()
    mm[:, 2] -= (bbox[0], bbox[1])  # the region mask is stored cropped to its bbox
    region = mask.view(np.uint8) * np.uint8(255)
    inside = cv2.warpAffine(region, mm, (s, s), flags=_FLAGS, borderMode=cv2.BORDER_CONSTANT) >= 128
    inside &= tissue
    vals = img[inside]
    if spec.fill == "none":  # keep the surrounding tissue, blank what is not tissue
        keep, fill = tissue, 0.0
    else:
        keep = inside
        fill = float(vals.mean(dtype=np.float64)) if spec.fill == "mean" and vals.size else 0.0
    out = np.where(keep, img, np.float32(fill)).astype(np.float32)
    if spec.normalisation == "fixed":
        mu, sd = spec.mean, spec.std
    elif spec.normalisation == "tissue_zscore":
        mu, sd = _tissue_stats(img, tissue)
    elif spec.normalisation == "image_zscore":
        mu, sd = image_stats
    else:  # roi_zscore
        mu = float(vals.mean(dtype=np.float64)) if vals.size else 0.0
        sd = max(float(vals.std(dtype=np.float64)) if vals.size > 1 else 1.0, 1e-3)
    out = (out - np.float32(mu)) / np.float32(sd)
    info = CropInfo(name, m, side, side / s, grown, int(inside.sum()), inside)
    return out.astype(np.float32, copy=False), info


DISTANCE_SCALE_MM = 10.0


def _distance_map(points: np.ndarray, crop: CropInfo, size: int) -> np.ndarray:
    """Signed distance (mm / DISTANCE_SCALE_MM, negative inside) of every crop pixel to the outline."""
    m = crop.matrix  # crop pixel → image pixel (axis-aligned scale + shift)
    # contour coordinates put pixel centres at +0.5, cv2 (and the crop matrix) at integers
    u = (points[:, 0] - 0.5 - m[0, 2]) / m[0, 0]
    v = (points[:, 1] - 0.5 - m[1, 2]) / m[1, 1]
    shift = 4  # sub-pixel vertices: cv2 fixed point with 4 fractional bits
    poly = np.round(np.stack([u, v], axis=1) * (1 << shift)).astype(np.int32)
    inside = np.zeros((size, size), np.uint8)
    cv2.fillPoly(inside, [poly], 1, lineType=cv2.LINE_8, shift=shift)
    if not inside.any():  # a degenerate outline at this scale: distance from its centre instead
        inside[int(np.clip(v.mean(), 0, size - 1)), int(np.clip(u.mean(), 0, size - 1))] = 1
    out = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    inn = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d = np.where(inside > 0, 0.5 - inn, out - 0.5) * np.float32(crop.out_mm_per_px)
    return (d / np.float32(DISTANCE_SCALE_MM)).astype(np.float32)


def _tissue_stats(img: np.ndarray, tissue: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the scan-area pixels of a view (the tissue reference).

    A view with (almost) no tissue or no contrast gets a floor on the deviation, so a blank
    patch can never divide by zero or blow small differences up to huge values.
    """
    vals = img[tissue]
    if vals.size < 2:
        return 0.0, 1.0
    return float(vals.mean(dtype=np.float64)), max(float(vals.std(dtype=np.float64)), 0.02)


def _background_stats(
    gray: np.ndarray,
    scan_mask: np.ndarray,
    regions: np.ndarray,
    origin: tuple[int, int],
    cal: Calibration,
    spec: PreprocessSpec,
) -> tuple[float, float]:
    """Mean and SD (intensities in [0, 1]) of the scan area outside the regions, at the crops' scale.

    `regions`: the union of the region masks, placed at `origin` (x, y). Why at the crops' scale:
    the crops are antialiased down to `mm_per_px`, which smooths speckle, so a deviation measured
    on the full-resolution image would depend on the scanner's pixel size. Box-averaging
    (INTER_AREA) to that scale makes the reference comparable between scanners.
    """
    keep = scan_mask.copy()
    x0, y0 = origin
    h, w = regions.shape
    keep[y0 : y0 + h, x0 : x0 + w] &= ~regions
    fx = min(1.0, cal.mm_per_px_x / spec.mm_per_px)
    fy = min(1.0, cal.mm_per_px_y / spec.mm_per_px)
    size = (max(1, round(gray.shape[1] * fx)), max(1, round(gray.shape[0] * fy)))
    small = cv2.resize(gray.astype(np.float32) * np.float32(1 / 255), size, interpolation=cv2.INTER_AREA)
    inside = cv2.resize(keep.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.999
    return _tissue_stats(small, inside)


def validated_contour(image: UltrasoundImage, contour: Contour) -> Contour:
    """The contour checked for this image and carrying the calibration valid for its points.

    Raises CalibrationError without a trustworthy mm/pixel (never guessed) and ContourError otherwise.
    """
    if image.calibration_for(np.asarray(contour.points)) is None:
        raise CalibrationError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "This image has no trustworthy millimetre calibration for the tumour's area; calibrate it "
                "(e.g. along the depth ruler) before predicting.",
            )
        )
    out = validate_contour(contour, image)
    if out.calibration is None:  # validate_contour keeps the contour's own only when the image has none
        raise CalibrationError.of(
            QT_TRANSLATE_NOOP(
                "core", "This image has no trustworthy millimetre calibration; calibrate it first."
            )
        )
    return out


def prepare_inputs(
    image: UltrasoundImage, contour: Contour, spec: PreprocessSpec, on_rois: Any = None
) -> tuple[np.ndarray, PrepInfo]:
    """Image + tumour contour → float32 (R, C, S, S) network input and what was done to get it.

    `on_rois(contour, roiset)` is called as soon as the validated contour's regions exist (the
    predictor starts the radiomics features there, while the crops are made).
    Raises CalibrationError without a trustworthy mm/pixel and ContourError for an invalid contour.
    """
    t0 = time.perf_counter()
    contour = validated_contour(image, contour)
    cal = contour.calibration
    assert cal is not None
    t1 = time.perf_counter()
    roiset = compute_rois(contour, image, radii_mm=spec.ring_radii)
    if on_rois is not None:
        on_rois(contour, roiset)
    t2 = time.perf_counter()
    masks = [_region_mask(roiset, r) for r in spec.regions]
    # Union of all regions (its bbox) for the colour check.
    ux0 = min(b[0] for _, b in masks)
    uy0 = min(b[1] for _, b in masks)
    ux1 = max(b[2] for _, b in masks)
    uy1 = max(b[3] for _, b in masks)
    union = np.zeros((uy1 - uy0, ux1 - ux0), bool)
    for mk, b in masks:
        union[b[1] - uy0 : b[3] - uy0, b[0] - ux0 : b[2] - ux0] |= mk
    gray = image.gray
    colour = NO_COLOUR
    if image.display.ndim == 3:
        gray, colour = clean_colour(
            gray,
            image.display,
            union,
            (ux0, uy0, ux1, uy1),
            cal.pixel_area_mm2,
            spec.colour_chroma_min,
            spec.inpaint_colour_marks,
            [(r.name, mk, b) for r, (mk, b) in zip(spec.regions, masks, strict=True)],
        )
    t3 = time.perf_counter()
    # A split image: the crops see only the contour's view as tissue (the rings are confined to it too).
    view = image.view_of(roiset.tumour.annulus, (roiset.tumour.bbox[0], roiset.tumour.bbox[1]))
    scan_mask = np.asarray(image.scan_crop(view, 0, image.height, 0, image.width), dtype=bool)
    pts = np.asarray(contour.points, dtype=np.float64)
    stats = (0.0, 1.0)
    if spec.normalisation == "image_zscore":
        stats = _background_stats(gray, scan_mask, union, (ux0, uy0), cal, spec)
    arrays, infos = [], []
    views: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for region, (mk, bbox) in zip(spec.regions, masks, strict=True):
        cx, cy, side, grown = _crop_geometry(pts, region.radius_mm, cal, spec)
        if side not in views:
            views[side] = _view(gray, scan_mask, cx, cy, side, cal, spec)
        arr, info = _crop(views[side], mk, bbox, side, grown, spec, region.name, stats)
        arrays.append(arr)
        infos.append(info)
    x = np.stack(arrays)[:, None]
    if spec.channels > 1:
        x = np.repeat(x, spec.channels, axis=1)
    if spec.distance_channel:
        dist = np.stack([_distance_map(pts, c, spec.input_size) for c in infos])[:, None]
        x = np.concatenate([x, dist], axis=1)
    t4 = time.perf_counter()
    timings = {"validate": (t1 - t0) * 1e3, "rois": (t2 - t1) * 1e3, "colour": (t3 - t2) * 1e3}
    timings["crops"] = (t4 - t3) * 1e3
    info = PrepInfo(contour, cal, roiset, tuple(infos), colour, timings)
    return np.ascontiguousarray(x, dtype=np.float32), info
