"""Rendering of one synthetic B-mode breast ultrasound image (numpy + OpenCV, no torch).

Why physics-inspired rather than drawn: a model trained on blobs learns blobs. The image is built
the way a scanner forms it, in a simplified form:

1. a *reflectivity* map of the tissue (skin, subcutaneous fat with Cooper ligaments, fibroglandular
   tissue, retromammary fat, pectoral muscle; lesion; peritumoral halo, oedema and distortion);
2. random complex scatterers weighted by the reflectivity, convolved with an anisotropic Gaussian
   point-spread function (axial narrower than lateral) and envelope-detected (magnitude);
3. depth attenuation, partly compensated by a time-gain curve (TGC);
4. log compression to a dynamic range in dB, gain, then the linear-probe field of view pasted on a
   black screen with burned-in text, a depth ruler and sometimes caliper marks.

The peritumoral changes sit at controlled distances from the lesion margin (halo 0-2.5 mm,
oedema 3-5 mm, architectural distortion 5-10 mm) so each peritumoral ring carries information
that the intratumoral region does not. Strength of each change is driven by a latent feature
(see `synth.py` for the label model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class Scanner:
    """Character of one centre's scanner and presets."""

    mm_per_px: tuple[float, float]  # range drawn per image
    psf_lateral_mm: float  # Gaussian sigma of the lateral PSF
    psf_axial_mm: float
    dynamic_range_db: tuple[float, float]
    gain: tuple[float, float]  # additive grey-level offset
    attenuation_db_cm: float  # effective (frequency-dependent) attenuation
    label: str


@dataclass(frozen=True)
class Latents:
    """The latent tissue features of one case (standard normal); the label model uses them."""

    intratumoral: float  # internal echogenicity / heterogeneity (fibrotic change)
    margin: float  # lobulation / spiculation of the margin
    halo: float  # echogenic halo, 0-2.5 mm outside the margin
    oedema: float  # hypoechoic peritumoral oedema band, 3-5 mm
    distortion: float  # architectural distortion (radiating echogenic strands), 5-10 mm
    posterior: float  # posterior enhancement (>0) or shadowing (<0): nuisance, not in the label


@dataclass
class Rendered:
    gray: np.ndarray  # uint8 (H, W), full screen
    mm_per_px: float
    scan_rect: tuple[int, int, int, int]  # x0, y0, x1, y1 inclusive (DICOM convention)
    true_contour: np.ndarray  # (N, 2) x, y image px
    sonographer_contour: np.ndarray  # (M, 2) x, y image px
    lesion_diameter_mm: float
    has_calipers: bool
    has_ruler: bool


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Zero-mean unit-variance low-frequency noise (blurred white noise)."""
    n = rng.standard_normal(shape).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigmaX=max(sigma_px, 0.5), sigmaY=max(sigma_px, 0.5))
    s = float(n.std()) or 1.0
    return n / s


def _wavy(rng: np.random.Generator, w: int, base: float, amp: float, scale_px: float) -> np.ndarray:
    """A smooth random boundary depth (px) along x."""
    x = np.arange(w, dtype=np.float32)
    out = np.full(w, base, dtype=np.float32)
    for k in range(1, 4):
        out += (amp / k) * np.sin(
            2 * np.pi * k * x / (scale_px * rng.uniform(0.8, 1.6)) + rng.uniform(0, 6.3)
        )
    return out


def _lesion_radius(rng: np.random.Generator, lat: Latents, r0_mm: float, n: int) -> tuple[np.ndarray, ...]:
    """Radial margin function r(theta) in mm: ellipse × lobulation + spicules (margin latent)."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    aspect = rng.uniform(0.55, 0.95)  # axial/lateral: most lesions wider than tall
    phi = rng.normal(0, 0.25)
    ell = 1.0 / np.sqrt((np.cos(theta - phi)) ** 2 + (np.sin(theta - phi) / aspect) ** 2)
    irregular = _sig(1.6 * lat.margin)
    lob = np.ones_like(theta)
    for k in (3, 4, 5, 7):
        lob += (
            (0.015 + 0.11 * irregular)
            / (k / 3)
            * rng.uniform(0.4, 1.0)
            * np.cos(k * theta + rng.uniform(0, 6.3))
        )
    smooth = r0_mm * ell * lob
    spikes = np.zeros_like(theta)
    n_spic = round(9 * irregular**1.5 + rng.uniform(-0.5, 0.5))
    for _ in range(max(n_spic, 0)):
        t0 = rng.uniform(0, 2 * np.pi)
        d = np.angle(np.exp(1j * (theta - t0)))
        spikes += rng.uniform(1.0, 2.6) * np.exp(-((d / 0.035) ** 2))
    return theta, smooth, smooth + spikes


def _polygon(theta: np.ndarray, r_mm: np.ndarray, cx: float, cy: float, mmpp: float) -> np.ndarray:
    return np.stack([cx + r_mm / mmpp * np.cos(theta), cy + r_mm / mmpp * np.sin(theta)], axis=1)


def _sonographer_contour(
    rng: np.random.Generator, theta: np.ndarray, smooth_mm: np.ndarray, cx: float, cy: float, mmpp: float
) -> np.ndarray:
    """What a sonographer draws: the smooth outline (no spicules), fewer vertices, hand jitter, bias."""
    m = int(rng.integers(28, 48))
    idx = np.linspace(0, len(theta), m, endpoint=False).astype(int)
    th, r = theta[idx], smooth_mm[idx].copy()
    bias = rng.normal(0.0, 0.25)
    wobble = sum(rng.normal(0, 0.25) * np.cos(k * th + rng.uniform(0, 6.3)) for k in (2, 3, 4)) + rng.normal(
        0, 0.12, size=m
    )
    r = np.maximum(r + bias + wobble, 0.5 * r)
    return _polygon(th, r, cx, cy, mmpp)


def _tissue(rng: np.random.Generator, h: int, w: int, mmpp: float, scale: float) -> np.ndarray:
    """Reflectivity of the normal breast: skin, fat with Cooper ligaments, gland, muscle."""
    px = 1.0 / mmpp
    y = np.arange(h, dtype=np.float32)[:, None]
    skin = rng.uniform(1.4, 2.4) * px
    fat_b = _wavy(rng, w, skin + rng.uniform(4, 10) * px, rng.uniform(1, 3) * px, w * 0.9)
    gland_b = _wavy(rng, w, fat_b.mean() + rng.uniform(18, 28) * px, rng.uniform(1.5, 4) * px, w * 1.1)
    muscle_b = gland_b + rng.uniform(1.5, 4) * px
    refl = np.empty((h, w), np.float32)
    fat = 0.30 * np.exp(0.35 * _smooth_noise(rng, (h, w), 5 * px * scale))
    gland = 1.0 * np.exp(0.45 * _smooth_noise(rng, (h, w), 1.2 * px * scale))
    gland *= 1.0 + 0.5 * np.clip(_smooth_noise(rng, (h, w), 0.4 * px), 0, None)
    muscle = 0.45 * np.exp(0.2 * _smooth_noise(rng, (h, w), 3 * px))
    xx = np.arange(w, dtype=np.float32)[None, :]
    slope = rng.uniform(-0.15, 0.15)
    fibres = np.sin(2 * np.pi * (y - slope * xx) / (rng.uniform(1.2, 2.0) * px))
    muscle *= 1.0 + 1.3 * np.clip(fibres, 0.6, None) ** 2
    refl[:] = gland
    refl = np.where(y < fat_b[None, :], fat, refl)
    refl = np.where(y >= gland_b[None, :], fat, refl)
    refl = np.where(y >= muscle_b[None, :], muscle, refl)
    refl = np.where(y < skin, 2.2, refl)
    # Cooper ligaments: thin echogenic arcs crossing the fat
    lig = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        x0 = rng.uniform(0, w)
        pts = []
        for t in np.linspace(0, 1, 12):
            yy = skin + t * (fat_b.mean() - skin + 2 * px)
            pts.append((x0 + t * rng.uniform(-1, 1) * 12 * px + math.sin(t * 3) * 3 * px, yy))
        cv2.polylines(lig, [np.round(np.array(pts)).astype(np.int32)], False, 1, max(1, int(0.3 * px)))
    refl = np.where(lig > 0, np.maximum(refl, 2.0), refl)
    # specular interfaces
    for b, a in ((fat_b, 1.6), (muscle_b, 2.0)):
        band = np.exp(-(((y - b[None, :]) / (0.35 * px)) ** 2))
        refl = refl + a * band
    return refl


@dataclass(frozen=True)
class _Field:
    """The scan's geometry: rows × columns, mm per pixel (and its inverse), depth in mm."""

    h: int
    w: int
    mmpp: float
    px: float
    depth_mm: float


@dataclass(frozen=True)
class _Lesion:
    """The lesion drawn in the gland: its outline (radius per angle), centre, mask and outside distance."""

    theta: np.ndarray
    smooth: np.ndarray
    poly: np.ndarray
    cx: float
    cy: float
    inside: np.ndarray
    d_out: np.ndarray  # mm outside the lesion


def render_case(
    rng: np.random.Generator, lat: Latents, sc: Scanner, *, size_scale: float = 1.0, screen: bool = True
) -> Rendered:
    """One image. `size_scale` < 1 shrinks the image (tests); the millimetre geometry is unchanged.

    The steps draw from `rng` in a fixed order (a seed gives the same cohort bit for bit)."""
    mmpp = float(rng.uniform(*sc.mm_per_px)) / size_scale
    px = 1.0 / mmpp
    depth_mm, width_mm = rng.uniform(38, 46), rng.uniform(44, 56)
    f = _Field(int(depth_mm * px), int(width_mm * px), mmpp, px, depth_mm)
    refl = _tissue(rng, f.h, f.w, mmpp, 1.0)
    les = _place_lesion(rng, lat, f)
    refl = _peritumoral(rng, refl, lat, f, les)
    refl = _interior(rng, refl, lat, f, les)
    scan, dr = _echo(rng, refl, sc, f)
    return _screen(rng, scan, dr, sc, f, les, screen)


def _place_lesion(rng: np.random.Generator, lat: Latents, f: _Field) -> _Lesion:
    """The lesion in the gland, 6-14 mm mean radius (12-28 mm diameter after two NAC cycles)."""
    r0 = float(rng.uniform(5.5, 12.0))
    cx = f.w / 2 + rng.uniform(-0.15, 0.15) * f.w
    cy = rng.uniform(max(r0 + 6, 13), min(f.depth_mm - r0 - 8, 26)) * f.px
    theta, smooth, margin = _lesion_radius(rng, lat, r0, 360)
    poly = _polygon(theta, margin, cx, cy, f.mmpp)
    mask = np.zeros((f.h, f.w), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_AA, shift=4)
    inside = mask > 0
    d_out = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 5) * f.mmpp
    return _Lesion(theta, smooth, poly, cx, cy, inside, d_out)


def _peritumoral(
    rng: np.random.Generator, refl: np.ndarray, lat: Latents, f: _Field, les: _Lesion
) -> np.ndarray:
    """Peritumoral changes at controlled distances: halo (0-2.5 mm), oedema (3-5), strands (5-10)."""
    h, w, px, d_out = f.h, f.w, f.px, les.d_out
    halo_amp = 3.5 * _sig(2.0 * lat.halo)
    halo_w = rng.uniform(1.0, 1.8)
    halo = halo_amp * np.exp(-(((d_out - halo_w / 2) / (halo_w / 2 + 0.2)) ** 2)) * (d_out < 2.6)
    oed_amp = 0.92 * _sig(2.0 * lat.oedema)
    band = np.clip(np.minimum(d_out - 3.0, 5.0 - d_out) / 0.6 + 0.5, 0, 1)
    patchy = np.clip(
        0.75 + 0.25 * _smooth_noise(rng, (h, w), 2.5 * px), 0.1, 1.0
    )  # oedema is not a clean ring
    oed = 1.0 - oed_amp * band * patchy
    refl = refl * np.clip(oed, 0.05, 1.2) * (1 + halo * (~les.inside))
    strands = np.zeros((h, w), np.uint8)
    # Strands spread round the lesion (evenly, with jitter): their number, not where chance put
    # them, carries the latent, so the 10 mm ring sees it (docs/TRAINING.md, "visibility").
    n_str = round(40 * _sig(2.0 * lat.distortion))
    a0 = rng.uniform(0, 2 * np.pi)
    theta, smooth, cx, cy = les.theta, les.smooth, les.cx, les.cy
    for k in range(n_str):
        a = a0 + (k + rng.uniform(-0.3, 0.3)) * 2 * np.pi / max(n_str, 1)
        i = int(a / (2 * np.pi) * len(theta)) % len(theta)
        rs = smooth[i] + rng.uniform(5.0, 5.8)
        re = smooth[i] + rng.uniform(9.2, 10.0)
        p0 = (cx + rs * px * math.cos(a), cy + rs * px * math.sin(a))
        p1 = (
            cx + re * px * math.cos(a + rng.normal(0, 0.05)),
            cy + re * px * math.sin(a + rng.normal(0, 0.05)),
        )
        cv2.line(strands, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), 1, max(2, int(1.0 * px)))
    strands_f = cv2.GaussianBlur(strands.astype(np.float32), (0, 0), 0.2 * px)
    strands_f *= (d_out > 4.8) * (d_out < 10.2)
    return refl * (1 - 0.93 * np.clip(1.3 * strands_f, 0, 1))  # hypoechoic radiating strands


def _interior(
    rng: np.random.Generator, refl: np.ndarray, lat: Latents, f: _Field, les: _Lesion
) -> np.ndarray:
    """Interior: hypoechoic, brighter and more heterogeneous with fibrotic change; a posterior acoustic
    feature under the lesion (nuisance)."""
    h, w, px, inside = f.h, f.w, f.px, les.inside
    zi = lat.intratumoral
    base = 0.07 * math.exp(0.8 * zi)
    het = 0.2 + 1.0 * _sig(2.0 * zi)
    tex = np.exp(het * _smooth_noise(rng, (h, w), 1.0 * px))
    patches = np.clip(_smooth_noise(rng, (h, w), 0.6 * px) - 1.2 + 1.2 * _sig(1.6 * zi), 0, None)
    interior = base * tex * (1 + 2.5 * patches)
    edge = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 0.25 * px)
    refl = refl * (1 - edge) + interior * edge
    cols = inside.any(axis=0).astype(np.float32)
    cols = cv2.GaussianBlur(cols[None, :], (0, 0), 1.0 * px)[0]
    bottom = np.where(inside.any(axis=1))[0].max() if inside.any() else h
    ramp = np.clip((np.arange(h) - bottom) / (3 * px), 0, 1)[:, None]
    post = math.exp(0.6 * lat.posterior)
    return refl * (1 + (post - 1) * ramp * cols[None, :])


def _echo(rng: np.random.Generator, refl: np.ndarray, sc: Scanner, f: _Field) -> tuple[np.ndarray, float]:
    """Reflectivity → the scanner's image: speckle (complex scatterers ⊛ PSF, envelope), attenuation with
    imperfect time-gain compensation, lateral beam fall-off, log compression.

    Returns (the uint8 image, its dynamic range in dB)."""
    h, w, px = f.h, f.w, f.px
    amp = np.maximum(refl, 1e-3)
    sx, sy = sc.psf_lateral_mm * px, sc.psf_axial_mm * px
    re_ = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32) * amp, (0, 0), sigmaX=sx, sigmaY=sy)
    im_ = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32) * amp, (0, 0), sigmaX=sx, sigmaY=sy)
    env = np.sqrt(re_**2 + im_**2)
    dmm = np.arange(h, dtype=np.float32)[:, None] * f.mmpp
    att_db = sc.attenuation_db_cm * dmm / 10.0 * 2.0  # round trip
    tgc_db = att_db * rng.uniform(0.8, 1.0) + rng.uniform(-2, 2) * np.sin(dmm / f.depth_mm * np.pi)
    env = env * 10 ** ((tgc_db - att_db) / 20.0)
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    env = env * (1 - 0.15 * xs**4)
    db = 20 * np.log10(env + 1e-6)
    ref = float(np.percentile(db, 99.5))
    dr = rng.uniform(*sc.dynamic_range_db)
    img = np.clip((db - (ref - dr)) / dr, 0, 1) ** 1.6 * 255 + rng.uniform(*sc.gain)
    return np.clip(img, 0, 255).astype(np.uint8), dr


def _screen(  # the screen: black margins, text, ruler, calipers
    rng: np.random.Generator, scan: np.ndarray, dr: float, sc: Scanner, f: _Field, les: _Lesion, screen: bool
) -> Rendered:
    h, w, px = f.h, f.w, f.px
    top, left = int(rng.integers(36, 60)), int(rng.integers(40, 90))
    right, bottom_m = int(rng.integers(50, 80)), int(rng.integers(16, 40))
    H, W = h + top + bottom_m, w + left + right
    screen_img = np.zeros((H, W), np.uint8)
    screen_img[top : top + h, left : left + w] = scan
    has_ruler = bool(rng.random() < 0.7) and screen
    has_cal = bool(rng.random() < 0.35)
    if screen:
        _screen_text(rng, screen_img, sc, dr, f.depth_mm)
    if has_ruler:
        _ruler(screen_img, left + w + 8, top, h, px, f.depth_mm, top + int(les.cy))
    offset = np.array([left, top], dtype=float)
    true_c = les.poly[::2] + offset
    sono = _sonographer_contour(rng, les.theta, les.smooth, les.cx, les.cy, f.mmpp) + offset
    if has_cal:  # calipers at the ends of the lateral diameter, as on exported images
        for sgn in (-1, 1):
            i = int(np.argmax(sgn * sono[:, 0]))
            x, y = int(sono[i, 0] + sgn * 3), int(sono[i, 1])
            cv2.line(screen_img, (x - 5, y), (x + 5, y), 235, 1)
            cv2.line(screen_img, (x, y - 5), (x, y + 5), 235, 1)
    diam = float(2 * np.max(les.smooth))
    return Rendered(
        gray=screen_img,
        mm_per_px=f.mmpp,
        scan_rect=(left, top, left + w - 1, top + h - 1),
        true_contour=true_c,
        sonographer_contour=sono,
        lesion_diameter_mm=diam,
        has_calipers=has_cal,
        has_ruler=has_ruler,
    )


def _screen_text(rng: np.random.Generator, img: np.ndarray, sc: Scanner, dr: float, depth_mm: float) -> None:
    """The scanner's header lines (label, probe, gain, dynamic range, depth)."""
    fs = 0.45
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, f"{sc.label}  L12-5  BREAST", (8, 18), font, fs, 220, 1, cv2.LINE_AA)
    gain = f"G{int(50 + rng.integers(0, 20))} DR{int(dr)} {depth_mm / 10:.1f}cm"
    cv2.putText(img, gain, (8, 34), font, fs * 0.9, 200, 1, cv2.LINE_AA)


def _ruler(img: np.ndarray, xr: int, top: int, h: int, px: float, depth_mm: float, focus_y: int) -> None:
    """A depth ruler beside the scan (a tick per 5 mm, a number per cm) and the focus marker."""
    for mm in range(0, int(depth_mm) + 1):
        yy = top + round(mm * px)
        if yy >= top + h:
            break
        ln = 9 if mm % 10 == 0 else (5 if mm % 5 == 0 else 0)
        if ln:
            cv2.line(img, (xr, yy), (xr + ln, yy), 210, 1)
        if mm % 10 == 0:
            cv2.putText(img, str(mm // 10), (xr + 13, yy + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38, 210, 1)
    fy = focus_y
    cv2.fillPoly(img, [np.array([[xr - 6, fy - 4], [xr - 6, fy + 4], [xr - 1, fy]], np.int32)], 230)
