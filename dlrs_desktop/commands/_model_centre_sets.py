"""`dlrs model centre-sets --model DIR --cohort CSV`: calibrate the prediction sets on held-out centres.

Trains one network per training centre without that centre (the bundle's own recipe; hours on a
CPU for a large cohort, resumable), scores each centre with the bundle's stacking and widens the
conformal quantile to the worst of them (docs/DOMAIN_GUARD.md, "Prediction sets at a new hospital").
Weights and stacking stay byte-identical; the manifest is re-pinned. Needs the [train] extra.
"""

from __future__ import annotations

import argparse

from dlrs_desktop.commands._common import add_bundle_update_arguments
from dlrs_desktop.extras import require

_HELP = (
    "calibrate the conformal prediction sets on each training centre as if it were a new hospital "
    "(trains one network per held-out centre with the bundle's recipe)"
)


def register_centre_sets(sub: argparse._SubParsersAction) -> None:
    p = add_bundle_update_arguments(sub, "centre-sets", _HELP)
    threads = next(a for a in p._actions if a.dest == "threads")
    threads.help = "torch threads for training (default: the recipe's)"
    p.add_argument(
        "--checkpoint", metavar="DIR", default=None,
        help="where the held-out-centre networks are checkpointed (default: <model>.centre-folds.checkpoint)",
    )  # fmt: skip


def run_centre_sets(args: argparse.Namespace) -> int:
    require("train", "Calibrating prediction sets on held-out centres", modules=("torch", "sklearn"))
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.centre_sets import add_centre_sets, scores_for_bundle
    from dlrs_desktop.training.conformal_fit import conformal_line

    scores = scores_for_bundle(args.model, args.cohort, checkpoint=args.checkpoint, threads=args.threads)
    block = add_centre_sets(args.model, scores)
    print(f"{conformal_line(block)}; written to {args.model}")
    return 0
