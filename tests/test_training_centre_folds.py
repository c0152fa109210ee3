"""`dlrs train --fold-by centre`: leave-one-centre-out stacking folds on a multi-centre training split."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import CohortError
from dlrs_desktop.training.cohort import read_cohort
from dlrs_desktop.training.pipeline import same_networks
from dlrs_desktop.training.trainer import TrainConfig, config_dict, group_folds
from tests.training_factory import rewrite, tiny_args, tiny_cohort


def _two_centres(rows):
    """Training patients alternate between centres A and B (internal and external rows unchanged)."""
    for i, r in enumerate(sorted((r for r in rows if r["split"] == "train"), key=lambda r: r["case_id"])):
        r["centre"] = "AB"[i % 2]
    return rows


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("centres")
    csv_path = tiny_cohort(root / "cohort", patients=24, seed=3)
    return rewrite(csv_path, csv_path.parent / "two_centres.csv", _two_centres)


def _train_cases(csv_path):
    cases = [c for c in read_cohort(csv_path) if c.split == "train"]
    return cases, np.array([c.label for c in cases])


def test_each_fold_is_exactly_one_centre(cohort):
    cases, y = _train_cases(cohort)
    folds = group_folds(cases, y, k=3, seed=0, by="centre")
    centres = np.array([c.centre for c in cases])
    assert sorted(set(folds)) == [0, 1]
    assert set(centres[folds == 0]) == {"A"} and set(centres[folds == 1]) == {"B"}
    patient = group_folds(cases, y, k=3, seed=0)  # the default is unchanged: patient folds mix centres
    assert any(len(set(centres[patient == f])) == 2 for f in set(patient))


def test_one_centre_or_a_centre_without_both_classes_is_refused(cohort):
    one = rewrite(cohort, cohort.parent / "one.csv", lambda rows: [dict(r, centre="A") for r in rows])
    cases, y = _train_cases(one)
    with pytest.raises(CohortError, match="needs 2 to 15 centres in the training split; it has 1"):
        group_folds(cases, y, k=2, seed=0, by="centre")
    cases, y = _train_cases(cohort)
    c = next(case for case in cases if case.centre == "A")
    lonely = rewrite(
        cohort, cohort.parent / "lonely.csv",
        lambda rows: [dict(r, centre="C") if r["case_id"] == c.case_id else r for r in rows],
    )  # fmt: skip
    cases, y = _train_cases(lonely)
    with pytest.raises(CohortError, match="centre C and the other centres each need cases of both classes"):
        group_folds(cases, y, k=2, seed=0, by="centre")
    with pytest.raises(CohortError, match="grouped by 'patient' or 'centre', not 'site'"):
        group_folds(cases, y, k=2, seed=0, by="site")


def test_a_checkpoint_from_before_the_option_is_one_with_patient_folds():
    old = config_dict(TrainConfig())
    del old["fold_by"]
    assert same_networks(old, config_dict(TrainConfig()))
    assert not same_networks(old, config_dict(TrainConfig(fold_by="centre")))


@pytest.fixture(scope="module")
def sets_cohort(tmp_path_factory):
    """Two training centres of 11 patients each and 22 internal ones (the external rows moved there):
    enough for a domain reference and a conformal quantile per centre that is not simply 1."""
    root = tmp_path_factory.mktemp("centre_sets")
    csv_path = tiny_cohort(root / "cohort", patients=44, seed=5)

    def edit(rows):
        return _two_centres([dict(r, split="internal") if r["split"] == "external" else r for r in rows])

    return rewrite(csv_path, csv_path.parent / "two_centres.csv", edit)


def test_dlrs_train_on_centre_folds_calibrates_the_sets_on_held_out_centres(sets_cohort, tmp_path, capsys):
    """`dlrs train --fold-by centre` widens the conformal quantile to each centre scored as a new hospital;
    `dlrs model centre-sets`, resuming from the same fold networks, writes the same quantiles; a later
    `dlrs model add-reference` keeps them and refuses another coverage."""
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.training.conformal_fit import CENTRE_SPLIT

    cohort, out = sets_cohort, tmp_path / "model"
    args = [*tiny_args(distil="off"), "--synthetic", "--id", "tiny-centres", "--fold-by", "centre"]
    assert main(["train", "--cohort", str(cohort), "--out", str(out), *args]) == 0
    assert "held out" in capsys.readouterr().err
    manifest = load_bundle(out).manifest
    assert "2 folds, one per training centre: leave-one-centre-out" in manifest["stacking_method"]
    assert manifest["training"]["config"]["fold_by"] == "centre"
    conf = manifest["conformal"]
    assert conf["split"] == CENTRE_SPLIT
    assert [c["centre"] for c in conf["by_centre"]] == ["A", "B"]
    assert sum(c["n"] for c in conf["by_centre"]) == manifest["training_data"]["splits"]["train"]["n"]
    assert all(0.0 < c["qhat"] < 1.0 for c in conf["by_centre"])  # enough cases for a real quantile
    assert conf["qhat"] == max(conf["qhat_internal"], *(c["qhat"] for c in conf["by_centre"]))

    assert main(["model", "centre-sets", "--model", str(out), "--cohort", str(cohort),
                 "--checkpoint", f"{out}.checkpoint"]) == 0  # fmt: skip
    assert "qhat" in capsys.readouterr().out
    again = load_bundle(out).manifest["conformal"]
    assert again["by_centre"] == conf["by_centre"] and again["qhat"] == conf["qhat"]

    assert (
        main(["model", "add-reference", "--model", str(out), "--cohort", str(cohort)]) == 0
    )  # same coverage
    kept = load_bundle(out).manifest["conformal"]
    assert kept["by_centre"] == conf["by_centre"] and kept["qhat"] >= kept["qhat_internal"]
    refit = ["model", "add-reference", "--model", str(out), "--cohort", str(cohort)]
    assert main([*refit, "--coverage", "0.8"]) == 2
    assert "refit them with `dlrs model centre-sets" in capsys.readouterr().err
