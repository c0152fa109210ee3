"""Does the stacking hide how a radiomics signature's scale carries to a new centre? (issue 25)

    python benchmarks/stacking_signature_scale.py --model BUNDLE --cohort COHORT_TRAIN_CSV \
        --checkpoint CHECKPOINT_WITH_CENTRE_FOLDS

`dlrs train --fold-by centre` z-scores every stacking input within its fold (training/stacking.py)
before fitting the meta-learners. For the networks that is needed (fold networks trained from scratch
share no logit scale), but a signature's held-out logit is a logistic regression's: its scale on a
centre it never saw *is* what carries to a new hospital (too steep on BUS-BRA, too flat on BUSI:
benchmarks/real_bus_loco_signatures.py), and z-scoring within the fold erases exactly that. This
refits every row both ways on the same out-of-fold inputs — (a) as `dlrs train` does, (b) with the
signatures' held-out logits left raw — and prints, for the rows with a signature: the coefficients in
the shipped network's units, AUC and calibration slope on the internal split (each centre too), and
the fused out-of-fold slope per held-out centre. Training and internal rows only (an external split
in the CSV is never read). The network's logits come from the bundle, the fold networks' out-of-fold
logits from the checkpoint (the one `dlrs model centre-sets --checkpoint` reads).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

SHOWN = ("fusion_ring_3mm", "fusion_all")


def slope(y: np.ndarray, p: np.ndarray) -> float:
    from dlrs_desktop.training.metrics import calibration_stats

    return float(calibration_stats(y, np.clip(p, 1e-9, 1 - 1e-9))["calibration_slope"])


def inputs(args: argparse.Namespace) -> dict:
    """Out-of-fold inputs of the train split and the shipped model's inputs on the internal split."""
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.network import load_net
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.dataset import prepare_cohort
    from dlrs_desktop.training.radiomics_fit import fit_signatures
    from dlrs_desktop.training.trainer import group_folds, predict_logits

    b = load_bundle(args.model)
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split in ("train", "internal")]
    data = prepare_cohort(cases, b.spec, csv_path=args.cohort)
    y = np.asarray(data.y, int)
    tr, it = data.subset("train"), data.subset("internal")
    folds = group_folds([data.cases[i] for i in tr], y[tr], 2, 0, "centre")
    state = json.loads((Path(args.checkpoint) / "state.json").read_text(encoding="utf-8"))
    oof = np.full((len(tr), len(b.region_names)), np.nan)
    fold_rows = []
    for f in range(int(folds.max()) + 1):
        done = state["completed"][f"fold{f}"]
        oof[done["rows"]] = np.asarray(done["logits"])
        fold_rows.append(list(done["rows"]))
    _, oof_sig = fit_signatures(data.radiomics, y, tr, folds, b.spec.region_names, b.radiomics.settings)
    net = load_net(b.architecture, *b.weights_bytes())
    internal = np.c_[predict_logits(net, data.x[it, 0], "cpu"), b.radiomics.logits(data.radiomics[it])]
    return {
        "bundle": b, "oof": np.c_[oof, oof_sig], "fold_rows": fold_rows, "y_tr": y[tr], "y_it": y[it],
        "internal": internal, "centre_tr": np.array([data.cases[i].centre for i in tr]),
        "centre_it": np.array([data.cases[i].centre for i in it]),
    }  # fmt: skip


def rows_both_ways(d: dict) -> dict[str, tuple[list, list, np.ndarray]]:
    """{way: (rows in the network's units, the same rows as fitted, the inputs they were fitted on)}."""
    from dlrs_desktop.training.stacking import fit_row_models, standardise_per_fold, to_network_units

    b, r = d["bundle"], len(d["bundle"].region_names)
    z = standardise_per_fold(d["oof"], d["fold_rows"])
    raw = z.copy()
    raw[:, r:] = d["oof"][:, r:]
    # the raw columns keep their units: converted against a reference with mean 0 and SD 1 there
    unit = d["internal"].copy()
    unit[:, r:] = (unit[:, r:] - unit[:, r:].mean(axis=0)) / unit[:, r:].std(axis=0)
    out = {}
    for name, x, reference in (("z-scored (as dlrs train)", z, d["internal"]), ("signatures raw", raw, unit)):
        rows = fit_row_models(x, d["y_tr"], b.region_names, signatures=b.radiomics.names)
        out[name] = (to_network_units(rows, reference)[0], rows, x)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True, help="cohort CSV; only its train and internal rows are read")
    ap.add_argument("--checkpoint", required=True, help="dlrs train checkpoint with --fold-by centre folds")
    args = ap.parse_args()
    from dlrs_desktop.training.metrics import auc

    print(machine_line())
    d = inputs(args)
    names = d["bundle"].input_names
    print(f"{len(d['y_tr'])} train, {len(d['y_it'])} internal cases; inputs {', '.join(names)}")
    for name, (units, rows, x) in rows_both_ways(d).items():
        print(f"\n{name}")
        for row, fitted in zip(units, rows, strict=True):
            if row.key not in SHOWN:
                continue
            p, y = row.predict(d["internal"]), d["y_it"]
            coef = ", ".join(f"{n} {c:.3f}" for n, c in zip(names, row.coefficients, strict=True) if c)
            line = f"  {row.key}: {coef} | internal AUC {auc(y, p):.3f}, slope {slope(y, p):.2f}"
            for centre in sorted(set(d["centre_it"])):
                k = d["centre_it"] == centre
                line += f" | {centre} AUC {auc(y[k], p[k]):.3f}, slope {slope(y[k], p[k]):.2f}"
            print(line)
            q = fitted.predict(x)
            held = "; ".join(
                f"{c} held out: AUC {auc(d['y_tr'][k], q[k]):.3f}, slope {slope(d['y_tr'][k], q[k]):.2f}"
                for c in sorted(set(d["centre_tr"]))
                for k in [d["centre_tr"] == c]
            )
            print(f"    out-of-fold (the meta-learner's own inputs): {held}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
