"""Which millimetre scale a DICOM file really gives, and why (never a silent default).

Rules, in order:
1. SequenceOfUltrasoundRegions: the 2D-tissue regions in cm (Cornerstone3D's rule) with plausible
   deltas whose bounds fit inside the stored pixels (a region reaching past them means the image was
   resized or cropped after acquisition: its deltas no longer describe these pixels). If they all
   share the same deltas (one B-mode image, or dual view at one depth) that is the image calibration
   (source "dicom-us-region", region_index = the first such region). If they differ, the image
   calibration is None and `UltrasoundImage.calibration_for(points)` picks the region that contains
   the contour. PixelSpacing is then ignored (regions are what scanners use).
2. PixelSpacing, only when the file has no ultrasound regions at all, and only if meaningful:
   two finite values in 0.005–2 mm, not the "1\\1" placeholder converters write when they know no
   spacing, and not more anisotropic than 3:1.
3. Otherwise None: uncalibrated; the user calibrates on the depth ruler.

Which calibration a *case* (image + annotation + command line) is measured with is decided by
`effective_calibration` alone; docs/IMAGING.md states the precedence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dlrs_desktop.errors import CalibrationError
from dlrs_desktop.imaging.types import (
    MAX_ANISOTROPY,
    Calibration,
    UltrasoundImage,
    UltrasoundRegion,
    anisotropy_problem,
)

PIXEL_SPACING_RANGE_MM = (0.005, 2.0)


def _same_deltas(regions: Sequence[UltrasoundRegion]) -> bool:
    first = regions[0]
    return all(
        math.isclose(abs(r.delta_x), abs(first.delta_x), rel_tol=1e-6)
        and math.isclose(abs(r.delta_y), abs(first.delta_y), rel_tol=1e-6)
        for r in regions[1:]
    )


def _skewed(r: UltrasoundRegion) -> bool:
    """A 2D tissue region in cm that is refused only for its anisotropy."""
    return r.is_2d_tissue_cm_any_aspect and anisotropy_problem(r.delta_x, r.delta_y) is not None


def pixel_spacing_problem(values: Any) -> str | None:
    """Why a PixelSpacing value is not a trustworthy ultrasound scale (None: it is)."""
    try:
        row_mm, col_mm = (float(v) for v in values)
    except (TypeError, ValueError):
        return "PixelSpacing is malformed"
    if not (math.isfinite(row_mm) and math.isfinite(col_mm)):
        return "PixelSpacing is not a number"
    if row_mm == 1.0 and col_mm == 1.0:
        return "PixelSpacing 1\\1 is a placeholder"
    lo, hi = PIXEL_SPACING_RANGE_MM
    if not (lo <= row_mm <= hi and lo <= col_mm <= hi):
        return f"PixelSpacing {row_mm:g}\\{col_mm:g} mm is outside {lo:g}–{hi:g} mm"
    if max(row_mm, col_mm) / min(row_mm, col_mm) > MAX_ANISOTROPY:
        return f"PixelSpacing {row_mm:g}\\{col_mm:g} mm is more than {MAX_ANISOTROPY:g}:1 anisotropic"
    return None


def calibration_from_dicom(
    ds: Any, regions: Sequence[UltrasoundRegion], shape: tuple[int, int]
) -> tuple[Calibration | None, str]:
    """(calibration or None, a one-line note saying where it came from or why there is none)."""
    tissue = [r for r in regions if r.usable_for_mm]
    spacing = ds.get("PixelSpacing", None)
    outside = [r for r in regions if r.is_2d_tissue_cm and not r.fits_image]
    if outside and not tissue:
        r = outside[0]
        return None, (
            f"ultrasound region {r.index} reaches x {r.x1}, y {r.y1} in a {shape[1]}x{shape[0]} image: "
            "the image was resized or cropped after acquisition, so its scale cannot be trusted: uncalibrated"
        )
    if tissue:
        extra = " (PixelSpacing ignored)" if spacing is not None else ""
        if _same_deltas(tissue):
            n = len(tissue)
            where = (
                f"ultrasound region {tissue[0].index}"
                if n == 1
                else f"{n} ultrasound regions with equal deltas"
            )
            return tissue[0].calibration(), f"from {where}{extra}"
        return None, (
            f"{len(tissue)} ultrasound regions with different scales: "
            f"the region containing the contour decides{extra}"
        )
    skewed = [r for r in regions if r.is_2d_tissue_cm is False and _skewed(r)]
    if skewed:
        r = skewed[0]
        why = anisotropy_problem(abs(r.delta_x) * 10, abs(r.delta_y) * 10)
        return None, f"ultrasound region {r.index}: {why}: uncalibrated"
    if regions:
        return None, "ultrasound regions present but none is a 2D tissue image in cm: uncalibrated"
    if spacing is None:
        return None, "no ultrasound regions and no pixel spacing: uncalibrated"
    problem = pixel_spacing_problem(spacing)
    if problem:
        return None, f"{problem}: uncalibrated"
    row_mm, col_mm = (float(v) for v in spacing)
    try:
        cal = Calibration(col_mm, row_mm, "dicom-pixel-spacing")
    except CalibrationError:
        return None, "PixelSpacing implausible: uncalibrated"
    return cal, "from PixelSpacing (no ultrasound regions in the file)"


# --------------------------------------------------------------------------- the case's calibration
CalibrationOrigin = Literal["override", "saved", "file", "depth-scale", "fallback", "none"]


@dataclass(frozen=True)
class EffectiveCalibration:
    """The image to measure on (carrying the calibration that wins) and why it won."""

    image: UltrasoundImage
    calibration: Calibration | None  # valid for the contour's points; None: uncalibrated, never predict
    origin: CalibrationOrigin
    note: str


def _as_calibration(value: Calibration | dict[str, Any] | None, what: str) -> Calibration | None:
    if value is None or isinstance(value, Calibration):
        return value
    try:
        return Calibration.from_dict(value)
    except CalibrationError as exc:
        raise CalibrationError(f"The {what} cannot be used: {exc}") from None
    except (KeyError, TypeError, ValueError):
        raise CalibrationError(
            f"The {what} is malformed (expected mm_per_px_x, mm_per_px_y, source)."
        ) from None


def effective_calibration(
    image: UltrasoundImage,
    points: Any = None,
    *,
    override: Calibration | None = None,
    saved: Calibration | dict[str, Any] | None = None,
    fallback: Calibration | None = None,
    depth_scale: Calibration | None = None,
) -> EffectiveCalibration:
    """THE rule deciding a case's mm/pixel; the GUI, the CLI, the report and training all call it.

    Precedence (first present wins):
    1. `override`: given for this run only (`--spacing` on the command line);
    2. `saved`: the calibration a user made on this image and saved with its annotation (GUI sidecar),
       a deliberate human correction of the file;
    3. the file's own: the DICOM ultrasound region containing the contour, else PixelSpacing
       (`calibration_from_dicom`; an image with regions is measured in the region of its contour);
    4. `depth_scale`: read from the on-screen depth ruler (`imaging.depth_scale`, asked for with
       `--spacing auto`), only when the file has no scale at all (a DICOM region is the scanner's own
       statement and wins);
    5. `fallback`: a number that came with the case but not from this image (a cohort's mm_per_px
       column, the calibration stored in a contour file), used only when the file has none at all.
    Every source passes the same checks (0.0001–10 mm/px, at most 3:1 anisotropic) in `Calibration`.
    """
    pts = None if points is None else np.asarray(points, dtype=np.float64).reshape(-1, 2)
    saved_cal = _as_calibration(saved, "calibration saved with this image's annotation")
    for cal, origin, note in (
        (override, "override", "given for this run"),
        (saved_cal, "saved", "made by a user on this image and saved with its annotation"),
    ):
        if cal is not None:
            img = image.with_calibration(cal)
            return EffectiveCalibration(img, cal, origin, note)  # type: ignore[arg-type]
    file_note = str(image.provenance.metadata.get("calibration_note") or "from the file")
    own = image.calibration if pts is None or len(pts) == 0 else image.calibration_for(pts)
    if own is not None:
        return EffectiveCalibration(image, own, "file", file_note)
    usable_regions = any(r.usable_for_mm for r in image.regions)
    if depth_scale is not None and image.calibration is None and not usable_regions:
        img = image.with_calibration(depth_scale)
        return EffectiveCalibration(img, depth_scale, "depth-scale", "read from the on-screen depth scale")
    if fallback is not None and image.calibration is None and not usable_regions:
        img = image.with_calibration(fallback)
        return EffectiveCalibration(img, fallback, "fallback", "the file has none; given with the case")
    if usable_regions and pts is not None and len(pts):
        x, y = pts[:, 0], pts[:, 1]
        hit = [
            r for r in image.regions if np.any((x >= r.x0) & (x <= r.x1 + 1) & (y >= r.y0) & (y <= r.y1 + 1))
        ]
        file_note = (
            "the contour crosses two ultrasound regions (the two views of a dual view): draw it inside one"
            if len(hit) >= 2
            else "the contour lies in no ultrasound region of the file that measures tissue in cm"
        )
    elif "calibration_note" not in image.provenance.metadata:
        file_note = "the file carries no millimetre scale (image exports never do)"
    return EffectiveCalibration(image, None, "none", file_note)
