"""Explanation maps back on the image: a crop-space map (a region's class activation map) mapped
through its crop's geometry to image pixels, so the overlay lands where the network looked."""

from __future__ import annotations

import math

import cv2
import numpy as np

from dlrs_desktop.model.preprocess import CropInfo


def crop_to_image(values: np.ndarray, info: CropInfo, shape: tuple[int, int]) -> tuple[np.ndarray, tuple]:
    """Map a crop-space map (any size, resized to S×S) back to image pixels.

    Returns (patch float32, bbox (x0, y0, x1, y1) exclusive) covering the crop square within the image.
    """
    s = info.mask.shape[0]
    v = values.astype(np.float32)
    if v.shape != (s, s):
        v = cv2.resize(v, (s, s), interpolation=cv2.INTER_LINEAR)
    m = info.matrix
    corners = np.array([[-0.5, -0.5], [s - 0.5, s - 0.5]])
    xy = corners @ m[:, :2].T + m[:, 2]
    h, w = shape
    x0, y0 = max(math.floor(xy[0, 0]), 0), max(math.floor(xy[0, 1]), 0)
    x1, y1 = min(math.ceil(xy[1, 0]) + 1, w), min(math.ceil(xy[1, 1]) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.float32), (x0, y0, x0, y0)
    # image patch pixel → crop pixel: inverse of `m`, shifted by the patch origin.
    inv = cv2.invertAffineTransform(m)
    inv[:, 2] += inv[:, 0] * x0 + inv[:, 1] * y0
    patch = cv2.warpAffine(
        v, inv, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=float("nan")
    )
    return patch, (x0, y0, x1, y1)
