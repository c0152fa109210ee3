"""The distilled student (training/distil.py): its targets, its loss, the shipping rule, its checkpoint.

The end-to-end tests train a tiny cohort once without a student (as the code before `--distil`
did), then resume copies of that checkpoint: only the student is trained, and the tolerance decides
which network ships.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.training.distil import DISTIL_KEYS, Teacher, soft_targets
from tests.test_training_e2e import TINY
from tests.training_factory import tiny_cohort, tiny_config

#: TINY with the student: TINY itself says --distil off (the other e2e tests test the ensemble).
STUDENT = [a for a in TINY]
STUDENT[STUDENT.index("--distil") + 1] = "auto"


def _teacher(oof: np.ndarray, fold_rows: list[list[int]]) -> Teacher:
    info = {"members": ["final", "fold0", "fold1"],
            "member_logit_mean": [[9.0, 9.0], [1.0, -2.0], [-3.0, 0.5]],
            "member_logit_sd": [[9.0, 9.0], [2.0, 0.5], [4.0, 1.0]]}  # fmt: skip
    return Teacher(None, info, oof, fold_rows)


def test_soft_targets_are_each_folds_standardised_logits_platt_scaled_and_mixed_with_the_label():
    rng = np.random.default_rng(1)
    y = np.array([0, 1] * 10)
    oof = np.c_[y * 2.0 + rng.normal(0, 1, 20), -y * 1.0 + rng.normal(0, 1, 20)]
    rows = [[*range(0, 20, 2), 1, 3], [i for i in range(20) if i % 2 and i not in (1, 3)]]
    teacher = _teacher(oof, rows)
    soft, platt = soft_targets(teacher, y, 0.0)
    assert soft.shape == (20, 2) and np.all((soft > 0) & (soft < 1))
    # region 0: the probability rises with the *standardised* logit: (l − 1) / 2 in fold 0, (l + 3) / 4 in 1
    z0 = np.empty(20)
    z0[rows[0]] = (oof[rows[0], 0] - 1.0) / 2.0
    z0[rows[1]] = (oof[rows[1], 0] + 3.0) / 4.0
    assert platt[0][0] > 0 and np.array_equal(
        np.argsort(soft[:, 0], kind="stable"), np.argsort(z0, kind="stable")
    )
    np.testing.assert_allclose(soft[:, 0], 1 / (1 + np.exp(-(z0 * platt[0][0] + platt[0][1]))), atol=1e-5)
    # region 1 points against the label: its slope is held at 0 (as the stacking rows): the prevalence
    assert platt[1][0] == 0 and np.allclose(soft[:, 1], 0.5, atol=1e-3)
    hard, _ = soft_targets(teacher, y, 1.0)
    assert np.array_equal(hard, np.repeat(y[:, None], 2, axis=1).astype(float))
    half, _ = soft_targets(teacher, y, 0.5)
    np.testing.assert_allclose(half, 0.5 * hard + 0.5 * soft)


def test_label_targets_train_the_same_network_as_no_targets_and_soft_ones_another(tmp_path):
    """The student's loss is the stage's loss with the label replaced: labels as targets change nothing."""
    import torch

    from dlrs_desktop.training.pipeline import make_spec
    from dlrs_desktop.training.trainer import StageCheckpoint, StageData, TrainConfig, train_stage

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (8, 1, 4, 1, 32, 32)).astype(np.float16)
    y = np.array([0, 1] * 4)
    cfg = TrainConfig(input_size=32, mm_per_px=1.6, epochs=1, batch_size=4, seed=5)
    spec = make_spec(cfg)
    nets = {}
    for name, t in [("none", None), ("label", np.repeat(y[:, None], 4, 1).astype(float)),
                    ("soft", np.full((8, 4), 0.5))]:  # fmt: skip
        ck = StageCheckpoint(tmp_path / name, {})
        nets[name], _, _ = train_stage("student", cfg, spec, StageData(x, y, t_train=t), "cpu", ck,
                                       log=lambda m: None)  # fmt: skip
    w = {k: n.state_dict()["head.weight"] for k, n in nets.items()}
    torch.testing.assert_close(w["none"], w["label"])
    assert not torch.allclose(w["none"], w["soft"])


def test_distil_auto_needs_the_ensemble_and_its_numbers_are_checked(tmp_path, capfd):
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("case_id,image,contour,label,centre,split\n")
    out = ["train", "--cohort", str(cohort), "--out", str(tmp_path / "m")]
    for bad, option in [(["--ensemble", "final", "--distil", "auto"], "--distil auto"),
                        (["--distil-hard-weight", "1.5"], "--distil-hard-weight"),
                        (["--distil-tolerance", "nan"], "--distil-tolerance")]:  # fmt: skip
        assert main([*out, *bad]) == 2
        err = capfd.readouterr().err.strip()
        assert option in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    """A tiny bundle trained without a student; its checkpoint's configuration then loses the distil
    settings, as a checkpoint written before `--distil` existed (the 469-patient run's)."""
    root = tmp_path_factory.mktemp("distil")
    cohort = tiny_cohort(root / "cohort", patients=24, seed=3, dicom=False)
    assert main(["train", "--cohort", str(cohort), "--out", str(root / "ens"), *TINY]) == 0
    state_path = root / "ens.checkpoint" / "state.json"
    state = json.loads(state_path.read_text())
    assert set(state["completed"]) == {"fold0", "fold1", "final"}
    state["config"] = {k: v for k, v in state["config"].items() if k not in DISTIL_KEYS}
    state_path.write_text(json.dumps(state))
    return root, cohort


def _resume_copy(root: Path, source: str, name: str) -> Path:
    shutil.copytree(root / f"{source}.checkpoint", root / f"{name}.checkpoint")
    return root / name


def _conv_nodes(bundle: Path) -> int:
    import onnx

    return sum(n.op_type == "Conv" for n in onnx.load(str(bundle / "model.onnx")).graph.node)


@pytest.fixture(scope="module")
def kept(ensemble_run):
    """A copy of that checkpoint resumed with the student and a tolerance of -1 (it can never ship)."""
    from dlrs_desktop.training.pipeline import train_from_cohort
    from dlrs_desktop.training.recipe import TrainingRecipe

    root, cohort = ensemble_run
    cfg = tiny_config(distil="auto", distil_tolerance=-1.0)  # = STUDENT, never shipped
    log: list[str] = []
    recipe = TrainingRecipe(cohort, cfg, model_id="tiny", training_kind="synthetic")
    train_from_cohort(recipe, _resume_copy(root, "ens", "kept"), log=log.append)
    return root, cohort, log


def test_resuming_a_finished_checkpoint_trains_only_the_student_and_keeps_the_ensemble_below_the_rule(kept):
    root, _, log = kept
    assert any(m.startswith("resuming") for m in log) and any(m.startswith("[student] epoch 1:") for m in log)
    assert not [m for m in log if m.startswith(("[fold0] epoch", "[fold1] epoch", "[final] epoch"))]
    m = json.loads((root / "kept" / "manifest.json").read_text())
    d = m["training"]["distillation"]
    assert d["shipped"] == "ensemble" and d["tolerance"] == -1 and d["teacher"] == ["final", "fold0", "fold1"]
    assert 0 <= d["student_internal_auc"] <= 1 and 0 <= d["ensemble_internal_auc"] <= 1  # -1: never ships
    assert set(d["student_region_auc"]) == set(d["ensemble_region_auc"]) == {r["name"] for r in m["regions"]}
    assert m["architecture"]["members"] == 3
    assert m["training"]["ensemble"]["members"] == ["final", "fold0", "fold1"]
    assert m["training"]["config"]["distil"] == "auto" and m["training"]["config"]["distil_tolerance"] == -1
    ens = json.loads((root / "ens" / "manifest.json").read_text())
    assert m["files"]["backbone.safetensors"]["sha256"] == ens["files"]["backbone.safetensors"]["sha256"]
    card = (root / "kept" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"the student's internal AUC {d['student_internal_auc']:.3f}" in card
    assert "the ensemble ships" in card
    state = json.loads((root / "kept.checkpoint" / "state.json").read_text())
    assert set(state["completed"]) == {"fold0", "fold1", "final", "student"}


def test_a_student_within_the_tolerance_ships_alone_without_training_again(kept, capfd, tmp_path):
    root, cohort, _ = kept
    out = _resume_copy(root, "kept", "student")
    args = ["train", "--cohort", str(cohort), "--out", str(out), *STUDENT, "--distil-tolerance", "1"]
    assert main(args) == 0
    captured = capfd.readouterr()
    err = captured.err
    assert "resuming" in err and " epoch 1:" not in err  # the student of the checkpoint, not a new one
    assert "distillation: the student ships: internal AUC" in captured.out
    m = json.loads((out / "manifest.json").read_text())
    d = m["training"]["distillation"]
    before = json.loads((root / "kept" / "manifest.json").read_text())["training"]["distillation"]
    assert d["shipped"] == "student" and d["student_internal_auc"] == before["student_internal_auc"]
    assert "members" not in m["architecture"] and m["training"]["ensemble"]["members"] == ["student"]
    assert "distilled from the 3-network ensemble" in m["stacking_method"]
    # one ResNet-18 trunk instead of three: a third of the convolutions and of the graph's bytes
    assert _conv_nodes(out) * 3 == _conv_nodes(root / "ens") == 60
    assert (out / "model.onnx").stat().st_size < 0.4 * (root / "ens" / "model.onnx").stat().st_size
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(out), "--cohort", str(cohort), "--out", str(report)]) == 0
    html = (report / "report.html").read_text()
    assert "id=distillation" in html and "the student ships" in html
    assert f"{d['student_internal_auc']:.3f}" in html and f"{d['ensemble_internal_auc']:.3f}" in html
