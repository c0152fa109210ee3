"""`dlrs train`: train the fusion model on a cohort CSV and write a model bundle."""

from __future__ import annotations

import argparse
import re
from typing import Any

from dlrs_desktop.commands._common import config_from_args
from dlrs_desktop.commands._outcome import add_outcome_args, body_part_from_args, outcome_from_args
from dlrs_desktop.errors import CohortError
from dlrs_desktop.extras import require
from dlrs_desktop.model.manifest import MAX_MEMBERS
from dlrs_desktop.model.outcome import DEFAULT_OUTCOME

HELP = "train the intratumoral + peritumoral fusion model on a cohort and write a model bundle"


#: The recipe's choice options: (flag, TrainConfig field, choices, help), in --help order.
_CROP_CHOICES = (
    ("--ring-kind", "ring_kind", ("annulus", "expanded", "shell"),
     "ring crops: the ring only (as the study), tumour + ring, or the shell between the ring and the next "
     "smaller ring"),
    ("--fill", "fill", ("mean", "zero"),
     "what fills the crop outside each region: the region's mean intensity (default; the pooled features "
     "then do not depend on the region's size) or black"),
    ("--crop", "crop", ("fixed", "fit"),
     "crop of each region: one physical field of view for every case (--input-size × --mm-per-px; fixed) "
     "or the region's own extent plus a margin (fit: it fills the crop)"),
    ("--normalisation", "normalisation", ("fixed", "tissue_zscore", "image_zscore", "roi_zscore"),
     "intensity scale of the crops: fixed (0..1 grey levels), tissue_zscore (relative to the tissue in the "
     "crop's field of view), image_zscore (relative to the image's scan area outside the regions: scanner "
     "gain and dynamic range cancel) or roi_zscore (per region)"),
)  # fmt: skip


def register(p: argparse.ArgumentParser) -> None:
    # lazy: the standalone build has no dlrs_desktop.training; cli.py turns this ImportError into one line
    from dlrs_desktop.training.trainer import ENSEMBLE_CHOICES, TrainConfig

    d = TrainConfig()
    p.add_argument("--cohort", required=True, help="cohort CSV (see docs/TRAINING.md)")
    p.add_argument("--out", required=True, help="bundle folder to write (replaced when finished)")
    _schedule_args(p, d)
    for flag, name, choices, text in _CROP_CHOICES:
        p.add_argument(flag, default=getattr(d, name), choices=list(choices), help=text)
    _network_args(p, d, ENSEMBLE_CHOICES)
    _bundle_args(p, d)


def _schedule_args(p: argparse.ArgumentParser, d: Any) -> None:
    """Network size, crop scale and the optimisation schedule."""
    p.add_argument(
        "--arch", default=d.arch, choices=["resnet18", "resnet34", "resnet50"], help="ResNet depth"
    )
    p.add_argument(
        "--input-size", type=int, default=d.input_size, help=f"crop side in pixels (default {d.input_size})"
    )
    p.add_argument("--mm-per-px", type=float, default=d.mm_per_px, help="crop scale in mm per crop pixel")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument(
        "--batch-size", type=int, default=d.batch_size, help="cases per batch (each = all regions)"
    )
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument(
        "--folds", type=int, default=d.folds, help="folds for out-of-fold stacking (grouped by patient)"
    )
    p.add_argument(
        "--fold-by",
        default=d.fold_by,
        choices=["patient", "centre"],
        help="patient: --folds folds grouped by patient; centre: one fold per centre of the training "
        "split (leave-one-centre-out), so the stacking weighs each network and signature by how well "
        "it does on a centre it never saw (multi-centre cohorts; --folds is then ignored)",
    )
    p.add_argument("--patience", type=int, default=d.patience, help="early stopping on the internal split")
    p.add_argument(
        "--keep",
        default=d.keep,
        choices=["best", "last"],
        help="which epoch each network keeps: the best on the internal split (early stopping) or the "
        "last, at the end of the learning-rate schedule (no early stopping)",
    )
    jitter_args(p, d)
    p.add_argument("--seed", type=int, default=d.seed)


def _network_args(p: argparse.ArgumentParser, d: Any, ensemble_choices: tuple[str, ...]) -> None:
    """Inputs, augmentation, weight averaging, the shipped ensemble and the stacking rows."""
    p.add_argument(
        "--distance-channel",
        action=argparse.BooleanOptionalAction,
        default=d.distance_channel,
        help="give the network a second input channel: each pixel's signed distance to the tumour "
        "outline (the peritumoral findings lie in bands at set distances from the margin)",
    )
    p.add_argument(
        "--augment", type=float, default=d.augment_strength, help="augmentation strength (0 = off)"
    )
    p.add_argument(
        "--blur",
        type=float,
        default=d.blur_px,
        help="largest random Gaussian blur (sigma in crop pixels at --augment 1; 0 = off): other "
        "transducers' coarser speckle",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=d.ema,
        help="keep an exponential moving average of the weights with this decay per step, e.g. 0.95 "
        "(0 = off); the averaged weights are scored and shipped",
    )
    p.add_argument(
        "--ensemble",
        default=d.ensemble,
        choices=list(ensemble_choices),
        help="the network shipped in the bundle: the final network averaged with the cross-fitting "
        "fold networks (default; each member's logits standardised on the internal split) or the "
        "final network alone (a quarter of the size and inference time with --folds 3)",
    )
    _distil_args(p, d)
    radiomics_args(p, d, "")


def jitter_args(p: argparse.ArgumentParser, d: Any) -> None:
    """--jitter-variants and --jitter-offset-mm, as `dlrs train` and `dlrs federated` spell them."""
    p.add_argument(
        "--jitter-variants", type=int, default=d.jitter_variants, help="jittered contours per case"
    )
    p.add_argument(
        "--jitter-offset-mm",
        type=float,
        default=d.jitter_offset_mm,
        metavar="MM",
        help="each jittered contour is first moved in or out by a random distance up to MM (the tighter "
        "or looser, smoother outline another sonographer draws), so the networks learn to read it alike "
        "(default 0: size, wobble and shift only; docs/TRAINING.md)",
    )


def radiomics_args(p: argparse.ArgumentParser, d: Any, fitted: str) -> None:
    """--no-radiomics, --radiomics-core-mm and --radiomics-shape, as `dlrs train` and `dlrs federated`
    spell them (`fitted`: how the signatures are fitted, added to --no-radiomics' help)."""
    p.add_argument(
        "--no-radiomics",
        dest="radiomics",
        action="store_false",
        help="fusion rows stack the region networks only (the default also stacks a radiomics signature "
        f"of the row's regions{fitted}: docs/TRAINING.md)",
    )
    p.add_argument(
        "--radiomics-core-mm",
        type=float,
        default=d.radiomics_core_mm,
        metavar="MM",
        help="the signatures' intratumoral features read the tumour eroded by MM (at most half its "
        "inscribed radius), so a 1 mm change of the outline does not take its rim in (default 0: the "
        "whole tumour; docs/TRAINING.md)",
    )
    p.add_argument(
        "--radiomics-shape",
        default=d.radiomics_shape,
        choices=["outline", "concavity"],  # model.radiomics.SHAPE_SETS (not imported: cv2 at start-up)
        help="the signatures' two shape measures: outline (perimeter²/area, area/convex-hull area) or "
        "concavity (deepest and mean depth of the outline below its convex hull, mm), which a 1 mm change "
        "of the outline barely moves (default outline; docs/TRAINING.md)",
    )


def _distil_args(p: argparse.ArgumentParser, d: Any) -> None:
    """The distilled student (training/distil.py): one network instead of the ensemble when as good."""
    p.add_argument(
        "--distil",
        default=None,
        choices=["auto", "off"],
        help="auto (the default with --ensemble final+folds; off otherwise): also train one student "
        "network on the ensemble's out-of-fold logits and ship it instead of the ensemble if its "
        "internal AUC is within --distil-tolerance of the ensemble's (a quarter of the prediction cost "
        "with --folds 3); off: ship the ensemble",
    )
    p.add_argument(
        "--distil-hard-weight",
        type=float,
        default=d.distil_hard_weight,
        help="the hard label's share of the student's target, 0 to 1 (the rest: the ensemble's soft "
        f"targets; default {d.distil_hard_weight})",
    )
    p.add_argument(
        "--distil-tolerance",
        type=float,
        default=d.distil_tolerance,
        help="the student ships if its primary internal AUC is at least the ensemble's minus this "
        f"(default {d.distil_tolerance})",
    )


def _resolve_distil(args: argparse.Namespace) -> None:
    """--distil defaults to auto with the ensemble and off without; auto without an ensemble is an error."""
    if args.distil is None:
        args.distil = "auto" if args.ensemble == "final+folds" else "off"
    elif args.distil == "auto" and args.ensemble != "final+folds":
        raise CohortError("--distil auto distils the fold ensemble: it needs --ensemble final+folds.")
    if not 0 <= args.distil_hard_weight <= 1:
        raise CohortError("--distil-hard-weight must be between 0 and 1.")
    if not -1 <= args.distil_tolerance <= 1:
        raise CohortError("--distil-tolerance must be between -1 and 1 (an AUC difference).")


def _bundle_args(p: argparse.ArgumentParser, d: Any) -> None:
    """Where it runs, what it starts from, and what the bundle's manifest says."""
    p.add_argument("--device", default=d.device, choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = default)")
    p.add_argument(
        "--init",
        default=None,
        help="local torchvision-format ResNet weights to start from (.safetensors only: pickle "
        "checkpoints are never opened); nothing is downloaded",
    )
    p.add_argument("--id", default="dlrs-custom", help="model id written to the manifest")
    p.add_argument("--version", default="0.1.0")
    p.add_argument(
        "--synthetic", action="store_true", help="declare the training data synthetic in the manifest"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="declare the bundle a demonstration model (the bundled demo; its card and reports say so)",
    )
    p.add_argument("--description", default="", help="training data description for the model card")
    p.add_argument(
        "--synthetic-negatives", type=int, default=None, metavar="N",
        help="`dlrs synth` patients (and as many simulated phantom scans) behind the domain guard's "
        "synthetic-likeness gate (default: 150 for real data, 0 with --synthetic)",
    )  # fmt: skip
    p.add_argument(
        "--changelog",
        action="append",
        default=[],
        metavar="[VERSION=]TEXT",
        help="changelog entry for the manifest (repeatable; without VERSION= it is --version's entry)",
    )
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start afresh")
    add_outcome_args(p, "early response (the cohort's label 1 = the positive class)")
    p.add_argument(
        "--save-fold-networks",
        metavar="DIR",
        help="also write each cross-fitting fold network trained in this run to DIR/foldK.safetensors "
        "(for analysis, e.g. benchmarks/fold_ensemble.py; with --ensemble final+folds the bundle "
        "holds them too)",
    )
    p.add_argument("--limit-batches", type=int, default=0, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.bundle_write import check_bundle_target

    require("train", "`dlrs train`")
    check_bundle_target(args.out)  # first: never replace someone's folder, never train to then refuse
    outcome = outcome_from_args(args, DEFAULT_OUTCOME)  # checked before hours of training
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.pipeline import train_from_cohort
    from dlrs_desktop.training.recipe import TrainingRecipe
    from dlrs_desktop.training.trainer import TrainConfig

    for name in ("epochs", "batch_size", "input_size"):
        if getattr(args, name) < 1:
            raise CohortError(f"--{name.replace('_', '-')} must be a positive number.")
    if not 2 <= args.folds <= MAX_MEMBERS - 1:
        raise CohortError(
            f"--folds must be between 2 and {MAX_MEMBERS - 1} (the shipped ensemble holds folds + 1 networks)"
        )
    if not (0 <= args.blur <= 5):
        raise CohortError("--blur must be between 0 and 5 crop pixels (0 = off).")
    if not 0 <= args.ema < 1:
        raise CohortError("--ema must be at least 0 and below 1 (e.g. 0.95; 0 = off).")
    if args.synthetic_negatives is not None and not 0 <= args.synthetic_negatives <= 5000:
        raise CohortError("--synthetic-negatives must be from 0 to 5000.")
    _resolve_distil(args)
    cfg = config_from_args(TrainConfig, args, {"augment_strength": "augment", "blur_px": "blur"})
    recipe = TrainingRecipe(
        args.cohort,
        cfg,
        model_id=args.id,
        version=args.version,
        training_kind="synthetic" if args.synthetic else "real",
        description=args.description,
        changelog=_changelog(args.changelog, args.version),
        demo=args.demo,
        outcome=outcome,
        body_part=body_part_from_args(args, "BREAST"),
        synthetic_negatives=args.synthetic_negatives,
    )
    summary = train_from_cohort(
        recipe, args.out, restart=args.restart, fold_networks_dir=args.save_fold_networks
    )
    print(f"model bundle: {summary['bundle']} (primary model {summary['primary_model']})")
    for m in summary["metrics"]:
        if m["model"] == summary["primary_model"]:
            ci = f" [{m['auc_ci_low']:.3f}, {m['auc_ci_high']:.3f}]" if m["auc_ci_low"] is not None else ""
            print(f"  {m['split']:<9} AUC {m['auc']:.3f}{ci}")
    if summary.get("distillation"):
        print(f"distillation: {summary['distillation']}")
    for w in summary.get("warnings", []):
        print(f"WARNING: {w}")
    print(f"training time {summary['seconds']:.0f} s in total on {summary['device']}")
    return 0


def _changelog(entries: list[str], version: str) -> dict[str, str] | None:
    """`--changelog 1.0.0=first --changelog "what changed"` → {"1.0.0": "first", version: "what changed"}.

    "1.1.0: text" is read as version 1.1.0's entry too (it was once stored as "1.1.0: 1.1.0: text").
    """
    out: dict[str, str] = {}
    for e in entries:
        m = re.match(r"\s*(\d+\.[\w.+-]*)\s*[=:]\s*(.*)$", e, re.S)
        if m:
            out[m.group(1)] = m.group(2).strip()
        else:
            out[version] = e.strip()
    return out or None
