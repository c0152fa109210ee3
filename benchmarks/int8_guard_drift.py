"""Does the int8 model move the domain guard? Float vs int8 of one bundle on a cohort's split.

    python benchmarks/int8_guard_drift.py --model BUNDLE --cohort cohort.csv [--split internal]

For every case of the split: the probability, the domain status (in / edge / outside) and the
network-feature distance of each region, once with the float model and once with the int8 model
(`Predictor(precision=...)`). Prints max |Δp|, how many statuses differ and the largest relative
change of a feature distance. Why: the accuracy guard of `dlrs model quantize` checks probabilities
only; the domain guard reads the network's penultimate features, which int8 also changes.
The internal split is the default (the guard's own split); the external split is never read unless asked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line

from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.training.cohort import load_case, read_cohort


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--split", default="internal", choices=("train", "internal", "external"))
    args = ap.parse_args()
    cases = [c for c in read_cohort(args.cohort) if c.split == args.split]
    fl = Predictor(args.model, device="cpu", precision="float")
    q8 = Predictor(args.model, device="cpu", precision="int8")
    if q8.precision != "int8":
        raise SystemExit("the bundle has no int8 model")
    dp, status_diff, rel, n = [], 0, [], 0
    fl_thresholds: tuple[float | None, float | None] = (None, None)
    statuses: dict[str, int] = {}
    for case in cases:
        image, contour = load_case(case)
        a = fl.predict(image, contour, sensitivity=False)
        b = q8.predict(image, contour, sensitivity=False)
        n += 1
        fl_thresholds = (a.domain.unusual_above, a.domain.outside_above)
        dp.append(abs(a.probability - b.probability))
        sa, sb = a.domain.status, b.domain.status
        statuses[sa] = statuses.get(sa, 0) + 1
        status_diff += sa != sb
        if a.domain.score is not None and b.domain.score is not None:
            rel.append(abs(a.domain.score - b.domain.score))
    print(f"$ python benchmarks/int8_guard_drift.py {' '.join(sys.argv[1:])}\n{machine_line()}")
    print(f"{args.split}: n = {n}; float-model domain statuses {statuses}")
    print(f"max |dp| {max(dp):.4f}, mean |dp| {np.mean(dp):.4f}")
    print(f"domain status differs (float vs int8) in {status_diff} of {n} cases")
    if rel:
        print(
            f"domain score (float model's thresholds: unusual above {fl_thresholds[0]}, outside above"
            f" {fl_thresholds[1]}): |change| median {np.median(rel):.4f}, max {max(rel):.4f}"
        )


if __name__ == "__main__":
    main()
