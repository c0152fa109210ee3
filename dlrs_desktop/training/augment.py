"""On-the-fly augmentations for ultrasound ROI crops (torch), applied identically to a case's regions.

Why these: scanners and presets differ in overall gain and dynamic range (gain, gamma), speckle
differs between transducers (multiplicative noise), probes are held at slightly different angles
and depths (small rotation, scale, left-right flip). Contour jitter is done earlier on the
contour itself (`dataset.jitter_contour`). With `fill="zero"` pixels outside the region keep the
fill value, so the network never sees invented tissue. With `fill="mean"` (outside = the region's
mean intensity) the photometric changes apply to the whole crop, so the fill stays the mean of the
changed region, and rotation pads with the border value instead of black corners.

Transducers differ in their point-spread function too (a lower-frequency probe draws coarser,
blurrier speckle), so `blur_px` adds a Gaussian blur of random width (0 to `blur_px` crop pixels
× strength) per case. With a z-scored input (`normalisation` other than "fixed") the
crop is in units of its reference's standard deviation, not in [0, 1] intensities: the
photometric changes then work on a pseudo-intensity 0.5 + 0.2·z and nothing is clipped to [0, 1]
(that would cut off everything darker or brighter than ±2.5 SD).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augmentation:
    """How a stage augments: the preprocessing's normalisation constants and fill, and the recipe's
    strength and blur (TrainConfig). One object, so the call site cannot swap two floats."""

    mean: float
    std: float
    strength: float = 1.0
    fill_mode: str = "zero"
    normalisation: str = "fixed"
    blur_px: float = 0.0
    coordinate_channels: int = 0


def augment(x: torch.Tensor, how: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """x: (B, R, C, S, S) normalised crops; `how.fill_mode` and `how.normalisation` are the preprocessing's.

    The last `coordinate_channels` channels (the distance map) are not intensities: they move with
    the geometry and are never changed photometrically.
    """
    mean, std, strength, fill_mode = how.mean, how.std, how.strength, how.fill_mode
    blur_px, coordinate_channels = how.blur_px, how.coordinate_channels
    coords = None
    if coordinate_channels:
        n = x.shape[2] - coordinate_channels
        x, coords = x[:, :, :n], x[:, :, n:]
    b, r, c, s, _ = x.shape
    dev = x.device
    zscored = how.normalisation != "fixed"
    if zscored:
        mean, std = 0.5, 0.2  # pseudo-intensity of a z-scored crop (see the module docstring)
    fill = (0.0 - mean) / std
    # "mean"/"none": every pixel carries image information, so every pixel is changed
    inside = (x - fill).abs() > 1e-4 if fill_mode == "zero" else torch.ones_like(x, dtype=torch.bool)
    v = x * std + mean
    v = v.clamp_min(0) if zscored else v.clamp(0, 1)

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator).to(dev) * (hi - lo) + lo

    gain = u(1 - 0.2 * strength, 1 + 0.25 * strength, b, 1, 1, 1, 1)
    offset = u(-0.06 * strength, 0.06 * strength, b, 1, 1, 1, 1)
    gamma = torch.exp(u(-0.2 * strength, 0.2 * strength, b, 1, 1, 1, 1))
    v = (v.clamp_min(1e-4) ** gamma) * gain + offset
    noise = torch.randn(v.shape, generator=generator).to(dev) * (0.07 * strength)
    v = v * (1 + noise)
    v = v.clamp_min(0) if zscored else v.clamp(0, 1)
    x = torch.where(inside, (v - mean) / std, torch.full_like(v, fill))
    if blur_px > 0 and strength > 0:
        sigma = u(0.0, blur_px * strength, b)
        x = torch.where(inside, _blur(x, sigma), torch.full_like(x, fill))

    # geometry: same rotation / scale / flip for all regions of a case
    ang = u(-10, 10, b) * strength * math.pi / 180
    scale = u(1 - 0.08 * strength, 1 + 0.08 * strength, b)
    flip_p = 0.5 if strength > 0 else 0.0  # --augment 0 means off: no flips either
    flip = torch.where(torch.rand(b, generator=generator) < flip_p, -1.0, 1.0).to(dev)
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, torch.zeros_like(cos)], -1),
            torch.stack([sin * flip, cos, torch.zeros_like(cos)], -1),
        ],
        dim=1,
    )  # (B, 2, 3)
    theta = theta.repeat_interleave(r, dim=0)
    flat = (x - fill).reshape(b * r, c, s, s)
    grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
    pad = "zeros" if fill_mode == "zero" else "border"
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode=pad, align_corners=False)
    out = out.reshape(b, r, c, s, s) + fill
    if coords is None:
        return out
    k = coords.shape[2]
    moved = F.grid_sample(
        coords.reshape(b * r, k, s, s), grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    return torch.cat([out, moved.reshape(b, r, k, s, s)], dim=2)


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of every crop of case i with width sigma[i] (crop pixels)."""
    b, r, c, s, _ = x.shape
    half = max(1, math.ceil(3 * float(sigma.max())))
    t = torch.arange(-half, half + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t[None, :] / sigma.clamp_min(1e-3)[:, None]) ** 2)
    k = k / k.sum(dim=1, keepdim=True)  # (B, K); sigma ≈ 0 → a delta kernel
    k = k.repeat_interleave(r * c, dim=0)  # one kernel per crop channel
    flat = x.reshape(1, b * r * c, s, s)
    flat = F.pad(flat, (half, half, half, half), mode="replicate")
    flat = F.conv2d(flat, k[:, None, None, :], groups=b * r * c)
    flat = F.conv2d(flat, k[:, None, :, None], groups=b * r * c)
    return flat.reshape(b, r, c, s, s)
