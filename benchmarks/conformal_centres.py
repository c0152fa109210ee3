"""How the prediction sets fare on each training centre held out: the numbers behind `dlrs model centre-sets`.

    python benchmarks/conformal_centres.py --model DIR --cohort COHORT.csv [--checkpoint DIR]

Training data only: the cohort must not hold the external centre (its external rows are never read
either way). Trains — or resumes from `--checkpoint` — one network per training centre without that
centre, as `dlrs model centre-sets` does, and prints per held-out centre: the AUC of the bundle's primary
probability there, its split-conformal quantile, the quantile per class (label-conditional sets), and
how much of each class the bundle's stored sets cover. Also checks that the retrained folds reproduce
the bundle's own out-of-fold AUC. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402


def main() -> int:
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.training.centre_sets import scores_for_bundle
    from dlrs_desktop.training.conformal_fit import conformal_block, nonconformity
    from dlrs_desktop.training.metrics import auc

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(machine_line())
    manifest = load_bundle(args.model).manifest
    conf = manifest["conformal"]
    cov, centre, qhat = float(conf["coverage"]), float(conf["centre"]), float(conf["qhat"])
    s = scores_for_bundle(args.model, args.cohort, checkpoint=args.checkpoint, threads=args.threads)
    key = manifest["primary_model"]
    print(f"model {manifest['id']} {manifest['version']}; primary {key}; stored qhat {qhat:.4f} at {cov:.0%}")
    print(
        f"out-of-fold AUC of the primary row: retrained folds {auc(s.y, s.p):.10f}, "
        f"manifest {manifest['training']['oof_auc'][key]:.10f}"
    )
    print("held-out centre | n | AUC | qhat | qhat benign / malignant (label-conditional) | "
          "stored sets cover benign / malignant")  # fmt: skip
    for name in sorted(set(s.centre.tolist())):
        k = s.centre == name
        a = nonconformity(s.p[k], s.y[k], centre)
        per_class = [conformal_block(a[s.y[k] == c], cov, centre)["qhat"] for c in (0, 1)]
        covered = [float(np.mean(a[s.y[k] == c] <= qhat)) for c in (0, 1)]
        print(
            f"{name} | {int(k.sum())} | {auc(s.y[k], s.p[k]):.3f} | "
            f"{conformal_block(a, cov, centre)['qhat']:.3f} | {per_class[0]:.3f} / {per_class[1]:.3f} | "
            f"{covered[0]:.1%} / {covered[1]:.1%}"
        )
    print(f"({time.perf_counter() - t0:.0f} s wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
