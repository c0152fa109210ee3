"""`dlrs train-assist`: train the learned contour assist on BUS-BRA + BUSI and write its bundle.

Deterministic for a seed (same machine, same thread count): the model's initial weights come from
the seed, every training example from its own generator seeded by (seed, epoch, index), and torch
runs with deterministic algorithms. A checkpoint (safetensors + JSON, no pickle) is written after
every epoch to `<out>.checkpoint/`; running the same command again resumes from it.

The model kept is the epoch with the best validation Dice (patient-level validation split; the test
split is never looked at here: `benchmarks/bench_assist_real.py` reports it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.roi.assist_bundle import WEIGHTS_FILE, load_assist_bundle
from dlrs_desktop.training import assist_data, checkpoint
from dlrs_desktop.training.assist_augment import channels_for, make_example, make_fixed_examples
from dlrs_desktop.training.assist_export import check_target, export_bundle
from dlrs_desktop.training.progress import ProgressBar


@dataclass(frozen=True)
class AssistTrainConfig:
    epochs: int = 28
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    widths: tuple[int, ...] = (16, 32, 64, 96, 128)  # recipe 1's bundle: (8, 16, 32, 48, 64)
    max_train_cases: int = 0  # 0 = all (a smaller number: smoke tests)
    threads: int = 1  # see train_assist: one thread beats two on a shared 2-core machine
    recipe: int = 2  # training prompts and image changes (assist_augment; 1 = the first shipped bundle)
    init: str = ""  # an assist bundle whose weights training starts from ("" = random; recipe 3 fine-tunes)


def _device(name: str):  # type: ignore[no-untyped-def]
    # lazy: optional [train] extra; extras.require names the install
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise DlrsError("--device cuda: no CUDA device is available.")
    return torch.device(name)


def _loss(logits, target):  # type: ignore[no-untyped-def]
    # lazy: optional [train] extra; extras.require names the install
    import torch

    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)
    return bce + dice.mean()


def _batch(stored, idx, cfg: AssistTrainConfig, epoch: int):  # type: ignore[no-untyped-def]

    xs, ys = [], []
    for i in idx:
        rng = np.random.default_rng([cfg.seed, epoch, int(i)])
        s = stored[i]
        x, y = make_example(s.grey, s.mask, rng, recipe=cfg.recipe, scale=s.scale)
        xs.append(x)
        ys.append(y[None])
    return np.stack(xs), np.stack(ys)


def evaluate(model, examples, device, batch: int = 32) -> float:  # type: ignore[no-untyped-def]
    """Mean Dice (threshold 0.5, at input resolution) over fixed examples."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    model.eval()
    dices = []
    with torch.no_grad():
        for k in range(0, len(examples), batch):
            chunk = examples[k : k + batch]
            x = torch.from_numpy(np.stack([e[0] for e in chunk])).to(device)
            pred = (model(x)[:, 0] > 0).cpu().numpy()
            for p, (_, t) in zip(pred, chunk, strict=True):
                t = t > 0.5
                dices.append(2 * (p & t).sum() / max(p.sum() + t.sum(), 1))
    model.train()
    return float(np.mean(dices))


def train_assist(
    data: Path, out: Path, cfg: AssistTrainConfig, *, device: str = "auto", log=print
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Train, keep the best validation epoch, export the bundle to `out`; returns the summary."""

    check_target(out)  # before an hour of training, not after
    t0 = time.perf_counter()
    # the data first, before torch's seconds of import: a bad folder is its one error line, quickly
    stored, excluded, train, val = _splits(data, cfg)
    # lazy: torch (3 s, the optional [train] extra) only after the data is read and checked
    import torch

    # lazy: imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
    from dlrs_desktop.training.assist_net import AssistUNet

    # One thread by default: on a 2-core machine shared with other jobs, two torch threads spent most
    # of their time waiting for each other (measured 5.0 s vs 0.8 s per batch at load 12).
    torch.set_num_threads(max(1, cfg.threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    dev = _device(device)
    log(
        f"data under {data}: {len(stored)} cases ({len(train)} train, {len(val)} val) in "
        f"{time.perf_counter() - t0:.0f} s; "
        f"excluded {sum(len(v) for v in excluded.values())}"
    )
    val_examples = [e for s in val for e in make_fixed_examples(s.grey, s.mask, cfg.recipe)]

    torch.manual_seed(cfg.seed)
    model = AssistUNet(cfg.widths, in_channels=channels_for(cfg.recipe))
    initialised_from = _initialise(model, cfg.init, log) if cfg.init else None
    model = model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(len(train) // cfg.batch_size, 1)
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.1)

    ckpt = Path(str(out) + ".checkpoint")
    config = {**asdict(cfg), "widths": list(cfg.widths), "n_train": len(train), "n_val": len(val)}
    state: dict[str, Any] = {"config": config, "epoch": 0, "history": [], "best": -1.0}
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    resumed = _resume(ckpt, config, model, opt, sched, log)
    if resumed is not None:
        state, best_state = resumed

    model.train()
    for epoch in range(state["epoch"], cfg.epochs):
        losses = _train_epoch(model, opt, sched, train, cfg, epoch, dev)
        score = evaluate(model, val_examples, dev)
        improved = score > state["best"]
        if improved:
            state["best"] = score
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state["epoch"] = epoch + 1
        state["history"].append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_dice": score})
        best = "  (best)" if improved else ""
        log(f"epoch {epoch + 1}: loss {np.mean(losses):.4f}  val Dice {score:.4f}{best}")
        opt_t, opt_meta = checkpoint.optimizer_tensors(opt)
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        tensors.update({f"best.{k}": v for k, v in best_state.items()})
        tensors.update(opt_t)
        checkpoint.save(ckpt, {**state, "optimizer": opt_meta, "scheduler": sched.state_dict()}, tensors)

    model.load_state_dict(best_state)
    model = model.cpu().eval()
    summary = {
        "epochs": cfg.epochs,
        "best_val_dice": state["best"],
        "best_epoch": 1 + int(np.argmax([h["val_dice"] for h in state["history"]])),
        "history": state["history"],
        "train_seconds": round(time.perf_counter() - t0, 1),
        **({"initialised_from": initialised_from} if initialised_from else {}),
    }
    export_bundle(model, out, cfg, stored, excluded, assist_data.read_sources(data), summary)
    log(f"wrote {out} (best val Dice {state['best']:.4f} at epoch {summary['best_epoch']})")
    return summary


FIRST_LAYER = "down.0.0.weight"  # AssistUNet's first convolution: the only layer that sees the inputs


def _initialise(model: Any, bundle_dir: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Start from a verified assist bundle's weights (fine-tuning). A first layer with fewer input
    channels than `model` (a recipe-2 bundle under recipe 3) is widened with zero weights, so the
    new channels start by changing nothing. Returns what the new bundle records about its origin."""
    # lazy: torch is the optional [train]/[gpu] extra
    import torch
    from safetensors.torch import load as st_load

    bundle = load_assist_bundle(bundle_dir)
    saved = st_load(bundle.files[WEIGHTS_FILE])
    own = model.state_dict()
    if set(saved) != set(own):
        raise DlrsError(f"--init {bundle_dir}: its network differs from this one (check --widths).")
    for name, tensor in saved.items():
        target = own[name]
        if tensor.shape == target.shape:
            own[name] = tensor
        elif name == FIRST_LAYER and tensor.shape[1] < target.shape[1] and tensor.shape[0] == target.shape[0]:
            widened = torch.zeros_like(target)
            widened[:, : tensor.shape[1]] = tensor
            own[name] = widened
        else:
            raise DlrsError(f"--init {bundle_dir}: layer {name} has another shape (check --widths).")
    model.load_state_dict(own)
    log(f"initialised from {bundle.label} ({bundle_dir})")
    return {"bundle": bundle.label, "manifest_sha256": bundle.manifest_sha256}


def _splits(data: Path, cfg: AssistTrainConfig) -> tuple[list, dict, list, list]:
    """(every stored case, the exclusions, the training cases, the validation cases)."""
    stored, excluded = assist_data.load_cases(data, cfg.seed)
    train = [s for s in stored if s.case.split == "train"]
    if cfg.max_train_cases:
        train = train[: cfg.max_train_cases]
    val = [s for s in stored if s.case.split == "val"]
    if not train or not val:
        raise DlrsError("Too few cases for a train and a validation split.")
    return stored, excluded, train, val


def _resume_key(config: Any) -> Any:
    """What must match to resume: everything but the thread count (a run interrupted on a busy machine
    may go on with more threads; only bit-identity with an uninterrupted run depends on it)."""
    return {k: v for k, v in config.items() if k != "threads"} if isinstance(config, dict) else config


def _resume(
    ckpt: Path, config: dict[str, Any], model: Any, opt: Any, sched: Any, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict] | None:
    """(state, best weights) from a checkpoint written for this very configuration; None otherwise."""
    if not (ckpt / checkpoint.STATE).is_file():
        return None
    saved = json.loads((ckpt / checkpoint.STATE).read_text(encoding="utf-8"))
    if _resume_key(saved.get("config")) != _resume_key(config):
        log(f"ignoring {ckpt}: it was written for another configuration")
        return None
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import load_file

    tensors = load_file(str(ckpt / checkpoint.TENSORS))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best_state = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    checkpoint.restore_optimizer(opt, tensors, saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    state = {k: saved[k] for k in ("config", "epoch", "history", "best")}
    log(f"resuming from {ckpt} after epoch {state['epoch']}")
    return state, best_state


def _train_epoch(
    model: Any, opt: Any, sched: Any, train: list, cfg: AssistTrainConfig, epoch: int, dev: Any
) -> list[float]:
    """One pass over the training cases in this epoch's seeded order; the batch losses."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    steps_per_epoch = max(len(train) // cfg.batch_size, 1)
    order = np.random.default_rng([cfg.seed, epoch, 10**6]).permutation(len(train))
    bar = ProgressBar(steps_per_epoch, f"epoch {epoch + 1}/{cfg.epochs}")
    losses: list[float] = []
    for step in range(steps_per_epoch):
        idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
        x, y = _batch(train, idx, cfg, epoch)
        loss = _loss(model(torch.from_numpy(x).to(dev)), torch.from_numpy(y).to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        bar.update(step + 1, f"loss {np.mean(losses[-20:]):.3f}")
    bar.close()
    return losses
