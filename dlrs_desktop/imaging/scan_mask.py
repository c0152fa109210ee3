"""Where the pixels are real tissue: the scan area that rings are clipped to.

Scanner screenshots and DICOM captures carry black margins, burned-in text, depth rulers and
colour bars around the B-mode image. The imaged area is found from the pixels (smoothed non-black
mask → opening to cut off thin text and ruler ticks → large connected components → convex hull,
which also fills dark tissue such as the hypoechoic tumour itself) and intersected with the DICOM
2D-tissue region rectangles when the file has them. It runs on every load, so it works on a
downsampled copy (≤ 384 px on the long side): a few milliseconds on a 1024x768 frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dlrs_desktop.imaging.types import UltrasoundRegion

_WORK_SIDE = 384  # long side of the working copy
_BLACK_LEVEL = 12  # grey level below which a smoothed pixel counts as background
_MIN_FRACTION = 0.02  # a component smaller than this fraction of its search area is not an image
_KEEP_RATIO = 0.25  # components at least this fraction of the largest are kept (dual view, split sectors)


def regions_mask(shape: tuple[int, int], regions: Sequence[UltrasoundRegion]) -> np.ndarray | None:
    """Union of the 2D-tissue region rectangles (bounds inclusive), or None if there are none."""
    tissue = [r for r in regions if r.spatial_format == 1 and r.data_type == 1]
    if not tissue:
        return None
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    for r in tissue:
        x0, y0 = max(0, r.x0), max(0, r.y0)
        x1, y1 = min(w - 1, r.x1), min(h - 1, r.y1)
        if x1 >= x0 and y1 >= y0:
            mask[y0 : y1 + 1, x0 : x1 + 1] = True
    return mask if mask.any() else None


def _imaged_area(gray_small: np.ndarray, search: np.ndarray) -> np.ndarray | None:
    """Convex hulls of the large bright components inside `search` (both at working resolution)."""
    import cv2

    h, w = gray_small.shape
    k_blur = 5 if min(h, w) >= 64 else 3
    smooth = cv2.blur(gray_small, (k_blur, k_blur))
    fg = ((smooth > _BLACK_LEVEL) & search).astype(np.uint8)
    k = max(3, round(min(h, w) * 0.02) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(areas.max())
    if largest < _MIN_FRACTION * int(search.sum()):
        return None
    out = np.zeros((h, w), dtype=np.uint8)
    for label in np.flatnonzero(areas >= _KEEP_RATIO * largest) + 1:
        pts = cv2.findNonZero((labels == label).astype(np.uint8))
        hull = cv2.convexHull(pts)
        cv2.fillConvexPoly(out, hull, 1)
    # The box blur spread the bright area by k_blur // 2 pixels: take them back.
    shrink = cv2.getStructuringElement(cv2.MORPH_RECT, (k_blur, k_blur))
    out = cv2.erode(out, shrink)
    return out.astype(bool) & search


def compute_scan_mask(gray: np.ndarray, regions: Sequence[UltrasoundRegion] = ()) -> tuple[np.ndarray, str]:
    """Scan-area mask (bool, same shape as `gray`) and how it was obtained.

    Method strings: "regions+pixels" (region rectangles ∩ detected area), "pixels" (detected
    only), "regions" (rectangles; nothing detectable inside), "full" (neither: the whole frame).
    """
    import cv2

    h, w = gray.shape
    rect = regions_mask((h, w), regions)
    scale = min(1.0, _WORK_SIDE / max(h, w))
    if scale < 1.0:
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        small = cv2.resize(gray, (sw, sh), interpolation=cv2.INTER_AREA)
    else:
        small, sw, sh = gray, w, h

    if rect is not None:
        # Detect per region so that each view of a dual-view image keeps its own hull.
        detected = np.zeros((sh, sw), dtype=bool)
        found = False
        tissue = [r for r in regions if r.spatial_format == 1 and r.data_type == 1]
        for r in tissue:
            one = regions_mask((h, w), [r])
            if one is None:
                continue
            one_small = cv2.resize(one.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
            area = _imaged_area(small, one_small.astype(bool))
            if area is not None:
                detected |= area
                found = True
        if not found:
            return rect, "regions"
        method = "regions+pixels"
    else:
        area = _imaged_area(small, np.ones((sh, sw), dtype=bool))
        if area is None:
            return np.ones((h, w), dtype=bool), "full"
        detected, method = area, "pixels"

    if scale < 1.0:
        up = cv2.resize(detected.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR)
        full = up > 127
    else:
        full = detected
    if rect is not None:
        full &= rect
    return full, method
