"""Where the pixels are real tissue: the scan area rings are clipped to, split into views.

The rule (docs/IMAGING.md shows it with pictures):

1. **Echo envelope.** Inside a search area (each DICOM 2D-tissue region, or the whole frame when the
   file has none) the bright pixels are smoothed, opened (thin text and ruler ticks fall away) and
   the large connected components kept; each component's convex hull is one imaged area. Dark
   tissue *inside* the hull (a hypoechoic tumour, a cyst) is inside by construction.
2. **Views.** A hull is split where two images touch without a gap (dual view written side by side
   or one above the other): `views.find_seam` finds a column (row) where neighbouring pixel columns
   stop being correlated over the full height. Images separated by a black gap are separate
   components already, and DICOM regions are separate search areas.
3. **Scanner geometry (regions only).** The scanner declared the region as imaged tissue down to its
   bottom, so a view is not cut where the echoes fade: its two side edges (the longest steep hull
   edges on each side) are extended to the region's bottom. Converging edges are a sector or
   curvilinear probe: the fan is cut by the arc about their apex through the region's bottom.
   Parallel edges are a linear probe: a rectangle. Everything is clipped to the region rectangle.
   Without regions the hull itself is the view: the depth below the last echoes is unknown.

Each view gets a label (1, 2, ...) in `views`; `mask = views > 0`. It runs on every load, so the
envelope is found on a copy ≤ 384 px on the long side; polygons are drawn at full resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dlrs_desktop.imaging.pixels import chroma
from dlrs_desktop.imaging.types import UltrasoundRegion
from dlrs_desktop.imaging.views import is_padding_gap, split_views

_WORK_SIDE = 384  # long side of the working copy
_BLACK_LEVEL = 12  # grey level below which a smoothed pixel counts as background
_NOISE_FLOOR = 4  # deep tissue is at least this bright on most pixels; a black margin is not
_FIT_SLACK = 0.03  # fitted edges may leave this fraction of the envelope outside (its ragged border)
_COLOUR_CHROMA = 40  # max-min of R, G, B from which a pixel is colour (as in model.colour), not an echo
_NOT_IMAGE_TYPES = {13, 14}  # RegionDataType grey bar, colour bar: drawn inside image regions
_NOT_IMAGE_FORMATS = {2, 3, 4}  # RegionSpatialFormat M-mode, spectral, waveform
_MIN_FRACTION = 0.02  # a component smaller than this fraction of its search area is not an image
_KEEP_RATIO = 0.25  # components at least this fraction of the largest are kept (dual view, split sectors)
_STEEP = math.radians(50)  # a side edge is within this angle of the vertical
_PARALLEL = math.radians(6)  # side edges closer than this in angle: a linear probe's rectangle
# (sector and curvilinear fans open by 30° or more; a few degrees is a fit to a marker or colour bar)


@dataclass(frozen=True)
class ScanArea:
    """`views`: uint8 labels (0 = outside, 1..n = one view each); `method`: how it was found."""

    views: np.ndarray
    method: str

    @property
    def mask(self) -> np.ndarray:
        return self.views > 0


def _tissue(regions: Sequence[UltrasoundRegion]) -> list[UltrasoundRegion]:
    return [r for r in regions if r.spatial_format == 1 and r.data_type == 1]


def regions_mask(shape: tuple[int, int], regions: Sequence[UltrasoundRegion]) -> np.ndarray | None:
    """Union of the 2D-tissue region rectangles (bounds inclusive), or None if there are none."""
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    for r in _tissue(regions):
        x0, y0, x1, y1 = max(0, r.x0), max(0, r.y0), min(w - 1, r.x1), min(h - 1, r.y1)
        if x1 >= x0 and y1 >= y0:
            mask[y0 : y1 + 1, x0 : x1 + 1] = True
    return mask if mask.any() else None


def _envelopes(
    small: np.ndarray, search: np.ndarray, scale: float, keep_ratio: float = _KEEP_RATIO
) -> list[np.ndarray]:
    """Convex hulls (full-resolution (N, 2) float points) of the large bright components in `search`:
    at least 2 % of the search area and `keep_ratio` of the largest component."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    h, w = small.shape
    k_blur = 7 if min(h, w) >= 64 else 3
    raw = small > _BLACK_LEVEL
    # Dense echoes, not bright pixels: sparse text strokes near the image must not join it.
    dense = cv2.blur(raw.astype(np.float32), (k_blur, k_blur)) >= 0.5
    fg = (dense & search).astype(np.uint8)
    k = max(3, round(min(h, w) * 0.02) | 1)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return []
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(areas.max())
    if largest < _MIN_FRACTION * int(search.sum()):
        return []
    # The blur only joined the speckle: the hull follows the raw pixels.
    hulls = []
    big = (areas >= keep_ratio * largest) & (areas >= _MIN_FRACTION * int(search.sum()))
    for label in np.flatnonzero(big) + 1:
        comp = (labels == label) & raw
        if comp.sum() < 3:
            continue
        hull = cv2.convexHull(cv2.findNonZero(comp.astype(np.uint8))).reshape(-1, 2).astype(np.float64)
        hulls.append((hull + 0.5) / scale - 0.5)
    return hulls


def _fill(shape: tuple[int, int], pts: np.ndarray) -> np.ndarray:
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], 1)
    return out.astype(bool)


def _fit_line(y: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """x = a + b·y by least median of squares, then least squares on the inliers.

    Robust on purpose: markers touching the image (Philips' orientation "P") and stray ticks give
    rows whose outermost echo is not the probe's edge; up to half of the rows may be such outliers.
    """
    if len(y) < 5:
        return None
    idx = np.linspace(0, len(y) - 1, min(len(y), 24)).round().astype(int)  # 276 candidate lines
    i, j = np.triu_indices(len(idx), k=1)
    yi, yj, xi, xj = y[idx[i]], y[idx[j]], x[idx[i]], x[idx[j]]
    ok = np.abs(yj - yi) >= 3
    if not ok.any():
        return None
    b = (xj[ok] - xi[ok]) / (yj[ok] - yi[ok])
    a = xi[ok] - b * yi[ok]
    probe = np.linspace(0, len(y) - 1, min(len(y), 160)).round().astype(int)  # scored on ≤ 160 rows
    scores = np.median(np.abs(x[probe][None, :] - (a[:, None] + b[:, None] * y[probe][None, :])), axis=1)
    best = int(np.argmin(scores))
    resid = np.abs(x - (a[best] + b[best] * y))
    keep = resid <= max(2.0, 2.5 * float(np.median(resid)))
    if keep.sum() < 5:
        return None
    bb, aa = np.polyfit(y[keep], x[keep], 1)
    return float(aa), float(bb)


def _side_line(echo: np.ndarray, side: int) -> tuple[float, float] | None:
    """The view's left (-1) or right (+1) edge, x = a + b·y, from the outermost echo of each row.

    Only rows from the top down to the widest row are used: below it the outermost echo follows
    the bottom of the echoes (where they fade), not the probe's edge.
    """
    rows = np.flatnonzero(echo.any(axis=1))
    if len(rows) < 5:
        return None
    sub = echo[rows]
    first = sub.argmax(axis=1)
    last = sub.shape[1] - 1 - sub[:, ::-1].argmax(axis=1)
    xs = (first if side < 0 else last).astype(np.float64)
    q = len(rows) // 4  # a marker beside the top rows must not be taken for the widest row
    widest = q + (int(np.argmin(xs[q:])) if side < 0 else int(np.argmax(xs[q:])))
    line = _fit_line(rows[: widest + 1].astype(np.float64), xs[: widest + 1])
    if line is None or math.atan(abs(line[1])) > _STEEP:
        return None
    return line


def scanner_geometry(
    gray: np.ndarray, view: np.ndarray, region: UltrasoundRegion | None = None
) -> tuple[np.ndarray, str]:
    """One view as the probe's fan or rectangle: down to the region's bottom when the scanner declared
    one, else down to the last row with echoes or noise (exact black below is the margin)."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    h, w = gray.shape
    rect = np.ones((h, w), bool)
    bottom: float | None = None
    if region is not None:
        rect[:] = False
        y1 = min(h - 1, region.y1)
        rect[max(0, region.y0) : y1 + 1, max(0, region.x0) : min(w - 1, region.x1) + 1] = True
        bottom = float(y1)
    echo = (cv2.blur(gray, (5, 5)) > _BLACK_LEVEL) & view
    ys, xs = np.flatnonzero(view.any(axis=1)), np.flatnonzero(view.any(axis=0))  # (extents only)
    lo_col = max(0, region.x0) if region is not None else 0
    hi_col = min(w - 1, region.x1) if region is not None else w - 1
    # A view running along the frame's (region's) side for a fifth of its height was cropped there:
    # that side is the frame's edge, however dark the tissue along it (fitting echoes would cut it).
    along = 0.2 * (ys.max() - ys.min() + 1)
    tol = max(3, w // 100)  # a view ending a few pixels short of the edge still runs along it
    at_lo = view[:, lo_col : lo_col + tol].any(axis=1).sum() >= along
    at_hi = view[:, max(hi_col + 1 - tol, 0) : hi_col + 1].any(axis=1).sum() >= along
    left = (float(lo_col), 0.0) if at_lo else _side_line(echo, -1)
    right = (float(hi_col), 0.0) if at_hi else _side_line(echo, +1)
    if left is None or right is None or not echo.any():
        if region is None:
            return view, "hull"
        out = np.zeros((h, w), bool)
        out[int(ys.min()) : int(bottom or h - 1) + 1, int(xs.min()) : int(xs.max()) + 1] = True
        return out & rect, "rectangle"
    (al, bl), (ar, br) = left, right
    yy = np.arange(h, dtype=np.float32)[:, None]  # broadcast, not (h, w) grids: this runs on every load
    xx = np.arange(w, dtype=np.float32)[None, :]
    shape = (yy >= _top_line(view)[None, :]) & rect
    if math.atan(br) - math.atan(bl) <= _PARALLEL:  # parallel (or converging: not a probe): a rectangle
        shape &= (xx >= al + bl * yy) & (xx <= ar + br * yy)
        kind, apex = "rectangle", None
    else:
        y_apex = (ar - al) / (bl - br)
        apex = (al + bl * y_apex, y_apex)
        shape &= (yy > apex[1]) & (xx >= al + bl * yy) & (xx <= ar + br * yy)  # the wedge below the apex
        kind = "fan"
    n_view = int(np.count_nonzero(view))
    if np.count_nonzero(view & ~shape) > _FIT_SLACK * n_view:
        # The edges do not enclose the echoes (an anechoic organ at the side misled the fit): keep
        # the envelope's own extent as a rectangle instead of cutting tissue off.
        shape = (yy >= _top_line(view)[None, :]) & rect & (xx >= xs.min()) & (xx <= xs.max())
        kind, apex = "rectangle", None
    if bottom is None:
        # A view reaching both sides of the frame is a crop of the scan: no margin below it either.
        tall = 0.5 * (ys.max() - ys.min() + 1)
        spans = view[:, :tol].any(axis=1).sum() > tall and view[:, -tol:].any(axis=1).sum() > tall
        bottom = float(h - 1) if spans else _last_imaged_row(gray, shape, int(ys.max()))
    if apex is None:
        return (shape & (yy <= bottom)) | (view & rect), kind
    rows = np.flatnonzero(echo.any(axis=1))
    sub = echo[rows]
    ends = np.concatenate([sub.argmax(axis=1), sub.shape[1] - 1 - sub[:, ::-1].argmax(axis=1)])
    # Along a row the distance from the apex is largest at one of the row's two outermost echoes.
    farthest = float(np.sqrt(((ends - apex[0]) ** 2 + (np.tile(rows, 2) - apex[1]) ** 2).max()))
    r_out = max(bottom + 0.5 - apex[1], farthest + 0.5)  # through the bottom, or the farthest echo
    disc = (xx - apex[0]) ** 2 + (yy - apex[1]) ** 2 <= r_out * r_out
    return (shape & disc & (yy <= bottom)) | (view & rect), kind


def _last_imaged_row(gray: np.ndarray, shape: np.ndarray, start: int) -> float:
    """Going down from `start`, the last row whose part inside `shape` is not exact black: deep dark
    tissue still shows its noise floor (grey > 4 on most pixels), the margin below the image does not."""
    h = gray.shape[0]
    sub_g, sub_s = gray[start:], shape[start:]
    n = sub_s.sum(axis=1)
    lit = ((sub_g > _NOISE_FLOOR) & sub_s).sum(axis=1)
    dark = np.flatnonzero((n == 0) | (lit < 0.3 * n))
    return float(h - 1 if len(dark) == 0 else start + int(dark[0]) - 1)


def _top_line(view: np.ndarray) -> np.ndarray:
    """Per column, the first row of the view (the probe's face: an arc, a line or a point);
    columns beside the view take the value of its nearest column."""
    has = view.any(axis=0)
    top = view.argmax(axis=0).astype(np.float32)
    cols = np.flatnonzero(has)
    if len(cols) == 0:
        return np.zeros(view.shape[1], np.float32)
    top[: cols[0]] = top[cols[0]]
    top[cols[-1] + 1 :] = top[cols[-1]]
    return top


def compute_scan_area(
    gray: np.ndarray, regions: Sequence[UltrasoundRegion] = (), rgb: np.ndarray | None = None
) -> ScanArea:
    """Scan area with one label per view, and how it was obtained.

    `rgb`: the colour pixels, if any: saturated colour (markers, colour bars, coloured rulers) is
    never taken for an echo. Methods: "regions-geometry" (fan/rectangle from the DICOM regions and
    the echoes), "regions" (the region rectangles: nothing detectable inside), "pixels" (echo
    envelope, no regions), "full" (neither: the whole frame, one view).
    """
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    h, w = gray.shape
    echo_gray = gray
    if rgb is not None and rgb.ndim == 3:
        echo_gray = np.where(chroma(rgb) >= _COLOUR_CHROMA, 0, gray).astype(np.uint8)
    scale = min(1.0, _WORK_SIDE / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(echo_gray, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1.0 else echo_gray
    scale = sw / w  # the exact factor used
    views = np.zeros((h, w), np.uint8)
    label = 0
    tissue = _tissue(regions)
    if tissue:
        found = False
        for r in tissue:
            one = _search_area((h, w), r, regions)
            if one is None:
                continue
            one_small = cv2.resize(one.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
            # Inside a region every sizeable echo belongs to the image (text is outside regions).
            hulls = _envelopes(small, one_small.astype(bool), scale, keep_ratio=0.0)
            if not hulls:
                label += 1
                views[one & (views == 0)] = label
                continue
            found = True
            # One region is one image: an anechoic band (a full bladder) must not cut it in two.
            merged = [np.vstack(hulls)]
            for view in _split(echo_gray, merged):
                area, _ = scanner_geometry(echo_gray, view, r)
                label += 1
                views[area & (views == 0)] = label
        return ScanArea(views, "regions-geometry" if found else "regions")
    hulls = _envelopes(small, np.ones((sh, sw), dtype=bool), scale)
    if not hulls:
        return ScanArea(np.ones((h, w), np.uint8), "full")
    for view in _split(echo_gray, _group(hulls, echo_gray, math.ceil(1 / scale) + 1)):
        area, _ = scanner_geometry(echo_gray, view)
        label += 1
        views[area & (views == 0)] = label
    return ScanArea(views, "pixels")


def _search_area(
    shape: tuple[int, int], region: UltrasoundRegion, regions: Sequence[UltrasoundRegion]
) -> np.ndarray | None:
    """A tissue region's rectangle without the grey/colour bars and traces the scanner put inside it."""
    one = regions_mask(shape, [region])
    if one is None:
        return None
    h, w = shape
    for r in regions:
        if r.data_type in _NOT_IMAGE_TYPES or r.spatial_format in _NOT_IMAGE_FORMATS:
            one[max(0, r.y0) : min(h, r.y1 + 1), max(0, r.x0) : min(w, r.x1 + 1)] = False
    return one if one.any() else None


def _group(hulls: list[np.ndarray], gray: np.ndarray, margin: int) -> list[np.ndarray]:
    """Without regions: components are separate views only when they look like a dual display
    (each at least half the size of the largest, side by side or one above the other without
    overlapping, with padding between them: `views.is_padding_gap`); otherwise they are parts of one
    image (echoes above and below an anechoic band: a cyst is bounded by tissue, padding is not)."""
    if len(hulls) == 1:
        return hulls
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    areas = [cv2.contourArea(h.astype(np.float32)) for h in hulls]
    boxes = [(h[:, 0].min(), h[:, 1].min(), h[:, 0].max(), h[:, 1].max()) for h in hulls]
    similar = min(areas) >= 0.5 * max(areas)
    apart = all(
        (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]) and is_padding_gap(gray, a, b, margin)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
    )
    return hulls if similar and apart else [np.vstack(hulls)]


def _split(gray: np.ndarray, hulls: list[np.ndarray]) -> list[np.ndarray]:
    """Each hull (the convex hull of its points) as a full-resolution mask, split into its views where
    two images touch."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    out: list[np.ndarray] = []
    for pts in hulls:
        hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
        out.extend(split_views(gray, _fill(gray.shape, hull)))
    return out


def compute_scan_mask(gray: np.ndarray, regions: Sequence[UltrasoundRegion] = ()) -> tuple[np.ndarray, str]:
    """Scan-area mask (bool, same shape as `gray`) and how it was obtained (see `compute_scan_area`)."""
    area = compute_scan_area(gray, regions)
    return area.mask, area.method
