"""Training examples for the learned assist: realistic prompts and scanner-like changes (numpy, no torch).

Each example is drawn from its own generator seeded by (seed, epoch, index), so a run is the same
for a seed whatever the batch order or a resume in between.

Prompts as users give them: boxes from tight to loose (each side moved by −6 % … +17 % of the
lesion's size, outwards mostly) and clicks anywhere in the inner half of the lesion, with the crop
1.2–3× the lesion's long side (the runtime tries several sizes for a click). Image
changes: gamma (gain curve), a depth ramp (TGC), multiplicative speckle, blur, lower resolution,
left-right flip, and bright caliper crosses / text burnt into the picture as scanners do.
"""

from __future__ import annotations

import cv2
import numpy as np

from dlrs_desktop.roi import assist_prompt as ap

CLICK_PROB = 0.4
CLICK_SIDE_RANGE = (1.2, 3.0)  # crop side / lesion long side for click examples


def lesion_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def random_box(mask: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = lesion_box(mask)
    bw, bh = x1 - x0, y1 - y0
    lo, hi = (-0.02, 0.03) if rng.random() < 0.2 else (-0.06, 0.17)
    d = rng.uniform(lo, hi, 4) * np.array([bw, bh, bw, bh])
    return x0 - d[0], y0 - d[1], x1 + d[2], y1 + d[3]


def random_click(mask: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """A point in the inner half of the lesion (distance to the margin ≥ half the largest)."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    ys, xs = np.nonzero(dist >= 0.5 * dist.max())
    i = int(rng.integers(len(xs)))
    return float(xs[i]) + rng.uniform(0, 1), float(ys[i]) + rng.uniform(0, 1)


def centroid_click(mask: np.ndarray) -> tuple[float, float]:
    """The centroid, or the inner-most point if the centroid falls outside (a crescent)."""
    ys, xs = np.nonzero(mask)
    cx, cy = float(xs.mean()) + 0.5, float(ys.mean()) + 0.5
    if mask[int(cy), int(cx)]:
        return cx, cy
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(x) + 0.5, float(y) + 0.5


def _intensity(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    s = ap.SIZE
    g = np.clip(g, 0, 255) / 255.0
    g = g ** rng.uniform(0.7, 1.5)
    ramp = 1 + rng.uniform(-0.35, 0.35) * (np.linspace(-0.5, 0.5, s)[:, None])
    g = g * ramp
    if rng.random() < 0.5:
        noise = cv2.GaussianBlur(rng.normal(0, 1, (s, s)).astype(np.float32), (0, 0), rng.uniform(0.6, 1.5))
        g = g * (1 + rng.uniform(0.05, 0.25) * noise / max(float(noise.std()), 1e-6))
    if rng.random() < 0.25:
        g = cv2.GaussianBlur(g.astype(np.float32), (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.2:
        f = rng.uniform(0.4, 0.8)
        small = cv2.resize(g.astype(np.float32), (int(s * f), int(s * f)), interpolation=cv2.INTER_AREA)
        g = cv2.resize(small, (s, s), interpolation=cv2.INTER_LINEAR)
    return (np.clip(g, 0, 1.2) * 255).astype(np.float32)


def _marks(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Caliper crosses and a few characters, as scanners burn them into the picture."""
    s = ap.SIZE
    overlay = np.zeros((s, s), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        x, y = (int(v) for v in rng.integers(0, s, 2))
        colour = float(rng.uniform(180, 255))
        if rng.random() < 0.6:
            r = int(rng.integers(2, 6))
            cv2.line(overlay, (x - r, y), (x + r, y), colour, 1)
            cv2.line(overlay, (x, y - r), (x, y + r), colour, 1)
        else:
            text = "".join(rng.choice(list("0123456789ABCDEFcm.+"), int(rng.integers(2, 6))))
            cv2.putText(overlay, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.25, 0.45), colour, 1)
    return np.maximum(g, overlay.astype(np.float32))


def make_example(
    grey: np.ndarray, mask: np.ndarray, rng: np.random.Generator, *, augment: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(input CHANNELS×SIZE×SIZE, target SIZE×SIZE in [0, 1]) for one random prompt on one case."""
    click = rng.random() < CLICK_PROB
    if click:
        xy = random_click(mask, rng) if augment else centroid_click(mask)
        x0, y0, x1, y1 = lesion_box(mask)
        ratio = rng.uniform(*CLICK_SIDE_RANGE) if augment else 2.0
        frame = ap.click_frame(xy, ratio * max(x1 - x0, y1 - y0))
    else:
        box = random_box(mask, rng) if augment else lesion_box(mask)
        frame = ap.box_frame(box)
    g = ap.crop_resized(grey.astype(np.float32), frame)
    valid = ap.crop_resized(np.ones(grey.shape, np.float32), frame)
    target = ap.crop_resized(mask.astype(np.float32), frame)
    if augment:
        g = _intensity(g, rng)
        if rng.random() < 0.3:
            g = _marks(g, rng)
    img = ap.normalise(g, valid)
    zeros = np.zeros_like(img)
    if click:
        x = np.stack([img, zeros, ap.click_channel(frame, xy)])
    else:
        x = np.stack([img, ap.box_channel(frame, box), zeros])
    if augment and rng.random() < 0.5:
        x, target = x[:, :, ::-1], target[:, ::-1]
    return np.ascontiguousarray(x, np.float32), np.ascontiguousarray(target, np.float32)


def make_fixed_examples(grey: np.ndarray, mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The validation prompts: the tight box, and a centroid click with a crop 2× the lesion."""
    box = lesion_box(mask)
    out = []
    for frame, kw in (
        (ap.box_frame(box), {"box": box}),
        (ap.click_frame(centroid_click(mask), 2.0 * max(box[2] - box[0], box[3] - box[1])), None),
    ):
        if kw is None:
            kw = {"click": centroid_click(mask)}
        x = ap.make_input(grey, frame, **kw)
        out.append((x, ap.crop_resized(mask.astype(np.float32), frame)))
    return out
