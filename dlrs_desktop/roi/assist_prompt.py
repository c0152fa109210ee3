"""The learned assist's input: a crop around the prompt, resized, plus prompt channels (numpy, no torch).

One module builds the network's input for training (`dlrs_desktop.training.assist_*`) and at run
time (`roi.assist_learned`), so what the model saw in training is exactly what it sees in the app.

Why the crop is defined relative to the prompt and never in millimetres: the same code then serves
an uncalibrated screen capture and a calibrated DICOM, and no lesion size is assumed.

- Box prompt: the box, its short side raised to at least half its long side (an elongated lesion is
  stretched at most 2:1), padded by `BOX_MARGIN` of that size per side, resized to SIZE×SIZE.
  Channel 1 is the ellipse inscribed in the box as a soft prior (1 at its centre, 0 on the
  ellipse, −1 far outside: the box's extent and the classical baseline in one), channel 2 is zero.
- Click prompt: a square of side `side` px centred on the click. Channel 1 is zero, channel 2 a
  Gaussian at the click. The runtime tries several sides (fractions of the image) and refines.
- Diameter prompt (two clicks on the lesion's long-axis ends, as sonographers place calipers):
  a square of `DIAMETER_CROP` × the distance centred between them; channel 2 holds a Gaussian at
  each end (one Gaussian at the centre is a click, two apart are a diameter).
Channel 0 is the grey image, z-scored over the crop (robust to gain), 0 where the crop leaves the image.

Corrective clicks (bundles of recipe 3 on, `CORRECTION_CHANNELS` inputs): after a box, the sonographer
clicks where the outline is wrong — "include" a spot the outline missed, "exclude" one it took in.
Channel 3 holds a Gaussian at each include point, channel 4 at each exclude point; with no
corrections both are zero and the input is a 3-channel model's input plus two zero channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 96
BOX_MARGIN = 0.25  # context beyond each side of the box, as a fraction of the (aspect-capped) box size
MAX_STRETCH = 2.0  # the crop's short side is at least 1/MAX_STRETCH of its long side
CLICK_SIGMA = SIZE / 16.0  # the click Gaussian's sigma in input pixels
CHANNELS = 3  # grey, box prior, click/diameter Gaussians: every bundle
CORRECTION_CHANNELS = 5  # + include and exclude points (recipe 3 on)
DIAMETER_CROP = 1.7  # a diameter prompt's crop side / the distance between its two clicks


@dataclass(frozen=True)
class CropFrame:
    """An axis-aligned region of the image (integer px, may extend past the image) mapped to SIZE×SIZE."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def to_input(self, pts: np.ndarray) -> np.ndarray:
        """Image px (x, y) → input px."""
        p = np.asarray(pts, float)
        return np.column_stack(
            [(p[:, 0] - self.x0) * SIZE / self.width, (p[:, 1] - self.y0) * SIZE / self.height]
        )

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        """Input px (x, y) → image px."""
        p = np.asarray(pts, float)
        return np.column_stack(
            [p[:, 0] * self.width / SIZE + self.x0, p[:, 1] * self.height / SIZE + self.y0]
        )


def box_frame(box: tuple[float, float, float, float]) -> CropFrame:
    """The crop region for a box prompt (x0, y0, x1, y1 in image px)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    bw, bh = max(bw, bh / MAX_STRETCH), max(bh, bw / MAX_STRETCH)
    half_w, half_h = bw * (0.5 + BOX_MARGIN), bh * (0.5 + BOX_MARGIN)
    return _frame(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def click_frame(xy: tuple[float, float], side: float) -> CropFrame:
    """The square crop of `side` px centred on a click."""
    x, y = xy
    h = max(side, 8.0) / 2
    return _frame(x - h, y - h, x + h, y + h)


def diameter_frame(p1: tuple[float, float], p2: tuple[float, float]) -> CropFrame:
    """The square crop for a diameter prompt: centred between the ends, DIAMETER_CROP × their distance."""
    dist = float(np.hypot(p2[0] - p1[0], p2[1] - p1[1]))
    return click_frame(((p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2), DIAMETER_CROP * dist)


def _frame(x0: float, y0: float, x1: float, y1: float) -> CropFrame:
    ix0, iy0 = int(np.floor(x0)), int(np.floor(y0))
    return CropFrame(ix0, iy0, max(int(np.ceil(x1)), ix0 + 4), max(int(np.ceil(y1)), iy0 + 4))


def crop_resized(a: np.ndarray, frame: CropFrame, *, interpolation: int | None = None) -> np.ndarray:
    """The frame's region of a 2-D array, zero outside the array, resized to SIZE×SIZE (float32)."""
    h, w = a.shape
    sub = np.zeros((frame.height, frame.width), np.float32)
    ax0, ay0 = max(frame.x0, 0), max(frame.y0, 0)
    ax1, ay1 = min(frame.x1, w), min(frame.y1, h)
    if ax1 > ax0 and ay1 > ay0:
        sub[ay0 - frame.y0 : ay1 - frame.y0, ax0 - frame.x0 : ax1 - frame.x0] = a[ay0:ay1, ax0:ax1]
    if interpolation is None:
        shrink = frame.width > SIZE or frame.height > SIZE
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(sub, (SIZE, SIZE), interpolation=interpolation)


def normalise(grey: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """z-score over the valid part of the crop (clipped to ±5): gain and brightness do not matter."""
    v = grey[valid > 0.5]
    if v.size < 16:
        return np.zeros_like(grey, np.float32)
    mean, std = float(v.mean()), float(v.std())
    out = (grey - mean) / max(std, 1.0)
    return np.clip(np.where(valid > 0.5, out, -mean / max(std, 1.0)), -5, 5).astype(np.float32)


def box_channel(frame: CropFrame, box: tuple[float, float, float, float]) -> np.ndarray:
    (bx0, by0), (bx1, by1) = frame.to_input(np.array([[box[0], box[1]], [box[2], box[3]]]))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    rx, ry = max((bx1 - bx0) / 2, 1.0), max((by1 - by0) / 2, 1.0)
    e = 1 - ((xx - (bx0 + bx1) / 2) / rx) ** 2 - ((yy - (by0 + by1) / 2) / ry) ** 2
    return np.clip(e, -1, 1).astype(np.float32)


def click_channel(frame: CropFrame, xy: tuple[float, float]) -> np.ndarray:
    (cx, cy) = frame.to_input(np.array([xy]))[0]
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * CLICK_SIGMA**2)).astype(np.float32)


def diameter_channel(frame: CropFrame, ends: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    return np.maximum(click_channel(frame, ends[0]), click_channel(frame, ends[1]))


def graph_channels(shape: Sequence) -> int:
    """The channel count an ONNX input shape declares (N, C, H, W): 3, or 5 for a graph that takes
    corrective clicks; ValueError for anything else (a symbolic C counts as 3, the first bundles')."""
    c = shape[1] if len(shape) == 4 and isinstance(shape[1], int) else CHANNELS
    if c not in (CHANNELS, CORRECTION_CHANNELS):
        raise ValueError(f"The contour-assist ONNX graph takes {c} channels, not 3 or 5.")
    return c


def points_channel(frame: CropFrame, points: Sequence[tuple[float, float]]) -> np.ndarray:
    """A Gaussian at each point (their maximum); zero for none."""
    out = np.zeros((SIZE, SIZE), np.float32)
    for xy in points:
        out = np.maximum(out, click_channel(frame, xy))
    return out


def make_input(
    grey: np.ndarray,
    frame: CropFrame,
    *,
    box: tuple[float, float, float, float] | None = None,
    click: tuple[float, float] | None = None,
    diameter: tuple[tuple[float, float], tuple[float, float]] | None = None,
    include: Sequence[tuple[float, float]] = (),
    exclude: Sequence[tuple[float, float]] = (),
    channels: int = CHANNELS,
) -> np.ndarray:
    """The channels×SIZE×SIZE float32 input for one prompt (exactly one of box / click / diameter),
    with corrective `include` / `exclude` points when the model takes them (`channels` 5)."""
    if sum(v is not None for v in (box, click, diameter)) != 1:
        raise ValueError("give exactly one of box, click or diameter")
    if channels not in (CHANNELS, CORRECTION_CHANNELS):
        raise ValueError(f"a contour-assist input has {CHANNELS} or {CORRECTION_CHANNELS} channels")
    if channels == CHANNELS and (include or exclude):
        raise ValueError("this model takes no corrective clicks")
    g = crop_resized(np.asarray(grey, np.float32), frame)
    valid = crop_resized(np.ones(grey.shape, np.float32), frame)
    img = normalise(g, valid)
    zeros = np.zeros((SIZE, SIZE), np.float32)
    if box is not None:
        planes = [img, box_channel(frame, box), zeros]
    elif diameter is not None:
        planes = [img, zeros, diameter_channel(frame, diameter)]
    else:
        assert click is not None
        planes = [img, zeros, click_channel(frame, click)]
    if channels == CORRECTION_CHANNELS:
        planes += [points_channel(frame, include), points_channel(frame, exclude)]
    return np.stack(planes)


def paste_probability(prob: np.ndarray, frame: CropFrame, shape: tuple[int, int]) -> tuple[np.ndarray, tuple]:
    """The SIZE×SIZE probability map resized back onto the image: (map, (x0, y0)) for the frame ∩ image."""
    h, w = shape
    full = cv2.resize(prob.astype(np.float32), (frame.width, frame.height), interpolation=cv2.INTER_LINEAR)
    ax0, ay0 = max(frame.x0, 0), max(frame.y0, 0)
    ax1, ay1 = min(frame.x1, w), min(frame.y1, h)
    return full[ay0 - frame.y0 : ay1 - frame.y0, ax0 - frame.x0 : ax1 - frame.x0], (ax0, ay0)
