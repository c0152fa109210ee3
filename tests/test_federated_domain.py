"""The domain guard of a federated bundle: fitted from the sites' sums, it matches the pooled fit."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from dlrs_desktop.model import domain as dm
from dlrs_desktop.training.cohort import read_cohort
from dlrs_desktop.training.federated.domain import add_federated_reference, ledoit_wolf_precision
from dlrs_desktop.training.federated.protocol import Expect, InProcessFederation, Request
from tests.federated_factory import abc_sites

DEMO = "resources/models/dlrs-demo"
NEG = 8  # dlrs synth patients behind the synthetic-likeness gate (the server draws them)
D = 15  # texture descriptor length (model/domain_texture.py)


@pytest.mark.parametrize(("n", "p", "heavy"), [(50, 8, False), (40, 1, False), (30, 12, True)])
def test_ledoit_wolf_from_sums_equals_scikit_learn(n, p, heavy):
    from sklearn.covariance import LedoitWolf

    rng = np.random.default_rng(n + p)
    s = rng.standard_t(2.5, (n, p)) if heavy else rng.standard_normal((n, p)) @ rng.standard_normal((p, p))
    want = LedoitWolf(assume_centered=True).fit(s).precision_
    got = ledoit_wolf_precision(s.T @ s, float(np.sum(np.sum(s * s, axis=1) ** 2)), n)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def cohort_and_sites(tmp_path_factory):
    from dlrs_desktop.training.federated.site import CohortSite

    root = tmp_path_factory.mktemp("fed-domain")
    cohort, paths = abc_sites(root, "sites", patients=60, seed=11)
    return root, cohort, [CohortSite(p, name) for name, p in paths.items()]


def _ask(sites, log, seen=None):
    """The coordinator's ask over in-process sites; `seen` collects (task, shape) of every reply array."""
    fed = InProcessFederation(sites, log=log)

    def ask(task, arrays=(), config=None, expect=None):
        replies = fed.ask(Request(task, tuple(arrays), dict(config or {})), expect or Expect(()))
        if seen is not None:
            seen.update((task, tuple(a.shape)) for r in replies for a in r.arrays)
        return replies

    return ask


def _manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def test_federated_reference_matches_the_pooled_fit(cohort_and_sites):
    from dlrs_desktop.model.predictor import Predictor
    from dlrs_desktop.training.domain_fit import add_reference, collect

    root, cohort, sites = cohort_and_sites
    pooled, fed = root / "pooled", root / "federated"
    for folder in (pooled, fed):
        shutil.copytree(DEMO, folder)
    add_reference(pooled, cohort, synthetic_negatives=NEG)
    log: list[str] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()
    assert add_federated_reference(_ask(sites, log.append, seen), fed, log.append, negatives=NEG) is not None
    assert any(line.startswith("domain reference from 3 sites") for line in log), log
    a, b = _manifest(pooled), _manifest(fed)
    ra, rb = a["domain_reference"], b["domain_reference"]
    assert (ra["n_train"], ra["n_internal"]) == (rb["n_train"], rb["n_internal"])
    assert rb["cohort"] == "federated: 3 site cohorts (never pooled)"
    # what came back: sums over cases and histograms only, no array with a row per case
    from dlrs_desktop.training.federated.domain import BINS

    r, kd, k = 4, 512, rb["components"]
    c = len(rb["checks"])
    allowed = {("domain_features", (r, kd)), ("domain_features", (r, kd, kd)), ("domain_scores", (r, k, k)),
               ("domain_scores", (r,)), ("domain_values", (3, c)), ("domain_values", (c, BINS + 2)),
               ("domain_values", (3, 1)), ("domain_values", (1, BINS + 2)),
               ("domain_texture", (D,)), ("domain_texture", (D, D)), ("domain_texture", (1,)),
               ("domain_texture", (1 + (D + 1) + (D + 1) ** 2,))}  # fmt: skip
    assert seen == allowed, seen ^ allowed
    # the features part is exact: the same distance for every case, whatever the components' signs
    pa, pb = Predictor(pooled, device="cpu"), Predictor(fed, device="cpu")
    obs = collect(pa, [c for c in read_cohort(cohort) if c.split in ("train", "internal")])
    da = np.array([pa.bundle.domain.feature_distances(x) for x in obs.pooled])
    db = np.array([pb.bundle.domain.feature_distances(x) for x in obs.pooled])
    np.testing.assert_allclose(db, da, rtol=2e-3)
    # texture: mean, scale and shrunk precision exact; the gate (Newton across sites) at sklearn's optimum
    ta, tb = ra["texture"], rb["texture"]
    for key in ("mean", "scale", "precision"):
        np.testing.assert_allclose(tb[key], ta[key], rtol=1e-7, atol=1e-9, err_msg=key)
    sa, sb = ta["synthetic"], tb["synthetic"]
    assert sb["n_negatives"] == sa["n_negatives"] and sb["negatives"] == sa["negatives"]
    np.testing.assert_allclose(np.r_[sb["coef"], sb["intercept"]], np.r_[sa["coef"], sa["intercept"]],
                               rtol=1e-3, atol=1e-3)  # fmt: skip
    # a site answers texture sums only to a well-formed request
    bad_requests = [
        ((), {"step": "median"}, "unknown texture step"),
        ((np.zeros(3),), {"step": "fourth"}, "needs arrays of shapes"),
        ((np.zeros(D), np.zeros(D)), {"step": "fourth"}, "scales must be positive"),
    ]
    for arrays, config, words in bad_requests:
        with pytest.raises(Exception, match=words):
            sites[0].handle(Request("domain_texture", arrays, config))
    # checks: the same names and kinds; centres and tails to a small part of their spread
    assert [c["name"] for c in rb["checks"]] == [c["name"] for c in ra["checks"]]
    for ca, cb in zip(ra["checks"], rb["checks"], strict=True):
        assert cb["kind"] == ca["kind"] and cb["informative"] == ca["informative"], ca["name"]
        assert abs(cb["median"] - ca["median"]) <= 0.02 * ca["scale"] + 1e-9, ca["name"]
        for key in ("scale", "scale_low"):
            assert cb[key] == pytest.approx(ca[key], rel=0.03, abs=1e-6), (ca["name"], key)
    for key in ("unusual_above", "outside_above"):
        assert rb[key] == pytest.approx(ra[key], rel=0.03), key
    # conformal: never below the pooled quantile (coverage kept), at most a bin above it
    qa, qb = a["conformal"]["qhat"], b["conformal"]["qhat"]
    assert qa <= qb <= qa + 2e-3
    # the federated bundle guards a prediction like any other
    case = read_cohort(cohort)[0]
    from dlrs_desktop.training.cohort import load_case

    image, contour = load_case(case)
    res = pb.predict(image, contour)
    assert res.domain.status in dm.STATUSES
    # the report's section from the sites' counts: dlrs evaluate's numbers on the pooled cases
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.training.domain_eval import guard_metrics
    from dlrs_desktop.training.federated.domain_report import federated_guard

    inner, observed = _ask(sites, log.append), []

    def ask(task, arrays=(), config=None, expect=None):
        replies = inner(task, arrays, config, expect)
        observed.extend(r.metrics["observed"] for r in replies if task == "domain_observe")
        return replies

    got = federated_guard(ask, fed, load_bundle(fed))
    assert observed == [0, 0, 0]  # the bundle with its reference: the fit's observations are reused
    want = guard_metrics(load_bundle(fed), read_cohort(cohort))
    assert set(got["splits"]) == set(want["splits"]) == {"train", "internal", "external"}
    for split, w in want["splits"].items():
        g = got["splits"][split]
        keys = ("n", "inside", "unusual", "outside", "flagged", "coverage", "either", "outside_synthetic")
        for key in keys:
            assert g[key] == pytest.approx(w[key]), (split, key)
        for key in ("auc_inside", "auc_flagged"):  # binned: a pair sharing a 0.01-logit bin counts ½
            assert (g[key] is None) == (w[key] is None), (split, key)
            if w[key] is not None:
                assert g[key] == pytest.approx(w[key], abs=0.02), (split, key)  # ~100 pairs here
    assert sorted(got["centres"]) == ["A", "B", "C"]
    assert sum(c["n"] for c in got["centres"].values()) == len(read_cohort(cohort))


def test_too_few_cases_write_no_reference(cohort_and_sites, tmp_path):
    _, _, sites = cohort_and_sites
    folder = tmp_path / "model"
    shutil.copytree(DEMO, folder)
    before = (folder / "manifest.json").read_bytes()
    log: list[str] = []
    assert add_federated_reference(_ask(sites[:1], log.append), folder, log.append) is None
    assert any(line.startswith("no domain reference: the sites hold") for line in log), log
    assert (folder / "manifest.json").read_bytes() == before

    def no_ask(*_args, **_kw):
        raise AssertionError("the bundle was sent to a federation known to be too small")

    assert add_federated_reference(no_ask, folder, log.append, counts=(40, 9)) is None
    assert log[-1].startswith("no domain reference: the sites hold 40 training and 9 internal")


def test_site_refuses_a_bundle_other_than_the_one_announced(cohort_and_sites):
    from pathlib import Path

    _, _, sites = cohort_and_sites
    manifest = json.loads(Path(DEMO, "manifest.json").read_text())
    names = ["manifest.json", *sorted(manifest["files"])]
    data = tuple(np.frombuffer(Path(DEMO, n).read_bytes(), np.uint8) for n in names)
    wrong = {"files": json.dumps(names), "manifest_sha256": "0" * 64}
    with pytest.raises(Exception, match="not the one announced"):
        sites[0].handle(Request("domain_observe", data, wrong))
    with pytest.raises(Exception, match="incomplete"):
        sites[0].handle(Request("domain_observe", data[:-1], {**wrong, "files": json.dumps(names[:-1])}))
    outside = {"files": json.dumps(["../manifest.json"]), "manifest_sha256": ""}
    with pytest.raises(Exception, match="plain file name"):
        sites[0].handle(Request("domain_observe", data[:1], outside))
    fresh = type(sites[1])(sites[1].csv, "fresh")
    with pytest.raises(Exception, match="'domain_observe' must come first"):
        fresh.handle(Request("domain_features"))


def test_a_site_lost_during_the_fit_stops_it_and_leaves_the_bundle(cohort_and_sites, tmp_path):
    from dlrs_desktop.errors import CohortError

    _, _, sites = cohort_and_sites
    folder = tmp_path / "model"
    shutil.copytree(DEMO, folder)
    before = (folder / "manifest.json").read_bytes()
    inner = _ask(sites, print)

    def ask(task, arrays=(), config=None, expect=None):
        replies = inner(task, arrays, config, expect)
        return replies[:-1] if task == "domain_scores" else replies  # the last site drops out here

    with pytest.raises(CohortError, match="dropped out during the fit"):
        add_federated_reference(ask, folder, print)
    assert (folder / "manifest.json").read_bytes() == before
