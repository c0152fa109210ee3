"""Would a contour-averaged probability steady the ±1 mm class flips? A training-split probe (issue 25).

    python benchmarks/contour_average_probe.py --model DIR --cohort cohort.csv [--split train] [--limit 600]

The idea: the headline as the mean of the fused logit over the drawn contour and the contour moved by
up to ±h mm (the offsets the contour-sensitivity band already computes), so that a sonographer's
outline 1 mm wider or tighter moves a window of outlines, not a single one. For a random subset of
the split's cases (seed 20261205) the fused probability is computed at offsets −2 … +2 mm in 0.5 mm
steps (`Predictor.predict_sensitivity`); then, per window half-width h ∈ {0, 0.5, 1} mm: the AUC of the
windowed logit at the drawn contour, and the fraction of cases whose class (against the bundle's
threshold) changes when the window is centred 1 mm out or 1 mm in. h = 0 is the bundle as it ships.
Offsets a small lesion cannot take (shrunk to nothing) are left out of its windows. The machine is
printed first; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.metrics import auc

OFFSETS = tuple(float(x) for x in np.round(np.arange(-2.0, 2.01, 0.5), 2))
HALF_WIDTHS = (0.0, 0.5, 1.0)


def _logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def windowed(probs: tuple[float | None, ...], centre: float, half: float) -> float | None:
    """Mean fused logit over the offsets within `half` mm of `centre`; None without the centre itself."""
    at = {o: p for o, p in zip(OFFSETS, probs, strict=True) if p is not None}
    if centre not in at:
        return None
    return float(np.mean([_logit(p) for o, p in at.items() if abs(o - centre) <= half + 1e-9]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--limit", type=int, default=600, help="random cases of the split (0 = all)")
    args = ap.parse_args(argv)
    print(machine_line())
    pred = Predictor(args.model, device="cpu")
    thr = _logit(float(pred.bundle.manifest["threshold"]))
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split == args.split]
    if args.limit and args.limit < len(cases):
        pick = np.random.default_rng(20261205).choice(len(cases), args.limit, replace=False)
        cases = [cases[i] for i in sorted(pick)]
    probs: dict[str, tuple[float | None, ...]] = {}
    labels: dict[str, int] = {}
    for case in cases:
        try:
            image, contour = load_case(case)
            probs[case.case_id] = pred.predict_sensitivity(image, contour, offsets_mm=OFFSETS).probabilities
        except DlrsError:
            continue
        labels[case.case_id] = case.label
    print(f"{pred.bundle.id} {pred.bundle.version}: {len(probs)} of {len(cases)} {args.split} cases")
    for half in HALF_WIDTHS:
        drawn = {k: windowed(v, 0.0, half) for k, v in probs.items()}
        ids = [k for k, s in drawn.items() if s is not None]
        a = auc(np.array([labels[k] for k in ids]), np.array([drawn[k] for k in ids]))
        line = f"window ±{half:.1f} mm: AUC {a:.3f} (n {len(ids)})"
        for centre in (1.0, -1.0):
            moved = {k: windowed(probs[k], centre, half) for k in ids}
            ks = [k for k in ids if moved[k] is not None]
            flips = np.mean([(moved[k] >= thr) != (drawn[k] >= thr) for k in ks])
            line += f" · {centre:+.0f} mm flips {flips:.1%} (n {len(ks)})"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
