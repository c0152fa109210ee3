"""The whole scan area as one small picture: what the organ check of the domain guard looks at (numpy + cv2).

Every other check of the guard looks at the lesion's surroundings, and a circle on thyroid, fetal head or
lung parenchyma looks, to those checks, like a breast lesion's surroundings (docs/DOMAIN_GUARD.md, "Real
non-breast ultrasound"). What tells a breast scan from another organ's is the layout of the whole field
of view: skin, fat lobules, glandular tissue and pectoral muscle in layers, against a skull's ellipse, a
pleural line with its reverberations, a trachea's shadow. So the view is the scan area only (its
bounding box, outside it zero), letter-boxed to a square so that no aspect is distorted, reduced to
`size` × `size` and standardised over the scan area, so that gain and the display's grey map do not
matter. Training (training/organ_gate.py) and prediction use this same function.
"""

from __future__ import annotations

import cv2
import numpy as np

#: side of the view the organ check reads, in pixels
VIEW_SIZE = 128
#: a scan area smaller than this on either side is too small to tell an organ by
MIN_SIDE = 32


def whole_scan_view(gray: np.ndarray, scan_mask: np.ndarray, size: int = VIEW_SIZE) -> np.ndarray:
    """(size, size) float32: the scan area's bounding box, letter-boxed, resized, z-scored inside it."""
    g = np.asarray(gray)
    m = np.asarray(scan_mask, bool)
    if g.ndim != 2 or m.shape != g.shape:
        raise ValueError(
            f"a 2-D grey image and a scan area of its shape are needed, not {g.shape} and {m.shape}"
        )
    ys, xs = np.nonzero(m)
    if ys.size == 0 or np.ptp(ys) + 1 < MIN_SIDE or np.ptp(xs) + 1 < MIN_SIDE:
        raise ValueError("the scan area is too small to be read as a whole")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = g[y0:y1, x0:x1].astype(np.float32)
    inside = m[y0:y1, x0:x1]
    side = max(crop.shape)
    canvas = np.zeros((side, side), np.float32)
    area = np.zeros((side, side), np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    canvas[top : top + crop.shape[0], left : left + crop.shape[1]] = np.where(inside, crop, 0.0)
    area[top : top + crop.shape[0], left : left + crop.shape[1]] = inside
    small = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    weight = cv2.resize(area, (size, size), interpolation=cv2.INTER_AREA)
    keep = weight > 0.5
    values = small[keep] / weight[keep]
    mean, sd = float(values.mean()), float(values.std())
    out = np.zeros((size, size), np.float32)
    out[keep] = (values - mean) / max(sd, 1e-3)
    return out
