"""`dlrs train --jitter-offset-mm`: training outlines moved in or out, as another sonographer draws them."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.roi import Contour
from dlrs_desktop.training.dataset import _moved, prepare_cohort
from dlrs_desktop.training.pipeline import make_spec, same_networks
from dlrs_desktop.training.trainer import TrainConfig, config_dict
from tests.training_factory import tiny_args, tiny_cohort, tiny_config

MM_PER_PX = 0.1


def _circle(radius_mm: float) -> Contour:
    t = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    r = radius_mm / MM_PER_PX
    pts = np.c_[200 + r * np.cos(t), 200 + r * np.sin(t)]
    return Contour(pts, calibration=Calibration.manual(MM_PER_PX))


def _radius_mm(points: np.ndarray) -> float:
    return float(np.linalg.norm(points - points.mean(axis=0), axis=1).mean()) * MM_PER_PX


def test_an_outline_is_moved_in_and_out_by_up_to_the_offset():
    """Uniform over ±offset: both directions occur, none beyond it; 0 draws nothing (the stream is kept)."""
    rng = np.random.default_rng(0)
    moves = [_radius_mm(_moved(_circle(8.0), 1.5, rng)) - 8.0 for _ in range(60)]
    assert min(moves) < -0.75 and max(moves) > 0.75 and max(abs(m) for m in moves) <= 1.5 + 0.05
    rng, untouched = np.random.default_rng(1), np.random.default_rng(1)
    np.testing.assert_array_equal(_moved(_circle(8.0), 0.0, rng), _circle(8.0).points)
    assert rng.random() == untouched.random()


def test_an_outline_that_cannot_shrink_that_far_stays_as_drawn():
    tiny = _circle(0.4)
    rng = np.random.default_rng(3)
    for _ in range(20):
        out = _moved(tiny, 5.0, rng)
        assert _radius_mm(out) <= 0.4 + 5.0 + 0.05
    shrunk = [_moved(tiny, 5.0, np.random.default_rng(s)) for s in range(40)]
    assert any(np.array_equal(p, tiny.points) for p in shrunk)  # a draw below −0.4 mm: kept as drawn


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return tiny_cohort(tmp_path_factory.mktemp("offset") / "cohort", patients=24, seed=3, dicom=False)


def test_the_offset_changes_the_jittered_copies_only(cohort):
    """Variant 0 (as drawn) and the radiomics features are the same; the jittered copies differ; without
    the option the crops equal those of a recipe from before it."""
    from dlrs_desktop.training.cohort import read_cohort

    cases = read_cohort(cohort)
    spec = make_spec(tiny_config())
    before = prepare_cohort(cases, spec, jitter_variants=2, seed=0)
    same = prepare_cohort(cases, spec, jitter_variants=2, seed=0, jitter_offset_mm=0.0)
    moved = prepare_cohort(cases, spec, jitter_variants=2, seed=0, jitter_offset_mm=1.5)
    np.testing.assert_array_equal(before.x, same.x)
    np.testing.assert_array_equal(before.x[:, 0], moved.x[:, 0])
    np.testing.assert_array_equal(before.radiomics, moved.radiomics)
    train = before.subset("train")
    assert not np.array_equal(before.x[train, 1:], moved.x[train, 1:])


def test_a_checkpoint_from_before_the_option_resumes_as_no_offset():
    old = config_dict(TrainConfig())
    del old["jitter_offset_mm"]
    assert same_networks(old, config_dict(TrainConfig()))
    assert not same_networks(old, config_dict(TrainConfig(jitter_offset_mm=1.5)))


@pytest.mark.parametrize("value", ["9", "-1", "nan"])
def test_an_offset_out_of_range_is_refused_before_anything_is_prepared(cohort, tmp_path, capsys, value):
    out = tmp_path / "refused"
    argv = ["train", "--cohort", str(cohort), "--out", str(out), *tiny_args()]
    assert main([*argv, "--jitter-offset-mm", value]) == 2  # a bad option: CohortError, exit 2
    err = capsys.readouterr().err
    assert "--jitter-offset-mm must be 0–5 mm" in err and "preparing" not in err
    assert not out.exists() and not (tmp_path / "refused.checkpoint").exists()
