"""`dlrs model add-reference --model DIR --cohort CSV`: fit the domain guard and conformal sets into a bundle.

Reference statistics from the cohort's train split; thresholds and the conformal quantile from its
internal split; the external split is never read. Weights stay byte-identical, the manifest is
re-pinned (docs/DOMAIN_GUARD.md). Needs the [train] extra.
"""

from __future__ import annotations

import argparse

from dlrs_desktop.commands._common import add_bundle_update_arguments
from dlrs_desktop.extras import require

_HELP = (
    "fit the domain reference (train split) and its thresholds and conformal prediction sets "
    "(internal split) into a bundle folder"
)


def register_add_reference(sub: argparse._SubParsersAction) -> None:
    p = add_bundle_update_arguments(sub, "add-reference", _HELP)
    p.add_argument("--components", type=int, default=32, help="principal components per region (default 32)")
    p.add_argument("--coverage", type=float, default=0.9, help="conformal coverage (default 0.9)")
    p.add_argument(
        "--synthetic-negatives", type=int, default=0, metavar="N",
        help="teach the guard's synthetic-likeness gate with N `dlrs synth` patients and N simulated phantom "
        "scans (for a model trained on real scans; default 0: no gate)",
    )  # fmt: skip


def run_add_reference(args: argparse.Namespace) -> int:
    require("train", "Fitting a domain reference", modules=("sklearn", "crepes"))
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.conformal_fit import conformal_line
    from dlrs_desktop.training.domain_fit import add_reference
    from dlrs_desktop.training.progress import ProgressBar

    if not 1 <= args.components <= 128:
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.errors import DlrsError

        raise DlrsError("--components must be from 1 to 128.")
    if not 0 <= args.synthetic_negatives <= 5000:
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.errors import DlrsError

        raise DlrsError("--synthetic-negatives must be from 0 to 5000.")
    bar = ProgressBar(1, "domain reference")
    out = add_reference(
        args.model, args.cohort, components=args.components, coverage=args.coverage, threads=args.threads,
        progress=lambda i, n: (setattr(bar, "total", n), bar.update(i)),
        synthetic_negatives=args.synthetic_negatives,
    )  # fmt: skip
    bar.close()
    block, conf = out["domain_reference"], out["conformal"]
    syn = block["texture"]["synthetic"]
    gate = f"; synthetic-likeness gate from {syn['negatives']}" if syn else ""
    n_cal = conf["n_calibration"]
    sets = f"conformal qhat {conf['qhat']:.4f} at {conf['coverage']:.0%} coverage (n = {n_cal})"
    if conf.get("by_centre"):
        sets = conformal_line(conf)
    print(
        f"domain reference added to {out['bundle']}: {block['n_train']} training cases, thresholds "
        f"unusual > {block['unusual_above']:.3f}, outside > {block['outside_above']:.3f} "
        f"({block['threshold_rule']}); {sets}{gate}; manifest sha256 {out['manifest_sha256']}"
    )
    return 0
