"""Image analysis behind the contour assist: a crop at a canonical scale, speckle filters, segmenters.

Why a crop at a canonical scale: the work is proportional to the lesion in millimetres, not to the
screen resolution, so a proposal takes the same time on a 0.05 mm/px capture and a 0.2 mm/px one,
and every filter width below is in millimetres (speckle grain and margins are physical sizes).
Without a calibration the crop is scaled so the box's long side has `UNCALIBRATED_BOX_PX` pixels.

Segmenters work on the crop only and return a bool mask of it; `assist.py` chooses among them and
turns the mask into an editable contour. The comparison that chose the default is in
docs/CONTOUR_ASSIST.md (reproduce with `python benchmarks/bench_assist.py --compare`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dlrs_desktop.imaging.types import UltrasoundImage

CANONICAL_MM_PER_PX = 0.2  # working resolution when calibrated (lesions are 5-40 mm)
UNCALIBRATED_BOX_PX = 120  # long side of the box in the crop without a calibration
MIN_BOX_CROP_PX = 40  # a small lesion is upsampled until its box has at least this many pixels
MAX_BOX_CROP_AREA = 20_000  # px²: a large box is worked on more coarsely (time bound, ~141² px)
BAY_MM = 2.5  # bays narrower than 2 × 2.5 mm are closed (bright fibrotic patches at the margin)
GRABCUT_BAND_MM = 2.0  # GrabCut decides only within ±2 mm of the Chan–Vese outline
COLOUR_CHROMA = 40  # max−min of R, G, B above which a pixel is colour overlay, not B-mode
CONTEXT_FRACTION = 0.25  # context kept around the box on each side (fraction of box size)


@dataclass(frozen=True)
class Crop:
    """A resampled crop of the image around a box; maps crop pixels back to image pixels."""

    x0: int  # image px of the crop's top-left corner
    y0: int
    sx: float  # crop px per image px
    sy: float
    gray: np.ndarray  # float32 (h, w), 0..255
    scan: np.ndarray  # bool (h, w)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in crop px
    mm_per_px: float | None  # crop pixel size (isotropic after resampling) or None

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        """Crop pixel coordinates (x, y) → image pixel coordinates."""
        return np.asarray(pts, float) / np.array([self.sx, self.sy]) + np.array([self.x0, self.y0], float)

    def to_crop(self, pts: np.ndarray) -> np.ndarray:
        return (np.asarray(pts, float) - np.array([self.x0, self.y0], float)) * np.array([self.sx, self.sy])

    def px(self, mm: float) -> float:
        """A physical length in crop pixels (a fixed fraction of the box without calibration)."""
        if self.mm_per_px is None:
            return mm / 0.2 * max(self.box[2] - self.box[0], self.box[3] - self.box[1]) / 120.0
        return mm / self.mm_per_px


def make_crop(image: UltrasoundImage, box: tuple[float, float, float, float]) -> Crop:
    """Crop around `box` (image px, x0 < x1, y0 < y1, already inside the image) at the working scale."""
    bx0, by0, bx1, by1 = box
    bw, bh = bx1 - bx0, by1 - by0
    h, w = image.shape
    mx, my = CONTEXT_FRACTION * bw + 2, CONTEXT_FRACTION * bh + 2
    x0, y0 = max(0, int(np.floor(bx0 - mx))), max(0, int(np.floor(by0 - my)))
    x1, y1 = min(w, int(np.ceil(bx1 + mx))), min(h, int(np.ceil(by1 + my)))
    cal = image.calibration_for(np.array([[bx0, by0], [bx1, by1]], float)) or image.calibration
    if cal is not None:
        sx, sy = cal.mm_per_px_x / CANONICAL_MM_PER_PX, cal.mm_per_px_y / CANONICAL_MM_PER_PX
        mm: float | None = CANONICAL_MM_PER_PX
        up = max(sx, sy)
        if up > 1:  # coarser than canonical: keep the native detail, do not invent pixels
            sx, sy, mm = sx / up, sy / up, CANONICAL_MM_PER_PX * up
    else:
        sx = sy = UNCALIBRATED_BOX_PX / max(bw, bh)
        mm = None
    longest = max(bw * sx, bh * sy)
    area = bw * sx * bh * sy
    adjust = 1.0
    if longest < MIN_BOX_CROP_PX:
        adjust = MIN_BOX_CROP_PX / longest
    elif area > MAX_BOX_CROP_AREA:
        adjust = float(np.sqrt(MAX_BOX_CROP_AREA / area))
    sx, sy = sx * adjust, sy * adjust
    if mm is not None:
        mm /= adjust
    cw, ch = max(1, round((x1 - x0) * sx)), max(1, round((y1 - y0) * sy))
    sx, sy = cw / (x1 - x0), ch / (y1 - y0)  # exact ratios so the mapping is consistent
    src = _without_colour(image, (x0, y0, x1, y1))
    interp = cv2.INTER_AREA if sx < 1 and sy < 1 else cv2.INTER_LINEAR
    gray = cv2.resize(src, (cw, ch), interpolation=interp)
    scan = cv2.resize(
        image.scan_mask[y0:y1, x0:x1].astype(np.uint8), (cw, ch), interpolation=cv2.INTER_NEAREST
    )
    cb = (
        int(np.clip(np.floor((bx0 - x0) * sx), 0, cw - 1)),
        int(np.clip(np.floor((by0 - y0) * sy), 0, ch - 1)),
        int(np.clip(np.ceil((bx1 - x0) * sx), 1, cw)),
        int(np.clip(np.ceil((by1 - y0) * sy), 1, ch)),
    )
    return Crop(x0, y0, sx, sy, gray, scan > 0, cb, mm)


def _without_colour(image: UltrasoundImage, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The gray crop (float32) with coloured pixels (Doppler, coloured marks) inpainted from the B-mode.

    The gray of a colour-flow pixel is its colour's brightness, not tissue echogenicity: left in,
    a vascularised lesion looks brighter than the fat around it. Inpainting (Telea) fills those
    pixels from the surrounding B-mode, which is the best available guess of the tissue there.
    """
    x0, y0, x1, y1 = rect
    gray = np.ascontiguousarray(image.gray[y0:y1, x0:x1])
    rgb = image.display[y0:y1, x0:x1]
    if rgb.ndim == 3:
        ch = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2).astype(np.int16)
        coloured = (ch >= COLOUR_CHROMA).astype(np.uint8)
        if coloured.any() and coloured.mean() < 0.6:
            coloured = cv2.dilate(coloured, np.ones((3, 3), np.uint8))
            gray = cv2.inpaint(gray, coloured, 3, cv2.INPAINT_TELEA)
    return gray.astype(np.float32)


# ------------------------------------------------------------------------------------------ filters


def speckle_filter(crop: Crop, kind: str = "median") -> np.ndarray:
    """Speckle-reduced crop (float32). B-mode is log-compressed, so linear filters act in the log domain.

    median: 5×5-equivalent median (about 1 mm) then Gaussian σ 0.3 mm; gauss: Gaussian σ 0.5 mm;
    bilateral: edge-preserving; diffusion: Perona–Malik anisotropic diffusion (15 steps).
    """
    g = crop.gray
    if kind == "gauss":
        s = crop.px(0.5)
        return cv2.GaussianBlur(g, (0, 0), s)
    if kind == "median":
        k = max(3, round(crop.px(1.0)) | 1)
        m = cv2.medianBlur(np.clip(g, 0, 255).astype(np.uint8), min(k, 9)).astype(np.float32)
        return cv2.GaussianBlur(m, (0, 0), crop.px(0.3))
    if kind == "bilateral":
        pre = cv2.GaussianBlur(g, (0, 0), crop.px(0.2))
        return cv2.bilateralFilter(pre, -1, 40.0, crop.px(0.8))
    if kind == "diffusion":
        return _perona_malik(cv2.GaussianBlur(g, (0, 0), crop.px(0.2)), 15, 15.0, 0.2)
    raise ValueError(f"unknown speckle filter {kind!r}")


def _perona_malik(u: np.ndarray, steps: int, kappa: float, dt: float) -> np.ndarray:
    u = u.astype(np.float32).copy()
    for _ in range(steps):
        p = np.pad(u, 1, mode="edge")
        dn, ds = p[:-2, 1:-1] - u, p[2:, 1:-1] - u
        de, dw = p[1:-1, 2:] - u, p[1:-1, :-2] - u
        u += dt * sum(d * np.exp(-((d / kappa) ** 2)) for d in (dn, ds, de, dw))
    return u


# ---------------------------------------------------------------------------------------- segmenters


def _ellipse_mask(shape: tuple[int, int], box: tuple[int, int, int, int], frac: float) -> np.ndarray:
    """Ellipse inscribed in `box`, scaled by `frac` about its centre."""
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cx, cy = (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2
    rx, ry = max(frac * (x1 - x0) / 2, 1.0), max(frac * (y1 - y0) / 2, 1.0)
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0


def _box_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[box[1] : box[3], box[0] : box[2]] = True
    return m


def segment_grabcut(
    crop: Crop,
    f: np.ndarray,
    iterations: int = 5,
    core: float = 0.3,
    init: np.ndarray | None = None,
    band_mm: float = GRABCUT_BAND_MM,
) -> np.ndarray:
    """GrabCut: outside the box is background, a small core ellipse at its centre surely lesion.

    The definite core matters: with only "probably lesion" inside the box, GrabCut's background
    model (fit to the whole crop, which holds dark fat as well as bright gland) can swallow a
    heterogeneous lesion entirely; with it, the lesion's own grey levels anchor the foreground model.
    With a first segmentation `init`, only a band of ±`band_mm` around its outline is left undecided
    and the graph is cut on the bounding rectangle of that band: on low-contrast real images the
    max-flow on the whole box took over a second, on the band it takes tens of milliseconds.
    """
    img = np.dstack([_u8(f)] * 3)
    mask = np.full(f.shape, cv2.GC_BGD, np.uint8)
    inner = _inner_box(crop)
    mask[inner] = cv2.GC_PR_FGD
    if init is not None:  # a first segmentation: outside it only probably background
        mask[inner & ~init] = cv2.GC_PR_BGD
        if band_mm > 0 and init.any():
            k = _disc(crop.px(band_mm))
            u8 = init.astype(np.uint8)
            mask[(cv2.erode(u8, k) > 0) & inner] = cv2.GC_FGD
            mask[cv2.dilate(u8, k) == 0] = cv2.GC_BGD
    mask[_ellipse_mask(f.shape, crop.box, core) & inner] = cv2.GC_FGD
    mask[~crop.scan] = cv2.GC_BGD
    undecided = (mask == cv2.GC_PR_FGD) | (mask == cv2.GC_PR_BGD)
    if not undecided.any():
        return mask == cv2.GC_FGD
    ys, xs = np.nonzero(undecided)
    pad = int(np.ceil(crop.px(2.0)))
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, f.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, f.shape[1])
    sub = np.ascontiguousarray(mask[y0:y1, x0:x1])
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(
        np.ascontiguousarray(img[y0:y1, x0:x1]), sub, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK
    )
    mask[y0:y1, x0:x1] = sub
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def segment_otsu(crop: Crop, f: np.ndarray) -> np.ndarray:
    """Otsu threshold of the filtered box (dark = lesion), cleaned by an opening and a closing."""
    inbox = _box_mask(f.shape, crop.box) & crop.scan
    vals = _u8(f)[inbox]
    if vals.size < 16:
        return inbox
    t, _ = cv2.threshold(vals.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    m = (_u8(f) <= t) & inbox
    k = _disc(crop.px(0.6))
    m = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, k)
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, k)
    return m > 0


def segment_chan_vese(crop: Crop, f: np.ndarray, iterations: int = 120, smoothing: int = 2) -> np.ndarray:
    """Morphological Chan–Vese (Márquez-Neila et al. 2014) inside the box, started from its inner ellipse.

    Region-based: it needs no edge, only two regions of different mean, and the morphological
    curvature operator keeps the outline smooth without any parameter in pixels.
    """
    domain = _box_mask(f.shape, crop.box) & crop.scan
    allowed = _inner_box(crop) & domain
    u = (_ellipse_mask(f.shape, crop.box, 0.6) & allowed).astype(np.uint8)
    img = f.astype(np.float32)
    for _ in range(iterations):
        inside, outside = u > 0, domain & (u == 0)
        if not inside.any() or not outside.any():
            break
        c1, c0 = float(img[inside].mean()), float(img[outside].mean())
        gy, gx = np.gradient(u.astype(np.float32))
        du = np.abs(gx) + np.abs(gy)
        aux = du * ((img - c1) ** 2 - (img - c0) ** 2)
        prev = u
        u = u.copy()
        u[aux < 0] = 1
        u[aux > 0] = 0
        for _s in range(smoothing):
            u = _si(_is(u)) if _s % 2 == 0 else _is(_si(u))
        u[~allowed] = 0
        if np.array_equal(u, prev):
            break
    return u > 0


_LINES = [np.array(k, np.uint8) for k in (
    [[0, 0, 0], [1, 1, 1], [0, 0, 0]],
    [[0, 1, 0], [0, 1, 0], [0, 1, 0]],
    [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    [[0, 0, 1], [0, 1, 0], [1, 0, 0]],
)]  # fmt: skip


def _si(u: np.ndarray) -> np.ndarray:
    """Sup of erosions by the four 3-pixel line segments (morphological curvature, half step)."""
    return np.max([cv2.erode(u, k) for k in _LINES], axis=0)


def _is(u: np.ndarray) -> np.ndarray:
    return np.min([cv2.dilate(u, k) for k in _LINES], axis=0)


def _disc(r: float) -> np.ndarray:
    d = max(1, round(r))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * d + 1, 2 * d + 1))


def _u8(a: np.ndarray) -> np.ndarray:
    return np.clip(a, 0, 255).astype(np.uint8)


def keep_lesion_component(
    crop: Crop, mask: np.ndarray, neck_mm: float = 1.0, bay_mm: float = BAY_MM
) -> np.ndarray:
    """The lesion piece of a raw segmentation: necks cut, holes filled, edges smoothed (0.4 mm).

    The box is drawn around the lesion, so what touches the box's border band is surrounding
    tissue: it is removed. An opening of radius `neck_mm` cuts the thin bridges through which dark
    fat or a posterior shadow joins the lesion; the piece overlapping the box's centre most is kept
    and what the opening shaved off its own outline (within `neck_mm`) is given back.
    """
    inner = _inner_box(crop)
    m = (mask & crop.scan & inner).astype(np.uint8)
    r = crop.px(neck_mm)
    opened = cv2.morphologyEx(m, cv2.MORPH_OPEN, _disc(r))
    comp = _central_component(crop, opened if opened.any() else m)
    if comp is None:
        return np.zeros(mask.shape, bool)
    comp = comp | ((m > 0) & (cv2.dilate(comp.astype(np.uint8), _disc(r + 1)) > 0))
    comp = _central_component(crop, comp)
    if comp is None:  # pragma: no cover - the dilation keeps the centre piece
        return np.zeros(mask.shape, bool)
    if bay_mm > 0:
        pad = int(np.ceil(crop.px(bay_mm))) + 2
        big = np.pad(comp.astype(np.uint8), pad)
        big = cv2.morphologyEx(big, cv2.MORPH_CLOSE, _disc(crop.px(bay_mm)))
        comp = (big[pad:-pad, pad:-pad] > 0) & crop.scan & inner
    comp = fill_holes(comp)
    soft = cv2.GaussianBlur(comp.astype(np.float32), (0, 0), crop.px(0.4))
    comp = _central_component(crop, soft >= 0.5)
    if comp is None:
        return np.zeros(mask.shape, bool)
    return (fill_holes(comp) > 0) & crop.scan


def _inner_box(crop: Crop, band: float = 0.02) -> np.ndarray:
    """The box less a thin border band (2 % of its size, at least 1 px): certainly not lesion."""
    x0, y0, x1, y1 = crop.box
    bx, by = max(1, round(band * (x1 - x0))), max(1, round(band * (y1 - y0)))
    return _box_mask(crop.gray.shape, (x0 + bx, y0 + by, x1 - bx, y1 - by))


def _central_component(crop: Crop, mask: np.ndarray) -> np.ndarray | None:
    """The 4-connected piece of `mask` that overlaps the box's central ellipse most (or the largest)."""
    n, labels = cv2.connectedComponents(np.asarray(mask, np.uint8), connectivity=4)
    if n <= 1:
        return None
    centre = _ellipse_mask(mask.shape, crop.box, 0.5)
    overlap = np.bincount(labels[centre].ravel(), minlength=n)[1:]
    if overlap.max() == 0:
        overlap = np.bincount(labels.ravel(), minlength=n)[1:]
    return labels == 1 + int(np.argmax(overlap))


def fill_holes(m: np.ndarray) -> np.ndarray:
    """Fill the holes of a binary mask (bright fibrotic patches inside a lesion are lesion)."""
    m = m.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.zeros_like(m)
    cv2.drawContours(out, contours, -1, 1, thickness=cv2.FILLED)
    return out
