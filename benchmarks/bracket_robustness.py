"""Would features measured on the outline moved 1 mm out and 1 mm in stop the ±1 mm push? (issue 25)

    python benchmarks/bracket_robustness.py --model DIR --cohort cohort-train.csv
        [--core-mm 1.5] [--shape concavity] [--cache FEATURES.npz]

Training data only: the cohort's **train split**; no internal or external case is read. Candidate 1.3
(docs/evaluation/real-bus/README.md, "Shape that a 1 mm move leaves alone") failed because a moved
outline loses the fine irregularity of the expert's tracing, so every ±1 mm move pushes the signature
to "benign": the drawn outline is a local extreme. A *bracketed* feature — the mean of the features of
the outline moved out and in by 1 mm, never of the drawn one — would see a drawn and a moved outline
alike (all four are smoothed by a move). Every train case's features (`case_features`, the bundle DIR's
regions, the given core and shape set) are computed on seven outlines: C, C±1 mm, C±2 mm and C moved
+1 then −1 mm and −1 then +1 mm, so the bracketed features of C, of C + 1 mm and of C − 1 mm exist.
Printed, for the signatures of the tumour with each ring (patient-grouped 5-fold cross-validation
within the train split, the code of `dlrs train`): plain, bracketed (C ± 1 mm) and bracketed with the
drawn outline (C, C ± 1 mm): the AUC, and at +1 / −1 mm the median |Δ logit| and the **mean signed**
Δ logit in units of its SD (the push). Then, for the plain signatures, the features that make the
mean push (coefficient × mean Δ, over the SD; fitted on the whole train split). Cases whose outline
cannot be moved 2 mm in are left out (printed). The machine is printed first.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line
from shape_robustness import case_rows, cv_logits

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.radiomics import (
    SHAPE_SETS,
    FeatureSettings,
    case_features,
    feature_names,
    signature_columns,
)
from dlrs_desktop.roi.rings import compute_rois
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.radiomics_fit import fit_signature_model

# the seven outlines, in this order: C, C+1, C-1, C+2, C-2, (C+1)-1, (C-1)+1
DRAWN, OUT1, IN1, OUT2, IN2, CLOSED, OPENED = range(7)
#: (as drawn, moved +1 mm, moved −1 mm): which outlines' features are averaged for each variant
VARIANTS = {
    "plain": ((DRAWN,), (OUT1,), (IN1,)),
    "bracketed ±1 mm": ((OUT1, IN1), (OUT2, CLOSED), (OPENED, IN2)),
    "bracketed, drawn too": ((DRAWN, OUT1, IN1), (OUT1, OUT2, CLOSED), (IN1, OPENED, IN2)),
}


def _one(job):  # type: ignore[no-untyped-def]
    """(case id, (7, features)) or (case id, None) when an outline cannot be moved or read."""
    case, spec, settings = job
    try:
        image, c = load_case(case)
        outlines = [c, c.offset(1.0), c.offset(-1.0), c.offset(2.0), c.offset(-2.0)]
        outlines += [outlines[OUT1].offset(-1.0), outlines[IN1].offset(1.0)]
        rows = []
        for o in outlines:
            rois = compute_rois(o, image, radii_mm=spec.ring_radii)
            pts = np.asarray(o.points)
            rows.append(case_features(image.gray, image.scan_mask, rois, pts, spec.region_names, settings))
        return case.case_id, np.stack(rows)
    except DlrsError:
        return case.case_id, None


def train_features(args: argparse.Namespace, spec) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # type: ignore[no-untyped-def]
    """(seven outlines' features (n, 7, F), labels, patient groups, train cases read) of the train split,
    from `args.cache` when it exists (the cases whose outlines all exist)."""
    settings = FeatureSettings(args.core_mm, args.shape)
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split == "train"]
    cases = cases[: args.limit] if getattr(args, "limit", 0) else cases
    x, ids = case_rows(_one, [(c, spec, settings) for c in cases], args.cache, chunksize=8)
    by_id = {c.case_id: c for c in cases}
    y = np.array([by_id[i].label for i in ids]).astype(int)
    return x, y, np.array([by_id[i].patient_id for i in ids]), len(cases)


def _variant(x: np.ndarray, which: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """(n, 3, F): the variant's features as drawn, moved +1 mm and moved −1 mm."""
    return np.stack([x[:, list(ids)].mean(axis=1) for ids in which], axis=1)


def _cv(v: np.ndarray, y: np.ndarray, groups: np.ndarray, label: str) -> None:
    """Out-of-fold logits (`cv_logits`); AUC, median |Δ| and mean Δ at ±1 mm over the SD."""
    oof = cv_logits(v, y, groups)
    sd = oof[:, 0].std()
    cells = []
    for k in (1, 2):
        d = (oof[:, k] - oof[:, 0]) / sd
        cells.append(f"{np.median(np.abs(d)):>7.3f} {d.mean():>+7.3f}")
    print(f"  {label:<24}{auc(y, oof[:, 0]):>7.3f}   " + "    ".join(cells))


def _push_by_feature(x: np.ndarray, y: np.ndarray, cols: list[int], names: list[str]) -> None:
    """The plain signature's mean signed change at ±1 mm split into its features (whole train split)."""
    model = fit_signature_model(x[:, DRAWN][:, cols], y)
    scaler, logistic = model[0], model[-1]
    w = logistic.coef_[0] / scaler.scale_
    sd = model.decision_function(x[:, DRAWN][:, cols]).std()
    for k, label in ((OUT1, "+1 mm"), (IN1, "−1 mm")):
        part = (x[:, k][:, cols] - x[:, DRAWN][:, cols]) * w / sd
        mean = part.mean(axis=0)
        top = np.argsort(-np.abs(mean))[:4]
        parts = ", ".join(f"{names[cols[j]]} {mean[j]:+.3f}" for j in top)
        print(f"    {label}: mean push {part.sum(axis=1).mean():+.3f} SD; largest: {parts}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="bundle whose regions are used")
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--core-mm", type=float, default=1.5)
    ap.add_argument("--shape", choices=sorted(SHAPE_SETS), default="concavity")
    ap.add_argument("--limit", type=int, default=0, help="first N train cases (0 = all)")
    ap.add_argument("--cache", type=Path, help="npz keeping every case's features (a rerun reads it)")
    args = ap.parse_args(argv)
    print(machine_line())
    warnings.simplefilter("ignore", FutureWarning)
    spec = load_bundle(args.model).spec
    x, y, groups, n_cases = train_features(args, spec)
    regions = list(spec.region_names)
    names = feature_names(regions, args.shape)
    print(f"{args.cohort}: train split, {len(y)} of {n_cases} cases whose outline moves 2 mm in; "
          f"core {args.core_mm:g} mm, shape {args.shape}; regions of {args.model}")  # fmt: skip
    head = "+1 mm: median|Δ| mean Δ   −1 mm: median|Δ| mean Δ (/SD)"
    print(f"\n{'signature, 5-fold CV':<26}{'AUC':>7}   {head}")
    for ring in regions[1:]:
        cols = signature_columns(regions, (regions[0], ring))
        print(f"{regions[0]} + {ring}:")
        for label, which in VARIANTS.items():
            _cv(_variant(x, which)[:, :, cols], y, groups, label)
    print("\nplain signatures' mean push at ±1 mm by feature (fitted on the whole train split):")
    for ring in regions[1:]:
        print(f"  {regions[0]} + {ring}:")
        _push_by_feature(x, y, signature_columns(regions, (regions[0], ring)), names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
