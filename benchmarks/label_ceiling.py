"""How close to the ground truth can any model of a synthetic cohort get, and what does it miss?

    python benchmarks/label_ceiling.py COHORT_DIR [COHORT_DIR ...] [--predictions REPORT/predictions.csv]

A `dlrs synth` cohort's ground-truth AUC ranks cases by the label model's true probability, a
function of the hidden latents (ground_truth.csv). A model trained on the cohort meets two limits:
it learns from a few hundred noisy labels, and it sees the latents only through pixels. This
script measures both, with an L2 logistic regression fitted on the training split and scored on
the external split (the split issue 15's target is about):

* **perfect features**: fitted on the true latents themselves — only the finite, noisy labels
  limit it;
* **measured features**: the latents plus Gaussian noise of standard deviation s (a feature that
  correlates r = 1/sqrt(1 + s²) with its latent), averaged over 20 noise draws — how faithfully a
  model has to measure every finding to reach a given fraction of the ground truth.

With `--predictions` (a `dlrs evaluate` report of a model of the first cohort), it also prints
how each region logit of the network correlates with each latent on the external split (which
findings the network measures and which it misses), and the AUC of the best linear fusion of
those logits fitted on the external split itself (an optimistic bound for any stacking of them).
Not a product: context for `dlrs evaluate`'s numbers and for recipe work
(docs/evaluation/default-recipe-469/README.md).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line

from dlrs_desktop.training.synth import COEFFICIENTS

LATENTS = tuple(COEFFICIENTS)  # the generator's latents, in its label model's order (ground_truth.csv z_*)
NOISE_SD = (0.0, 0.3, 0.5, 0.7, 1.0)


def read_truth(path: Path) -> dict[str, np.ndarray]:
    """ground_truth.csv → latents Z (n, 6), labels, splits, true probabilities and case ids."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return {
        "case_id": np.array([r["case_id"] for r in rows]),
        "z": np.array([[float(r[f"z_{k}"]) for k in LATENTS] for r in rows]),
        "label": np.array([int(r["label"]) for r in rows]),
        "split": np.array([r["split"] for r in rows]),
        "p": np.array([float(r["true_probability"]) for r in rows]),
    }


def ceiling(
    truth: dict[str, np.ndarray], noise_sd: float, draws: int = 20, seed: int = 0
) -> tuple[float, float]:
    """(external AUC, × ground truth) of a logistic regression on latents measured with this noise."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    train, ext = truth["split"] == "train", truth["split"] == "external"
    y = truth["label"]
    gt = roc_auc_score(y[ext], truth["p"][ext])
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(draws if noise_sd > 0 else 1):
        z = truth["z"] + rng.normal(0.0, noise_sd, truth["z"].shape) if noise_sd > 0 else truth["z"]
        model = LogisticRegression(C=1.0, max_iter=2000).fit(z[train], y[train])
        aucs.append(roc_auc_score(y[ext], model.decision_function(z[ext])))
    auc = float(np.mean(aucs))
    return auc, auc / gt


def external_logits(predictions: Path, truth: dict[str, np.ndarray]):
    """Region names, region logits (n, R), latents (n, 6) and labels of the external split."""
    rows = [r for r in csv.DictReader(predictions.open(encoding="utf-8")) if r["split"] == "external"]
    names = [c for c in rows[0] if c.startswith("logit_")]
    index = {c: i for i, c in enumerate(truth["case_id"])}
    logits = np.array([[float(r[c]) for c in names] for r in rows])
    keep = [index[r["case_id"]] for r in rows]
    return [n.removeprefix("logit_") for n in names], logits, truth["z"][keep], truth["label"][keep]


def logit_latent_correlations(
    predictions: Path, truth: dict[str, np.ndarray]
) -> tuple[list[str], np.ndarray]:
    """Pearson r between each region logit of predictions.csv and each latent, external split."""
    names, logits, z, _ = external_logits(predictions, truth)
    return names, np.corrcoef(np.c_[logits, z].T)[: len(names), len(names) :]


def best_stacking_auc(predictions: Path, truth: dict[str, np.ndarray]) -> float:
    """AUC of a logistic regression on the region logits fitted on the external split itself.

    An optimistic bound (it sees the labels it is scored on) for any linear fusion of these logits:
    if it is below a target, no stacking fixes it; the region networks must measure more.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    _, logits, _, y = external_logits(predictions, truth)
    model = LogisticRegression(C=1e6, max_iter=5000).fit(logits, y)
    return float(roc_auc_score(y, model.decision_function(logits)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cohorts", type=Path, nargs="+", help="folders holding ground_truth.csv")
    ap.add_argument("--predictions", type=Path, help="predictions.csv of a model of the first cohort")
    args = ap.parse_args()
    print(machine_line())
    corr = [f"r={1 / np.sqrt(1 + s * s):.2f}" for s in NOISE_SD]
    print(
        "external AUC (x ground truth) of a logistic regression on the latents, fitted on the training split"
    )
    print(f"{'cohort':28s} {'GT':>6s} " + " ".join(f"{c:>14s}" for c in corr))
    from sklearn.metrics import roc_auc_score

    for folder in args.cohorts:
        truth = read_truth(folder / "ground_truth.csv")
        ext = truth["split"] == "external"
        gt = roc_auc_score(truth["label"][ext], truth["p"][ext])
        cells = [ceiling(truth, s) for s in NOISE_SD]
        print(f"{str(folder)[-28:]:28s} {gt:6.3f} " + " ".join(f"{a:6.3f} ({x:.3f}x)" for a, x in cells))
    if args.predictions:
        truth = read_truth(args.cohorts[0] / "ground_truth.csv")  # the predictions' own cohort
        names, r = logit_latent_correlations(args.predictions, truth)
        print(f"\nregion logit vs latent, Pearson r on the external split ({args.predictions})")
        width = max(14, *(len(n) for n in names))  # signature names ("radiomics_ring_10mm") are longer
        print(f"{'':{width}s} " + " ".join(f"{k:>12s}" for k in LATENTS))
        for name, row in zip(names, r, strict=True):
            print(f"{name:{width}s} " + " ".join(f"{v:12.2f}" for v in row))
        ext = truth["split"] == "external"
        best = best_stacking_auc(args.predictions, truth)
        gt = roc_auc_score(truth["label"][ext], truth["p"][ext])
        fitted = "best linear fusion of these logits, fitted on the external split itself"
        print(f"{fitted}: {best:.3f} ({best / gt:.3f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
