"""Could a texture check over the whole scan area tell non-breast ultrasound from breast scans?

    python benchmarks/domain_nonbreast_probe.py --cohort COHORT_TRAIN_CSV \
        --folder thyroid=DIR --folder fetal-head=DIR --folder lung=DIR [--train-sample 700]

A design probe for the domain guard (docs/DOMAIN_GUARD.md, "Real non-breast ultrasound"), run on the
cohort's **train and internal splits only** (an external split in the CSV is never read) and on folders
of real non-breast ultrasound. The shipped guard measures texture in the box around the lesion's
regions, so its numbers depend on the contour, and a non-breast image has no lesion contour (the OOD
benchmark places a circle); here every number is measured over the **whole scan area**, which no
contour changes. Per image: the guard's 15-number speckle descriptor (model/domain_texture.py) and five
grey-level statistics of the scan area.

Two candidate checks, each fitted on the train split of one or both training centres:
- one-class: Mahalanobis distance (Ledoit–Wolf) from the fitted centres' train images, "outside" above
  the 99.5th percentile of the same centres' internal images — printed: the share of each non-breast
  folder above it, and of each centre's internal images (the other centre's = a hospital the check
  never saw);
- discriminative: logistic regression (balanced) of the train images against all but one non-breast
  folder, boundary 0 — printed: the share of the left-out folder and of each centre's internal images
  on the non-breast side.

Nothing is written; counts are printed with the machine line.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402
from domain_guard_ood import folder_images  # noqa: E402


def whole_scan(image) -> np.ndarray:
    """The texture descriptor over the bounding box of the scan area, then grey mean, SD, p10/50/90."""
    from dlrs_desktop.model import domain_texture as dtx

    m = np.asarray(image.scan_mask, bool)
    ys, xs = np.nonzero(m)
    box = SimpleNamespace(bbox=(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    v = np.asarray(image.gray)[m].astype(np.float64)
    return np.r_[dtx.descriptor(image.gray, m, SimpleNamespace(all=[box])), v.mean(), v.std(),
                 np.percentile(v, [10, 50, 90])]  # fmt: skip


def collect(cohort: str, folders: list[tuple[str, Path]], train_sample: int) -> tuple[np.ndarray, np.ndarray]:
    """(group per image, descriptor rows): 'train:CENTRE', 'internal:CENTRE' or 'other:LABEL'."""
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.training.cohort import load_case, read_cohort

    cases = read_cohort(cohort, require_train=False)
    rng = random.Random(3)
    groups, rows = [], []
    for split in ("train", "internal"):
        chosen = [c for c in cases if c.split == split]
        if split == "train" and len(chosen) > train_sample:
            chosen = rng.sample(chosen, train_sample)
        for case in chosen:
            groups.append(f"{split}:{case.centre}")
            rows.append(whole_scan(load_case(case)[0]))
    for label, folder in folders:
        for f in folder_images(folder):
            groups.append(f"other:{label}")
            rows.append(whole_scan(load_image(f)))
    return np.array(groups), np.stack(rows)


def one_class(groups: np.ndarray, x: np.ndarray, centres: tuple[str, ...]) -> dict[str, float]:
    """Share above the fitted centres' internal 99.5th percentile of the one-class distance."""
    from sklearn.covariance import LedoitWolf

    fit = np.isin(groups, [f"train:{c}" for c in centres])
    z = (x - x[fit].mean(0)) / (x[fit].std(0) + 1e-9)
    precision = LedoitWolf().fit(z[fit]).precision_
    dist = np.sqrt(np.einsum("ij,jk,ik->i", z, precision, z) / z.shape[1])
    limit = np.percentile(dist[np.isin(groups, [f"internal:{c}" for c in centres])], 99.5)
    return {g.split(":", 1)[1]: float((dist[groups == g] > limit).mean()) for g in _shown(groups)}


def discriminative(groups: np.ndarray, x: np.ndarray, centres: tuple[str, ...], left_out: str) -> dict:
    """Share on the non-breast side of a classifier fitted without the `left_out` folder."""
    from sklearn.linear_model import LogisticRegression

    pos = np.isin(groups, [f"train:{c}" for c in centres])
    neg = np.char.startswith(groups, "other:") & (groups != f"other:{left_out}")
    z = (x - x[pos].mean(0)) / (x[pos].std(0) + 1e-9)
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(z[pos | neg], neg[pos | neg])
    side = clf.decision_function(z) > 0
    return {g.split(":", 1)[1]: float(side[groups == g].mean()) for g in _shown(groups)}


def _shown(groups: np.ndarray) -> list[str]:
    return sorted({g for g in groups if g.startswith(("internal:", "other:"))})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", required=True, help="cohort CSV; only its train and internal rows are read")
    ap.add_argument("--folder", action="append", required=True, metavar="LABEL=DIR")
    ap.add_argument("--train-sample", type=int, default=700)
    args = ap.parse_args()
    folders = [(s.partition("=")[0], Path(s.partition("=")[2])) for s in args.folder]
    print(machine_line())
    groups, x = collect(args.cohort, folders, args.train_sample)
    print("images:", ", ".join(f"{g} {int((groups == g).sum())}" for g in sorted(set(groups))))
    centres = sorted({g.split(":", 1)[1] for g in groups if g.startswith("train:")})
    fits = [tuple(centres)] + [(c,) for c in centres]
    print("\none-class whole-scan distance, 'outside' above the fitted centres' internal 99.5th percentile")
    print("(columns: share above it; internal:<centre> not fitted = a hospital the check never saw)")
    for texture_only in (True, False):
        cols = slice(0, 15) if texture_only else slice(None)
        for fit in fits:
            shares = one_class(groups, x[:, cols], fit)
            name = "texture" if texture_only else "texture+grey"
            print(
                f"  {name:12s} fitted on {'+'.join(fit):14s}",
                "  ".join(f"{k} {v:.3f}" for k, v in shares.items()),
            )
    print(
        "\ndiscriminative (train images against the other non-breast folders), share on the non-breast side"
    )
    for fit in fits:
        for label, _ in folders:
            shares = discriminative(groups, x[:, :15], fit, label)
            print(
                f"  fitted on {'+'.join(fit):14s} without {label:10s}",
                "  ".join(f"{k} {v:.3f}" for k, v in shares.items()),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
