"""Snap to edges: move an existing outline onto the nearby lesion boundary, a limited distance, smoothly.

Why an optimal path rather than "each vertex to its strongest gradient": speckle makes a strong
gradient somewhere along almost every normal, so independent moves give a jagged outline. Here each
vertex may move along its normal by t ∈ [−D, D]; the cost of a choice is minus the edge strength of
the speckle-filtered image there (with the lesion's polarity: darker inside), plus a small pull
towards t = 0, plus a penalty on neighbours moving differently. The best set of moves for the whole
closed outline is found by dynamic programming (a Viterbi pass over the vertices) — a classical
"dynamic programming snake" (Amini et al. 1990) — so the displacement field is smooth by construction.

Measured on real breast ultrasound (docs/ASSIST_MODEL.md), moving every vertex to its best edge spoilt
expert contours: irregular malignant margins were smoothed away and some outlines pulled onto an inner
band. So a vertex keeps its move only where the new edge is strong and clearly stronger than the one it
sits on, and the moves are applied to the outline as given, not to a smoothed copy.
"""

from __future__ import annotations

import cv2
import numpy as np

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging.types import UltrasoundImage
from dlrs_desktop.roi import assist_segment as seg
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.assist_finish import finish_contour, resample_even
from dlrs_desktop.roi.contour import Contour

DEFAULT_MAX_DISTANCE_MM = 1.5
SMOOTHNESS = 0.3  # penalty per (crop px)² of difference between neighbours' moves (tuned, see docs)
STAY_WEIGHT = 0.3  # pull towards the drawn position where the image shows no clear edge
MAX_SLOPE = 0.5  # neighbours' moves differ by at most half the vertex spacing (no folds)
STRONG_EDGE = 0.3  # a move is kept only onto an edge ≥ this × the 90th-percentile edge strength …
EDGE_GAIN = 1.5  # … that is also clearly stronger (this many times) than the edge where the vertex was
STEP_PX = 0.5  # offset resolution along the normal (crop px: 0.1 mm when calibrated)


def snap_to_edges(
    image: UltrasoundImage,
    contour: Contour,
    max_distance_mm: float = DEFAULT_MAX_DISTANCE_MM,
    *,
    speckle: str = "diffusion",
) -> Contour:
    """The contour moved onto the nearest lesion boundary (≤ `max_distance_mm` per vertex), smooth.

    Returns an editable contour with vertices about every millimetre (16-80), valid on `image`.
    Without a calibration, `max_distance_mm` is read against the box size (see `Crop.px`).
    """
    if not (max_distance_mm > 0 and np.isfinite(max_distance_mm)):
        raise ContourError("The snapping distance must be a positive number of millimetres.")
    if max_distance_mm > 10:
        raise ContourError("Snapping moves a contour by at most 10 mm; draw it closer to the lesion.")
    pts = np.asarray(contour.points, float)
    if len(pts) < 3 or abs(geo.signed_area(pts)) < 1e-6:
        raise ContourError("The contour needs at least 3 points enclosing an area to be snapped.")
    h, w = image.shape
    cal = image.calibration_for(pts) or image.calibration or contour.calibration
    pad_px = _mm_to_px(max_distance_mm + 1.0, cal, pts)
    lo, hi = pts.min(axis=0) - pad_px, pts.max(axis=0) + pad_px
    box = (max(lo[0], 0.0), max(lo[1], 0.0), min(hi[0], float(w)), min(hi[1], float(h)))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        raise ContourError("The contour lies outside the image; it cannot be snapped.")
    crop = seg.make_crop(image, box)
    f = seg.speckle_filter(crop, speckle)
    f = cv2.GaussianBlur(f, (0, 0), crop.px(0.25))
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3) / 8.0

    dense = resample_even(geo.taubin_smooth(resample_even(pts, cal), 2, 0.5, -0.53), cal)  # normals of a
    # spiky outline (a freehand jitter, a spicule tip) point anywhere: smooth it a little first
    if geo.signed_area(dense) < 0:
        dense = dense[::-1].copy()
    c = crop.to_crop(dense)
    normal = _outward_normals(c)
    dmax = crop.px(max_distance_mm)
    offsets = np.arange(-np.floor(dmax / STEP_PX), np.floor(dmax / STEP_PX) + 1) * STEP_PX
    sx = (c[:, None, 0] + offsets[None, :] * normal[:, None, 0]).astype(np.float32)
    sy = (c[:, None, 1] + offsets[None, :] * normal[:, None, 1]).astype(np.float32)
    sgx = cv2.remap(gx, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sgy = cv2.remap(gy, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    along = sgx * normal[:, None, 0] + sgy * normal[:, None, 1]  # d(intensity)/d(outward)
    polarity = _polarity(crop, f, c, max_distance_mm)
    edge = np.clip(polarity * along, 0, None)
    scale = float(np.percentile(edge, 90)) or 1.0
    data = -edge / scale + STAY_WEIGHT * (offsets[None, :] / max(dmax, 1e-9)) ** 2
    ix = np.clip(sx.round().astype(int), 0, crop.scan.shape[1] - 1)  # stay in the scan area
    iy = np.clip(sy.round().astype(int), 0, crop.scan.shape[0] - 1)
    data = np.where(crop.scan[iy, ix], data, data + 10.0)
    spacing = float(np.median(np.hypot(*np.diff(np.vstack([c, c[:1]]), axis=0).T)))
    labels = _circular_viterbi(data, offsets, SMOOTHNESS, MAX_SLOPE * spacing)
    rows = np.arange(len(labels))
    e_new, e_here = edge[rows, labels] / scale, edge[rows, len(offsets) // 2] / scale
    # Keep a move only where the edge evidence is strong: elsewhere (a blurred or irregular margin,
    # speckle) the drawn or proposed outline is trusted as it is.
    keep = ((e_new >= STRONG_EDGE) & (e_new >= EDGE_GAIN * e_here)).astype(float)
    move = _circular_smooth(offsets[labels] * _circular_smooth(keep, 1.0), 1.0)
    if float(np.abs(move).max()) < STEP_PX:  # no strong edge anywhere: the outline stays exactly as it is
        return contour
    disp = crop.to_image(c + move[:, None] * normal) - crop.to_image(c)
    # Move the outline as given (its irregular margins intact), each point with its nearest vertex.
    base = pts if len(pts) >= len(dense) else dense
    nearest = np.argmin(((base[:, None, :] - dense[None, :, :]) ** 2).sum(-1), axis=1)
    return finish_contour(image, base + disp[nearest], frame=contour.frame)


def _polarity(crop, f: np.ndarray, c: np.ndarray, reach_mm: float) -> float:  # type: ignore[no-untyped-def]
    """+1 if the lesion is darker than its surroundings (hypoechoic, the usual case), else −1.

    Compared well away from the drawn outline — the interior shrunk by the snapping reach against a
    3 mm ring beyond it, by medians — because a bright halo just outside the margin, or a start
    that is off by a millimetre, makes "just inside vs just outside" ambiguous.
    """
    inside = geo.rasterize(c, f.shape).astype(np.uint8)
    r = int(np.ceil(crop.px(reach_mm)))
    core = cv2.erode(inside, _disc_kernel(r)) > 0
    if core.sum() < 9:
        core = inside > 0
    ring = (cv2.dilate(inside, _disc_kernel(r + int(crop.px(3.0)))) > 0) & ~(
        cv2.dilate(inside, _disc_kernel(r)) > 0
    )
    ring &= crop.scan
    if not core.any() or not ring.any():
        return 1.0
    return 1.0 if float(np.median(f[core])) <= float(np.median(f[ring])) else -1.0


def _disc_kernel(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(r, 1) + 1,) * 2)


def _mm_to_px(mm: float, cal, pts: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    if cal is not None:
        return mm / min(cal.mm_per_px_x, cal.mm_per_px_y)
    span = float(np.max(pts.max(axis=0) - pts.min(axis=0)))
    return mm / 0.2 * span / 120.0  # the same convention as Crop.px without calibration


def _outward_normals(p: np.ndarray) -> np.ndarray:
    """Unit outward normals of a counter-clockwise (positive signed area, y down) closed polygon."""
    t = np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)
    n = np.column_stack([t[:, 1], -t[:, 0]])
    n /= np.maximum(np.hypot(n[:, 0], n[:, 1]), 1e-12)[:, None]
    # positive signed area in this geometry: check one normal points away from the centroid
    if float(((p - p.mean(axis=0)) * n).sum()) < 0:
        n = -n
    return n


def _circular_viterbi(data: np.ndarray, offsets: np.ndarray, smooth: float, max_step: float) -> np.ndarray:
    """argmin over labels of Σ data[i, l_i] + smooth·(o_i − o_{i+1})² on a closed chain.

    Neighbours' moves may differ by at most `max_step` (crop px): steeper steps would fold the
    outline over itself where it bends.

    The chain is unrolled three times and the middle copy kept: the ends' arbitrary boundary
    conditions then do not reach the labels returned.
    """
    n, k = data.shape
    diff = offsets[:, None] - offsets[None, :]
    trans = np.where(np.abs(diff) <= max_step + 1e-9, smooth * diff**2, np.inf)
    seq = np.vstack([data, data, data])
    cost = seq[0].copy()
    back = np.empty((3 * n, k), np.int64)
    for i in range(1, 3 * n):
        total = cost[:, None] + trans
        back[i] = np.argmin(total, axis=0)
        cost = total[back[i], np.arange(k)] + seq[i]
    labels = np.empty(3 * n, np.int64)
    labels[-1] = int(np.argmin(cost))
    for i in range(3 * n - 1, 0, -1):
        labels[i - 1] = back[i, labels[i]]
    return labels[n : 2 * n]


def _circular_smooth(v: np.ndarray, sigma: float) -> np.ndarray:
    half = min(int(np.ceil(3 * sigma)), (len(v) - 1) // 2)
    if half < 1:
        return v
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([v[-half:], v, v[:half]])
    return np.convolve(padded, kernel, mode="valid")
