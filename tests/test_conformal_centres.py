"""Prediction sets widened to held-out centres (training/conformal_fit.py): the numbers, the stacking
algebra they rely on, and the manifest checks at load."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model import domain as dm
from dlrs_desktop.training.conformal_fit import (
    CENTRE_SPLIT,
    CentreScores,
    carried_over,
    fit_conformal,
    primary_row_in_z_units,
    scores_from_out_of_fold,
    with_centres,
)
from dlrs_desktop.training.stacking import RowModel, to_network_units

NAMES = ("benign", "malignant")


def _cases(rng, n: int, steepness: float, shift: float = 0.0, separation: float = 2.2):
    """Labels and probabilities: logits of a calibrated model (steepness 1) made steeper and less
    separating (over-confident and less accurate, as a model is on a hospital it never saw) and shifted."""
    y = rng.integers(0, 2, n)
    logit = rng.normal(0, 1.2, n) + separation * (y - 0.5)
    return 1.0 / (1.0 + np.exp(-(steepness * logit + shift))), y


def _coverage(p, y, block) -> float:
    sets = [dm.prediction_set(float(q), block, NAMES) for q in p]
    return float(np.mean([NAMES[t] in s for t, s in zip(y, sets, strict=True)]))


def test_held_out_centres_widen_the_sets_to_cover_a_new_hospital_that_drifts_like_them():
    """Internal cases are calibrated; each training centre, scored by networks that never saw it, is
    over-confident (as dlrs-bus-malignancy was on BrEaST, calibration slope 0.44). The internal quantile
    under-covers a new hospital that drifts the same way; the widened one covers it."""
    rng = np.random.default_rng(11)
    p_int, y_int = _cases(rng, 500, 1.0)
    internal = fit_conformal(p_int, y_int, 0.9, centre=0.5)
    pa, ya = _cases(rng, 400, 2.5, 0.4, separation=1.4)
    pb, yb = _cases(rng, 300, 2.2, -0.5, separation=1.3)
    scores = CentreScores(np.r_[pa, pb], np.r_[ya, yb], np.array(["A"] * 400 + ["B"] * 300))
    block = with_centres(internal, scores)
    assert block["split"] == CENTRE_SPLIT and block["qhat_internal"] == internal["qhat"]
    assert [(c["centre"], c["n"]) for c in block["by_centre"]] == [("A", 400), ("B", 300)]
    assert block["qhat"] == max(internal["qhat"], *(c["qhat"] for c in block["by_centre"])) > internal["qhat"]
    p_new, y_new = _cases(rng, 2000, 2.4, separation=1.35)
    assert _coverage(p_new, y_new, internal) < 0.85
    assert _coverage(p_new, y_new, block) >= 0.88
    dm.parse_conformal({"conformal": block})  # what the bundle stores loads


def test_a_centre_with_too_few_cases_makes_every_set_either():
    rng = np.random.default_rng(2)
    p, y = _cases(rng, 300, 1.0)
    internal = fit_conformal(p, y, 0.9)
    pa, ya = _cases(rng, 5, 1.0)
    block = with_centres(
        internal, CentreScores(np.r_[p[:100], pa], np.r_[y[:100], ya], np.array(["A"] * 100 + ["B"] * 5))
    )
    assert block["by_centre"][1]["qhat"] == 1.0 and block["qhat"] == 1.0
    assert dm.prediction_set(0.99, block, NAMES) == ("malignant", "benign")


def test_the_primary_row_is_read_back_in_the_units_the_stacking_was_fitted_in():
    """The bundle stores the meta-learner in the shipped network's logits; the held-out folds' logits are
    z-scored per fold. Converting back must give the same probability as the stacking fitted in z units."""
    rng = np.random.default_rng(4)
    ref_logits = rng.normal([0.5, -1.0, 2.0], [1.5, 2.0, 3.0], (200, 3))
    row_z = RowModel("fusion_all", "all", ("a", "b"), "fusion", (0.8, 0.3, 1.1), -0.2, 0.4, 0.9)
    (row_net,), std = to_network_units([row_z], ref_logits)
    manifest = {"primary_model": "fusion_all", "models": [row_net.to_dict()],
                "training": {"logit_standardisation": std}}  # fmt: skip
    coef, intercept = primary_row_in_z_units(manifest)
    assert np.allclose(coef, row_z.coefficients) and intercept == pytest.approx(row_z.intercept)

    oof = rng.normal(0, 2, (60, 3)) + np.array([3.0, 0.0, -1.0])
    folds = [list(range(0, 25)), list(range(25, 60))]
    y, centres = rng.integers(0, 2, 60), np.array(["A"] * 25 + ["B"] * 35)
    scores = scores_from_out_of_fold(oof, folds, y, centres, manifest)
    z = np.vstack([(oof[f] - oof[f].mean(0)) / oof[f].std(0) for f in folds])
    assert np.allclose(scores.p, row_z.predict(z))
    with pytest.raises(Exception, match="takes 3 inputs"):
        scores_from_out_of_fold(oof[:, :2], folds, y, centres, manifest)


def test_add_reference_keeps_the_held_out_quantiles_only_at_the_same_coverage():
    rng = np.random.default_rng(8)
    p, y = _cases(rng, 300, 1.0)
    first = with_centres(
        fit_conformal(p, y, 0.9), CentreScores(*_cases(rng, 200, 3.0), np.array(["A"] * 200))
    )
    refit = carried_over(fit_conformal(p[:250], y[:250], 0.9), first)
    assert refit["by_centre"] == first["by_centre"] and refit["qhat"] >= refit["qhat_internal"]
    with pytest.raises(Exception, match="refit them with `dlrs model centre-sets"):
        carried_over(fit_conformal(p, y, 0.8), first)
    assert carried_over(fit_conformal(p, y, 0.8), fit_conformal(p, y, 0.9))["coverage"] == 0.8


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda c: c.update(qhat=c["qhat_internal"] - 0.01), "conformal.qhat"),
        (lambda c: c["by_centre"][0].update(qhat=float("nan")), "conformal.by_centre.qhat"),
        (lambda c: c["by_centre"][0].update(n=0), "conformal.by_centre"),
        (lambda c: c["by_centre"][0].update(centre=""), "conformal.by_centre"),
        (lambda c: c.update(by_centre=[]), "conformal.by_centre"),
        (lambda c: c.pop("qhat_internal"), "conformal.qhat_internal"),
    ],
)
def test_a_tampered_held_out_block_is_refused_at_load(edit, field):
    rng = np.random.default_rng(3)
    p, y = _cases(rng, 200, 1.0)
    block = with_centres(
        fit_conformal(p, y, 0.9), CentreScores(*_cases(rng, 100, 2.0), np.array(["A"] * 100))
    )
    edit(block)
    with pytest.raises(ModelError, match=field.replace(".", r"\.")):
        dm.parse_conformal({"conformal": block})
