"""Does averaging the fold networks with the final one help? The measurement behind the default.

    dlrs train --cohort C.csv --out MODEL --ensemble final --save-fold-networks FOLDS ...
    python benchmarks/fold_ensemble.py MODEL FOLDS C.csv

`dlrs train` now ships the final and fold networks averaged (`--ensemble final+folds`, the
default); this script measured that choice on bundles holding the final network alone
(`--ensemble final`). That network is trained on the whole training split and kept at its best
epoch on the internal split; with a few hundred cases that epoch is noisy (one run kept epoch 2 of 14).
The cross-fitting fold networks are trained anyway. This script puts each network's region
logits in its own units (z-scores on the internal split, as the stacking does), averages them
over {final}, {folds} and {final + folds}, applies the bundle's primary stacking model in those
units and prints the AUC per split. The internal split chose the final network's epoch and the
standardisation, so its figures are optimistic; judge on the external split.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line


def main() -> int:
    from sklearn.metrics import roc_auc_score

    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.network import load_net
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.dataset import prepare_cohort
    from dlrs_desktop.training.evaluate import region_logits
    from dlrs_desktop.training.trainer import predict_logits

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("folds", type=Path, help="the --save-fold-networks folder")
    ap.add_argument("cohort", type=Path)
    args = ap.parse_args()
    print(machine_line())
    bundle = load_bundle(args.model)
    if int(bundle.architecture.get("members", 1)) > 1:
        raise SystemExit(
            "This bundle already averages several networks; train it with --ensemble final to compare."
        )
    cases = read_cohort(args.cohort, require_train=False)
    data = prepare_cohort(cases, bundle.spec, csv_path=args.cohort)
    splits = np.array([c.split for c in cases])
    y = data.y
    logits = {"final": region_logits(bundle, data.x[:, 0])}
    for path in sorted(args.folds.glob("fold*.safetensors")):
        net = load_net(bundle.architecture, path.read_bytes())
        logits[path.stem] = predict_logits(net, data.x[:, 0], "cpu")
    folds = [k for k in logits if k != "final"]
    ref = splits == "internal"
    if not ref.any():
        raise SystemExit("The cohort has no internal split to standardise the logits on.")
    manifest = bundle.manifest
    primary = next(r for r in manifest["models"] if r["key"] == manifest["primary_model"])
    # coefficients in z units of the final network (the stacking was fitted in such units)
    n_regions = len(bundle.region_names)  # the networks' part; radiomics signatures are left out
    coef_z = np.asarray(primary["coefficients"][:n_regions], float) * logits["final"][ref].std(axis=0)
    if bundle.radiomics is not None:
        print("note: the bundle also stacks radiomics signatures; this compares the networks' part only")

    def z(values: np.ndarray) -> np.ndarray:
        return (values - values[ref].mean(axis=0)) / values[ref].std(axis=0)

    print(f"primary model {primary['key']}; fold networks: {', '.join(folds) or 'none'}")
    names = [s for s in ("train", "internal", "external") if (splits == s).any()]
    print(f"{'networks averaged':22s} " + " ".join(f"{s:>9s}" for s in names))
    for label, keys in (
        ("final (shipped)", ["final"]),
        ("folds", folds),
        ("final + folds", ["final", *folds]),
    ):
        if not keys:
            continue
        score = np.mean([z(logits[k]) for k in keys], axis=0) @ coef_z
        aucs = [roc_auc_score(y[splits == s], score[splits == s]) for s in names]
        print(f"{label:22s} " + " ".join(f"{a:9.3f}" for a in aucs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
