"""Tiny synthetic cohorts for training tests (real generator, real files)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

#: The tiny training run of the end-to-end tests (seconds per stage), as TrainConfig fields.
TINY_FIELDS: dict[str, Any] = dict(
    epochs=1, input_size=32, mm_per_px=1.6, folds=2, batch_size=8, jitter_variants=1, seed=2, threads=1
)  # fmt: skip


def tiny_config(**changes: Any) -> Any:
    """`TrainConfig` of the tiny run, with `changes` (e.g. distil="auto")."""
    from dlrs_desktop.training.trainer import TrainConfig

    return TrainConfig(**{**TINY_FIELDS, **changes})


def tiny_args(**changes: Any) -> list[str]:
    """The same run as `dlrs train` options (`--input-size 32` ...)."""
    fields = {**TINY_FIELDS, **changes}
    return [a for k, v in fields.items() for a in (f"--{k.replace('_', '-')}", str(v))]


def tiny_federated_args(rounds: int = 1) -> list[str]:
    """The tiny run as `dlrs federated simulate|server` options (`--epochs` = local epochs per round)."""
    return [*tiny_args(), "--rounds", str(rounds), "--limit-batches", "1", "--synthetic"]


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
