"""Can a signature be fitted to stay flat under a 1 mm move without losing what discriminates? (issue 25)

    python benchmarks/move_penalty_robustness.py --model DIR --cohort cohort-train.csv
        [--core-mm 1.5] [--shape concavity] [--cache FEATURES.npz] [--penalties 0,10,100,…]

Training data only: the cohort's **train split**; no internal or external case is read. Candidates 1.2–1.4
failed the ±1 mm bar because the chosen row's radiomics signature is pushed the same way by every move
(docs/evaluation/real-bus/README.md). Selecting robust features (ICC) lost the AUC, bracketing lost
0.015–0.020; this asks the direct question: fit the signature with a penalty on what a move does to its
logit — an invariance penalty in the manner of conditional-variance regularisation (Heinze-Deml &
Meinshausen, Machine Learning 2021;110:303–348), with the same lesion's drawn and moved outlines as the
groups. The signature's standardised L2 logistic regression (the code of `dlrs train`: strength chosen
by 5-fold CV AUC) gets the penalty ½‖w‖² + ½ρ·mean((w·Δz)²) over every training case's Δz = z(moved
±1 mm) − z(drawn), fitted exactly as a ridge in the metric I + ρ·ΔzᵀΔz/m (Cholesky change of variables,
so scikit-learn's solver and its C choice are unchanged; ρ = 0 is `dlrs train`'s signature). Printed
per ring and ρ, patient-grouped 5-fold CV within the train split: AUC, and at +1 / −1 mm the median
|Δ logit| and the mean signed Δ logit in units of its SD (the push). The features are
`bracket_robustness.py`'s (same `--cache` file; only its drawn and ±1 mm outlines are used). The machine
is printed first.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line
from bracket_robustness import DRAWN, IN1, OUT1, train_features

from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.radiomics import SHAPE_SETS, signature_columns
from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.radiomics_fit import C_GRID


def fit_penalised(x3: np.ndarray, y: np.ndarray, rho: float):  # type: ignore[no-untyped-def]
    """x3 (n, 3, F): drawn, +1 mm, −1 mm. Returns logit(x) of the move-penalised signature."""
    from scipy.linalg import cholesky, solve_triangular  # lazy: the [train] extra
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x3[:, 0])
    z = scaler.transform(x3[:, 0])
    moves = np.concatenate([(x3[:, k] - x3[:, 0]) / scaler.scale_ for k in (1, 2)])
    chol = cholesky(np.eye(z.shape[1]) + rho * moves.T @ moves / len(moves), lower=True)
    # penalty wᵀ(L Lᵀ)w = ‖Lᵀw‖²: an ordinary L2 fit of v = Lᵀw on the features L⁻¹z
    lr = LogisticRegressionCV(Cs=list(C_GRID), cv=5, scoring="roc_auc", max_iter=5000)
    lr.fit(solve_triangular(chol, z.T, lower=True).T, y)
    w = solve_triangular(chol.T, lr.coef_[0], lower=False)
    return lambda x: scaler.transform(x) @ w + lr.intercept_[0]


def _row(x3: np.ndarray, y: np.ndarray, groups: np.ndarray, rho: float) -> str:
    """One printed line: CV AUC, then median |Δ| and mean Δ at +1 and −1 mm over the logit SD."""
    from sklearn.model_selection import GroupKFold  # lazy: the [train] extra

    oof = np.zeros((len(y), 3))
    for fit, hold in GroupKFold(5).split(x3, y, groups):
        logit = fit_penalised(x3[fit], y[fit], rho)
        for k in range(3):
            oof[hold, k] = logit(x3[hold][:, k])
    sd = oof[:, 0].std()
    cells = []
    for k in (1, 2):
        d = (oof[:, k] - oof[:, 0]) / sd
        cells.append(f"{np.median(np.abs(d)):>7.3f} {d.mean():>+7.3f}")
    return f"  ρ = {rho:<10g}{auc(y, oof[:, 0]):>7.3f}   " + "    ".join(cells)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="bundle whose regions are used")
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--core-mm", type=float, default=1.5)
    ap.add_argument("--shape", choices=sorted(SHAPE_SETS), default="concavity")
    ap.add_argument("--cache", type=Path, help="bracket_robustness.py's feature file (written if absent)")
    ap.add_argument("--penalties", default="0,10,100,1000,10000,100000", help="ρ values, comma-separated")
    args = ap.parse_args(argv)
    print(machine_line())
    warnings.simplefilter("ignore", FutureWarning)
    spec = load_bundle(args.model).spec
    x, y, groups, n_cases = train_features(args, spec)
    x = x[:, [DRAWN, OUT1, IN1]]
    regions = list(spec.region_names)
    print(f"{args.cohort}: train split, {len(y)} of {n_cases} cases (bracket_robustness.py's); "
          f"core {args.core_mm:g} mm, shape {args.shape}; regions of {args.model}")  # fmt: skip
    head = "+1 mm: median|Δ| mean Δ   −1 mm: median|Δ| mean Δ (/SD)"
    print(f"\n{'signature, 5-fold CV':<16}{'AUC':>7}   {head}")
    for ring in regions[1:]:
        cols = signature_columns(regions, (regions[0], ring))
        print(f"{regions[0]} + {ring}:")
        for rho in (float(r) for r in args.penalties.split(",")):
            print(_row(x[:, :, cols], y, groups, rho), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
