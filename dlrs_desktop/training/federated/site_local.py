"""A site's local training: `epochs` epochs of the pooled recipe's loop on its own cases.

Why apart from site.py: the loop is the pooled trainer's (augmentation, loss, class weight) plus an
optional FedProx term; site.py holds the requests and their checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LocalRun:
    """One "train" request's local schedule (from the server) and its random stream's key."""

    epochs: int
    lr: float
    prox_mu: float
    pos_weight: float
    rng_key: list[int]


def local_epochs(net, loc, fit: np.ndarray, run: LocalRun, device) -> float:  # type: ignore[no-untyped-def]
    """`run.epochs` epochs of the pooled recipe's loop on the cases `fit`; the mean batch loss."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    # lazy: imports torch (the optional [train] extra)
    from dlrs_desktop.training.augment import Augmentation, augment

    cfg, spec, x, y = loc.cfg, loc.spec, loc.data.x, loc.data.y
    how = Augmentation(
        spec.mean,
        spec.std,
        cfg.augment_strength,
        spec.fill,
        spec.normalisation,
        cfg.blur_px,
        int(spec.distance_channel),
    )
    anchor = [p.detach().clone() for p in net.parameters()]  # FedProx: stay near the global weights
    opt = torch.optim.AdamW(net.parameters(), lr=run.lr, weight_decay=cfg.weight_decay)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(run.pos_weight, device=device))
    rng = np.random.default_rng(run.rng_key)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    steps = max(1, math.ceil(len(fit) / cfg.batch_size))
    steps = min(steps, cfg.limit_batches) if cfg.limit_batches else steps
    losses: list[float] = []
    net.train()
    for _ in range(run.epochs):
        order, variant = rng.permutation(len(fit)), rng.integers(0, x.shape[1], size=len(fit))
        for step in range(steps):
            sel = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if len(sel) == 0:
                break
            idx = fit[sel]
            xb = augment(torch.from_numpy(x[idx, variant[sel]].astype(np.float32)), how, gen)
            logits = net(xb.to(device))
            target = torch.from_numpy(y[idx].astype(np.float32))[:, None].to(device).expand_as(logits)
            loss = loss_fn(logits, target)
            total = loss
            if run.prox_mu > 0:
                prox = sum(((p - a) ** 2).sum() for p, a in zip(net.parameters(), anchor, strict=True))
                total = loss + 0.5 * run.prox_mu * prox
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            losses.append(float(loss.item()))
    net.eval()
    return float(np.mean(losses)) if losses else 0.0
