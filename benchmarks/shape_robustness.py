"""Which shape measure survives a 1 mm move of the outline and still tells malignant from benign? (issue 25)

    python benchmarks/shape_robustness.py --model DIR --cohort cohort-train.csv [--core-mm 1.5]
        [--cache FEATURES.npz] [--signature-of BUNDLE]

Training data only: the cohort's **train split**; no internal or external case is read. The design probe
behind `dlrs train --radiomics-shape concavity` (docs/evaluation/real-bus/README.md, "Shape that a 1 mm
move leaves alone"). Every train case's outline is taken as drawn and moved out and in by 1 mm
(`Contour.offset`), and on each: the features `dlrs train` computes (`case_features`, intratumoral
statistics on the core eroded by `--core-mm`, with the model DIR's preprocessing), the two outline
ratios, the concavity depths (`concavity_depths_mm`), the solidity of the outline closed by 1 and 2 mm,
and the concavity depths of the outline smoothed first (closed or opened by 0.5 or 1 mm).
Printed: per shape measure its ICC(1,1) over the three outlines and its univariate AUC on the drawn
one; then, for the signatures of the tumour with each ring, patient-grouped 5-fold cross-validation
within the train split (the code of `dlrs train`'s signatures) with each shape choice: AUC, and the
median and 90th percentile of the signature's change at +1 / −1 mm in units of its SD. With
`--signature-of BUNDLE` (a bundle whose signatures read these features: same core, outline ratios),
its primary signature's per-feature contribution change at ±1 mm (coefficient × Δ z-score, mean |·|
over the train split). The machine is printed first.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line
from signature_robustness import icc_1_1

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.preprocess import prepare_inputs
from dlrs_desktop.model.radiomics import (
    FeatureSettings,
    case_features,
    concavity_depths_mm,
    feature_names,
    outline_ratios,
    signature_columns,
)
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.radiomics_fit import fit_signature_model

OFFSETS_MM = (0.0, 1.0, -1.0)
SMOOTHING = {"closed 0.5 mm": (0.5, -0.5), "closed 1 mm": (1.0, -1.0), "opened 0.5 mm": (-0.5, 0.5),
             "opened 1 mm": (-1.0, 1.0)}  # fmt: skip
MEASURES = (
    "compactness", "solidity", "solidity, closed 1 mm", "solidity, closed 2 mm", "concavity max (mm)",
    "concavity mean (mm)", *(f"concavity {k} {s}" for s in SMOOTHING for k in ("max", "mean")),
)  # fmt: skip


def _solidity(c) -> float:  # type: ignore[no-untyped-def]
    return outline_ratios(np.asarray(c.points))[1]


def _one(job):  # type: ignore[no-untyped-def]
    """(case id, (3, features + measures)) or (case id, None) when an outline cannot be moved or read."""
    case, spec, regions, core_mm = job
    try:
        image, contour = load_case(case)
        rows = []
        for d in OFFSETS_MM:
            c = contour if d == 0 else contour.offset(d)
            _, info = prepare_inputs(image, c, spec)
            pts = np.asarray(info.contour.points)
            cal = info.roiset.calibration
            mm = (cal.mm_per_px_x, cal.mm_per_px_y)
            f = case_features(
                image.gray, image.scan_mask, info.roiset, pts, regions, FeatureSettings(core_mm)
            )
            extra = [
                f[-2],
                f[-1],
                _solidity(c.offset(1.0).offset(-1.0)),
                _solidity(c.offset(2.0).offset(-2.0)),
            ]
            extra += concavity_depths_mm(pts, mm)
            for a, b in SMOOTHING.values():
                extra += concavity_depths_mm(np.asarray(c.offset(a).offset(b).points), mm)
            rows.append(np.r_[f, extra])
        return case.case_id, np.stack(rows)
    except DlrsError:
        return case.case_id, None


def cv_logits(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(n, 3) patient-grouped 5-fold out-of-fold signature logits of x (n, 3, F): each fold's signature
    (the code of `dlrs train`) fitted on its cases' drawn outlines, scored on every outline."""
    from sklearn.model_selection import GroupKFold  # lazy: the [train] extra

    oof = np.zeros((len(y), 3))
    for fit, hold in GroupKFold(5).split(x, y, groups):
        model = fit_signature_model(x[fit][:, 0], y[fit])
        for k in range(3):
            oof[hold, k] = model.decision_function(x[hold][:, k])
    return oof


def _cv(x, y, groups, label: str) -> None:  # type: ignore[no-untyped-def]
    """Out-of-fold logits on the drawn and moved outlines (`cv_logits`); one printed line."""
    oof = cv_logits(x, y, groups)
    sd = oof[:, 0].std()
    moves = [np.abs(oof[:, k] - oof[:, 0]) / sd for k in (1, 2)]
    spread = "   ".join(f"{np.median(m):.3f} {np.percentile(m, 90):.3f}" for m in moves)
    print(f"  {label:<40}{x.shape[2]:>5}{auc(y, oof[:, 0]):>8.3f}   {spread}")


def case_rows(one, jobs: list, cache: Path | None, chunksize: int) -> tuple[np.ndarray, list]:  # type: ignore[type-arg]
    """`one(job)` → (case id, rows or None) over the jobs on 2 processes: the stacked rows of the cases
    that have them and their ids, read from `cache` when it exists (written there otherwise)."""
    if cache and cache.is_file():
        got = np.load(cache)
        return got["x"], list(got["ids"])
    with Pool(2) as pool:
        done = pool.map(one, jobs, chunksize=chunksize)
    ids = [i for i, r in done if r is not None]
    x = np.stack([r for _, r in done if r is not None])
    if cache:
        np.savez(cache, x=x, ids=np.array(ids))
    return x, ids


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="bundle whose preprocessing and regions are used")
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--core-mm", type=float, default=1.5)
    ap.add_argument("--limit", type=int, default=0, help="first N train cases (0 = all)")
    ap.add_argument("--cache", type=Path, help="npz keeping every case's numbers (a rerun reads it)")
    ap.add_argument(
        "--signature-of", help="bundle whose primary signature's ±1 mm change is split by feature"
    )
    args = ap.parse_args(argv)
    print(machine_line())
    warnings.simplefilter("ignore", FutureWarning)
    bundle = load_bundle(args.model)
    spec, regions = bundle.spec, bundle.spec.region_names
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split == "train"]
    cases = cases[: args.limit] if args.limit else cases
    x, ids = case_rows(_one, [(c, spec, regions, args.core_mm) for c in cases], args.cache, chunksize=16)
    by_id = {c.case_id: c for c in cases}
    y = np.array([by_id[i].label for i in ids])
    groups = np.array([by_id[i].patient_id for i in ids])
    names = feature_names(regions)
    n = len(names)
    print(f"{args.cohort}: train split, {len(ids)} of {len(cases)} cases with all three outlines; "
          f"intratumoral features on the core eroded by {args.core_mm:g} mm; regions of "
          f"{args.model}")  # fmt: skip
    print(f"\n{'shape measure':<36}{'ICC(1,1) drawn, ±1 mm':>23}{'univariate AUC':>16}")
    icc = icc_1_1(x[:, :, n:])
    for j, name in enumerate(MEASURES):
        a = auc(y, x[:, 0, n + j])
        print(f"{name:<36}{icc[j]:>23.3f}{max(a, 1 - a):>16.3f}")
    print(
        f"\nsignatures, 5-fold CV within the train split{'features':>16}{'AUC':>8}   "
        "+1 mm: median p90   −1 mm: median p90 (|Δ logit| / SD)"
    )
    for ring in regions[1:]:
        cols = signature_columns(regions, (regions[0], ring))
        grey = cols[:-2]
        print(f"{regions[0]} + {ring}:")
        _cv(x[:, :, cols], y, groups, "outline ratios")
        _cv(x[:, :, grey], y, groups, "no shape measure")
        _cv(np.concatenate([x[:, :, grey], x[:, :, n + 4 : n + 6]], axis=2), y, groups, "concavity depths")
        for k, s in enumerate(SMOOTHING):
            depth = x[:, :, n + 6 + 2 * k : n + 8 + 2 * k]
            _cv(np.concatenate([x[:, :, grey], depth], axis=2), y, groups, f"concavity depths, {s}")
    if args.signature_of:
        _split_by_feature(load_bundle(args.signature_of), x[:, :, :n], names)
    return 0


def _split_by_feature(other, x: np.ndarray, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The primary signature's logit change at ±1 mm, split into its features (mean |Δ| over cases)."""
    primary = "radiomics_" + str(other.manifest["primary_model"]).removeprefix("fusion_")
    sig = next(s for s in other.radiomics.signatures if s.name == primary)
    if list(other.radiomics.features) != names:
        raise SystemExit("--signature-of: that bundle's signatures read other features")
    w = np.asarray(sig.coefficients) / np.asarray(sig.scale)
    part = x[:, :, list(sig.columns)] * w
    print(f"\n{other.manifest['id']} {other.manifest['version']} signature {sig.name}: mean |Δ contribution| "
          "at +1 / −1 mm (train split), its five largest")  # fmt: skip
    moved = [np.abs(part[:, k] - part[:, 0]).mean(axis=0) for k in (1, 2)]
    for j in np.argsort(-(moved[0] + moved[1]))[:5]:
        col = sig.columns[j]
        change = f"{moved[0][j]:.2f} / {moved[1][j]:.2f}"
        print(f"  {names[col]:<32} coefficient {sig.coefficients[j]:+.2f}   {change}")


if __name__ == "__main__":
    sys.exit(main())
