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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dlrs_desktop.errors import CalibrationError
from dlrs_desktop.imaging.types import Calibration, UltrasoundRegion

PIXEL_SPACING_RANGE_MM = (0.005, 2.0)
MAX_ANISOTROPY = 3.0


def _same_deltas(regions: Sequence[UltrasoundRegion]) -> bool:
    first = regions[0]
    return all(
        math.isclose(abs(r.delta_x), abs(first.delta_x), rel_tol=1e-6)
        and math.isclose(abs(r.delta_y), abs(first.delta_y), rel_tol=1e-6)
        for r in regions[1:]
    )


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
        return f"PixelSpacing {row_mm:g}\\{col_mm:g} mm is implausibly anisotropic"
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
