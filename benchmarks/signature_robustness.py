"""Would a radiomics signature of contour-robust features stop the ±1 mm class flips? (issue 25)

    python benchmarks/signature_robustness.py --model DIR --cohort cohort-train.csv [--icc 0.75 0.9]

Training data only: the cohort's train split fits, its internal split scores; no external case is read.
`contour_sensitivity_inputs.py` found that the primary fusion's radiomics signature makes most of the
class flips when the contour moves by 1 mm. Here every train and internal case's features
(`model.radiomics.case_features`, as `dlrs train` computes them) are taken on the drawn contour and on
it moved out and in by 1 mm, and each feature's robustness is its one-way intraclass correlation
ICC(1,1) over those three contours on the train split — the contour-perturbation test of radiomics
practice (Zwanenburg et al., Sci Rep 2019;9:614; ICC ≥ 0.75 "good", ≥ 0.9 "excellent" after Koo & Li,
2016). Besides the bundle's own signature, the primary row's signature is refitted (the code of `dlrs train`,
on the train cases that have all three contours) on all its features, on the robust ones only, and on
all features with each training case's three contours as three rows of the same label (augmentation,
as the networks get jittered contours in training); with `--core-mm`, the refits read the lesion's
core instead of the whole tumour (`FeatureSettings(core_mm=…)`, `dlrs train --radiomics-core-mm`).
Printed per signature: its features, internal AUC, the median |Δ logit| at ±1 mm in units of its
internal logit SD, and the class flips of the primary fusion at
±1 mm with the signature's contribution replaced by this signature's (its logit mapped linearly onto
the shipped signature's train-split mean and SD; an estimate: the stacking is not refitted). The
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
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.model.preprocess import prepare_inputs
from dlrs_desktop.model.radiomics import (
    FeatureSettings,
    case_features,
    feature_names,
    signature_columns,
    signature_name,
)
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.radiomics_fit import fit_signature_model
from dlrs_desktop.training.stacking import row_specs

OFFSETS_MM = (0.0, 1.0, -1.0)


def features_at_offsets(cases, spec, core_mm: float = 0.0) -> tuple[np.ndarray, list]:  # type: ignore[no-untyped-def]
    """(cases, 3, features) on the drawn contour and ±1 mm; the cases for which all three exist."""
    rows, kept = [], []
    for case in cases:
        image, contour = load_case(case)
        try:
            per = []
            for d in OFFSETS_MM:
                c = contour if d == 0 else contour.offset(d)
                _, info = prepare_inputs(image, c, spec)
                pts = np.asarray(info.contour.points)
                grey, scan, rois = image.gray, image.scan_mask, info.roiset
                per.append(case_features(grey, scan, rois, pts, spec.region_names, FeatureSettings(core_mm)))
        except DlrsError:
            continue  # a small lesion shrunk to nothing, a ring leaving the image: not comparable
        rows.append(np.stack(per))
        kept.append(case)
    return np.stack(rows), kept


def icc_1_1(x: np.ndarray) -> np.ndarray:
    """One-way random-effects ICC(1,1) per feature; x: (cases, raters, features)."""
    n, k, _ = x.shape
    grand = x.mean(axis=(0, 1))
    subject = x.mean(axis=1)
    msb = k * ((subject - grand) ** 2).sum(axis=0) / (n - 1)
    msw = ((x - subject[:, None, :]) ** 2).sum(axis=(0, 1)) / (n * (k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        icc = (msb - msw) / (msb + (k - 1) * msw)
    return np.where(np.isfinite(icc), icc, 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--icc", type=float, nargs="+", default=[0.75, 0.9])
    ap.add_argument("--limit", type=int, default=0, help="first N cases of each split (0 = all)")
    ap.add_argument("--cache", type=Path, help="npz keeping the features of every case (a rerun reads it)")
    ap.add_argument(
        "--core-mm",
        type=float,
        default=0.0,
        help="refit the signatures on intratumoral features of the lesion's core: the tumour "
        "region eroded by this many mm (0: off)",
    )
    ap.add_argument("--core-cache", type=Path, help="as --cache, for the core features")
    args = ap.parse_args(argv)
    print(machine_line())
    bundle = load_bundle(args.model)
    spec, m = bundle.spec, bundle.manifest
    names = feature_names(spec.region_names)
    primary = str(m["primary_model"])
    regions = next(r for key, _l, r, _k in row_specs(spec.region_names) if key == primary)
    cols = signature_columns(spec.region_names, regions)
    coefs = dict(zip(bundle.input_names, m["stacking"]["coefficients"], strict=True))
    sig_name = signature_name(primary)
    if not coefs.get(sig_name):
        raise SystemExit(f"{primary} stacks no radiomics signature: nothing to study")
    all_cases = read_cohort(args.cohort, require_train=False)
    splits = {}
    for split in ("train", "internal"):
        cases = [c for c in all_cases if c.split == split]
        splits[split] = cases[: args.limit] if args.limit else cases
    data = _features(splits, spec, args.cache, 0.0)
    (xtr, ctr), (xin, cin) = data["train"], data["internal"]
    ytr, yin = np.array([c.label for c in ctr]), np.array([c.label for c in cin])
    icc = icc_1_1(xtr[:, :, cols])
    print(f"{args.model} primary {primary}, signature {sig_name} ({len(cols)} features); "
          f"train {len(ctr)}, internal {len(cin)} cases with all three contours")  # fmt: skip
    print("ICC(1,1) over the drawn, +1 mm and −1 mm contours (train split):")
    for i, c in sorted(zip(icc, cols, strict=True)):
        print(f"  {names[c]:<44}{i:7.3f}")
    shipped = next(s for s in bundle.radiomics.signatures if s.name == sig_name)
    ref = shipped.logit(xtr[:, 0, :])
    variants = {"the bundle's own": list(cols), "all features, refitted": list(cols)}
    for t in args.icc:
        variants[f"ICC ≥ {t:g}"] = [c for c, i in zip(cols, icc, strict=True) if i >= t]
    variants["all features, ±1 mm rows added"] = list(cols)
    if args.core_mm:  # the refits read the lesion's core instead of the whole tumour region
        core = _features(splits, spec, args.core_cache, args.core_mm)
        if [c.case_id for c in core["internal"][1]] != [c.case_id for c in cin]:
            raise SystemExit("the core features' cases differ from the others'")
        xtr_fit, xin_fit = core["train"][0], core["internal"][0]
        icc = icc_1_1(xtr_fit[:, :, cols])
        print(f"tumour region eroded by {args.core_mm:g} mm for the refits; ICC(1,1) of its features:")
        for i, c in sorted(zip(icc, cols, strict=True)):
            print(f"  {names[c]:<44}{i:7.3f}")
        variants = {
            k.replace("all features", "core"): v for k, v in variants.items() if not k.startswith("ICC")
        }
        variants["the bundle's own"] = list(cols)
    else:
        xtr_fit, xin_fit = xtr, xin
    _report(variants, (ytr, xin, yin, ref, xtr_fit, xin_fit), args.model, sig_name, cin)
    return 0


def _features(splits, spec, cache: Path | None, core_mm: float) -> dict:  # type: ignore[no-untyped-def]
    """{split: ((cases, 3, features), cases kept)}, read from `cache` when it exists, else computed (and
    written there)."""
    if cache and cache.is_file():
        got = np.load(cache)
        out = {}
        for split, cases in splits.items():
            kept = set(got[f"{split}_ids"].tolist())
            out[split] = got[split], [c for c in cases if c.case_id in kept]
        return out
    out = {split: features_at_offsets(cases, spec, core_mm) for split, cases in splits.items()}
    if cache:
        np.savez(cache, **{k: v[0] for k, v in out.items()},
                 **{f"{k}_ids": np.array([c.case_id for c in v[1]]) for k, v in out.items()})  # fmt: skip
    return out


def _report(variants, arrays, model_dir, sig_name, cin) -> None:  # type: ignore[no-untyped-def]
    """One line per signature variant (see the module docstring)."""
    ytr, xin, yin, ref, xtr_fit, xin_fit = arrays
    pred = Predictor(model_dir, device="cpu")
    m = pred.bundle.manifest
    thr = float(m["threshold"])
    cut = np.log(thr / (1 - thr))
    coef = float(dict(zip(pred.bundle.input_names, m["stacking"]["coefficients"], strict=True))[sig_name])
    rest, shown, ok = [], [], []  # fused logit without the signature; the signature's logit; predicted
    for case in cin:
        image, contour = load_case(case)
        try:  # the application refuses some offset contours (e.g. colour in a ring): the case leaves
            parts = [pred.predict(image, contour if d == 0 else contour.offset(d), sensitivity=False)
                     for d in OFFSETS_MM]  # fmt: skip
        except DlrsError:
            ok.append(False)
            continue
        sigs = [next(s for s in p.signatures if s.name == sig_name) for p in parts]
        fused = [np.log(p.probability / (1 - p.probability)) for p in parts]
        rest.append([f - s.contribution for f, s in zip(fused, sigs, strict=True)])
        shown.append(sigs[0].logit)
        ok.append(True)
    rest = np.array(rest)
    xin, yin, xin_fit = xin[np.array(ok)], yin[np.array(ok)], xin_fit[np.array(ok)]
    print(f"\n{len(rest)} internal cases predicted on all three contours ({ok.count(False)} refused)")
    shipped = next(s for s in pred.bundle.radiomics.signatures if s.name == sig_name)
    print(f"the bundle's signature on these features against the application's (internal, drawn contour): "
          f"max |Δ logit| {np.max(np.abs(shipped.logit(xin[:, 0, :]) - np.array(shown))):.1e}")  # fmt: skip
    head = f"{'signature':<32}{'feat.':>5}{'internal AUC':>14}"
    print(f"\n{head}{'median |Δ|/SD ±1 mm':>22}{'fused flips +1 / −1 mm':>26}")
    for label, cols in variants.items():
        if not cols:
            print(f"{label:<32}{0:>5}  (no feature passes)")
            continue
        if label == "the bundle's own":
            logits = np.stack([shipped.logit(xin[:, k, :]) for k in range(3)], axis=1)
            _line(label, cols, yin, logits, rest + coef * logits, cut)
            continue
        if "rows added" in label:  # each training case's three contours, one label
            model = fit_signature_model(xtr_fit[:, :, cols].reshape(-1, len(cols)), np.repeat(ytr, 3))
        else:
            model = fit_signature_model(xtr_fit[:, 0, cols], ytr)
        tr_logit = model.decision_function(xtr_fit[:, 0, cols])
        a = ref.std() / max(tr_logit.std(), 1e-9)
        b = ref.mean() - a * tr_logit.mean()
        logits = np.stack([model.decision_function(xin_fit[:, k, cols]) for k in range(3)], axis=1)
        _line(label, cols, yin, logits, rest + coef * (a * logits + b), cut)


def _line(
    label: str, cols: list[int], y: np.ndarray, logits: np.ndarray, fused: np.ndarray, cut: float
) -> None:
    """One table line: features, internal AUC, movement in SDs, fused flips (+1 mm, −1 mm)."""
    sd = logits[:, 0].std()
    moves = [np.median(np.abs(logits[:, k] - logits[:, 0])) / sd for k in (1, 2)]
    flips = [np.mean((fused[:, k] >= cut) != (fused[:, 0] >= cut)) for k in (1, 2)]
    print(f"{label:<32}{len(cols):>5}{auc(y, logits[:, 0]):>14.3f}"
          f"{moves[0]:>11.3f} / {moves[1]:.3f}{flips[0]:>15.1%} / {flips[1]:.1%}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
