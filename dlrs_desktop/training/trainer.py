"""Training of the fusion model: cross-fitted networks → out-of-fold stacking → final network.

Stages (each resumable from `<out>/.checkpoint`):
1. `fold0..fold{K-1}`: a FusionNet trained on K−1 folds of the training split (folds grouped by
   patient, stratified by label) predicts the held-out fold → out-of-fold region logits;
2. the row models (single regions, intratumoral + each ring, all regions) are fitted on those
   out-of-fold logits (`stacking.py`), thresholds by Youden on them;
3. `final`: a network trained on the whole training split;
4. the shipped network: by default (`ensemble="final+folds"`) the final network and the K fold
   networks averaged, each member's logits standardised on the internal split first
   (`network.ensemble_of`); with `ensemble="final"` the final network alone;
5. `student` (`distil="auto"` with the ensemble): one network distilled from the ensemble's
   out-of-fold logits, shipped instead of it when its internal AUC is as good (`distil.py`).
Every stage stops early on the internal split (mean of the per-region AUCs), keeping its best epoch.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.model.manifest import MAX_MEMBERS
from dlrs_desktop.model.radiomics import FeatureSettings
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
    fold_by: str = "patient"  # "patient" (k folds) or "centre": leave-one-centre-out stacking folds
    patience: int = 5
    keep: str = "best"  # "best": early stopping on the internal split; "last": the annealed end
    jitter_variants: int = 2
    jitter_offset_mm: float = 0.0  # each jitter variant's outline first moved in or out by up to this (mm)
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
    radiomics_core_mm: float = 0.0  # intratumoral features on the tumour's core (radiomics.tumour_core)
    radiomics_shape: str = "outline"  # the signatures' shape measures (radiomics.SHAPE_SETS)
    ensemble: str = "final+folds"  # the shipped network: "final+folds" (averaged) or "final" alone
    distil: str = "auto"  # "auto": a student distilled from the ensemble ships if as good (distil.py)
    distil_hard_weight: float = 0.5  # the hard label's share of the student's target (distil.py)
    distil_tolerance: float = 0.005  # the student ships if its internal AUC ≥ the ensemble's − this
    limit_batches: int = 0  # tests: stop each epoch after this many batches (0 = all)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_settings(self) -> FeatureSettings:
        """The radiomics feature settings these flat (command-line) fields make."""
        return FeatureSettings(self.radiomics_core_mm, self.radiomics_shape)


#: Checkpoint tensors of finished networks, carried through every later save: `final.<name>`,
#: `done.fold<i>.<name>` (the fold networks are members of the shipped ensemble) and `student.<name>`.
KEPT_PREFIXES = ("final.", "done.", "student.")
ENSEMBLE_CHOICES = ("final+folds", "final")
#: centre folds: the shipped fold ensemble holds folds + 1 networks
MAX_CENTRE_FOLDS = MAX_MEMBERS - 1
DISTIL_CHOICES = ("auto", "off")


def stage_index(stage: str) -> int:
    """The stage's number in the seeds: final 0, fold f 1 + f, the distilled student 99."""
    if stage == "student":
        return 99
    return 0 if stage == "final" else 1 + int(stage.removeprefix("fold"))


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


@dataclass(frozen=True)
class StageData:
    """A stage's crops: training (N, V, R, C, S, S) with labels, and the internal split (N, 1, R, …) that
    early stopping watches (None: no internal split, the last epoch is kept). `t_train` (N, R): soft
    targets in [0, 1] per case and region that replace the label in the loss (the distilled student)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    t_train: np.ndarray | None = None


@dataclass
class StageCheckpoint:
    """Where a stage saves every epoch: `state` is the run's checkpoint JSON (updated in place),
    `resume_tensors` what a resumed run starts from, `before_save` stamps provenance first."""

    ckdir: Path
    state: dict[str, Any]
    resume_tensors: dict[str, Any] | None = None
    before_save: Callable[[], None] | None = None


def train_stage(
    stage: str,
    cfg: TrainConfig,
    spec: Any,
    data: StageData,
    device: Any,
    ck: StageCheckpoint,
    log: Callable[[str], None] = print,
) -> tuple[Any, int, list[dict[str, Any]]]:
    """Train one FusionNet; returns (best net, best epoch, history). Saves a checkpoint every epoch."""
    run = _StageRun(stage, cfg, spec, data, device, ck, log)
    for epoch in range(run.start_epoch, cfg.epochs):
        if run.epoch(epoch):
            break
    if run.best_sd is not None:
        run.net.load_state_dict(run.best_sd)
    run.net.eval()
    return run.net, run.best_epoch + 1, run.history


class _StageRun:
    """One stage's training state (network, optimiser, schedule, weight average, best weights), so the
    epoch loop reads as train → score → save → stop."""

    def __init__(
        self, stage: str, cfg: TrainConfig, spec: Any, data: StageData, device: Any, ck: StageCheckpoint,
        log: Callable[[str], None],
    ) -> None:  # fmt: skip
        # lazy: optional [train] extra; extras.require names the install
        import torch

        self.torch, self.stage, self.cfg, self.spec, self.data = torch, stage, cfg, spec, data
        self.device, self.ck, self.log = device, ck, log
        self.idx = stage_index(stage)
        torch.manual_seed(cfg.seed * 1000 + self.idx)
        self.net = new_network(cfg, spec)
        if cfg.init:
            load_init_weights(self.net, cfg.init)
        self.net.to(device)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        y = data.y_train
        n_pos = int(y.sum())
        pos_weight = torch.tensor((len(y) - n_pos) / max(n_pos, 1), device=device)  # class imbalance
        self.steps = max(1, math.ceil(len(y) / cfg.batch_size))
        if cfg.limit_batches:
            self.steps = min(self.steps, cfg.limit_batches)
        self.sched = torch.optim.lr_scheduler.OneCycleLR(
            self.opt, max_lr=cfg.lr, total_steps=self.steps * cfg.epochs, pct_start=0.2
        )
        self.ema = _ema_model(self.net, cfg.ema)
        self.start_epoch, self.best_score, self.best_epoch = 0, -1.0, -1
        self.history: list[dict[str, Any]] = []
        self.best_sd: dict[str, Any] | None = None
        self._resume()
        self.gen = torch.Generator().manual_seed(cfg.seed * 7919 + self.idx)
        self.rng = np.random.default_rng([cfg.seed, self.idx])
        for _ in range(
            self.start_epoch
        ):  # replay the random stream: a resumed run equals an uninterrupted one
            self.rng.permutation(len(y))
            self.rng.integers(0, data.x_train.shape[1], size=len(y))
        self.loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)

    def _resume(self) -> None:
        cur, tensors = self.ck.state.get("current") or {}, self.ck.resume_tensors
        if cur.get("stage") != self.stage or tensors is None:
            return

        def part(prefix: str) -> dict[str, Any]:
            return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.net.load_state_dict(part("net."), strict=False)
        ckpt.restore_optimizer(self.opt, tensors, cur["optimizer"])
        self.sched.load_state_dict(cur["scheduler"])
        self.best_sd = part("best.")
        if self.ema is not None:
            self.ema.load_state_dict(part("ema."))
        self.start_epoch, self.best_score, self.best_epoch = (
            cur["epoch"] + 1,
            cur["best_score"],
            cur["best_epoch"],
        )
        self.history = cur["history"]
        self.log(f"[{self.stage}] resuming at epoch {self.start_epoch + 1}")

    def epoch(self, epoch: int) -> bool:
        """Train, score and save one epoch; True when early stopping ends the stage."""
        cfg = self.cfg
        rec = self._train(epoch)
        scored = self.net if self.ema is None else self.ema.module  # the weights that would be kept
        d = self.data
        if d.x_val is not None and d.y_val is not None and len(d.y_val):
            vl = predict_logits(scored, d.x_val[:, 0], self.device)
            rec["internal_score"] = _score(vl, d.y_val)
            rec["internal_region_auc"] = [float(auc(d.y_val, vl[:, r])) for r in range(vl.shape[1])]
        score = rec.get("internal_score", float("nan"))
        improved = math.isnan(score) or score > self.best_score + 1e-4 or cfg.keep == "last"
        if improved:
            self.best_score = score if not math.isnan(score) else self.best_score
            self.best_epoch = epoch
            self.best_sd = {k: v.detach().cpu().clone() for k, v in scored.state_dict().items()}
        self.history.append(rec)
        self.log(
            f"[{self.stage}] epoch {epoch + 1}: loss {rec['loss']:.4f}"
            + (f", internal mean region AUC {score:.3f}" if not math.isnan(score) else "")
            + f" ({rec['seconds']:.0f} s){' *' if improved else ''}"
        )
        self._save(epoch)
        stop = cfg.keep == "best" and epoch + 1 >= cfg.epochs // 2  # no stop in warm-up
        if stop and epoch - self.best_epoch >= cfg.patience:
            self.log(
                f"[{self.stage}] early stop: no improvement for {cfg.patience} epochs "
                f"(best epoch {self.best_epoch + 1})"
            )
            return True
        return False

    def _train(self, epoch: int) -> dict[str, Any]:
        # lazy: augment imports torch; `dlrs --help` loads this module (TrainConfig) without the [train] extra
        from dlrs_desktop.training.augment import Augmentation, augment
        from dlrs_desktop.training.progress import ProgressBar

        torch, cfg, spec, x, y = self.torch, self.cfg, self.spec, self.data.x_train, self.data.y_train
        how = Augmentation(spec.mean, spec.std, cfg.augment_strength, spec.fill, spec.normalisation,
                           cfg.blur_px, int(spec.distance_channel))  # fmt: skip
        self.net.train()
        order = self.rng.permutation(len(y))
        variant = self.rng.integers(0, x.shape[1], size=len(y))
        self.gen.manual_seed(cfg.seed * 7919 + self.idx * 131 + epoch)
        bar = ProgressBar(self.steps, f"[{self.stage}] epoch {epoch + 1}/{cfg.epochs}")
        t0, losses = time.perf_counter(), []
        for step in range(self.steps):
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if len(idx) == 0:
                break
            xb = augment(torch.from_numpy(x[idx, variant[idx]].astype(np.float32)), how, self.gen)
            logits = self.net(xb.to(self.device))
            loss = self.loss_fn(logits, self._targets(idx).to(self.device).expand_as(logits))
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.sched.step()
            if self.ema is not None:
                self.ema.update_parameters(self.net)
            losses.append(float(loss.item()))
            bar.update(step + 1, f"loss {np.mean(losses):.3f}")
        bar.close()
        return {"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": time.perf_counter() - t0}

    def _targets(self, idx: np.ndarray):  # type: ignore[no-untyped-def]
        """(B, R) soft targets of the batch, or (B, 1) labels broadcast over the regions."""
        t = self.data.t_train
        if t is not None:
            return self.torch.from_numpy(np.asarray(t[idx], np.float32))
        return self.torch.from_numpy(self.data.y_train[idx].astype(np.float32))[:, None]

    def _save(self, epoch: int) -> None:
        opt_t, opt_meta = ckpt.optimizer_tensors(self.opt)
        self.ck.state["current"] = {
            "stage": self.stage,
            "epoch": epoch,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "optimizer": opt_meta,
            "scheduler": self.sched.state_dict(),
        }
        tensors = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        tensors.update({f"best.{k}": v for k, v in (self.best_sd or {}).items()})
        if self.ema is not None:
            tensors.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
        tensors.update(opt_t)
        tensors.update(kept_tensors(self.ck.resume_tensors))
        if self.ck.before_save is not None:
            self.ck.before_save()  # provenance: the session's elapsed time goes into the checkpoint too
        ckpt.save(self.ck.ckdir, self.ck.state, tensors)


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


def group_folds(cases, y: np.ndarray, k: int, seed: int, by: str = "patient") -> np.ndarray:
    """Fold index per training case: grouped by patient, stratified by label; or, with `by="centre"`,
    one fold per centre of the training split (leave-one-centre-out), so that every out-of-fold logit
    the stacking sees comes from a network and a signature that never saw that centre's scanners."""
    if by == "centre":
        return centre_folds(cases, y)
    if by != "patient":
        raise CohortError(f"Stacking folds are grouped by 'patient' or 'centre', not {by!r}.")
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


def centre_folds(cases, y: np.ndarray) -> np.ndarray:
    """One fold per training centre (sorted by name); each centre and the rest need both classes."""
    centres = np.array([str(c.centre) for c in cases])
    names = sorted(set(centres))
    if not 2 <= len(names) <= MAX_CENTRE_FOLDS:
        raise CohortError(
            f"--fold-by centre needs 2 to {MAX_CENTRE_FOLDS} centres in the training split; it has "
            f"{len(names)} ({', '.join(names)})."
        )
    y = np.asarray(y, int)
    for name in names:
        held = centres == name
        if len(set(y[held])) < 2 or len(set(y[~held])) < 2:
            raise CohortError(
                f"--fold-by centre: centre {name} and the other centres each need cases of both classes "
                "in the training split."
            )
    return np.array([names.index(c) for c in centres])


def describe(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)
