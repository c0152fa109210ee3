"""An outline from either assist engine made into an editable contour, and the prompts checked (no Qt).

Shared by the classical assist (`roi.assist`), the learned one (`roi.assist_learned`) and snap-to-edge
(`roi.snap`), below all three so none of them imports another to reach it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging.types import Calibration, UltrasoundImage
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.roi.validate import validate_contour
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

VERTEX_SPACING_MM = 1.0
MIN_VERTICES, MAX_VERTICES = 16, 80
MIN_BOX_PX = 8  # a box narrower than this on screen is a slip of the mouse, not a lesion


def check_box(image: UltrasoundImage, box: Sequence[float]) -> tuple[float, float, float, float]:
    """The box as (x0, y0, x1, y1) with x0 < x1, y0 < y1, clipped to the image; ContourError otherwise."""
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "A box is four numbers: X0 Y0 X1 Y1 (image pixels).")
        ) from exc
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ContourError.of(QT_TRANSLATE_NOOP("core", "The box has missing or infinite coordinates."))
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    h, w = image.shape
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "The box ({x0:g}, {y0:g})–({x1:g}, {y1:g}) lies outside the {w}×{h} image."
            ),
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            w=w,
            h=h,
        )
    x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h))
    if x1 - x0 < MIN_BOX_PX or y1 - y0 < MIN_BOX_PX:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "The box is {w:.0f}×{h:.0f} pixels; drag a box of at least {minimum} pixels around the "
                "whole lesion.",
            ),
            w=x1 - x0,
            h=y1 - y0,
            minimum=MIN_BOX_PX,
        )
    sub = image.scan_mask[int(y0) : math.ceil(y1), int(x0) : math.ceil(x1)]
    if sub.size == 0 or sub.mean() < 0.25:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "The box lies mostly outside the scan area; drag it around a lesion in the tissue."
            )
        )
    return x0, y0, x1, y1


def check_click(image: UltrasoundImage, xy: Sequence[float]) -> tuple[float, float]:
    """The click as (x, y) on the image and in the scan area; ContourError otherwise."""
    try:
        x, y = (float(v) for v in xy)
    except (TypeError, ValueError) as exc:
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "A click is two numbers: X Y (image pixels).")
        ) from exc
    h, w = image.shape
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x < w and 0 <= y < h):
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "The click ({x:g}, {y:g}) lies outside the {w}×{h} image."),
            x=x,
            y=y,
            w=w,
            h=h,
        )
    if not image.scan_mask[int(y), int(x)]:
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "The click is outside the scan area; click inside the lesion.")
        )
    return x, y


def finish_contour(image: UltrasoundImage, pts: np.ndarray, *, frame: int | None = None) -> Contour:
    """Image-px outline → editable contour: even vertices (~1 mm, 16-80), smooth, on the image, valid."""
    h, w = image.shape
    pts = np.column_stack([np.clip(pts[:, 0], 0.0, float(w)), np.clip(pts[:, 1], 0.0, float(h))])
    cal = image.calibration_for(pts) or image.calibration
    pts = resample_even(pts, cal)
    pts = resample_even(geo.taubin_smooth(pts, 2, 0.5, -0.53), cal)  # smooth, then evenly spaced again
    pts = np.column_stack([np.clip(pts[:, 0], 0.0, float(w)), np.clip(pts[:, 1], 0.0, float(h))])
    if geo.edge_crossings(pts):  # a snapped concavity folded over: take the outline of what it covers
        pts = _untangle(pts, (h, w), cal)
    if geo.signed_area(pts) < 0:  # one orientation for every proposal (clockwise on screen)
        pts = pts[::-1].copy()
    contour = Contour(pts, cal, image.frame_index if frame is None else frame)
    return validate_contour(contour, image, min_area_mm2=1.0)


def _untangle(pts: np.ndarray, shape: tuple[int, int], cal: Calibration | None) -> np.ndarray:
    """Outline of the area a self-crossing polygon covers (rasterised at 4× in its bounding box)."""
    lo = np.floor(pts.min(axis=0)) - 2
    scale = 4.0
    size = np.ceil((pts.max(axis=0) - lo + 2) * scale).astype(int)
    m = np.zeros((int(size[1]), int(size[0])), np.uint8)
    cv2.fillPoly(m, [np.round((pts - lo) * scale * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    out = geo.mask_to_polygon(m, upsample=1, smooth_px=2.0, tolerance=0.2)
    if out is None:  # pragma: no cover - a non-degenerate polygon covers some pixels
        raise ContourError.of(QT_TRANSLATE_NOOP("core", "The outline folded onto itself; draw it by hand."))
    out = resample_even(out / scale + lo, cal)
    h, w = shape
    return np.column_stack([np.clip(out[:, 0], 0.0, float(w)), np.clip(out[:, 1], 0.0, float(h))])


def resample_even(pts: np.ndarray, cal: Calibration | None) -> np.ndarray:
    """Vertices at ~1 mm along the outline (anisotropy-aware), clamped to 16-80 vertices."""
    s = np.array([cal.mm_per_px_x, cal.mm_per_px_y]) if cal is not None else np.array([1.0, 1.0])
    mm = pts * s
    per = geo.perimeter(mm)
    spacing = per / 48 if cal is None else VERTEX_SPACING_MM  # no mm: ~48 vertices, mid-range
    n = int(np.clip(round(per / max(spacing, 1e-9)), MIN_VERTICES, MAX_VERTICES))
    return geo.resample_closed(mm, per / n) / s
