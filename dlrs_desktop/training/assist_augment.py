"""Training examples for the learned assist: realistic prompts and scanner-like changes (numpy, no torch).

Each example is drawn from its own generator seeded by (seed, epoch, index), so a run is the same
for a seed whatever the batch order or a resume in between.

Two recipes (`AssistTrainConfig.recipe`); recipe 1 built the first shipped bundle and is kept so
its command still rebuilds it.

Recipe 1. Prompts: boxes from tight to loose (each side moved by −6 % … +17 % of the lesion's size,
outwards mostly; 20 % near-tight) and clicks anywhere in the inner half of the lesion, with the crop
1.2–3× the lesion's long side (the runtime tries several sizes for a click). Image changes: gamma
(gain curve), a depth ramp (TGC), multiplicative speckle, blur, lower resolution, left-right flip,
and bright caliper crosses / text burnt into the picture as scanners do.

Recipe 2 (issue 28: prompts as people give them, scanners the model never saw). Prompts: 60 % boxes,
40 % of them as a careful sonographer draws them (the lesion's extent, each side ±2 px of the
original image), the rest from −3 % to +20 % per side; 25 % clicks as in recipe 1; 15 % diameter
prompts (two clicks at the ends of the lesion's longest diameter, each ±3 % of its length, the crop
1.4–2.1× the diameter; the runtime uses 1.7×). Image changes: recipe 1's, wider (gamma 0.6–1.7,
depth and lateral gain ramps), plus the processing that differs between scanners and presets: log
compression (dynamic range), speckle reduction (smoothing) or edge enhancement, a coarser or finer
speckle grain, resolution 0.35–0.9× and back, a bright near-field band, and saturated highlights.

Recipe 3 (issue 28: box + corrective clicks). Recipe 2's prompts and changes, and the model takes
two more channels (`assist_prompt.CORRECTION_CHANNELS`): half of the box examples carry 1–3
corrective clicks where an outline typically goes wrong — "include" points inside the lesion near
its margin (the band an outline misses), "exclude" points outside it but near it and inside the
box (the band an outline leaks into). Every other example has those channels at zero, so the model
still answers a plain box, click or diameter. Trained by fine-tuning a recipe-2 bundle
(`AssistTrainConfig.init`): its first layer widened with zero weights for the new channels.
"""

from __future__ import annotations

import cv2
import numpy as np

from dlrs_desktop.roi import assist_prompt as ap

CLICK_PROB = 0.4
CLICK_SIDE_RANGE = (1.2, 3.0)  # crop side / lesion long side for click examples
DIAMETER_PROB = 0.15  # recipe 2: diameters 15 %, clicks 25 % (CLICK_PROB - this), boxes 60 %
DIAMETER_SIDE_RANGE = (1.4, 2.1)  # crop side / diameter length for diameter examples
CORRECTION_PROB = 0.5  # recipe 3: the share of box examples that carry corrective clicks


def longest_diameter(mask: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """The two outline points farthest apart (the lesion's longest diameter), pixel centres."""
    cs, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(cs, key=len).reshape(-1, 2)).reshape(-1, 2).astype(float) + 0.5
    d = ((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    return (float(hull[i, 0]), float(hull[i, 1])), (float(hull[j, 0]), float(hull[j, 1]))


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


def random_box_v2(mask: np.ndarray, rng: np.random.Generator, px: float) -> tuple[float, float, float, float]:
    """Recipe 2: 40 % tight as drawn (each side ±2 original px = `px` stored px), else −3 … +20 %."""
    x0, y0, x1, y1 = lesion_box(mask)
    bw, bh = x1 - x0, y1 - y0
    if rng.random() < 0.4:
        d = rng.uniform(-px, px, 4)
    else:
        d = rng.uniform(-0.03, 0.20, 4) * np.array([bw, bh, bw, bh])
    return x0 - d[0], y0 - d[1], x1 + d[2], y1 + d[3]


def _band_points(pool: np.ndarray, origin: tuple[int, int], rng: np.random.Generator) -> tuple[float, float]:
    ys, xs = np.nonzero(pool)
    i = int(rng.integers(len(xs)))
    return float(xs[i] + origin[0]) + rng.uniform(0, 1), float(ys[i] + origin[1]) + rng.uniform(0, 1)


def random_corrections(
    mask: np.ndarray, box: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Recipe 3: 1–3 corrective clicks (include, exclude) where an outline from this box goes wrong:
    include inside the lesion within its outer band, exclude outside it, near it, inside the box."""
    h, w = mask.shape
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    sub = mask[y0:y1, x0:x1].astype(np.uint8)
    include: list[tuple[float, float]] = []
    exclude: list[tuple[float, float]] = []
    if sub.size == 0 or not sub.any():
        return include, exclude
    inner = cv2.distanceTransform(np.pad(sub, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    outer = cv2.distanceTransform(1 - sub, cv2.DIST_L2, 5)
    size = max(x1 - x0, y1 - y0)
    pools = {
        "include": (sub > 0) & (inner <= 0.35 * inner.max()),
        "exclude": (sub == 0) & (outer <= 0.25 * size),
    }
    for _ in range(int(rng.integers(1, 4))):
        kind = "include" if rng.random() < 0.5 else "exclude"
        if not pools[kind].any():
            kind = "exclude" if kind == "include" else "include"
        if not pools[kind].any():
            break
        (include if kind == "include" else exclude).append(_band_points(pools[kind], (x0, y0), rng))
    return include, exclude


def fixed_correction(
    mask: np.ndarray, box: tuple[float, float, float, float]
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The validation's corrective click: at the heart of the larger of the two regions where the
    ellipse inscribed in the box is wrong (lesion it misses → include, background it takes → exclude)."""
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rx, ry = max((box[2] - box[0]) / 2, 1.0), max((box[3] - box[1]) / 2, 1.0)
    ellipse = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
    missed, leaked = mask & ~ellipse, ~mask & ellipse
    add = missed.sum() >= leaked.sum()
    region = missed if add else leaked
    if not region.any():
        return [], []
    dist = cv2.distanceTransform(np.pad(region.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    point = [(float(x) + 0.5, float(y) + 0.5)]
    return (point, []) if add else ([], point)


def _speckle(
    g: np.ndarray, rng: np.random.Generator, grain: tuple[float, float], depth: tuple[float, float]
) -> np.ndarray:
    """Multiplicative speckle: blurred noise of a grain (sigma, px) and a strength drawn from the ranges."""
    s = ap.SIZE
    noise = cv2.GaussianBlur(rng.normal(0, 1, (s, s)).astype(np.float32), (0, 0), rng.uniform(*grain))
    return g * (1 + rng.uniform(*depth) * noise / max(float(noise.std()), 1e-6))


def _lower_resolution(g: np.ndarray, f: float) -> np.ndarray:
    """Down to `f` of the input size and back: the detail a coarser scanner or preset loses."""
    s = ap.SIZE
    small = cv2.resize(g.astype(np.float32), (int(s * f), int(s * f)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (s, s), interpolation=cv2.INTER_LINEAR)


def _scanner_v2(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Recipe 2: what scanners and presets do differently (grey in [0, 1] → [0, 1.2])."""
    s = ap.SIZE
    if rng.random() < 0.3:  # dynamic range: log compression of another strength
        k = 10 ** rng.uniform(0.3, 1.5)
        g = np.log1p(k * g) / np.log1p(k)
    g = g ** rng.uniform(0.6, 1.7)
    depth = np.linspace(-0.5, 0.5, s)[:, None] * rng.uniform(-0.45, 0.45)
    lateral = np.linspace(-0.5, 0.5, s)[None, :] * rng.uniform(-0.2, 0.2)
    g = g * (1 + depth + lateral)
    if rng.random() < 0.15:  # a bright near-field band (reverberation under the probe)
        top = np.exp(-np.linspace(0, 1, s) / rng.uniform(0.05, 0.25))[:, None]
        g = g + rng.uniform(0.1, 0.4) * top
    if rng.random() < 0.5:  # speckle of another grain
        g = _speckle(g, rng, (0.5, 2.5), (0.05, 0.3))
    u = rng.random()
    if u < 0.3:  # speckle reduction
        g = cv2.GaussianBlur(g.astype(np.float32), (0, 0), rng.uniform(0.5, 2.0))
    elif u < 0.5:  # edge enhancement
        blur = cv2.GaussianBlur(g.astype(np.float32), (0, 0), rng.uniform(1.0, 2.5))
        g = g + rng.uniform(0.3, 1.0) * (g - blur)
    if rng.random() < 0.35:
        g = _lower_resolution(g, rng.uniform(0.35, 0.9))
    if rng.random() < 0.2:  # saturated highlights
        g = np.minimum(g, rng.uniform(0.6, 0.95) * float(np.max(g)))
    return np.clip(g, 0, 1.2)


def _intensity(g: np.ndarray, rng: np.random.Generator, recipe: int = 1) -> np.ndarray:
    if recipe >= 2:
        return (_scanner_v2(np.clip(g, 0, 255) / 255.0, rng) * 255).astype(np.float32)
    s = ap.SIZE
    g = np.clip(g, 0, 255) / 255.0
    g = g ** rng.uniform(0.7, 1.5)
    ramp = 1 + rng.uniform(-0.35, 0.35) * (np.linspace(-0.5, 0.5, s)[:, None])
    g = g * ramp
    if rng.random() < 0.5:
        g = _speckle(g, rng, (0.6, 1.5), (0.05, 0.25))
    if rng.random() < 0.25:
        g = cv2.GaussianBlur(g.astype(np.float32), (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.2:
        g = _lower_resolution(g, rng.uniform(0.4, 0.8))
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
    grey: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    *,
    augment: bool = True,
    recipe: int = 1,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(input C×SIZE×SIZE, target SIZE×SIZE in [0, 1]) for one random prompt on one case (C: 5 from
    recipe 3 on, else 3).

    `scale`: stored px per original px (cases are kept downscaled), for recipe 2's ±2 px boxes."""
    u = rng.random()
    click = u < CLICK_PROB if recipe < 2 else u < CLICK_PROB - DIAMETER_PROB
    diameter = recipe >= 2 and not click and u < CLICK_PROB
    if diameter:
        p1, p2 = longest_diameter(mask)
        length = float(np.hypot(p2[0] - p1[0], p2[1] - p1[1]))
        ends = tuple((x + dx, y + dy) for (x, y), (dx, dy) in zip(
            (p1, p2), rng.normal(0, 0.03 * length, (2, 2)), strict=True
        ))  # fmt: skip
        mid = ((ends[0][0] + ends[1][0]) / 2, (ends[0][1] + ends[1][1]) / 2)
        frame = ap.click_frame(mid, rng.uniform(*DIAMETER_SIDE_RANGE) * length)
    elif click:
        xy = random_click(mask, rng) if augment else centroid_click(mask)
        x0, y0, x1, y1 = lesion_box(mask)
        ratio = rng.uniform(*CLICK_SIDE_RANGE) if augment else 2.0
        frame = ap.click_frame(xy, ratio * max(x1 - x0, y1 - y0))
    else:
        if not augment:
            box = lesion_box(mask)
        else:
            box = random_box_v2(mask, rng, 2.0 * scale) if recipe >= 2 else random_box(mask, rng)
        frame = ap.box_frame(box)
    g = ap.crop_resized(grey.astype(np.float32), frame)
    valid = ap.crop_resized(np.ones(grey.shape, np.float32), frame)
    target = ap.crop_resized(mask.astype(np.float32), frame)
    if augment:
        g = _intensity(g, rng, recipe)
        if rng.random() < 0.3:
            g = _marks(g, rng)
    img = ap.normalise(g, valid)
    zeros = np.zeros_like(img)
    if diameter:
        planes = [img, zeros, ap.diameter_channel(frame, ends)]
    elif click:
        planes = [img, zeros, ap.click_channel(frame, xy)]
    else:
        planes = [img, ap.box_channel(frame, box), zeros]
    if recipe >= 3:
        corrections: tuple[list, list] = ([], [])
        if not (click or diameter) and augment and rng.random() < CORRECTION_PROB:
            corrections = random_corrections(mask, box, rng)
        planes += [ap.points_channel(frame, corrections[0]), ap.points_channel(frame, corrections[1])]
    x = np.stack(planes)
    if augment and rng.random() < 0.5:
        x, target = x[:, :, ::-1], target[:, ::-1]
    return np.ascontiguousarray(x, np.float32), np.ascontiguousarray(target, np.float32)


def channels_for(recipe: int) -> int:
    """The model's input channels for a training recipe."""
    return ap.CORRECTION_CHANNELS if recipe >= 3 else ap.CHANNELS


def make_fixed_examples(
    grey: np.ndarray, mask: np.ndarray, recipe: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The validation prompts: the tight box, a centroid click with a crop 2× the lesion, and (recipe 3)
    the box padded 10 % per side with one corrective click (`fixed_correction`)."""
    channels = channels_for(recipe)
    box = lesion_box(mask)
    click = centroid_click(mask)
    prompts: list[tuple[ap.CropFrame, dict]] = [
        (ap.box_frame(box), {"box": box}),
        (ap.click_frame(click, 2.0 * max(box[2] - box[0], box[3] - box[1])), {"click": click}),
    ]
    if channels == ap.CORRECTION_CHANNELS:
        dx, dy = 0.1 * (box[2] - box[0]), 0.1 * (box[3] - box[1])
        padded = (box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy)
        include, exclude = fixed_correction(mask, padded)
        prompts.append((ap.box_frame(padded), {"box": padded, "include": include, "exclude": exclude}))
    return [
        (ap.make_input(grey, frame, channels=channels, **kw), ap.crop_resized(mask.astype(np.float32), frame))
        for frame, kw in prompts
    ]
