"""The real-data study's baselines beside its primary fusion, from a `dlrs evaluate` report (issue 25).

    python benchmarks/real_bus_baselines.py REPORT/predictions.csv [--primary fusion_all]

Baselines on the same cases and splits: the intratumoral network alone (the `intratumoral` row of the
study table) and a radiomics-only model (the "all regions + shape" radiomics signature, a standardised
logistic model fitted on the training split: sigmoid of `logit_radiomics_all`). For each split: AUC with
its DeLong 95 % CI, calibration slope, and DeLong p of the primary fusion against each baseline.
The primary is read from the report's metrics.json when it is there.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from dlrs_desktop.training.metrics import auc_ci, calibration_stats, delong_test


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("predictions")
    ap.add_argument("--primary", default=None, help="column of the primary fusion (default: metrics.json)")
    args = ap.parse_args(argv)
    path = Path(args.predictions)
    rows = list(csv.DictReader(path.open(newline="")))
    primary = args.primary
    metrics = path.parent / "metrics.json"
    if primary is None and metrics.is_file():
        primary = json.loads(metrics.read_text()).get("primary_model")
    primary = primary or "fusion_all"
    models = {
        f"primary ({primary})": lambda r: float(r[primary]),
        "intratumoral network": lambda r: float(r["intratumoral"]),
    }
    if "logit_radiomics_all" in rows[0]:
        name = "radiomics only (signature all)"
        models[name] = lambda r: float(_sigmoid(np.float64(r["logit_radiomics_all"])))
    print(f"{path}: primary {primary}")
    for split in ("internal", "external"):
        sel = [r for r in rows if r["split"] == split]
        if not sel:
            continue
        y = np.array([int(r["label"]) for r in sel])
        probs = {name: np.array([f(r) for r in sel]) for name, f in models.items()}
        print(f"\n{split}: {len(sel)} cases, {int(y.sum())} positive")
        print(f"{'model':<34}{'AUC':>7}{'95 % CI':>16}{'cal. slope':>12}{'DeLong p vs primary':>22}")
        first = next(iter(probs.values()))
        for name, p in probs.items():
            a, lo, hi = auc_ci(y, p)
            slope = calibration_stats(y, np.clip(p, 1e-6, 1 - 1e-6)).get("calibration_slope")
            dl = "" if p is first else f"{delong_test(y, first, p)['p_value']:.4f}"
            slope_s = f"{slope:.2f}" if slope is not None else "-"
            print(f"{name:<34}{a:>7.3f}{f'{lo:.3f}-{hi:.3f}':>16}{slope_s:>12}{dl:>22}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
