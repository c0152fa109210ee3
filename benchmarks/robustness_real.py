"""How much a bundle's answers move under scanner settings, contour and spacing changes (issue 25).

    python benchmarks/robustness_real.py --model DIR --cohort cohort.csv [--split external] [--limit N]

For every case of the split the fused probability is computed on the image as given and again with
- gain × 0.8 and × 1.25 (grey levels scaled, clipped at 255 as a scanner's display would),
- gamma 0.8 and 1.25 (255 · (g/255)^γ),
- the contour moved out and in by 1 mm (`Contour.offset`),
- every spacing off by −15 % and +15 % (the mm/px the cohort states × 0.85 / × 1.15).
Printed per change: cases, the fraction whose class (p ≥ the bundle's threshold) changes and how many
of those went to the positive class, the median and 90th percentile |Δp|, the mean signed Δp (a
systematic push, as a 1 mm move of the outline turned out to be), and the AUC against the labels (the
spacing rows answer "how do the external AUCs move when every spacing is off by ±15 %"). A change that
leaves no valid input (a small lesion's contour shrunk to nothing) drops that case from its row: each
row prints its own case count. The machine is printed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.metrics import auc


def _grey_map(fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def change(image, contour):
        grey = np.clip(fn(image.gray.astype(np.float64)), 0, 255).astype(np.uint8)
        display = np.clip(fn(image.display.astype(np.float64)), 0, 255).astype(np.uint8)
        return dataclasses.replace(image, gray=grey, display=display), contour

    return change


def _offset(d_mm: float) -> Callable:
    return lambda image, contour: (image, contour.offset(d_mm))


CHANGES: dict[str, Callable] = {
    "gain x0.8": _grey_map(lambda g: g * 0.8),
    "gain x1.25": _grey_map(lambda g: g * 1.25),
    "gamma 0.8": _grey_map(lambda g: 255.0 * (g / 255.0) ** 0.8),
    "gamma 1.25": _grey_map(lambda g: 255.0 * (g / 255.0) ** 1.25),
    "contour +1 mm": _offset(1.0),
    "contour -1 mm": _offset(-1.0),
}
SPACINGS = {"spacing -15 %": 0.85, "spacing +15 %": 1.15}


def _auc(y: list[int], p: list[float]) -> float | None:
    a = auc(np.array(y), np.array(p))  # the AUC every report of the project uses (Mann-Whitney)
    return None if np.isnan(a) else a


def _predict(pred: Predictor, image, contour) -> float | None:
    try:
        return pred.predict(image, contour, sensitivity=False).probability
    except DlrsError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--split", default="external")
    ap.add_argument("--limit", type=int, default=0, help="first N cases only (0 = all)")
    args = ap.parse_args(argv)
    print(machine_line())
    pred = Predictor(args.model, device="cpu")
    thr = float(pred.bundle.manifest["threshold"])
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split == args.split]
    cases = cases[: args.limit] if args.limit else cases
    base: dict[str, float] = {}
    labels: dict[str, int] = {}
    moved: dict[str, dict[str, float]] = {k: {} for k in [*CHANGES, *SPACINGS]}
    for case in cases:
        image, contour = load_case(case)
        p0 = _predict(pred, image, contour)
        if p0 is None:
            continue
        base[case.case_id], labels[case.case_id] = p0, case.label
        for name, change in CHANGES.items():
            try:  # a contour of a small lesion shrunk by 1 mm can vanish: that case has no answer
                p = _predict(pred, *change(image, contour))
            except DlrsError:
                p = None
            if p is not None:
                moved[name][case.case_id] = p
        for name, factor in SPACINGS.items():
            if case.mm_per_px is None:
                continue
            try:
                img2, con2 = load_case(dataclasses.replace(case, mm_per_px=case.mm_per_px * factor))
            except DlrsError:
                continue
            p = _predict(pred, img2, con2)
            if p is not None:
                moved[name][case.case_id] = p
    ids = sorted(base)
    print(f"{args.model}: {len(ids)} of {len(cases)} {args.split} cases predicted; threshold {thr:.3f}")
    print(f"as given: AUC {_auc([labels[i] for i in ids], [base[i] for i in ids])}")
    print(f"{'change':<16}{'cases':>6}{'class flips':>13}{'to pos.':>8}{'median |dp|':>13}{'p90 |dp|':>10}"
          f"{'mean dp':>9}{'AUC':>8}")  # fmt: skip
    for name, got in moved.items():
        ks = sorted(got)
        if not ks:
            continue
        signed = np.array([got[k] - base[k] for k in ks])
        d = np.abs(signed)
        flipped = [(got[k] >= thr) != (base[k] >= thr) for k in ks]
        up = sum(f and got[k] >= thr for f, k in zip(flipped, ks, strict=True))
        auc = _auc([labels[k] for k in ks], [got[k] for k in ks])
        auc_s = f"{auc:.3f}" if auc is not None else "-"
        spread = f"{np.median(d):>13.3f}{np.percentile(d, 90):>10.3f}{np.mean(signed):>+9.3f}"
        print(f"{name:<16}{len(ks):>6}{np.mean(flipped):>12.1%}{up:>8}{spread}{auc_s:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
