"""Federated radiomics signatures (training/federated/radiomics.py + site_radiomics.py) against the
pooled scikit-learn fit on the same cases."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import radiomics as frad
from dlrs_desktop.training.federated import site_radiomics as srad

K = 3


def _sites(seed: int = 0, n_cols: int = 6):
    """Three sites of correlated features with site shifts; folds drawn per site."""
    rng = np.random.default_rng(seed)
    sites = []
    for s, n in enumerate((40, 55, 35)):
        x = rng.normal(size=(n, n_cols)) * rng.uniform(0.5, 3, n_cols) + rng.normal(0, 2, n_cols) + s
        y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(0, 2, n) > x[:, 0].mean()).astype(np.int64)
        folds = rng.permutation(np.arange(n) % K)
        sites.append((x, y, folds))
    return sites


def _ask(sites, log: list, regions=None):
    def ask(task, arrays, config, shape):
        total = None
        for x, y, folds in sites:
            if regions:
                x = x[:, srad.columns_of(regions, config["signature"])]
            if task == "radiomics_terms":
                a = srad.problem_terms(x, y, folds, K, arrays)
            elif task == "radiomics_hist":
                a = srad.problem_hist(x, y, folds, K, arrays)
            else:
                srad.oof_logits(x, folds, K, arrays)
                continue
            assert a.shape == shape  # only aggregates of the declared shape
            log.append(task)
            total = a if total is None else total + a
        return total

    return ask


def _pooled(x, y, c):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(x)
    lr = LogisticRegression(C=c, tol=1e-12, max_iter=100_000).fit(sc.transform(x), y)
    return sc, lr


@pytest.mark.parametrize("c", [0.01, 0.3, 10.0])
def test_fixed_c_signature_equals_pooled_sklearn(c):
    sites = _sites()
    moments = sum(srad.fold_moments(x, f, K) for x, _, f in sites)
    log: list = []
    fits, cs = frad.fit_signature(_ask(sites, log), "radiomics_all", moments, 6, c_fixed=c)
    assert cs == [c] * (K + 1) and set(log) == {"radiomics_terms"}
    for outer, (mean, scale, theta) in zip([-1, *range(K)], fits, strict=True):
        keep = [(x[f != outer], y[f != outer]) for x, y, f in sites]
        x, y = np.concatenate([a for a, _ in keep]), np.concatenate([b for _, b in keep])
        sc, lr = _pooled(x, y, c)
        np.testing.assert_allclose(mean, sc.mean_, atol=1e-8)
        np.testing.assert_allclose(scale, sc.scale_, rtol=1e-8)
        np.testing.assert_allclose(theta[:6], lr.coef_[0], atol=1e-5)
        assert abs(theta[6] - lr.intercept_[0]) < 1e-5


def test_c_chosen_by_cv_and_oof_stays_at_the_sites():
    sites = _sites(1)
    region_names = ("intratumoral", "ring_5mm", "ring_10mm")
    n_feat = 35
    rng = np.random.default_rng(2)
    sites = [(rng.normal(size=(len(y), n_feat)) + y[:, None] * 0.3, y, f) for _, y, f in sites]
    moments = sum(srad.fold_moments(x, f, K) for x, _, f in sites)
    log: list = []
    rad = frad.fit_federated_signatures(
        _ask(sites, log, region_names), region_names, moments, log=lambda s: None
    )
    assert rad.names == ("radiomics_ring_5mm", "radiomics_ring_10mm", "radiomics_all")
    assert "radiomics_hist" in log
    z = rad.logits(sites[0][0])
    assert z.shape == (len(sites[0][0]), 3) and np.all(np.isfinite(z))
    assert rad.to_dict()["signatures"][2]["features"] == rad.to_dict()["features"]


def test_site_refuses_bad_problems():
    x, y, f = _sites()[0]
    good = (np.array([[-1, 0]]), np.zeros((1, 6)), np.ones((1, 6)), np.zeros((1, 6)), np.zeros(1))
    assert srad.problem_hist(x, y, f, K, good).shape == (1, 2, agg.N_BINS)
    with pytest.raises(srad.BadRadiomicsRequest):
        srad.problem_terms(x, y, f, K, (np.array([[5, -1]]), *good[1:]))
    with pytest.raises(srad.BadRadiomicsRequest):
        srad.problem_terms(x, y, f, K, (good[0], good[1], -good[2], good[3], good[4]))


def test_cohort_site_answers_radiomics_tasks_with_aggregates_only():
    from types import SimpleNamespace

    from dlrs_desktop.training.federated.protocol import Expect, Request, check_reply
    from dlrs_desktop.training.federated.site import CohortSite, _Local
    from dlrs_desktop.training.trainer import TrainConfig

    regions = ("intratumoral", "ring_5mm", "ring_10mm")
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(20), np.ones(20)].astype(np.int64)
    data = SimpleNamespace(radiomics=rng.normal(size=(45, 35)), y=np.r_[y, np.zeros(5, np.int64)])
    site = object.__new__(CohortSite)
    site.name = "a"
    train, folds = np.arange(40), np.arange(40) % K
    cfg = TrainConfig(folds=K)
    site.local = _Local(cfg, SimpleNamespace(region_names=regions), data, train, folds, {})
    rep = check_reply(site.handle(Request("radiomics_moments")), Expect(((K, 3, 35),), metrics=("cases",)))
    assert rep.n == 40
    p, c = 2, 35
    arrays = (
        np.array([[-1, 0], [1, 2]], float),
        np.zeros((p, c)),
        np.ones((p, c)),
        np.zeros((p, c)),
        np.zeros(p),
    )
    cfgs = {"signature": "radiomics_all"}
    rep = site.handle(Request("radiomics_terms", arrays, cfgs))
    check_reply(rep, Expect(((p, agg.terms_size(c)),), metrics=("cases",)))
    rep = site.handle(Request("radiomics_hist", arrays, cfgs))
    check_reply(rep, Expect(((p, 2, agg.N_BINS),), metrics=("cases",)))
    refits = (np.array([[f, -1] for f in range(K)], float), np.zeros((K, c)), np.ones((K, c)))
    oof = (*refits, np.ones((K, c)), np.zeros(K))
    rep = check_reply(site.handle(Request("radiomics_oof", oof, cfgs)), Expect((), metrics=("cases",)))
    assert rep.arrays == () and site.local.signature_oof["radiomics_all"].shape == (40,)
    with pytest.raises(srad.BadRadiomicsRequest):
        site.handle(Request("radiomics_terms", arrays, {"signature": "radiomics_intratumoral"}))


SETTINGS_FLAGS = ["--radiomics-core-mm", "1.5", "--radiomics-shape", "concavity"]


@pytest.mark.parametrize("flags", [[], SETTINGS_FLAGS], ids=["default", "core-and-concavity"])
def test_simulate_with_radiomics_ships_signatures_that_predict(tmp_path, capsys, flags):
    """`dlrs federated simulate` (radiomics on by default, as `dlrs train`): the bundle holds the
    manifest's radiomics block, every fusion row stacks its signature, and it verifies and predicts.
    With `dlrs train`'s core and shape options the sites compute those features (the signatures'
    feature means are the pooled training cases' features computed with those settings) and the
    manifest carries them."""
    pytest.importorskip("torch")
    import csv
    import json
    import math

    from dlrs_desktop.cli import main
    from tests.training_factory import tiny_cohort, tiny_federated_args

    cohort = tiny_cohort(tmp_path / "cohort", patients=36, seed=3, dicom=False)
    out = tmp_path / "model"
    argv = ["federated", "simulate", "--cohort", str(cohort), "--out", str(out), "--sites", "3"]
    assert main([*argv, *tiny_federated_args(), *flags]) == 0
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    if flags:
        _check_settings_reached_the_sites(m, cohort, out)
    else:
        assert "intratumoral_core_mm" not in m["radiomics"] and "shape_features" not in m["radiomics"]
    names = [s["name"] for s in m["radiomics"]["signatures"]]
    fusion = [r for r in m["models"] if r["kind"] == "fusion"]
    assert names and len(names) == len(fusion) and "radiomics" in m["stacking_method"]
    n_inputs = len(m["models"][0]["coefficients"])
    assert all(len(r["coefficients"]) == n_inputs for r in m["models"]) and n_inputs > len(names)
    assert main(["model", "verify", str(out), "--allow-unsigned"]) == 0
    with open(cohort, newline="") as fh:
        case = next(csv.DictReader(fh))
    image, contour = cohort.parent / case["image"], cohort.parent / case["contour"]
    capsys.readouterr()
    argv = ["predict", str(image), "--contour", str(contour), "--spacing", case["mm_per_px"]]
    assert main([*argv, "--model", str(out), "--allow-unsigned", "--no-sensitivity", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)["probability"]
    assert math.isfinite(p) and 0 < p < 1


def _check_settings_reached_the_sites(m: dict, cohort, out) -> None:
    """The manifest names the settings, and the sites computed their features with them: the full fit's
    feature means equal the pooled training split's features computed here with those settings."""
    from dlrs_desktop.model import load_bundle
    from dlrs_desktop.model.radiomics import FeatureSettings, feature_names
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.dataset import prepare_cohort

    assert m["radiomics"]["intratumoral_core_mm"] == 1.5 and m["radiomics"]["shape_features"] == "concavity"
    assert m["training"]["config"]["radiomics_core_mm"] == 1.5
    bundle = load_bundle(out)
    settings = FeatureSettings(1.5, "concavity")
    assert bundle.radiomics.settings == settings
    names = feature_names(bundle.spec.region_names, "concavity")
    assert list(bundle.radiomics.features) == names
    data = prepare_cohort(read_cohort(cohort), bundle.spec, feature_settings=settings)
    x = data.radiomics[data.subset("train")]
    for sig in bundle.radiomics.signatures:
        np.testing.assert_allclose(sig.mean, x[:, list(sig.columns)].mean(axis=0), rtol=1e-6, atol=1e-9)
    plain = prepare_cohort(read_cohort(cohort), bundle.spec)  # the default settings give other features
    assert not np.allclose(plain.radiomics[data.subset("train")][:, -2:], x[:, -2:])


@pytest.mark.parametrize("value", ["20", "nan"])
def test_federated_refuses_a_radiomics_setting_no_bundle_can_hold_before_splitting(tmp_path, capsys, value):
    """As `dlrs train`: one line and exit 3 before any site's cohort is written or prepared; a site asked
    for such a setting by a server refuses it (BadRequest) instead of preparing its cases."""
    from dlrs_desktop.cli import main
    from dlrs_desktop.training.federated.site import BadRequest, _config_from
    from dlrs_desktop.training.trainer import TrainConfig
    from tests.training_factory import tiny_cohort, tiny_federated_args

    cohort = tiny_cohort(tmp_path / "cohort", patients=8, seed=3, dicom=False)
    out = tmp_path / "model"
    argv = ["federated", "simulate", "--cohort", str(cohort), "--out", str(out), "--sites", "2"]
    assert main([*argv, *tiny_federated_args(), "--radiomics-core-mm", value]) == 3
    err = capsys.readouterr().err
    assert "Radiomics settings need a core of 0–10 mm" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "model.sites").exists()
    with pytest.raises(BadRequest, match="Radiomics settings"):
        _config_from({"radiomics_core_mm": float(value)}, TrainConfig())
    with pytest.raises(BadRequest, match="radiomics_shape must be a str"):
        _config_from({"radiomics_shape": 3}, TrainConfig())
    assert _config_from({"radiomics_shape": "concavity"}, TrainConfig()).radiomics_shape == "concavity"
    with pytest.raises(BadRequest, match="jitter-offset-mm must be 0–5 mm"):
        _config_from({"jitter_offset_mm": 9.0}, TrainConfig())
    assert _config_from({"jitter_offset_mm": 1.5}, TrainConfig()).jitter_offset_mm == 1.5
