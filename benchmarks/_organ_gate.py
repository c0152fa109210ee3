"""The organ check studied in benchmarks/organ_gate_probe.py: the whole scan area read by a small network.

Not part of the application: the study (docs/DOMAIN_GUARD.md, "An organ check on the whole scan area")
found that a network trained on one breast centre calls another breast centre's scans another organ
(26.7 % and 43.8 %), so the check is not offered; the code stays here with its record so the study can
be rerun (e.g. on a site's own scans of other organs).

* The view: the scan area's bounding box (outside it zero), letter-boxed to a square so no aspect is
  distorted, reduced to 128 × 128 and z-scored over the scan area, so gain and grey map do not matter.
* The network: five convolution blocks, global average pooling, one logit "another organ"; breast
  scans against other organs' scans (outlier exposure, Hendrycks et al., ICLR 2019), each organ an equal
  share of the negatives' weight and the two classes alike; random crops of 60–100 % of each side,
  flips, lower resolution and noise, so that a set is not told by its framing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: side of the view the organ check reads, in pixels
VIEW_SIZE = 128
#: a scan area smaller than this on either side is too small to tell an organ by
MIN_SIDE = 32


def whole_scan_view(gray: np.ndarray, scan_mask: np.ndarray, size: int = VIEW_SIZE) -> np.ndarray:
    """(size, size) float32: the scan area's bounding box, letter-boxed, resized, z-scored inside it."""
    g = np.asarray(gray)
    m = np.asarray(scan_mask, bool)
    if g.ndim != 2 or m.shape != g.shape:
        raise ValueError(
            f"a 2-D grey image and a scan area of its shape are needed, not {g.shape} and {m.shape}"
        )
    ys, xs = np.nonzero(m)
    if ys.size == 0 or np.ptp(ys) + 1 < MIN_SIDE or np.ptp(xs) + 1 < MIN_SIDE:
        raise ValueError("the scan area is too small to be read as a whole")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = g[y0:y1, x0:x1].astype(np.float32)
    inside = m[y0:y1, x0:x1]
    side = max(crop.shape)
    canvas = np.zeros((side, side), np.float32)
    area = np.zeros((side, side), np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    canvas[top : top + crop.shape[0], left : left + crop.shape[1]] = np.where(inside, crop, 0.0)
    area[top : top + crop.shape[0], left : left + crop.shape[1]] = inside
    small = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    weight = cv2.resize(area, (size, size), interpolation=cv2.INTER_AREA)
    keep = weight > 0.5
    values = small[keep] / weight[keep]
    mean, sd = float(values.mean()), float(values.std())
    out = np.zeros((size, size), np.float32)
    out[keep] = (values - mean) / max(sd, 1e-3)
    return out


WIDTHS = (16, 32, 64, 64, 64)


class OrganNet(nn.Module):
    """Five convolution blocks (a 5×5 of stride 2, then 3×3s; BatchNorm, ReLU; max-pooling after the
    second to fourth), global average pooling and one linear unit: about 100 k parameters, a few
    milliseconds per view on a CPU."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for i, w in enumerate(widths):
            conv = (
                nn.Conv2d(cin, w, 5, stride=2, padding=2, bias=False)
                if i == 0
                else nn.Conv2d(cin, w, 3, padding=1, bias=False)
            )
            layers += [conv, nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if 0 < i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(cin, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).mean(dim=(2, 3))
        return self.head(self.drop(h)).squeeze(1)


@dataclass(frozen=True)
class GateTraining:
    """What a fit uses (the study ran these defaults)."""

    epochs: int = 10
    batch: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-3
    seed: int = 0


def sample_weights(labels: np.ndarray, groups: list[str]) -> np.ndarray:
    """Each class half of the loss; within the outliers, each group (organ) an equal share."""
    labels = np.asarray(labels)
    w = np.zeros(len(labels), np.float64)
    pos = labels == 0
    w[pos] = 0.5 / max(pos.sum(), 1)
    others = sorted({g for g, y in zip(groups, labels, strict=True) if y == 1})
    for g in others:
        idx = np.array([gg == g and y == 1 for gg, y in zip(groups, labels, strict=True)])
        w[idx] = 0.5 / len(others) / idx.sum()
    return w * len(labels)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random crop of 60–100 % of each side (resized back), left–right flip, a blur or a lower resolution
    now and then, and a little noise: no set is told by its framing or its sharpness."""
    n, _, h, w = x.shape
    scale = 0.6 + 0.4 * torch.rand(n, generator=gen)
    aspect = torch.exp((torch.rand(n, generator=gen) - 0.5) * 0.4)
    sx = (scale * aspect.sqrt()).clamp(max=1.0)
    sy = (scale / aspect.sqrt()).clamp(max=1.0)
    tx = (torch.rand(n, generator=gen) * 2 - 1) * (1 - sx)
    ty = (torch.rand(n, generator=gen) * 2 - 1) * (1 - sy)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = sx * flip, tx
    theta[:, 1, 1], theta[:, 1, 2] = sy, ty
    grid = F.affine_grid(theta, (n, 1, h, w), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    low = torch.rand(n, generator=gen) < 0.3
    if low.any():
        f = int(torch.randint(2, 4, (1,), generator=gen))
        small = F.avg_pool2d(out[low], f)
        out[low] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    return out + 0.05 * torch.randn(out.shape, generator=gen)


def fit_gate(
    views: np.ndarray, labels: np.ndarray, groups: list[str], cfg: GateTraining | None = None
) -> OrganNet:
    """Train the network on (N, S, S) views; label 1 = another organ, 0 = the trained body part."""
    cfg = cfg or GateTraining()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    x = torch.from_numpy(np.asarray(views, np.float32)[:, None])
    y = torch.from_numpy(np.asarray(labels, np.float32))
    w = torch.from_numpy(sample_weights(labels, groups).astype(np.float32))
    net = OrganNet()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * int(np.ceil(len(x) / cfg.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    net.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), cfg.batch):
            idx = order[start : start + cfg.batch]
            if len(idx) < 2:
                continue
            logit = net(augment(x[idx], gen))
            loss = (F.binary_cross_entropy_with_logits(logit, y[idx], reduction="none") * w[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


@torch.no_grad()
def gate_logits(net: OrganNet, views: np.ndarray, batch: int = 128) -> np.ndarray:
    """The network's logit ("another organ") for each (S, S) view."""
    net.eval()
    x = np.asarray(views, np.float32)
    out = [net(torch.from_numpy(x[i : i + batch, None])).numpy() for i in range(0, len(x), batch)]
    return np.concatenate(out).astype(np.float64)
