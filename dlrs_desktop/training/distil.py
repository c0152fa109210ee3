"""The `student` stage of `dlrs train`: one network distilled from the fold ensemble, shipped when it
is as good as the ensemble on the internal split.

Why: the default recipe ships the final and K fold networks averaged (`pipeline._fold_ensemble`),
K + 1 times the compute and memory of one network for every prediction (issue 29). A single
network of the same architecture trained on what the ensemble knows keeps one network's cost.

Targets: each training case's logit from the fold network that did not see it (its out-of-fold
logit) — the only ensemble judgement of a training case that is not in-sample (the final network
and the other folds trained on it). It is standardised per region with that fold network's mean
and SD on the internal split, exactly as the ensemble standardises the member, then mapped to a
probability by a per-region Platt scaling fitted on the training labels (non-negative slope, as
the stacking rows). Loss: the class-weighted binary cross-entropy of every stage against
t = w·label + (1 − w)·p_soft, i.e. w·BCE(label) + (1 − w)·BCE(p_soft) since the loss is linear in
its target; w = `distil_hard_weight` (0.5: an equal share; not tuned, no split but the training
split feeds the targets). Same crops, jittered contours, augmentation, schedule and early
stopping on the internal split (mean region AUC) as every stage.

Rule: the student ships only if the internal AUC of its bundle's primary model is at least the
ensemble bundle's primary internal AUC minus `distil_tolerance` (0.005). The primary model (the
fusion the application shows) is compared rather than each region: it is the probability a user
sees, and four regions each within 0.005 on ~100 internal cases would be decided by noise (one
region's AUC SD there is ~0.05). Both rows are sealed from the same stacking fit
(`selection.seal_rows`: each network's own units and guarded primary) on the training and internal
splits only; the external split is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dlrs_desktop.training.export import round_to_fp16
from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.selection import seal_rows
from dlrs_desktop.training.stacking import fit_nonnegative_logistic
from dlrs_desktop.training.trainer import TrainConfig, predict_logits

#: TrainConfig fields that change the student only: a checkpoint of the other networks resumes.
DISTIL_KEYS = ("distil", "distil_hard_weight", "distil_tolerance")
RULE = (
    "the student ships if the internal AUC of its primary model is at least the ensemble's primary "
    "internal AUC minus the tolerance; otherwise the ensemble ships"
)
LOSS = (
    "class-weighted binary cross-entropy against w·label + (1 − w)·p_soft per region, p_soft = the "
    "out-of-fold logit of the fold network that did not see the case, standardised on the internal "
    "split as the ensemble standardises it, Platt-scaled per region on the training labels"
)


def enabled(cfg: TrainConfig) -> bool:
    """`--distil auto` distils only an ensemble (with `--ensemble final` there is one network already)."""
    return cfg.distil == "auto" and cfg.ensemble == "final+folds"


@dataclass(frozen=True)
class Teacher:
    """The shipped-ensemble candidate and what the student learns from."""

    net: Any  # the averaged FusionNet (members = K + 1), on the CPU
    info: dict[str, Any]  # pipeline._fold_ensemble's record: members, member_logit_mean / _sd
    oof: np.ndarray  # (N_train, R) raw out-of-fold region logits, rows in training-split order
    fold_rows: list[list[int]]  # rows of `oof` held out by fold f


def soft_targets(teacher: Teacher, y: np.ndarray, hard_weight: float) -> tuple[np.ndarray, list[list[float]]]:
    """(N_train, R) targets in [0, 1] and the per-region Platt (slope, intercept) that made them."""
    mean = np.asarray(teacher.info["member_logit_mean"], np.float64)
    sd = np.asarray(teacher.info["member_logit_sd"], np.float64)
    members = list(teacher.info["members"])
    z = np.full(teacher.oof.shape, np.nan)
    for f, rows in enumerate(teacher.fold_rows):
        m = members.index(f"fold{f}")
        z[rows] = (np.asarray(teacher.oof, np.float64)[rows] - mean[m]) / sd[m]
    soft, platt = np.empty_like(z), []
    for r in range(z.shape[1]):
        w, b = fit_nonnegative_logistic(z[:, [r]], y)
        soft[:, r] = 1.0 / (1.0 + np.exp(-(z[:, r] * w[0] + b)))
        platt.append([round(float(w[0]), 6), round(float(b), 6)])
    targets = hard_weight * np.asarray(y, np.float64)[:, None] + (1.0 - hard_weight) * soft
    return targets, platt


def forget_other_student(stages: Any) -> None:
    """A student distilled (or being distilled) with other settings is dropped: it is trained again."""
    want = {"distil_hard_weight": stages.cfg.distil_hard_weight}
    state = stages.state
    if state.get("student_settings", want) != want:
        state["completed"].pop("student", None)
        if (state.get("current") or {}).get("stage") == "student":
            state["current"] = None
        stages.tensors = {k: v for k, v in (stages.tensors or {}).items() if not k.startswith("student.")}
        stages.log("the checkpoint's student was distilled with other settings: distilling it again")
    state["student_settings"] = want


def distil_stage(stages: Any, teacher: Teacher, tr: np.ndarray, rows: list[Any], radiomics: Any):
    """(shipped network, ensemble record or None, distillation block): trains or loads the student
    (`stages`: pipeline.Stages, checkpointed as stage `student`), then applies the rule."""
    cfg, data, log = stages.cfg, stages.data, stages.log
    forget_other_student(stages)
    targets, platt = soft_targets(teacher, data.y[tr], cfg.distil_hard_weight)
    done = stages.state["completed"].get("student")
    if done is None:
        log(f"[student] distilling the {len(teacher.info['members'])}-network ensemble into one network")
        net, best_epoch, hist = stages.train("student", tr, targets)
        done = {"best_epoch": best_epoch, "history": hist,
                "seconds": round(sum(h["seconds"] for h in hist), 1)}  # fmt: skip
        stages.keep("student", done, "student.", net)
    student = stages.stored("student.").to("cpu").eval()
    nets = {"ensemble": teacher.net, "student": student}
    verdict = decide(nets, rows, radiomics, data, cfg, stages.spec.region_names)
    block = {
        "teacher": list(teacher.info["members"]),
        "loss": LOSS,
        "hard_label_weight": cfg.distil_hard_weight,
        "platt": platt,
        **verdict,
        "student_best_epoch": done["best_epoch"],
        "student_seconds": done["seconds"],
        "student_history": done["history"],
    }
    log(f"[student] {verdict['reason']}")
    student_auc, ensemble_auc = verdict["student_region_auc"], verdict["ensemble_region_auc"]
    pairs = ", ".join(f"{r} {_f(student_auc[r])} vs {_f(a)}" for r, a in ensemble_auc.items())
    log(f"[student] internal AUC per region, student vs ensemble: {pairs}")
    if verdict["shipped"] == "student":
        return student, None, block
    return teacher.net, teacher.info, block


def decide(
    nets: dict[str, Any], rows: list[Any], radiomics: Any, data: Any, cfg: TrainConfig, names: tuple[str, ...]
) -> dict[str, Any]:
    """The rule on the internal split: `nets` ("ensemble", "student") sealed with the same stacking
    rows, their primary models' and regions' internal AUCs, and the verdict."""
    splits = np.array([c.split for c in data.cases])
    idx = np.where((splits == "train") | (splits == "internal"))[0]  # never the external split
    y, sp = data.y[idx], splits[idx]
    iv = sp == "internal"
    sig = radiomics.logits(data.radiomics[idx]) if radiomics is not None else None
    seen: dict[str, Any] = {}
    for who, net in nets.items():
        round_to_fp16(net)  # the export rounds the shipped network: compare what would ship
        logits = predict_logits(net, data.x[idx, 0], "cpu")
        sealed = seal_rows(rows, names, logits if sig is None else np.c_[logits, sig], y, sp, cfg.meta_c)
        region = {n: _auc(y[iv], logits[iv, r]) for r, n in enumerate(names)}
        seen[who] = (sealed, region)
    (t_sealed, t_region), (s_sealed, s_region) = seen["ensemble"], seen["student"]
    out = {"tolerance": cfg.distil_tolerance, "rule": RULE, "compared": "primary model, internal split",
           "ensemble_primary": t_sealed.primary, "student_primary": s_sealed.primary,
           "ensemble_region_auc": t_region, "student_region_auc": s_region}  # fmt: skip
    if not (t_sealed.guard.get("checked") and s_sealed.guard.get("checked")):
        reason = "the ensemble ships: no internal split with two cases of each class to compare on"
        return {**out, "ensemble_internal_auc": None, "student_internal_auc": None,
                "shipped": "ensemble", "reason": reason}  # fmt: skip
    a_t = float(t_sealed.guard["internal_auc"][t_sealed.primary])
    a_s = float(s_sealed.guard["internal_auc"][s_sealed.primary])
    ship = bool(a_s >= a_t - cfg.distil_tolerance)
    reason = (
        f"the student ships: internal AUC {a_s:.3f} ({s_sealed.primary}) vs the ensemble's {a_t:.3f} "
        f"({t_sealed.primary}), within {cfg.distil_tolerance:g}"
        if ship
        else f"the ensemble ships: the student's internal AUC {a_s:.3f} ({s_sealed.primary}) is below "
        f"the ensemble's {a_t:.3f} ({t_sealed.primary}) minus {cfg.distil_tolerance:g}"
    )
    return {**out, "ensemble_internal_auc": round(a_t, 6), "student_internal_auc": round(a_s, 6),
            "shipped": "student" if ship else "ensemble", "reason": reason}  # fmt: skip


def _f(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return round(float(auc(y, s)), 6) if len(set(np.asarray(y).tolist())) == 2 else None
