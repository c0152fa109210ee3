"""Bad cohorts stop with one clear message before any training starts (CLI exit code 2)."""

from __future__ import annotations

import json

import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import CohortError
from dlrs_desktop.training.cohort import read_cohort
from tests.training_factory import rewrite, tiny_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return tiny_cohort(tmp_path_factory.mktemp("cohort"), patients=20, seed=4, dicom=False)


def _train(csv_path, out, capsys):
    rc = main(["train", "--cohort", str(csv_path), "--out", str(out), "--epochs", "1", "--input-size", "32",
               "--mm-per-px", "1.6", "--folds", "2"])  # fmt: skip
    lines = capsys.readouterr().err.strip().splitlines()
    err = [ln for ln in lines if not ln.startswith("preparing ROI crops")]  # the progress bar
    return rc, err


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda rows: [{**r, "image": "images/missing.png"} if i == 2 else r for i, r in enumerate(rows)],
            "image file 'images/missing.png' not found",
        ),
        (lambda rows: [{**r, "label": "2"} if i == 0 else r for i, r in enumerate(rows)], "must be 0 or 1"),
        (lambda rows: [{**r, "label": "1"} for r in rows], "holds only responders"),
        (
            lambda rows: [{**r, "split": "test"} if i == 1 else r for i, r in enumerate(rows)],
            "must be one of",
        ),
        (
            lambda rows: [{k: v for k, v in r.items() if k != "split"} for r in rows],
            "lacks the column(s) split",
        ),
    ],
)
def test_bad_cohort_rows_are_refused_before_training(cohort, tmp_path, capsys, edit, expected):
    bad = rewrite(cohort, cohort.parent / f"bad_{tmp_path.name}.csv", edit)
    with pytest.raises(CohortError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_cohort(bad)
    rc, err = _train(bad, tmp_path / "model", capsys)
    assert rc == 2 and len(err) == 1 and expected in err[0]
    assert not (tmp_path / "model").exists() and not (tmp_path / "model.checkpoint").exists()


def test_contour_that_does_not_fit_its_image_is_refused(cohort, tmp_path, capsys):
    src = json.loads((cohort.parent / "contours" / "P0003.contour.json").read_text())
    src["points"] = [[x + 5000, y] for x, y in src["points"]]
    (cohort.parent / "contours" / "far.contour.json").write_text(json.dumps(src))

    def edit(rows):
        return [{**r, "contour": "contours/far.contour.json"} if r["case_id"] == "P0003" else r for r in rows]

    bad = rewrite(cohort, cohort.parent / "bad_far.csv", edit)
    rc, err = _train(bad, tmp_path / "model", capsys)
    assert rc == 2 and len(err) == 1
    assert "P0003" in err[0] and "does not fit its image" in err[0]
    assert not (tmp_path / "model").exists()


def test_uncalibrated_png_without_mm_per_px_is_refused(cohort, tmp_path, capsys):
    def edit(rows):
        return [{**r, "mm_per_px": ""} if i == 0 else r for i, r in enumerate(rows)]

    bad = rewrite(cohort, cohort.parent / "bad_nocal.csv", edit)
    rc, err = _train(bad, tmp_path / "model", capsys)
    assert rc == 2 and "P0001" in err[0] and "calibration" in err[0]
