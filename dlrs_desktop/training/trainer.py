"""Training of the fusion model: cross-fitted networks → out-of-fold stacking → final network.

Stages (each resumable from `<out>/.checkpoint`):
1. `fold0..fold{K-1}`: a FusionNet trained on K−1 folds of the training split (folds grouped by
   patient, stratified by label) predicts the held-out fold → out-of-fold region logits;
2. the row models (single regions, intratumoral + each ring, all regions) are fitted on those
   out-of-fold logits (`stacking.py`), thresholds by Youden on them;
3. `final`: a network trained on the whole training split;
4. the shipped network: by default (`ensemble="final+folds"`) the final network and the K fold
   networks averaged, each member's logits standardised on the internal split first
   (`network.ensemble_of`); with `ensemble="final"` the final network alone.
Every stage stops early on the internal split (mean of the per-region AUCs), keeping its best epoch.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.training import checkpoint as ckpt
from dlrs_desktop.training.metrics import auc


@dataclass
class TrainConfig:
    arch: str = "resnet18"
    input_size: int = 112
    mm_per_px: float = 0.48  # crop scale: 112 px × 0.48 mm ≈ 54 mm field of view (10 mm ring fits)
    fill: str = "mean"  # outside the region: its mean intensity (docs/TRAINING.md, step 1)
    normalisation: str = "fixed"  # or "tissue_zscore", "image_zscore", "roi_zscore" (TRAINING.md, step 1)
    crop: str = "fixed"  # "fixed": one field of view for every case; "fit": each region fills its crop
    ring_kind: str = "annulus"  # "annulus" (ring only, as the study), "expanded" or "shell" (ROI.md)
    epochs: int = 14
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    folds: int = 3
    patience: int = 5
    keep: str = "best"  # "best": early stopping on the internal split; "last": the annealed end
    jitter_variants: int = 2
    augment_strength: float = 0.5
    distance_channel: bool = False  # an input channel with the distance to the outline (preprocess.py)
    blur_px: float = 0.0  # largest Gaussian blur sigma (crop pixels) at augmentation strength 1
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # 0: torch default
    init: str | None = None
    meta_c: float = 1.0
    ema: float = 0.0  # decay of an exponential moving average of the weights per step (0 = off)
    radiomics: bool = True  # stack a radiomics signature into every fusion row (model/radiomics.py)
    ensemble: str = "final+folds"  # the shipped network: "final+folds" (averaged) or "final" alone
    limit_batches: int = 0  # tests: stop each epoch after this many batches (0 = all)
    extra: dict[str, Any] = field(default_factory=dict)


#: Checkpoint tensors of finished networks, carried through every later save: `final.<name>` and
#: `done.fold<i>.<name>` (the fold networks are members of the shipped ensemble).
KEPT_PREFIXES = ("final.", "done.")
ENSEMBLE_CHOICES = ("final+folds", "final")


def kept_tensors(tensors: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (tensors or {}).items() if k.startswith(KEPT_PREFIXES)}


def new_network(cfg: TrainConfig, spec):
    """A freshly initialised single FusionNet for this recipe (one trunk shared by the regions)."""
    # lazy: the network imports torch; `dlrs --help` loads this module (TrainConfig) without the [train] extra
    from dlrs_desktop.model.network import FusionNet

    return FusionNet(
        cfg.arch, n_regions=len(spec.regions), shared_backbone=True, in_channels=spec.in_channels
    )


def resolve_device(name: str):
    # lazy: optional [train] extra; extras.require names the install
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name in ("cuda", "gpu"):
        if not torch.cuda.is_available():
            raise DlrsError("--device cuda was asked for, but no CUDA GPU is available here.")
        return torch.device("cuda")
    return torch.device("cpu")


def load_init_weights(net, path: str | Path) -> int:
    """Copy a local torchvision-format ResNet checkpoint into every backbone; returns tensors loaded.

    Only `.safetensors` is accepted: a `.pth/.pt/.ckpt` file is a pickle, which this product never
    opens (not even with `weights_only`); docs/TRAINING.md shows the one-time conversion. A 3-channel
    first convolution is summed over its colour channels for grayscale input.
    """
    p = Path(path)
    if p.suffix.lower() != ".safetensors":
        raise DlrsError(
            f"{p.name} is not a .safetensors file. Pickle-based checkpoints (.pth, .pt, .ckpt) are never "
            "opened; convert it once to safetensors (docs/TRAINING.md, 'Starting from ImageNet weights')."
        )
    if not p.is_file():
        raise DlrsError(f"The initial weights file {p} does not exist.")
    try:
        # lazy: torch is the optional [train]/[gpu] extra
        from safetensors.torch import load_file

        sd = load_file(str(p))
    except Exception as exc:
        raise DlrsError(f"The initial weights file {p.name} cannot be read safely: {exc}") from None
    if not isinstance(sd, dict):
        raise DlrsError(f"The initial weights file {p.name} does not hold a state dict.")
    sd = {k.removeprefix("module.").removeprefix("backbones.0."): v for k, v in sd.items()}
    loaded = 0
    for bb in net.backbones:
        own = bb.state_dict()
        new = {}
        for k, v in own.items():
            src = sd.get(k)
            if src is None:
                continue
            if k == "conv1.weight" and src.shape[1] != v.shape[1]:
                src = (
                    src.sum(dim=1, keepdim=True)
                    if v.shape[1] == 1
                    else src.mean(1, keepdim=True).repeat(1, 3, 1, 1)
                )
            if tuple(src.shape) == tuple(v.shape):
                new[k] = src.to(v.dtype)
        bb.load_state_dict(new, strict=False)
        loaded = len(new)
    if loaded == 0:
        raise DlrsError(f"No tensor of {p.name} matches a torchvision {net.arch} backbone.")
    return loaded


def predict_logits(net, x: np.ndarray, device, batch: int = 32) -> np.ndarray:
    # lazy: optional [train] extra; extras.require names the install
    import torch

    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(np.asarray(x[i : i + batch], dtype=np.float32)).to(device)
            out.append(net(xb).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, net.n_regions))


def _score(logits: np.ndarray, y: np.ndarray) -> float:
    """Early-stopping score: mean over regions of the region AUC (every head must be good)."""
    if len(set(y.tolist())) < 2:
        return float("nan")
    return float(np.mean([auc(y, logits[:, r]) for r in range(logits.shape[1])]))


def train_stage(
    stage: str,
    cfg: TrainConfig,
    spec,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    device,
    ckdir: Path,
    state: dict[str, Any],
    resume_tensors: dict[str, Any] | None,
    log=print,
    before_save=None,
):
    """Train one FusionNet; returns (best net, best epoch, history). Saves a checkpoint every epoch."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    # lazy: augment imports torch; `dlrs --help` loads this module (TrainConfig) without the [train] extra
    from dlrs_desktop.training.augment import augment
    from dlrs_desktop.training.progress import ProgressBar

    stage_idx = 0 if stage == "final" else 1 + int(stage.removeprefix("fold"))
    torch.manual_seed(cfg.seed * 1000 + stage_idx)
    net = new_network(cfg, spec)
    if cfg.init:
        load_init_weights(net, cfg.init)
    net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_pos = int(y_train.sum())
    pos_weight = torch.tensor((len(y_train) - n_pos) / max(n_pos, 1), device=device)  # class imbalance
    steps_per_epoch = max(1, math.ceil(len(y_train) / cfg.batch_size))
    if cfg.limit_batches:
        steps_per_epoch = min(steps_per_epoch, cfg.limit_batches)
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.2)
    ema = _ema_model(net, cfg.ema)
    cur = state.get("current") or {}
    start_epoch, best_score, best_epoch, history = 0, -1.0, -1, []
    best_sd = None
    if cur.get("stage") == stage and resume_tensors is not None:
        net.load_state_dict(
            {k[4:]: v for k, v in resume_tensors.items() if k.startswith("net.")}, strict=False
        )
        ckpt.restore_optimizer(opt, resume_tensors, cur["optimizer"])
        sched.load_state_dict(cur["scheduler"])
        best_sd = {k[5:]: v for k, v in resume_tensors.items() if k.startswith("best.")}
        if ema is not None:
            ema.load_state_dict({k[4:]: v for k, v in resume_tensors.items() if k.startswith("ema.")})
        start_epoch, best_score, best_epoch = cur["epoch"] + 1, cur["best_score"], cur["best_epoch"]
        history = cur["history"]
        log(f"[{stage}] resuming at epoch {start_epoch + 1}")
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + stage_idx)
    rng = np.random.default_rng([cfg.seed, stage_idx])
    for _ in range(start_epoch):  # replay the random stream so a resumed run equals an uninterrupted one
        rng.permutation(len(y_train))
        rng.integers(0, x_train.shape[1], size=len(y_train))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    for epoch in range(start_epoch, cfg.epochs):
        net.train()
        order = rng.permutation(len(y_train))
        variant = rng.integers(0, x_train.shape[1], size=len(y_train))
        gen.manual_seed(cfg.seed * 7919 + stage_idx * 131 + epoch)
        bar = ProgressBar(steps_per_epoch, f"[{stage}] epoch {epoch + 1}/{cfg.epochs}")
        t0, losses = time.perf_counter(), []
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if len(idx) == 0:
                break
            xb = torch.from_numpy(x_train[idx, variant[idx]].astype(np.float32))
            xb = augment(
                xb, spec.mean, spec.std, gen, cfg.augment_strength, spec.fill, spec.normalisation,
                cfg.blur_px, int(spec.distance_channel),
            ).to(device)  # fmt: skip
            yb = torch.from_numpy(y_train[idx].astype(np.float32)).to(device)
            logits = net(xb)
            loss = loss_fn(logits, yb[:, None].expand_as(logits))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(net)
            losses.append(float(loss.item()))
            bar.update(step + 1, f"loss {np.mean(losses):.3f}")
        bar.close()
        rec: dict[str, Any] = {
            "epoch": epoch + 1,
            "loss": float(np.mean(losses)),
            "seconds": time.perf_counter() - t0,
        }
        scored = net if ema is None else ema.module  # the weights that would be kept
        if x_val is not None and y_val is not None and len(y_val):
            vl = predict_logits(scored, x_val[:, 0], device)
            rec["internal_score"] = _score(vl, y_val)
            rec["internal_region_auc"] = [float(auc(y_val, vl[:, r])) for r in range(vl.shape[1])]
        score = rec.get("internal_score", float("nan"))
        improved = math.isnan(score) or score > best_score + 1e-4 or cfg.keep == "last"
        if improved:
            best_score = score if not math.isnan(score) else best_score
            best_epoch = epoch
            best_sd = {k: v.detach().cpu().clone() for k, v in scored.state_dict().items()}
        history.append(rec)
        log(
            f"[{stage}] epoch {epoch + 1}: loss {rec['loss']:.4f}"
            + (f", internal mean region AUC {score:.3f}" if not math.isnan(score) else "")
            + f" ({rec['seconds']:.0f} s){' *' if improved else ''}"
        )
        opt_t, opt_meta = ckpt.optimizer_tensors(opt)
        state["current"] = {
            "stage": stage,
            "epoch": epoch,
            "best_score": best_score,
            "best_epoch": best_epoch,
            "history": history,
            "optimizer": opt_meta,
            "scheduler": sched.state_dict(),
        }
        tensors = {f"net.{k}": v for k, v in net.state_dict().items()}
        tensors.update({f"best.{k}": v for k, v in (best_sd or {}).items()})
        if ema is not None:
            tensors.update({f"ema.{k}": v for k, v in ema.state_dict().items()})
        tensors.update(opt_t)
        tensors.update(kept_tensors(resume_tensors))
        if before_save is not None:
            before_save()  # provenance: the session's elapsed time goes into the checkpoint too
        ckpt.save(ckdir, state, tensors)
        stop = cfg.keep == "best" and epoch + 1 >= cfg.epochs // 2  # no stop in warm-up
        if stop and epoch - best_epoch >= cfg.patience:
            log(
                f"[{stage}] early stop: no improvement for {cfg.patience} epochs "
                f"(best epoch {best_epoch + 1})"
            )
            break
    if best_sd is not None:
        net.load_state_dict(best_sd)
    net.eval()
    return net, best_epoch + 1, history


def _ema_model(net, decay: float):
    """Exponential moving average of the weights and BatchNorm statistics, updated every step.

    Why: on a few hundred noisy-labelled cases the weights after any one step are noisy and the
    internal score jumps from epoch to epoch; the average of the recent steps generalises better
    and makes the early-stopping choice less of a lottery.
    """
    if not decay:
        return None
    # lazy: optional [train] extra; extras.require names the install
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def group_folds(cases, y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold index per training case: grouped by patient, stratified by label."""
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.array([c.patient_id for c in cases])
    k = min(k, int(min(np.bincount(y, minlength=2))), len(set(groups)))
    if k < 2:
        raise CohortError("Out-of-fold stacking needs at least two training cases of each class.")
    folds = np.full(len(y), -1)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for f, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
        folds[test] = f
    return folds


def describe(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)
