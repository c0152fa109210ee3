"""Honest labels: who is a demonstration model, a changelog entry shown once, the training cohort."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlrs_desktop.commands.train import _changelog
from dlrs_desktop.model.card import render_model_card
from dlrs_desktop.training.cohort import CohortCase
from dlrs_desktop.training.validation import is_training_cohort, split_cases_sha256


def _manifest(**extra):
    return {"id": "site-model", "version": "1.1.0", "training_data": {"kind": "synthetic"}, **extra}


def test_only_a_bundle_that_declares_itself_a_demo_is_called_one():
    assert "Demonstration model" not in render_model_card(_manifest())
    assert "SYNTHETIC" in render_model_card(_manifest())
    assert "Demonstration model" in render_model_card(_manifest(demo=True))
    assert "Demonstration model" in render_model_card(_manifest(id="dlrs-demo"))  # the bundled one
    assert "Demonstration model" not in render_model_card(_manifest(id="dlrs-demo", demo=False))


def test_a_changelog_entry_is_shown_once():
    assert _changelog(["1.0.0=first", "1.1.0: second", "third"], "1.2.0") == {
        "1.0.0": "first", "1.1.0": "second", "1.2.0": "third"}  # fmt: skip
    card = render_model_card(_manifest(changelog={"1.1.0": "1.1.0: 1000 synthetic patients"}))
    assert "- 1.1.0: 1000 synthetic patients" in card and "1.1.0: 1.1.0" not in card


def test_training_warnings_and_guard_decisions_reach_the_card():
    guard = {"rejected": {"fusion_all": "internal AUC 0.490 is not above chance (0.5)"}}
    card = render_model_card(_manifest(warnings=["ring_3mm: constrained"], primary_model_guard=guard))
    assert "## Warnings from training" in card and "ring_3mm: constrained" in card
    assert "`fusion_all`: internal AUC 0.490 is not above chance" in card


def test_the_training_cohort_is_recognised_by_checksum_or_by_its_split_sizes():
    parts = {"train": {"n": 10, "n_positive": 4}, "internal": {"n": 5, "n_positive": 2}}
    new = {"training_data": {"cohort_sha256": "ab" * 32}}
    assert is_training_cohort(new, "ab" * 32, parts) and not is_training_cohort(new, "cd" * 32, parts)
    splits = {"train": {"n": 10, "responders": 4}, "internal": {"n": 5, "responders": 2},
              "external": {"n": 0, "responders": 0}}  # fmt: skip
    old = {"training_data": {"splits": splits}}
    assert is_training_cohort(old, "", parts)
    assert not is_training_cohort(old, "", {**parts, "train": {"n": 10, "n_positive": 5}})
    # the cohort file written elsewhere (other image paths: another checksum) with an external split
    # added is still the training cohort: its internal figures are optimistic and the report says so
    moved = {"training_data": {"cohort_sha256": "ab" * 32, "splits": splits}}
    assert is_training_cohort(moved, "cd" * 32, {**parts, "external": {"n": 7, "n_positive": 3}})


def _cases(rows, folder="data"):
    return [CohortCase(case_id=cid, patient_id=cid, image=Path(folder) / f"{cid}.png", contour=Path("m.png"),
                       label=label, centre="A", split=split, mm_per_px=0.1, row=i + 1)
            for i, (cid, split, label) in enumerate(rows)]  # fmt: skip


def test_the_split_fingerprint_ignores_paths_and_an_added_external_split_but_not_a_relabelled_case():
    rows = [("a", "train", 1), ("b", "train", 0), ("c", "internal", 1), ("d", "internal", 0)]
    y = np.array([r[2] for r in rows])
    base = split_cases_sha256(_cases(rows), y)
    assert split_cases_sha256(_cases(rows, folder="../../elsewhere"), y) == base
    assert split_cases_sha256(_cases(rows[::-1]), y[::-1]) == base  # row order does not matter
    with_ext = [*rows, ("e", "external", 1)]
    assert split_cases_sha256(_cases(with_ext), np.r_[y, 1]) == base
    relabelled = [("a", "train", 0), *rows[1:]]
    assert split_cases_sha256(_cases(relabelled), np.array([0, 0, 1, 0])) != base
    moved = [("a", "internal", 1), *rows[1:]]
    assert split_cases_sha256(_cases(moved), y) != base
    manifest = {"training_data": {"split_cases_sha256": base, "cohort_sha256": "ab" * 32}}
    parts = {"train": {"n": 2, "n_positive": 1}, "internal": {"n": 2, "n_positive": 1}}
    assert is_training_cohort(manifest, "cd" * 32, parts, base)
    # same split sizes, other cases: the fingerprint decides, not the sizes
    other = split_cases_sha256(_cases([("x", "train", 1), *rows[1:]]), y)
    assert not is_training_cohort(manifest, "cd" * 32, parts, other)
