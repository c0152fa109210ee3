"""`dlrs synth`: generate the synthetic dual-centre breast ultrasound cohort (not patient data)."""

from __future__ import annotations

import argparse
import sys

from dlrs_desktop.errors import CohortError

HELP = "generate a synthetic dual-centre breast ultrasound cohort (images, contours, labels)"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--patients", type=int, default=469, help="number of patients (default 469, as the study)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same cohort)")
    p.add_argument("--scale", type=float, default=1.0, help="image size factor (< 1 for quick tests)")
    p.add_argument("--no-dicom", action="store_true", help="write PNG only (cohort.csv then points at PNGs)")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (same output for any number)")
    p.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.progress import ProgressBar
    from dlrs_desktop.training.synth import generate_cohort

    if args.patients < 4:
        raise CohortError("A cohort needs at least 4 patients.")
    if not 0.25 <= args.scale <= 2.0:
        raise CohortError("--scale must be between 0.25 and 2.")
    bar = None if args.quiet else ProgressBar(args.patients, "synth")
    summary = generate_cohort(
        args.out,
        patients=args.patients,
        seed=args.seed,
        size_scale=args.scale,
        dicom=not args.no_dicom,
        workers=max(1, args.workers),
        progress=(lambda i, n: bar.update(i)) if bar else None,
    )
    if bar:
        bar.close()
    s = summary["splits"]
    gt = summary["ground_truth_auc"]
    print(
        f"{args.patients} patients in {summary['seconds']} s → {args.out}: "
        + ", ".join(f"{k} {v['n']} ({v['responders']} responders)" for k, v in s.items())
        + "; ground-truth AUC "
        + ", ".join(f"{k} {v:.3f}" for k, v in gt.items() if v is not None),
        file=sys.stdout,
    )
    return 0
