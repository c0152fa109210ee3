"""Training the organ check of the domain guard: is this the whole view of a breast scan? (needs torch)

A small convolutional network reads the whole scan area (model/organ_view.py) and gives one logit:
other organ (positive) against the body part the bundle was trained on. Outlier exposure (Hendrycks et
al., ICLR 2019) with real scans of other organs as the outliers; because such sets are few and each
comes from one source, every organ's weight in the loss is the same (a set of 300 frames does not
outvote a set of 40), the two classes weigh alike, and the views are cropped, flipped and blurred at
random so that the network cannot tell a set by its framing. Whether that worked is measured with
each organ and each training centre left out (benchmarks/organ_gate_probe.py) before any threshold
is set.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlrs_desktop.model.organ_view import VIEW_SIZE

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
    """What a fit used: kept in the manifest so that a gate can be rebuilt and questioned."""

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


def export_onnx(net: OrganNet) -> bytes:
    """The network as ONNX bytes (input `view`, 1 × 1 × S × S; output `logit`, 1), as the app runs it."""
    buf = io.BytesIO()
    torch.onnx.export(
        net.eval(),
        (torch.zeros(1, 1, VIEW_SIZE, VIEW_SIZE),),
        buf,
        input_names=["view"],
        output_names=["logit"],
        opset_version=17,
        dynamo=False,
    )
    return buf.getvalue()
