"""Tiny synthetic cohorts for training tests (real generator, real files)."""

from __future__ import annotations

import csv
from pathlib import Path


def tiny_cohort(root: Path, patients: int = 24, seed: int = 3, dicom: bool = True) -> Path:
    """A small cohort (half-size images); returns the cohort CSV path."""
    from dlrs_desktop.training.synth import generate_cohort

    generate_cohort(root, patients=patients, seed=seed, size_scale=0.5, dicom=dicom)
    return root / "cohort.csv"


def rewrite(csv_path: Path, out_path: Path, edit) -> Path:
    """Copy a cohort CSV applying `edit(rows) -> rows` (rows are dicts)."""
    with csv_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows = edit(rows)
    with out_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return out_path
