"""How good is an outline? Dice, mean boundary distance and controlled perturbations (no Qt).

Shared by benchmarks/bench_assist.py and the tests so both measure the same thing, and usable to
compare two readers' contours of one lesion.
"""

from __future__ import annotations

import cv2
import numpy as np

from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.contour import Contour


def dice(a: Contour, b: Contour, shape: tuple[int, int]) -> float:
    """Dice overlap of the two contours' pixel masks (1 = identical, 0 = disjoint)."""
    ma, mb = a.to_mask(shape), b.to_mask(shape)
    total = int(ma.sum()) + int(mb.sum())
    return 2.0 * int((ma & mb).sum()) / total if total else 1.0


def _point_segment_distance(p: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance from each point to the closed polyline `poly` (vectorised over points × segments)."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    ab = b - a
    ap = p[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab[None]).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12)[None], 0.0, 1.0)
    d = ap - t[..., None] * ab[None]
    return np.sqrt((d * d).sum(-1)).min(axis=1)


def boundary_distance_mm(
    a: Contour, b: Contour, mm_per_px: tuple[float, float], step_mm: float = 0.1
) -> float:
    """Symmetric mean distance between the two outlines, in mm (each sampled every `step_mm`)."""
    s = np.array(mm_per_px, float)
    pa, pb = a.points * s, b.points * s
    da = _point_segment_distance(geo.resample_closed(pa, step_mm), pb)
    db = _point_segment_distance(geo.resample_closed(pb, step_mm), pa)
    return float(0.5 * (da.mean() + db.mean()))


def radial_perturbation(contour: Contour, amplitude_mm: float, rng: np.random.Generator) -> Contour:
    """The outline moved along the radius from its centroid by a smooth random field in ±amplitude mm.

    Low harmonics (k = 0..4) so it looks like a hand-drawn outline that is off by up to a millimetre:
    partly too big, partly too small.
    """
    cal = contour.calibration
    s = np.array([cal.mm_per_px_x, cal.mm_per_px_y]) if cal else np.ones(2)
    pts = contour.points * s
    c = pts.mean(axis=0)
    theta = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    field = np.full(len(pts), rng.uniform(-0.5, 0.5))
    for k in range(1, 5):
        field += rng.normal(0, 1.0 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    field *= amplitude_mm / max(float(np.abs(field).max()), 1e-9)
    r = pts - c
    rn = np.maximum(np.hypot(r[:, 0], r[:, 1]), 1e-9)[:, None]
    moved = pts + r / rn * field[:, None]
    return Contour(moved / s, cal, contour.frame, contour.region_index)


def mask_dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 2.0 * int((a & b).sum()) / total if total else 1.0


def _boundary(m: np.ndarray) -> np.ndarray:
    u8 = m.astype(np.uint8)
    return (u8 - cv2.erode(u8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)) > 0


def hd95_px(a: np.ndarray, b: np.ndarray) -> float:
    """95th-percentile symmetric Hausdorff distance between two masks' boundaries, in pixels.

    Dice hides a margin that is wrong in one place (a spicule cut off, a leak into a shadow); HD95
    shows it, and ignores the worst 5 % of boundary points so one stray pixel does not dominate.
    """
    ba, bb = _boundary(a), _boundary(b)
    if not ba.any() or not bb.any():
        return float("inf")
    da = cv2.distanceTransform((~bb).astype(np.uint8), cv2.DIST_L2, 5)
    db = cv2.distanceTransform((~ba).astype(np.uint8), cv2.DIST_L2, 5)
    return float(max(np.percentile(da[ba], 95), np.percentile(db[bb], 95)))
