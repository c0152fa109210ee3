"""benchmarks/label_ceiling.py: the ceiling analysis behind issue 15's target, on a known label model."""

from __future__ import annotations

import csv
import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from dlrs_desktop.training.synth import COEFFICIENTS, INTERCEPT

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import label_ceiling  # noqa: E402


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """ground_truth.csv of 3000 cases drawn from `dlrs synth`'s documented label model (no images)."""
    root = tmp_path_factory.mktemp("ceiling")
    rng = np.random.default_rng(7)
    z = rng.standard_normal((3000, len(label_ceiling.LATENTS)))
    split = np.where(np.arange(3000) < 2000, "train", "external")
    centre = np.where(split == "train", 1, 2)
    coef = np.array([COEFFICIENTS[k] for k in label_ceiling.LATENTS])
    logit = z @ coef + np.array([INTERCEPT[c] for c in centre])
    p = 1 / (1 + np.exp(-logit))
    label = (rng.random(3000) < p).astype(int)
    with (root / "ground_truth.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        latents = [f"z_{k}" for k in label_ceiling.LATENTS]
        w.writerow(["case_id", "split", "label", "true_probability", *latents])
        for i in range(3000):
            w.writerow([f"P{i:04d}", split[i], label[i], f"{p[i]:.6f}", *(f"{v:.5f}" for v in z[i])])
    # A "network" that measures the intratumoral finding exactly and the halo with noise, nothing else.
    with (root / "predictions.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "split", "label", "logit_intratumoral", "logit_ring_3mm"])
        for i in range(3000):
            w.writerow([f"P{i:04d}", split[i], label[i], f"{z[i, 0]:.5f}", f"{-z[i, 2] + rng.normal():.5f}"])
    return root


def test_perfect_features_reach_the_ground_truth_and_noise_costs_monotonically(cohort):
    truth = label_ceiling.read_truth(cohort / "ground_truth.csv")
    ratios = [label_ceiling.ceiling(truth, s, draws=5)[1] for s in label_ceiling.NOISE_SD]
    assert ratios[0] > 0.98  # 2000 labels and the true latents: the ground truth, nearly
    assert all(a > b for a, b in itertools.pairwise(ratios))
    assert ratios[-1] < 0.9  # every finding measured with r = 0.71 cannot reach 0.9 x


def test_region_logits_are_matched_to_the_latents_they_measure(cohort):
    truth = label_ceiling.read_truth(cohort / "ground_truth.csv")
    names, r = label_ceiling.logit_latent_correlations(cohort / "predictions.csv", truth)
    assert names == ["intratumoral", "ring_3mm"]
    assert r[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert r[1, 2] == pytest.approx(-1 / math.sqrt(2), abs=0.05)  # -halo + unit noise
    assert np.abs(np.delete(r[0], 0)).max() < 0.1 and np.abs(np.delete(r[1], 2)).max() < 0.1
    # two of five findings measured: even a fusion fitted on the scored labels stays well below the truth
    best = label_ceiling.best_stacking_auc(cohort / "predictions.csv", truth)
    ext = truth["split"] == "external"
    assert 0.6 < best < 0.9 * roc_auc_score(truth["label"][ext], truth["p"][ext])


def test_command_line_prints_the_table(cohort, tmp_path):
    # a second cohort (same ids, other labels) must not be mixed into the first cohort's predictions
    rows = list(csv.reader((cohort / "ground_truth.csv").open()))
    labels = np.random.default_rng(1).permutation([r[2] for r in rows[1:]])
    shuffled = [rows[0], *([*r[:2], lab, *r[3:]] for r, lab in zip(rows[1:], labels, strict=True))]
    with (tmp_path / "ground_truth.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(shuffled)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "label_ceiling.py"), str(cohort), str(tmp_path),
         "--predictions", str(cohort / "predictions.csv")],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    assert "r=0.89" in out and "machine:" in out
    assert any(line.startswith("ring_3mm") for line in out.splitlines())
    truth = label_ceiling.read_truth(cohort / "ground_truth.csv")
    best = label_ceiling.best_stacking_auc(cohort / "predictions.csv", truth)
    assert f"itself: {best:.3f}" in out
