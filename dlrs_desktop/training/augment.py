"""On-the-fly augmentations for ultrasound ROI crops (torch), applied identically to a case's regions.

Why these: scanners and presets differ in overall gain and dynamic range (gain, gamma), speckle
differs between transducers (multiplicative noise), probes are held at slightly different angles
and depths (small rotation, scale, left-right flip). Contour jitter is done earlier on the
contour itself (`dataset.jitter_contour`). With `fill="zero"` pixels outside the region keep the
fill value, so the network never sees invented tissue. With `fill="mean"` (outside = the region's
mean intensity) the photometric changes apply to the whole crop, so the fill stays the mean of the
changed region, and rotation pads with the border value instead of black corners.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment(
    x: torch.Tensor,
    mean: float,
    std: float,
    generator: torch.Generator,
    strength: float = 1.0,
    fill_mode: str = "zero",
) -> torch.Tensor:
    """x: (B, R, C, S, S) normalised crops; `fill_mode` is the preprocessing's `fill`."""
    b, r, c, s, _ = x.shape
    dev = x.device
    fill = (0.0 - mean) / std
    # "mean"/"none": every pixel carries image information, so every pixel is changed
    inside = (x - fill).abs() > 1e-4 if fill_mode == "zero" else torch.ones_like(x, dtype=torch.bool)
    v = (x * std + mean).clamp(0, 1)

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator).to(dev) * (hi - lo) + lo

    gain = u(1 - 0.2 * strength, 1 + 0.25 * strength, b, 1, 1, 1, 1)
    offset = u(-0.06 * strength, 0.06 * strength, b, 1, 1, 1, 1)
    gamma = torch.exp(u(-0.2 * strength, 0.2 * strength, b, 1, 1, 1, 1))
    v = (v.clamp_min(1e-4) ** gamma) * gain + offset
    noise = torch.randn(v.shape, generator=generator).to(dev) * (0.07 * strength)
    v = (v * (1 + noise)).clamp(0, 1)
    x = torch.where(inside, (v - mean) / std, torch.full_like(v, fill))

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
    return out.reshape(b, r, c, s, s) + fill
