"""A transparent reference model for the synthetic cohorts: what a few hundred cases allow from the pixels.

    python benchmarks/reference_features.py COHORT_CSV [--train-cohort CSV] [--c 0.1]

The synthetic cohorts' "ground-truth AUC" ranks cases by the label model's true probability,
computed from latent tissue features. An image model only sees those latents through the
rendered pixels (speckle, blur, a drawn contour), so the ground truth is a ceiling it cannot
reach. This script prints a yardstick beside it: a **reference feature model**: hand-made
radial features measured from the drawn contour (intratumoral mean/SD/percentiles; mean and SD
of the grey levels in distance bands from -6 to 10 mm round the outline — where `dlrs synth`
draws the halo, oedema and distortion; the angular spread of 10-degree sectors in the 0-3, 3-5
and 5-10 mm bands; a shape ratio), standardised, then an L2 logistic regression fitted on the
training split of `--train-cohort` (default: the cohort itself) and scored on every split of
COHORT_CSV. It is built with knowledge of where the generator puts its findings, so it shows
roughly what a few hundred training cases allow from these pixels.

It is not a product: it puts the fusion network's numbers (`dlrs evaluate`) in context.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line

EDGES_MM = (-6, -3, -1.5, 0, 1, 2, 3, 4, 5, 6, 8, 10)
SECTOR_BANDS_MM = ((0, 3), (3, 5), (5, 10))


def radial_features(case) -> list[float]:
    """Features of one case, measured at image resolution around the drawn contour."""
    from dlrs_desktop.training.cohort import load_case

    image, contour = load_case(case)
    gray = image.gray.astype(np.float32)
    pts = np.asarray(contour.points, dtype=np.float64)
    cal = image.calibration_for(pts) or contour.calibration
    mm = float(np.sqrt(cal.mm_per_px_x * cal.mm_per_px_y))
    pad = 12.0 / mm
    x0, y0 = (np.maximum(pts.min(0) - pad, 0)).astype(int)
    x1 = int(min(pts[:, 0].max() + pad, gray.shape[1]))
    y1 = int(min(pts[:, 1].max() + pad, gray.shape[0]))
    sub = gray[y0:y1, x0:x1]
    scan = np.asarray(image.scan_mask[y0:y1, x0:x1], dtype=bool)
    mask = np.zeros(sub.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(pts - [x0, y0] - 0.5).astype(np.int32)], 1)
    outside = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 5) * mm
    inside = cv2.distanceTransform(mask, cv2.DIST_L2, 5) * mm
    dist = np.where(mask > 0, -inside, outside)
    cy, cx = np.argwhere(mask > 0).mean(axis=0)
    yy, xx = np.mgrid[0 : sub.shape[0], 0 : sub.shape[1]]
    angle = np.arctan2(yy - cy, xx - cx)
    tumour = sub[(mask > 0) & scan]
    f = [tumour.mean(), tumour.std(), np.percentile(tumour, 10), np.percentile(tumour, 90)]
    for lo, hi in itertools.pairwise(EDGES_MM):
        band = sub[(dist >= lo) & (dist < hi) & scan]
        f += [band.mean(), band.std()] if band.size else [0.0, 0.0]
    for lo, hi in SECTOR_BANDS_MM:
        band = (dist >= lo) & (dist < hi) & scan
        sectors = []
        for t in np.linspace(-np.pi, np.pi, 36, endpoint=False):
            k = band & (angle >= t) & (angle < t + np.pi / 18)
            if k.any():
                sectors.append(sub[k].mean())
        f.append(float(np.std(sectors)) if sectors else 0.0)
    perimeter = cv2.arcLength(pts.astype(np.float32), True)
    area = max(cv2.contourArea(pts.astype(np.float32)), 1.0)
    f.append(perimeter**2 / area)
    return [float(v) for v in f]


def features(csv_path: Path):
    from dlrs_desktop.training.cohort import read_cohort

    cases = read_cohort(csv_path, require_train=False)
    x = np.array([radial_features(c) for c in cases])
    y = np.array([c.label for c in cases])
    splits = np.array([c.split for c in cases])
    return cases, x, y, splits


def ground_truth_auc(gt_path: Path, split: str) -> float | None:
    """AUC of the label model's true probability on one split (ground_truth.csv), if present."""
    from sklearn.metrics import roc_auc_score

    if not gt_path.is_file():
        return None
    rows = [r for r in csv.DictReader(gt_path.open(encoding="utf-8")) if r["split"] == split]
    y = [int(r["label"]) for r in rows]
    if len(set(y)) < 2:
        return None
    return float(roc_auc_score(y, [float(r["true_probability"]) for r in rows]))


def main() -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cohort", type=Path)
    ap.add_argument("--train-cohort", type=Path, help="fit on this cohort's training split instead")
    ap.add_argument("--c", type=float, default=0.1, help="inverse L2 strength of the logistic regression")
    args = ap.parse_args()
    print(machine_line())
    _, x, y, splits = features(args.cohort)
    if args.train_cohort:
        _, xt, yt, st = features(args.train_cohort)
    else:
        xt, yt, st = x, y, splits
    fit = st == "train"
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=5000))
    model.fit(xt[fit], yt[fit])
    print(
        f"reference feature model fitted on {int(fit.sum())} training cases of "
        f"{args.train_cohort or args.cohort}"
    )
    gt_path = args.cohort.parent / "ground_truth.csv"
    print(f"{'split':10s} {'n':>4s} {'GT AUC':>7s} {'ref AUC':>8s} {'ref/GT':>7s}")
    for split in ("train", "internal", "external"):
        k = splits == split
        if not k.any() or len(set(y[k].tolist())) < 2:
            continue
        ref = roc_auc_score(y[k], model.predict_proba(x[k])[:, 1])
        gt = ground_truth_auc(gt_path, split)
        in_sample = " (in-sample)" if split == "train" and not args.train_cohort else ""
        truth = f"{gt:7.3f} {ref:8.3f} {ref / gt:7.3f}" if gt else f"{'-':>7s} {ref:8.3f}"
        print(f"{split:10s} {int(k.sum()):4d} {truth}{in_sample}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
