"""`dlrs train` end to end: cohort → prepared inputs → cross-fitted stacking → final net → bundle."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.fileio import atomic_write_bytes, atomic_write_json
from dlrs_desktop.model.bundle_write import check_bundle_target
from dlrs_desktop.model.preprocess import DEFAULT_REGIONS, PreprocessSpec, RegionSpec
from dlrs_desktop.training import checkpoint as ckpt
from dlrs_desktop.training import distil
from dlrs_desktop.training.cohort import read_cohort
from dlrs_desktop.training.conformal_fit import CentreScores, conformal_line, scores_from_out_of_fold
from dlrs_desktop.training.dataset import check_jitter_offset, prepare_cohort
from dlrs_desktop.training.domain_fit import add_reference
from dlrs_desktop.training.export import write_trained_bundle
from dlrs_desktop.training.progress import ProgressBar
from dlrs_desktop.training.quantize import add_int8_model
from dlrs_desktop.training.recipe import TrainedModel, TrainingRecipe
from dlrs_desktop.training.stacking import fit_row_models, standardise_per_fold
from dlrs_desktop.training.trainer import (
    StageCheckpoint,
    StageData,
    TrainConfig,
    config_dict,
    describe,
    group_folds,
    kept_tensors,
    new_network,
    predict_logits,
    resolve_device,
    train_stage,
)

CHECKPOINT_DIR = ".checkpoint"
#: Settings that change neither the fold nor the final networks (only the stacking, or only the
#: distilled student, which distil.py retrains when its own settings changed): a checkpoint made
#: without them or with other values resumes.
STACKING_ONLY = ("radiomics", "radiomics_core_mm", "radiomics_shape", *distil.DISTIL_KEYS)


def same_networks(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Would the checkpoint's networks be trained the same way under `new`?"""
    old = {"fold_by": "patient", "jitter_offset_mm": 0.0, **old}  # checkpoints from before those options
    return {k: v for k, v in old.items() if k not in STACKING_ONLY} == {
        k: v for k, v in new.items() if k not in STACKING_ONLY
    }


def make_spec(cfg: TrainConfig):
    """The recipe's preprocessing: every TrainConfig setting named as a PreprocessSpec field goes across."""
    regions = tuple(
        r if r.kind == "tumour" else RegionSpec(r.name, r.radius_mm, cfg.ring_kind) for r in DEFAULT_REGIONS
    )
    shared = {f.name: getattr(cfg, f.name) for f in fields(PreprocessSpec) if hasattr(cfg, f.name)}
    return PreprocessSpec(**shared, regions=regions)


def prepare_for(cfg: TrainConfig, spec: Any, cases: list[Any], csv_path: str | Path) -> Any:
    """The cohort's crops and radiomics features as this recipe trains on them, with a progress bar."""
    settings = cfg.feature_settings  # ModelError before anything is prepared
    check_jitter_offset(cfg.jitter_offset_mm)
    bar = ProgressBar(len(cases), "preparing ROI crops")
    data = prepare_cohort(cases, spec, jitter_variants=cfg.jitter_variants, seed=cfg.seed, csv_path=csv_path,
                          progress=lambda i, n: bar.update(i), feature_settings=settings,
                          jitter_offset_mm=cfg.jitter_offset_mm)  # fmt: skip
    bar.close()
    return data


def train_from_cohort(
    recipe: TrainingRecipe,
    out_dir: str | Path,
    *,
    restart: bool = False,
    fold_networks_dir: str | Path | None = None,
    log=describe,
) -> dict[str, Any]:
    """Train and write a bundle to `out_dir`; returns a summary. Resumes from `<out>.checkpoint`."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    t_start = time.perf_counter()
    out, cfg = Path(out_dir), recipe.cfg
    check_bundle_target(out)  # never train for hours and then refuse (or replace someone's folder)
    ckdir = out.parent / f"{out.name}{CHECKPOINT_DIR}"
    cases = read_cohort(recipe.cohort_csv)  # CohortError before anything heavy
    spec = make_spec(cfg)
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    data = prepare_for(cfg, spec, cases, recipe.cohort_csv)
    tr = data.subset("train")
    log(
        f"{len(tr)} training, {len(data.subset('internal'))} internal, {len(data.subset('external'))} "
        f"external cases; device {device}"
    )
    state, tensors = resume_state(ckdir, cfg, recipe.cohort_csv, restart, log)
    sessions = state.setdefault("sessions", [])  # every invocation (resumption) is a session
    sessions.append({"device": device_name(device), "seconds": 0.0})

    def stamp() -> None:
        sessions[-1]["seconds"] = round(time.perf_counter() - t_start, 1)

    stages = Stages(cfg, spec, data, device, ckdir, state, tensors, log, stamp)
    folds = group_folds([data.cases[i] for i in tr], data.y[tr], cfg.folds, cfg.seed, cfg.fold_by)
    oof, fold_rows = stages.cross_fit(tr, folds, fold_networks_dir)
    oof_regions = oof.copy()  # the student's targets (distil.py): region logits without signatures
    radiomics = None
    if cfg.radiomics:
        # lazy: radiomics_fit imports scikit-learn (~2.8 s) only when signatures are fitted
        from dlrs_desktop.training.radiomics_fit import fit_signatures

        radiomics, oof_sig = fit_signatures(
            data.radiomics, data.y, tr, folds, spec.region_names, cfg.feature_settings
        )
        oof = np.c_[oof, oof_sig]
        log(f"radiomics signatures: {', '.join(radiomics.names)} ({len(radiomics.features)} features)")
    # each fold network in its own units (stacking.py): fitted on z-scores, converted at export
    rows = fit_row_models(
        standardise_per_fold(oof, fold_rows), data.y[tr], spec.region_names, c=cfg.meta_c,
        signatures=radiomics.names if radiomics else (),
    )  # fmt: skip
    log("out-of-fold AUC (training split): " + ", ".join(f"{r.key} {r.oof_auc:.3f}" for r in rows))
    net, final_info = stages.final(tr)
    net, ensemble, distilled = net.to("cpu").eval(), None, None
    if cfg.ensemble == "final+folds":
        net, ensemble = _fold_ensemble(net, stages.tensors, int(folds.max()) + 1, cfg, spec, data, log)
    if distil.enabled(cfg):  # --distil auto: the `student` stage, shipped instead if as good
        teacher = distil.Teacher(net, ensemble or {}, oof_regions, fold_rows)
        net, ensemble, distilled = distil.distil_stage(stages, teacher, tr, rows, radiomics)
    model = TrainedModel(
        net=net, spec=spec, data=data, rows=rows, folds=folds, state=state, final_info=final_info,
        seconds=_total_seconds(state, stamp, ckdir),
        device_used=", ".join(dict.fromkeys(str(x["device"]) for x in sessions)),
        ensemble=ensemble, radiomics=radiomics, distillation=distilled,
    )  # fmt: skip
    summary = write_trained_bundle(out, model, recipe, log)  # computes the logits after rounding to fp16
    if distilled is not None:
        summary["distillation"] = distilled["reason"]
    held_out = None
    if cfg.fold_by == "centre":  # the stacking's folds are centres: each scored as a new hospital
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        centres = np.array([str(data.cases[i].centre) for i in tr])
        held_out = scores_from_out_of_fold(oof, fold_rows, data.y[tr], centres, manifest)
    summary["domain_reference"] = _add_domain_reference(out, recipe, log, held_out)
    summary["int8"] = add_int8_model(out, recipe.cohort_csv, cfg.threads or None, log)  # after the reference
    atomic_write_json(ckdir / "finished.json", {"bundle": str(out), "summary": summary})
    return summary


def resume_state(ckdir: Path, cfg: TrainConfig, cohort_csv: str | Path, restart: bool, log):
    """(state, tensors) of the checkpoint when it was made by the same settings on the same cohort,
    else a fresh state and no tensors."""
    state: dict[str, Any] = {"config": config_dict(cfg), "cohort": str(Path(cohort_csv).resolve()),
                             "completed": {}}  # fmt: skip
    loaded = None if restart else ckpt.load(ckdir)
    if loaded is None:
        return state, None
    old_state, old_tensors = loaded
    if (
        same_networks(old_state.get("config") or {}, state["config"])
        and old_state.get("cohort") == state["cohort"]
    ):
        old_state["config"] = config_dict(cfg)
        log(f"resuming from {ckdir} (finished: {', '.join(old_state['completed']) or 'nothing yet'})")
        return old_state, old_tensors
    log(f"checkpoint in {ckdir} is for other settings or another cohort: starting afresh")
    return state, None


@dataclass
class Stages:
    """The networks of one run, each trained once and kept in the checkpoint: the K fold networks
    (their held-out logits feed the stacking) and the final one (the whole training split)."""

    cfg: TrainConfig
    spec: PreprocessSpec
    data: Any
    device: Any
    ckdir: Path
    state: dict[str, Any]
    tensors: dict[str, Any] | None
    log: Any
    stamp: Any

    def train(self, stage: str, idx: np.ndarray, targets: np.ndarray | None = None):  # type: ignore[no-untyped-def]
        """Train one network on the cases `idx` (labels, or soft `targets` per case and region)."""
        iv = self.data.subset("internal")
        x_val, y_val = (self.data.x[iv], self.data.y[iv]) if len(iv) else (None, None)
        data = StageData(self.data.x[idx], self.data.y[idx], x_val, y_val, targets)
        ck = StageCheckpoint(self.ckdir, self.state, self.tensors, before_save=self.stamp)
        return train_stage(stage, self.cfg, self.spec, data, self.device, ck, self.log)

    def keep(self, stage: str, info: dict[str, Any], prefix: str, net) -> None:  # type: ignore[no-untyped-def]
        """A finished stage: its record and weights (under `prefix`) go into the checkpoint."""
        self.state["completed"][stage] = info
        self.state["current"] = None
        self.tensors = {**kept_tensors(self.tensors), **_prefixed(prefix, net)}
        self.stamp()
        ckpt.save(self.ckdir, self.state, self.tensors)

    def cross_fit(self, tr: np.ndarray, folds: np.ndarray, save_dir: str | Path | None):
        """Out-of-fold logits of the training split (training the folds not yet in the checkpoint)."""
        oof = np.full((len(tr), len(self.spec.regions)), np.nan)
        fold_rows: list[list[int]] = []
        for f in range(int(folds.max()) + 1):
            stage = f"fold{f}"
            done = self.state["completed"].get(stage)
            if done is None:
                fit_idx, hold_idx = tr[folds != f], tr[folds == f]
                net, best_epoch, hist = self.train(stage, fit_idx)
                logits = predict_logits(net, self.data.x[hold_idx, 0], self.device)
                if save_dir is not None:
                    save_fold_network(net, Path(save_dir) / f"{stage}.safetensors")
                done = {"best_epoch": best_epoch, "history": hist, "logits": logits.tolist(),
                        "rows": [int(np.where(tr == i)[0][0]) for i in hold_idx]}  # fmt: skip
                self.keep(stage, done, f"done.{stage}.", net)  # a member of the shipped ensemble
            oof[done["rows"]] = np.asarray(done["logits"])
            fold_rows.append(list(done["rows"]))
        return oof, fold_rows

    def final(self, tr: np.ndarray):
        """The final network (whole training split) and its best epoch and history."""
        if "final" in self.state["completed"]:
            net = _network_from(self.tensors, "final.", self.cfg, self.spec).to(self.device)
            return net, self.state["completed"]["final"]
        net, best_epoch, hist = self.train("final", tr)
        info = {"best_epoch": best_epoch, "history": hist}
        self.keep("final", info, "final.", net)
        return net, info

    def stored(self, prefix: str):  # type: ignore[no-untyped-def]
        """A finished network of the checkpoint (weights under `prefix`), on the CPU."""
        return _network_from(self.tensors, prefix, self.cfg, self.spec)


def _add_domain_reference(
    out: Path, recipe: TrainingRecipe, log, held_out: CentreScores | None = None
) -> dict[str, Any] | None:
    """The domain guard and conformal sets of the new bundle (training/domain_fit.py), or None (logged)
    when the cohort's train or internal split is too small to fit them. Real training data also get the
    synthetic-likeness gate (`recipe.negatives()` patients of `dlrs synth`); centre folds also calibrate
    the sets on each held-out centre (training/centre_sets.py)."""
    n_neg = recipe.negatives()
    gate = f"; synthetic-likeness gate from {n_neg} dlrs synth patients" if n_neg else ""
    sets = " and held-out centres" if held_out is not None else ""
    log(f"domain reference: train split statistics, internal split thresholds and conformal sets{sets}{gate}")
    try:
        added = add_reference(
            out, recipe.cohort_csv, threads=recipe.cfg.threads or None, synthetic_negatives=n_neg,
            held_out=held_out,
        )  # fmt: skip
    except CohortError as exc:
        log(f"no domain reference in this bundle: {exc}")
        return None
    block, conformal = added["domain_reference"], added["conformal"]
    if conformal.get("by_centre"):
        log(conformal_line(conformal))
    return {k: block[k] for k in ("unusual_above", "outside_above", "threshold_rule")}


def _prefixed(prefix: str, net) -> dict[str, Any]:
    """A finished network's weights as checkpoint tensors under `prefix` (see trainer.KEPT_PREFIXES)."""
    return {f"{prefix}{k}": v.detach().cpu().clone() for k, v in net.state_dict().items()}


def _network_from(tensors: dict[str, Any] | None, prefix: str, cfg: TrainConfig, spec):
    net = new_network(cfg, spec)
    own = {k[len(prefix) :]: v for k, v in (tensors or {}).items() if k.startswith(prefix)}
    if not own:
        raise DlrsError(
            f"The checkpoint holds no weights for '{prefix.rstrip('.')}'; train again with --restart."
        )
    net.load_state_dict(own)
    return net.eval()


def _fold_ensemble(final, tensors, k: int, cfg: TrainConfig, spec, data, log):
    """The final network and the K fold networks as one averaged network (`network.ensemble_of`).

    Why: with a few hundred cases the epoch the final network keeps is a lottery (one run kept
    epoch 2 of 14); the fold networks are trained anyway, and averaging them with the final one
    was measured to raise the external AUC (docs/evaluation/default-recipe-469/README.md). Each
    member's logits are standardised on the internal split (the training split if there is
    none) because networks trained from scratch do not share a logit scale.
    """
    # lazy: imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
    from dlrs_desktop.model.network import ensemble_of

    members = [("final", final)] + [
        (f"fold{f}", _network_from(tensors, f"done.fold{f}.", cfg, spec)) for f in range(k)
    ]
    splits = np.array([c.split for c in data.cases])
    ref_name = "internal" if (splits == "internal").sum() > 1 else "train"
    ref = np.where(splits == ref_name)[0]
    ref_logits = [predict_logits(n, data.x[ref, 0], "cpu") for _, n in members]
    mean = np.array([v.mean(axis=0, dtype=np.float64) for v in ref_logits])
    sd = np.array([np.maximum(v.std(axis=0, dtype=np.float64), 1e-6) for v in ref_logits])
    net = ensemble_of([n for _, n in members], mean, sd)
    log(
        f"shipped network: the final and {k} fold networks averaged "
        f"(each member's logits standardised on the {ref_name} split)"
    )
    info = {
        "members": [name for name, _ in members],
        "standardisation_split": ref_name,
        "member_logit_mean": mean.round(6).tolist(),
        "member_logit_sd": sd.round(6).tolist(),
    }
    return net, info


def save_fold_network(net, path: Path) -> None:
    """A fold network's weights (safetensors), for analysis: e.g. benchmarks/fold_ensemble.py.

    Why: the bundle ships only the final network; the fold networks are discarded once their
    held-out logits are in the checkpoint, but averaging them with the final one is the first
    thing to measure when the final network's early-stopped epoch is a lottery.
    """
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import save

    # lazy: imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
    from dlrs_desktop.model.network import state_dict_tensors

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save(state_dict_tensors(net)))


def _total_seconds(state: dict[str, Any], stamp, ckdir: Path) -> float:
    """Wall-clock seconds of every session that worked on this bundle (resumptions included), up to
    the export; the checkpoint records the same figure, so a later resumption adds to it exactly."""
    stamp()
    atomic_write_json(ckdir / ckpt.STATE, state)  # tensors unchanged: the pair stays consistent
    return float(sum(x["seconds"] for x in state.get("sessions", [])))


def device_name(device) -> str:
    """The device that actually ran the training, e.g. "cuda (NVIDIA H100 80GB HBM3)" or "cpu (2 threads)"."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def read_bundle_summary(bundle_dir: str | Path) -> dict[str, Any]:
    m = json.loads((Path(bundle_dir) / "manifest.json").read_text(encoding="utf-8"))
    if "models" not in m:
        raise DlrsError("This bundle has no per-row stacking models (it was not written by `dlrs train`).")
    return m
