"""Which stacking input makes a fused answer change class when the contour moves by 1 mm? (issue 25)

    python benchmarks/contour_sensitivity_inputs.py --model DIR --cohort cohort.csv [--split internal]

For every case of the split (default: the internal split — training data, no external case is read)
the bundle's primary fusion is computed on the drawn contour and on the contour moved out and in by
1 mm (`Contour.offset`). The fused logit is intercept + Σ coefficient × input (the region networks'
logits and the radiomics signatures' logits), so each input's share of the change is exact. Printed
per offset: the class flips (and how many went to the positive class); per input, its coefficient,
the median |Δ contribution|, the mean Δ contribution (signed: a systematic push) and, over the
flipped cases, how often it made the largest change in the flip's direction; and the flips left if that
input alone had kept its value on the drawn contour (held at 0 mm, every other input moved). The
machine is printed first.
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

OFFSETS_MM = (1.0, -1.0)


def contributions(pred: Predictor, image, contour) -> tuple[float, dict[str, float]] | None:  # type: ignore[no-untyped-def]
    """(intercept, {input: coefficient × logit}) of the primary fusion; None if it cannot be computed."""
    try:
        p = pred.predict(image, contour, sensitivity=False)
    except DlrsError:
        return None
    return p.intercept, {x.name: x.contribution for x in (*p.regions, *p.signatures) if x.coefficient}


def summarise(base: dict, moved: dict, coefs: dict[str, float], cut: float, name: str) -> None:
    """One offset's table (see the module docstring)."""
    ids = sorted(set(base) & set(moved))
    inputs = sorted(coefs)
    fused0 = np.array([base[i][0] + sum(base[i][1].values()) for i in ids])
    fused1 = np.array([moved[i][0] + sum(moved[i][1].values()) for i in ids])
    flipped = (fused0 >= cut) != (fused1 >= cut)
    up = int((flipped & (fused1 >= cut)).sum())
    print(f"\ncontour {name}: {len(ids)} cases, {flipped.sum()} class flips ({flipped.mean():.1%}; "
          f"{up} to the positive class); mean Δ fused logit {np.mean(fused1 - fused0):+.3f}")  # fmt: skip
    head = f"{'input':<28}{'coef':>7}{'median |Δc|':>13}{'mean Δc':>9}"
    print(f"{head}{'largest in flips':>18}{'flips if held':>15}")
    delta = {k: np.array([moved[i][1].get(k, 0.0) - base[i][1].get(k, 0.0) for i in ids]) for k in inputs}
    direction = np.sign(fused1 - fused0)
    largest = np.array([max(inputs, key=lambda k, j=j: delta[k][j] * direction[j]) for j in range(len(ids))])
    for k in inputs:
        held = fused1 - delta[k]
        flips_held = ((fused0 >= cut) != (held >= cut)).mean()
        share = (largest[flipped] == k).mean() if flipped.any() else 0.0
        med, mean = np.median(np.abs(delta[k])), np.mean(delta[k])
        print(f"{k:<28}{coefs[k]:>7.3f}{med:>13.3f}{mean:>+9.3f}{share:>17.0%}{flips_held:>15.1%}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--split", default="internal")
    ap.add_argument("--limit", type=int, default=0, help="first N cases only (0 = all)")
    args = ap.parse_args(argv)
    print(machine_line())
    pred = Predictor(args.model, device="cpu")
    thr = float(pred.bundle.manifest["threshold"])
    cut = float(np.log(thr / (1 - thr)))
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split == args.split]
    cases = cases[: args.limit] if args.limit else cases
    base: dict[str, tuple[float, dict[str, float]]] = {}
    moved: dict[float, dict[str, tuple[float, dict[str, float]]]] = {d: {} for d in OFFSETS_MM}
    stacking = pred.bundle.manifest["stacking"]
    coefs: dict[str, float] = dict(zip(pred.bundle.input_names, stacking["coefficients"], strict=True))
    coefs = {k: float(v) for k, v in coefs.items() if v}
    for case in cases:
        image, contour = load_case(case)
        got = contributions(pred, image, contour)
        if got is None:
            continue
        base[case.case_id] = got
        for d in OFFSETS_MM:
            try:
                shifted = contour.offset(d)
            except DlrsError:
                continue  # a small lesion shrunk to nothing: no answer at −1 mm
            got = contributions(pred, image, shifted)
            if got is not None:
                moved[d][case.case_id] = got
    print(f"{args.model} ({pred.bundle.manifest.get('primary_model')}): {len(base)} of {len(cases)} "
          f"{args.split} cases; threshold {thr:.3f}")  # fmt: skip
    for d in OFFSETS_MM:
        summarise(base, moved[d], coefs, cut, f"{d:+g} mm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
