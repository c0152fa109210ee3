"""Split views: two images written side by side (or one above the other) with no gap between them.

Speckle continues from one pixel column of an image to the next, so adjacent columns differ little;
two views that touch are independent images, so the columns either side of their seam differ a lot.
A seam is a column boundary in the middle half of the imaged area whose mean absolute difference is
at least `SIDE_BY_SIDE_JUMP` times the image's median boundary in every one of 6 horizontal bands
(measured: 13× at the seam of GE's dual power-Doppler image US1_UNCR, at most 1.8× in 318 single-view
BUS-BRA and BUSI scans). Requiring every band keeps a colour box's edge line or a shadow, which cross
only part of the height, from being taken for a seam; a horizontal line is no jump at all; a thin
line drawn over the whole height (a caliper's measurement line) is two steps side by side on every
row, a seam one clean step on some rows at least (`_single_step_rows`). Rows of
one image are less alike than columns (single views reach 6.3×), so top/bottom seams need
`TOP_BOTTOM_JUMP`.

Views separated by a gap are separate components of the echo envelope, but so are the echoes above
and below a large anechoic cyst. A gap separates views only when it is padding (`is_padding_gap`):
uniform across the FULL extent of the two views on most of its rows. A dark lesion is bounded by
tissue left and right (or above and below), so every row through it has dim speckle at its ends.
"""

from __future__ import annotations

import itertools

import numpy as np

SIDE_BY_SIDE_JUMP = 3.0
TOP_BOTTOM_JUMP = 8.0
_BANDS = 6
_SINGLE_STEP_ROWS = 0.08  # a seam is one clean step on at least this fraction of the rows
_MIN_SIDE = 32  # pixels; smaller areas are not searched for a seam
_PAD_TOLERANCE = 4  # grey levels a padding pixel may differ from the gap's median (as _NOISE_FLOOR)
_PAD_ROW_DEVIANT = 0.01  # a padding row: at most this fraction of its pixels off the gap's level
_PAD_ROWS = 0.5  # a padding gap: at least this fraction of its rows are padding rows (text may cross)


def band_jumps(g: np.ndarray) -> np.ndarray:
    """(bands, w-1): per horizontal band, how abrupt the boundary between columns x and x+1 is: the
    mean absolute difference of the two columns over the band's median for all boundaries."""
    h = g.shape[0]
    edges = np.linspace(0, h, _BANDS + 1).astype(int)
    diff = np.abs(np.diff(g, axis=1))
    out = np.zeros((_BANDS, g.shape[1] - 1), np.float32)
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        if b - a < 4:
            continue
        d = diff[a:b].mean(axis=0)
        out[k] = d / max(float(np.median(d)), 1.0)
    return out


def seam_scores(g: np.ndarray) -> np.ndarray:
    """(w-1,): the jump of each boundary in the band where it is least abrupt.

    A seam between independent images is abrupt in every band; a colour box's edge or a shadow is
    abrupt only where it runs, and a horizontal line is no jump at all.
    """
    return band_jumps(g).min(axis=0)


def _single_step_rows(g: np.ndarray, i: int) -> float:
    """Fraction of rows where boundary i is one clean step: at least 3× the image's typical jump and
    3× any jump within 2 columns of it (rows smoothed over 5 to tame speckle).

    A thin line drawn over the whole height (a caliper's measurement line) is two steps side by side
    on every row; the edge between two views is one step wherever no box line flanks it (13 % of the
    rows of US1_UNCR, whose colour boxes' edges run beside its seam; 4 % for a caliper line in BUSI).
    """
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    d = np.abs(np.diff(cv2.blur(g, (1, 5)), axis=1))
    near = [j for j in (i - 2, i - 1, i + 1, i + 2) if 0 <= j < d.shape[1]]
    step = d[:, i]
    single = (step >= 3 * max(float(np.median(d)), 1.0)) & (d[:, near].max(axis=1) < step / 3)
    return float(single.mean())


def find_seam(gray: np.ndarray, mask: np.ndarray, threshold: float) -> int | None:
    """Column x such that views are x' <= x and x' > x, or None (searched in the middle half)."""
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(xs) == 0:
        return None
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    if x1 - x0 < _MIN_SIDE or y1 - y0 < _MIN_SIDE:
        return None
    pad = (y1 - y0) // 10
    g = gray[y0 + pad : y1 - pad, x0:x1].astype(np.float32)
    jumps = band_jumps(g)
    score = jumps.min(axis=0)
    lo, hi = (x1 - x0) // 4, 3 * (x1 - x0) // 4
    if hi <= lo:
        return None
    i = lo + int(np.argmax(score[lo:hi]))
    if score[i] < threshold or _single_step_rows(g, i) < _SINGLE_STEP_ROWS:
        return None
    return x0 + i


def split_views(gray: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    """The mask as one view, or two when a side-by-side or top/bottom seam is found."""
    x = find_seam(gray, mask, SIDE_BY_SIDE_JUMP)
    if x is not None:
        left, right = mask.copy(), mask.copy()
        left[:, x + 1 :] = False
        right[:, : x + 1] = False
        return [left, right]
    y = find_seam(gray.T, mask.T, TOP_BOTTOM_JUMP)
    if y is not None:
        top, bottom = mask.copy(), mask.copy()
        top[y + 1 :] = False
        bottom[: y + 1] = False
        return [top, bottom]
    return [mask]


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (inclusive, full-resolution pixels)


def is_padding_gap(gray: np.ndarray, a: Box, b: Box, margin: int = 2) -> bool:
    """Whether the strip between boxes `a` and `b` (side by side or one above the other) is the padding
    a scanner leaves between two views: on at least `_PAD_ROWS` of its lines, `_PAD_ROW_DEVIANT` or
    fewer pixels across the full extent of both views differ from the strip's level by more than
    `_PAD_TOLERANCE`. `margin` pixels next to each box are left out (the boxes come from a reduced copy).

    A dark lesion is bounded by tissue, so lines through it end in dim speckle (BUSI benign 188: 2-12 %
    of each row of its cyst band, at the left edge), and the echoes above and below it stay one view."""
    for axis in (0, 1):  # 0: a above b (lines are rows); 1: side by side (lines are columns)
        if axis == 0:
            lo, hi = (a, b) if a[1] <= b[1] else (b, a)
            g0, g1 = int(np.ceil(lo[3])) + 1 + margin, int(np.floor(hi[1])) - margin
            c0, c1 = int(np.floor(min(a[0], b[0]))), int(np.ceil(max(a[2], b[2])))
            strip = gray[max(g0, 0) : max(g1, 0), max(c0, 0) : c1 + 1]
        else:
            lo, hi = (a, b) if a[0] <= b[0] else (b, a)
            g0, g1 = int(np.ceil(lo[2])) + 1 + margin, int(np.floor(hi[0])) - margin
            c0, c1 = int(np.floor(min(a[1], b[1]))), int(np.ceil(max(a[3], b[3])))
            strip = gray[max(c0, 0) : c1 + 1, max(g0, 0) : max(g1, 0)].T
        if strip.size == 0 or g1 <= g0:
            continue
        level = float(np.median(strip))
        deviant = (np.abs(strip.astype(np.float32) - level) > _PAD_TOLERANCE).mean(axis=1)
        if (deviant <= _PAD_ROW_DEVIANT).mean() >= _PAD_ROWS:
            return True
    return False
