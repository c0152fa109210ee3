"""Simulated quality-assurance phantom scans: negatives for the domain guard's texture gate.

A tissue-mimicking phantom is what a scanner shows most often that is not a patient (daily QA,
demonstrations, training), and its speckle is real scanner speckle: homogeneous, fully developed,
with round anechoic and grey-scale targets and wire echoes — none of the layered fat, gland and
ligament structure around a breast lesion. The guard's one-class texture distance alone calls such
images "unusual", not "outside" (docs/DOMAIN_GUARD.md). This module simulates them the way
ultrasound simulators do (e.g. Field II's scatterer model, much simplified): random scatterers with
an echogenicity map, convolved with a pulse–echo point-spread function that is longer laterally than
axially, envelope-detected, attenuated with depth and log-compressed to 8 bits — every physical
setting drawn at random per image, so the gate learns "uniform speckle around round targets", not
one simulator's look. It is deliberately not the drawing of `benchmarks/domain_guard_ood.py` (Rayleigh
noise blurred by a Gaussian), which stays an independent probe.

numpy + cv2 only; each image has its own seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PhantomScan:
    gray: np.ndarray  # uint8 (H, W)
    contour: np.ndarray  # (N, 2) x, y: the outline a user would draw round the chosen target
    mm_per_px: float


def _psf(rng: np.random.Generator) -> np.ndarray:
    """Complex pulse–echo PSF (axial Gaussian-modulated carrier × lateral Gaussian), in pixels."""
    sig_ax = rng.uniform(0.7, 1.8)
    sig_lat = sig_ax * rng.uniform(1.5, 3.5)  # lateral resolution is worse than axial
    wavelength = rng.uniform(2.2, 4.5)
    half_y, half_x = int(np.ceil(3 * sig_ax)), int(np.ceil(3 * sig_lat))
    yy, xx = np.mgrid[-half_y : half_y + 1, -half_x : half_x + 1].astype(np.float64)
    env = np.exp(-0.5 * (yy / sig_ax) ** 2 - 0.5 * (xx / sig_lat) ** 2)
    return env * np.exp(2j * np.pi * yy / wavelength)


def _targets(rng: np.random.Generator, h: int, w: int, mm: float) -> tuple[np.ndarray, list[tuple]]:
    """Echogenicity map (1 = background) with round targets; returns it and the targets (cx, cy, r)."""
    amp = np.ones((h, w))
    yy, xx = np.mgrid[:h, :w]
    targets = []
    for _ in range(int(rng.integers(2, 7))):
        r = rng.uniform(2.0, 8.0) / mm
        cx, cy = rng.uniform(r + 4, w - r - 4), rng.uniform(max(r + 4, 0.15 * h), h - r - 4)
        level = rng.choice([0.0, 0.0, rng.uniform(0.2, 0.6), rng.uniform(1.6, 3.0)])
        amp[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = level
        targets.append((cx, cy, r))
    for _ in range(int(rng.integers(0, 2))):  # a column or row of wire echoes
        n = int(rng.integers(4, 9))
        if rng.random() < 0.5:
            x0, ys = rng.uniform(0.2, 0.8) * w, np.linspace(0.1 * h, 0.9 * h, n)
            pts = [(x0, y) for y in ys]
        else:
            y0, xs = rng.uniform(0.2, 0.8) * h, np.linspace(0.15 * w, 0.85 * w, n)
            pts = [(x, y0) for x in xs]
        for x, y in pts:
            amp[int(y), int(x)] = rng.uniform(15, 40)
    return amp, targets


def phantom_scan(seed: int) -> PhantomScan:
    """One simulated phantom scan (its own seed) and a contour round one of its targets."""
    rng = np.random.default_rng([seed, 20261205])
    mm = float(rng.uniform(0.05, 0.15))
    h, w = int(rng.integers(320, 560)), int(rng.integers(360, 640))
    amp, targets = _targets(rng, h, w, mm)
    field = (rng.normal(size=(h, w)) + 1j * rng.normal(size=(h, w))) * amp
    psf = _psf(rng)
    kr, ki = (np.ascontiguousarray(part[::-1, ::-1]) for part in (psf.real, psf.imag))  # convolution
    fr, fi = np.ascontiguousarray(field.real), np.ascontiguousarray(field.imag)
    real = cv2.filter2D(fr, -1, kr) - cv2.filter2D(fi, -1, ki)
    env = np.hypot(real, cv2.filter2D(fr, -1, ki) + cv2.filter2D(fi, -1, kr))
    depth_mm = np.arange(h)[:, None] * mm
    tgc = np.exp(-rng.uniform(0.0, 0.03) * depth_mm) * (1 + rng.uniform(-0.2, 0.2) * np.sin(depth_mm / 15))
    env = env * tgc
    db = 20 * np.log10(env / np.percentile(env, 99.5) + 1e-9) - rng.uniform(0.0, 12.0)  # gain
    dyn = rng.uniform(45, 70)
    gray = 255 * np.clip((db + dyn) / dyn, 0, 1) ** rng.uniform(0.8, 1.5) * rng.uniform(0.75, 1.05)
    canvas = np.zeros((h + 40, w + 60), np.uint8)  # a black frame, as scanners export the scan area
    canvas[20 : 20 + h, 30 : 30 + w] = np.clip(gray, 0, 255).astype(np.uint8)
    cx, cy, r = targets[int(rng.integers(len(targets)))]
    r = max(r, 2.0 / mm)
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    wobble = 1 + rng.normal(0, 0.03, t.size)
    contour = np.c_[30 + cx + r * wobble * np.cos(t), 20 + cy + r * wobble * np.sin(t)]
    return PhantomScan(canvas, contour, mm)
