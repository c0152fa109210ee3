"""Do the radiomics signatures carry to a centre they never saw? Leave-one-centre-out inside the
training data of the real-data study (issue 25), without reading any external case.

    python benchmarks/real_bus_loco_signatures.py --cohort COHORT.csv --model BUNDLE

For every fusion row's signature (the same features and the same fitting code as `dlrs train`,
training/radiomics_fit.py) and every training centre A: fitted on A's training cases, scored on A's
internal cases (a known centre) and on every case of each other centre (a new one): AUC and
calibration slope (logistic recalibration of the signature's logit; 1 = as steep as it should be).
Rows of the external split are skipped. The bundle only gives the regions and the preprocessing.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402


def slope(z: np.ndarray, y: np.ndarray) -> float:
    """Calibration slope of a logit, as `dlrs evaluate` reports it (training/metrics.calibration_stats)."""
    from dlrs_desktop.training.metrics import calibration_stats

    with np.errstate(over="ignore"):
        p = 1.0 / (1.0 + np.exp(-z))
    return float(calibration_stats(y, p)["calibration_slope"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--model", required=True, help="bundle whose regions and preprocessing are used")
    args = ap.parse_args()
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.radiomics import signature_columns
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.dataset import prepare_cohort
    from dlrs_desktop.training.metrics import auc
    from dlrs_desktop.training.radiomics_fit import fit_signature_model
    from dlrs_desktop.training.stacking import row_specs

    print(machine_line())
    bundle = load_bundle(args.model)
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split in ("train", "internal")]
    data = prepare_cohort(cases, bundle.spec, csv_path=args.cohort)
    f, y = data.radiomics, np.asarray(data.y, int)
    centre = np.array([c.centre for c in cases])
    split = np.array([c.split for c in cases])
    regions = bundle.spec.region_names
    print(f"{len(cases)} training and internal cases; centres {', '.join(sorted(set(centre)))}")
    print("signature | fitted on | scored on | n | AUC | calibration slope")
    warnings.simplefilter("ignore", FutureWarning)
    for key, _label, regs, kind in row_specs(regions):
        if kind != "fusion":
            continue
        cols = signature_columns(regions, regs)
        for a in sorted(set(centre)):
            fit = (centre == a) & (split == "train")
            model = fit_signature_model(f[fit][:, cols], y[fit])
            targets = [(f"{a} internal", (centre == a) & (split == "internal"))]
            targets += [(f"{b} (all)", centre == b) for b in sorted(set(centre)) if b != a]
            for name, t in targets:
                z = model.decision_function(f[t][:, cols])
                roc, s = auc(y[t], z), slope(z, y[t])
                print(f"{key} | {a} train | {name} | {int(t.sum())} | {roc:.3f} | {s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
