"""Pixel conversions shared by the DICOM and raster readers: everything ends as 8-bit display pixels."""

from __future__ import annotations

import numpy as np


def rescale_to_uint8(arr: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Linear map of [lo, hi] (default: the frame's min and max) to 0..255, rounded.

    Used for >8-bit and float data without a display window: a viewer's "auto contrast".
    A constant frame maps to 0.
    """
    a = np.asarray(arr)
    if a.dtype == np.uint8 and lo is None and hi is None:
        return a
    lo = float(np.min(a)) if lo is None else float(lo)
    hi = float(np.max(a)) if hi is None else float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8)
    out = (a.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma (ITU-R BT.601, what OpenCV and most viewers use); exact for grey images stored as RGB."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, None], 3, axis=2)


def chroma(rgb: np.ndarray) -> np.ndarray:
    """max(R,G,B) − min(R,G,B) (uint8): 0 for gray pixels, large for saturated colour (cv2: fast)."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    r, g, b = (np.ascontiguousarray(rgb[..., i]) for i in range(3))
    return cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
