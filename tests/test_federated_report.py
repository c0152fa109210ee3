"""The federated evaluation report: `dlrs federated simulate` writes report.html, metrics.json and
table.csv computed from the sites' aggregates; they agree with `dlrs evaluate` on the pooled cohort."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from dlrs_desktop.cli import main
from tests.training_factory import tiny_cohort, tiny_config, tiny_federated_args

pytest.importorskip("torch")

TINY = tiny_federated_args()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """(federated metrics.json, pooled metrics.json, report folder, root) for one tiny simulation."""
    root = tmp_path_factory.mktemp("fedreport")
    cohort = tiny_cohort(root / "cohort", patients=36, seed=3, dicom=False)
    out, rep = root / "model", root / "fed-report"
    argv = ["federated", "simulate", "--cohort", str(cohort), "--out", str(out), "--sites", "3"]
    assert main([*argv, "--report", str(rep), *TINY]) == 0
    assert (
        main(["evaluate", "--model", str(out), "--cohort", str(cohort), "--out", str(root / "pooled")]) == 0
    )
    fed = json.loads((rep / "metrics.json").read_text(encoding="utf-8"))
    pooled = json.loads((root / "pooled" / "metrics.json").read_text(encoding="utf-8"))
    return fed, pooled, rep, root


def test_report_files_and_the_not_available_note(reports):
    fed, pooled, rep, _ = reports
    for name in ("report.html", "metrics.json", "table.csv"):
        assert (rep / name).is_file(), name
    assert not (rep / "predictions.csv").exists()
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert "id=federated" in html and "Not available in a federated report" in html
    assert "paired DeLong comparisons" in html
    # the tiny federation has too few internal cases for a domain reference: the section says so
    from dlrs_desktop.model.domain import NO_REFERENCE

    assert fed["domain_guard"] == {"available": False, "reason": NO_REFERENCE}
    assert "<h2>Domain guard</h2>" in html
    assert fed["federated"]["sites"] == 3
    assert fed["federated"]["computed_from"].startswith("aggregates")
    assert len(fed["federated"]["not_available"]) >= 4
    assert not any("domain" in x for x in fed["federated"]["not_available"])
    with open(rep / "table.csv", newline="") as fh:
        header = next(csv.reader(fh))
    with open(reports[3] / "pooled" / "table.csv", newline="") as fh:
        assert header == next(csv.reader(fh))  # the same schema as `dlrs evaluate`
    assert set(pooled["splits"]) == set(fed["splits"])


def _sites(root):
    from dlrs_desktop.training.federated.site import CohortSite

    cfg = tiny_config(radiomics=False, ensemble="final", distil="off", limit_batches=1)
    return [CohortSite(d / "cohort.csv", d.name, cfg) for d in sorted((root / "model.sites").iterdir())]


def _signatures(manifest, site):
    """The bundle's radiomics signatures as the server sends them (empty without)."""
    from dlrs_desktop.model.radiomics import Radiomics
    from dlrs_desktop.training.federated.site_radiomics import pack_signatures

    block = manifest.get("radiomics")
    return pack_signatures(Radiomics.from_dict(block, site.local.spec.region_names) if block else None)


def _bundle_weights(site, bundle):
    """The shipped network's tensors in state-dict order (what the server sent the sites)."""
    from safetensors.numpy import load_file

    from dlrs_desktop.training.trainer import new_network

    files = {**load_file(bundle / "backbone.safetensors"), **load_file(bundle / "heads.safetensors")}
    sd = new_network(site.local.cfg, site.local.spec).state_dict()
    return tuple(np.asarray(files[k] if k in files else v.numpy(), np.float32) for k, v in sd.items())


@pytest.fixture(scope="module")
def site_scores(reports):
    """split → (labels, {row: probabilities}) pooled from the sites' own stored scores (test only)."""
    from dlrs_desktop.training.federated.protocol import Request
    from dlrs_desktop.training.federated.site import SPLITS

    root = reports[3]
    manifest = json.loads((root / "model" / "manifest.json").read_text(encoding="utf-8"))
    rows = manifest["models"]
    arrays = (np.array([r["coefficients"] for r in rows]), np.array([r["intercept"] for r in rows]),
              np.array([r["threshold"] for r in rows]))  # fmt: skip
    sites = _sites(root)
    sig = _signatures(manifest, sites[0])
    for site in sites:
        site.handle(Request("report_sums", (*_bundle_weights(site, root / "model"), sig, *arrays)))
    out = {}
    for s in SPLITS:
        y = np.concatenate([x.local.data.y[x.local.data.subset(s)] for x in sites])
        p = np.concatenate([x.local.scores[s] for x in sites])
        out[s] = (y, {r["key"]: p[:, j] for j, r in enumerate(rows)})
    return out


def test_numbers_equal_the_pooled_evaluation(reports, site_scores):
    """Against `dlrs evaluate` (ONNX Runtime on the pooled cohort): counts exact, AUC within binning
    (2e-3, or half the share of case pairs that share a 0.01-logit bin: the tiny run's scores are
    bunched); float scores differ from the sites' PyTorch ones in the last float32 bits, hence 1e-6."""
    from dlrs_desktop.training.federated import aggregates as agg

    fed, pooled, _, _ = reports
    for s in pooled["split_order"]:
        assert fed["splits"][s]["n"] == pooled["splits"][s]["n"]
        assert fed["splits"][s]["n_positive"] == pooled["splits"][s]["n_positive"]
        for key, p in pooled["splits"][s]["rows"].items():
            f = fed["splits"][s]["rows"][key]
            assert set(f) == set(p)  # validation.ROW_KEYS
            assert f["counts"] == p["counts"], (s, key)
            for k in ("sensitivity", "specificity", "ppv", "npv", "accuracy", "net_benefit"):
                assert f[k] == pytest.approx(p[k], abs=1e-12)
            assert f["brier"] == pytest.approx(p["brier"], abs=1e-6)
            assert (f["auc"] is None) == (p["auc"] is None)
            if p["auc"] is not None:
                y, probs = site_scores[s]
                h = agg.score_histogram(probs[key], y)
                assert f["auc"] == pytest.approx(agg.auc_from_histogram(h), abs=1e-12)
                ties = 0.5 * float(h[0] @ h[1]) / (h[0].sum() * h[1].sum())
                assert f["auc"] == pytest.approx(p["auc"], abs=max(2e-3, ties + 1e-12))


def test_brier_and_calibration_equal_a_pooled_fit(reports, site_scores):
    """Against metrics.brier / calibration_stats (statsmodels) on the pooled probabilities the sites hold."""
    from dlrs_desktop.training.metrics import brier, calibration_stats

    fed = reports[0]
    checked = 0
    for s in fed["split_order"]:
        y, probs = site_scores[s]
        for key, p in probs.items():
            f = fed["splits"][s]["rows"][key]
            assert f["brier"] == pytest.approx(brier(y, p), abs=1e-9)
            if len(set(y.tolist())) < 2:
                continue
            ref = calibration_stats(y, p)
            assert f["observed_expected"] == pytest.approx(ref["observed_expected"], abs=1e-9)
            for k in ("calibration_intercept", "calibration_slope"):
                if ref[k] is None or abs(ref[k]) > 100:  # separated: no finite maximum
                    continue
                assert f[k] == pytest.approx(ref[k], abs=1e-4), (s, key, k)
                assert f[f"{k}_ci"] == pytest.approx(ref[f"{k}_ci"], abs=1e-4)
                checked += 1
    assert checked > 0


def test_calibration_matches_a_pooled_fit_on_the_sites_scores(reports):
    """The federated Newton fit against statsmodels on the very probabilities the sites hold."""
    from dlrs_desktop.training.federated import report_sums as rs
    from dlrs_desktop.training.federated.calibration import fit_calibration
    from dlrs_desktop.training.metrics import calibration_stats

    rng = np.random.default_rng(1)
    y = (rng.random(60) < 0.4).astype(float)
    p = 1 / (1 + np.exp(-(rng.normal(size=60) + 1.2 * y - 0.5)))
    parts = np.array_split(np.arange(60), 3)

    def terms(theta):
        return sum(rs.calibration_terms(p[i], y[i], theta[0, 0]) for i in parts)[None, None]

    cal = fit_calibration(terms, np.ones((1, 1), bool))
    pooled = calibration_stats(y, p)
    assert cal["ok"].all()
    assert cal["theta"][0, 0, 0, 0] == pytest.approx(pooled["calibration_slope"], abs=1e-6)
    assert cal["theta"][0, 0, 1, 1] == pytest.approx(pooled["calibration_intercept"], abs=1e-6)
    half = cal["z"] * cal["se"][0, 0, 0]
    lo, hi = pooled["calibration_slope_ci"]
    assert half == pytest.approx((hi - lo) / 2, rel=1e-5)


def test_report_tasks_reply_only_aggregate_shapes(reports):
    from dlrs_desktop.training.federated import report_sums as rs
    from dlrs_desktop.training.federated.protocol import Request
    from dlrs_desktop.training.federated.site import BadRequest, weights_of
    from dlrs_desktop.training.federated.site_radiomics import BadRadiomicsRequest
    from dlrs_desktop.training.trainer import new_network

    site = _sites(reports[3])[0]
    with pytest.raises(BadRequest):  # nothing stored yet
        site.handle(Request("calibration_terms", (np.zeros((3, 2, 2, 2)),)))
    weights = weights_of(new_network(site.local.cfg, site.local.spec))
    r = len(site.local.spec.regions)
    coef, icpt, thr = np.eye(r)[:2], np.zeros(2), np.full(2, 0.5)
    with pytest.raises(BadRequest):
        site.handle(Request("report_sums", (*weights, np.zeros(0), coef, icpt, np.full(2, 1.5))))
    with pytest.raises(BadRadiomicsRequest):  # signatures that do not fit the site's regions
        site.handle(Request("report_sums", (*weights, np.ones(3), coef, icpt, thr)))
    reply = site.handle(Request("report_sums", (*weights, np.zeros(0), coef, icpt, thr)))
    assert [a.shape for a in reply.arrays] == [(3, 2, rs.SUMS_SIZE)]
    n = len(site.cases)
    assert reply.n == n and reply.arrays[0][..., 0].sum() == 2 * n  # sums, not cases
    theta = np.zeros((3, 2, 2, 2))
    theta[..., 0] = 1.0
    reply = site.handle(Request("calibration_terms", (theta,)))
    assert [a.shape for a in reply.arrays] == [(3, 2, 2, rs.TERMS_SIZE)]
    assert set(type(v) for v in reply.metrics.values()) <= {int, float}
    with pytest.raises(BadRequest):
        site.handle(Request("calibration_terms", (np.full((3, 2, 2, 2), 1e7),)))
    assert math.isfinite(float(reply.arrays[0].sum()))
