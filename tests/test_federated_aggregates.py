"""Federated aggregates (issue 32): what the server computes from the sites' sums equals the pooled trainer.

Real numbers, no mocks: the federated Newton fit against stacking.fit_nonnegative_logistic on the
pooled cases, pooled moments against np.mean/np.std, histogram AUC/Youden/metrics against metrics.py,
and a federated bundle that load_bundle, `dlrs model verify` and `dlrs predict` accept.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.training import metrics as M
from dlrs_desktop.training.federated import aggregates as ag
from dlrs_desktop.training.stacking import fit_nonnegative_logistic

REPO = Path(__file__).resolve().parents[1]


def _three_sites(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index sets of three sites of unequal size (a random split of n cases)."""
    cut = np.sort(rng.choice(np.arange(10, n - 10), 2, replace=False))
    return np.split(rng.permutation(n), cut)


def _logistic_data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Three region-logit-like inputs; the second points against the label given the first (held at 0)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    x[:, 1] += 0.6 * x[:, 0]  # collinear with the first, negative weight given it
    z = 1.3 * x[:, 0] - 0.9 * x[:, 1] + 0.4 * x[:, 2] - 0.4
    return x, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


@pytest.mark.parametrize(("seed", "c"), [(0, 1.0), (1, 0.1), (2, 10.0)])
def test_federated_fit_equals_the_pooled_non_negative_fit(seed, c):
    x, y = _logistic_data(seed)
    w0, b0 = fit_nonnegative_logistic(x, y, c)
    sites = _three_sites(len(y), np.random.default_rng(100 + seed))

    def terms(w, b):  # what the server gets back: the sum of the sites' replies
        return sum(ag.logistic_terms(x[i], y[i], w, b) for i in sites)

    start = float(np.log(y.mean() / (1 - y.mean())))
    w, b, calls = ag.fit_logistic_federated(terms, 3, c, start)
    assert w0[1] == 0.0 and w[1] == 0.0  # held at the bound in both
    np.testing.assert_allclose(w, w0, atol=1e-6)
    assert abs(b - b0) < 1e-6
    assert calls <= 30


def test_unconstrained_fit_reaches_a_zero_gradient_with_a_negative_weight():
    x, y = _logistic_data(5)
    sites = _three_sites(len(y), np.random.default_rng(5))

    def terms(w, b):
        return sum(ag.logistic_terms(x[i], y[i], w, b) for i in sites)

    w, b, calls = ag.fit_logistic_federated(terms, 3, 1.0, 0.0, nonneg=False)
    assert w[1] < -0.1 and calls <= 30
    pooled = ag.logistic_terms(x, y, w, b)
    grad = 1.0 * pooled[1:5] + np.r_[w, 0.0]
    assert np.max(np.abs(grad)) < 1e-7


def test_logistic_terms_are_the_pooled_loss_gradient_and_hessian():
    x, y = _logistic_data(7, 50)
    w, b = np.array([0.3, 0.0, 0.5]), -0.2
    t = ag.logistic_terms(x, y, w, b)
    assert t.shape == (ag.terms_size(3),) == (1 + 4 + 16,)
    z = x @ w + b
    assert t[0] == pytest.approx(np.sum(np.logaddexp(0, z) - y * z), rel=1e-12)
    eps = 1e-6  # the gradient is the loss's derivative, the Hessian the gradient's
    for j in range(4):
        d = np.zeros(4)
        d[j] = eps
        tp = ag.logistic_terms(x, y, w + d[:3], b + d[3])
        tm = ag.logistic_terms(x, y, w - d[:3], b - d[3])
        assert (tp[0] - tm[0]) / (2 * eps) == pytest.approx(t[1 + j], rel=1e-6, abs=1e-6)
        np.testing.assert_allclose((tp[1:5] - tm[1:5]) / (2 * eps), t[5:].reshape(4, 4)[j], atol=1e-5)
    assert not np.any(ag.logistic_terms(np.zeros((0, 3)), np.zeros(0), w, b))  # no cases: zeros


def test_moments_summed_over_sites_give_the_pooled_mean_and_sd():
    rng = np.random.default_rng(3)
    x = rng.normal([2.0, -1.0, 0.0, 5.0], [0.5, 3.0, 1.0, 1e-9], size=(300, 4))
    total = sum(ag.moments(x[i]) for i in _three_sites(300, rng))
    mean, sd = ag.mean_sd(total)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sd[:3], x.std(axis=0)[:3], rtol=1e-9)
    assert sd[3] == 1e-6  # floored as stacking.to_network_units floors it


def _scores(seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Three sites' realistic probabilities (AUC ≈ 0.78, site-shifted) and labels."""
    rng = np.random.default_rng(seed)
    ps, ys = [], []
    for i, n in enumerate((150, 90, 260)):
        y = (rng.random(n) < 0.4).astype(int)
        z = 1.1 * y + rng.normal(0, 1, n) - 0.5 + 0.2 * i
        ps.append(1 / (1 + np.exp(-z)))
        ys.append(y)
    return ps, ys


@pytest.mark.parametrize("seed", [0, 1, 6])
def test_histogram_auc_ci_youden_and_metrics_match_the_pooled_ones(seed):
    ps, ys = _scores(seed)
    h = sum(ag.score_histogram(p, y) for p, y in zip(ps, ys, strict=True))
    p, y = np.concatenate(ps), np.concatenate(ys)
    assert h.shape == (2, ag.N_BINS) and h.dtype == np.int64 and h.sum() == len(y)
    assert abs(ag.auc_from_histogram(h) - M.auc(y, p)) < 1e-3
    # DeLong on the bins is exactly metrics.auc_ci with every case's score replaced by its bin
    bins = np.searchsorted(ag.PROB_EDGES, p, side="right").astype(float)
    np.testing.assert_allclose(ag.auc_ci_from_histogram(h), M.auc_ci(y, bins), atol=1e-12)
    assert np.allclose(ag.auc_ci_from_histogram(h), M.auc_ci(y, p), atol=2e-3)

    t = ag.youden_from_histogram(h)
    assert t in ag.PROB_EDGES
    t0 = M.youden_threshold(y, p)
    pos, neg = int(y.sum()), int((1 - y).sum())

    def youden(thr):
        return ((p >= thr) & (y == 1)).sum() / pos + ((p < thr) & (y == 0)).sum() / neg - 1

    # the histogram's cut is an edge: it loses at most the negatives of the bin the exact cut falls in
    cut_bin = int(np.searchsorted(ag.PROB_EDGES, t0, side="right"))
    assert youden(t) >= youden(t0) - h[0, cut_bin] / neg - 1e-12

    want = M.binary_metrics(y, p, t).to_dict()  # at an edge the counts are exact
    got = ag.metrics_from_histogram(h, t)
    assert got.keys() == want.keys()
    for key in ("n", "accuracy", "sensitivity", "specificity", "ppv", "npv", "threshold"):
        assert got[key] == pytest.approx(want[key], abs=1e-12), key
    for key in ("auc", "auc_ci_low", "auc_ci_high"):
        assert got[key] == pytest.approx(want[key], abs=2e-3), key


def test_youden_is_exact_when_no_bin_is_cut():
    """Scores at bin centres (each bin one value): the same sensitivity and specificity as pooled."""
    rng = np.random.default_rng(11)
    centre = (ag.LOGIT_EDGES[:-1] + ag.LOGIT_EDGES[1:]) / 2
    y = (rng.random(400) < 0.35).astype(int)
    z = centre[np.clip(np.round((y * 1.0 + rng.normal(0, 1, 400) + 15) * 100), 0, 2999).astype(int)]
    p = 1 / (1 + np.exp(-z))
    h = ag.score_histogram(p, y)
    t, t0 = ag.youden_from_histogram(h), M.youden_threshold(y, p)
    a, b = M.binary_metrics(y, p, t), M.binary_metrics(y, p, t0)
    assert (a.sensitivity, a.specificity) == (b.sensitivity, b.specificity)
    assert ag.auc_from_histogram(h) == pytest.approx(M.auc(y, p), abs=1e-12)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert isinstance(exc.value, DlrsError) and msg and "\n" not in msg
    return msg


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: ag.moments(np.array([[1.0, np.nan]])), "NaN"),
        (lambda: ag.moments(np.ones(3)), "2-D"),
        (lambda: ag.mean_sd(np.ones((2, 3))), "shape (3, k)"),
        (lambda: ag.mean_sd(np.zeros((3, 2))), "counts"),
        (lambda: ag.logistic_terms(np.ones((3, 2)), np.array([0, 1, 2]), np.zeros(2), 0.0), "0 or 1"),
        (lambda: ag.logistic_terms(np.ones((3, 2)), np.array([0, 1, 1]), np.zeros(3), 0.0), "coefficients"),
        (lambda: ag.logistic_terms(np.ones((3, 2)), np.array([0, 1]), np.zeros(2), 0.0), "labels"),
        (lambda: ag.logistic_terms(np.ones((3, 2)), np.array([0, 1, 1]), np.zeros(2), np.inf), "finite"),
        (lambda: ag.fit_logistic_federated(lambda w, b: np.zeros(5), 2, 1.0, 0.0), "expected 13"),
        (lambda: ag.fit_logistic_federated(lambda w, b: np.full(13, np.nan), 2, 1.0, 0.0), "NaN"),
        (lambda: ag.fit_logistic_federated(lambda w, b: np.zeros(13), 2, -1.0, 0.0), "c must"),
        (lambda: ag.score_histogram(np.array([0.2, 1.5]), np.array([0, 1])), "[0, 1]"),
        (lambda: ag.score_histogram(np.array([0.2, np.nan]), np.array([0, 1])), "NaN"),
        (lambda: ag.auc_from_histogram(np.zeros((2, 10))), "shape"),
        (lambda: ag.auc_from_histogram(np.full((2, ag.N_BINS), 0.5)), "whole numbers"),
        (lambda: ag.youden_from_histogram(np.zeros((2, ag.N_BINS))), "both classes"),
        (lambda: ag.metrics_from_histogram(np.zeros((2, ag.N_BINS)), 1.5), "probability"),
    ],
)
def test_bad_inputs_are_refused_with_one_line(call, needle):
    with pytest.raises(DlrsError) as exc:
        call()
    assert needle in _one_line(exc)


# ---------------------------------------------------------------------------------------------------
# the federated bundle


@pytest.fixture(scope="module")
def federated_bundle(tmp_path_factory):
    from dlrs_desktop.training.federated.export import FederatedModel, write_federated_bundle
    from dlrs_desktop.training.pipeline import make_spec
    from dlrs_desktop.training.recipe import TrainingRecipe
    from dlrs_desktop.training.stacking import RowModel, row_specs
    from dlrs_desktop.training.trainer import config_dict, new_network
    from tests.training_factory import tiny_config

    cfg = tiny_config()
    spec = make_spec(cfg)
    net = new_network(cfg, spec).eval()
    names = spec.region_names
    rows = []
    for i, (key, label, regions, kind) in enumerate(row_specs(names)):
        coef = [0.8 if n in regions else 0.0 for n in names]
        rows.append(RowModel(key, label, regions, kind, tuple(coef), -0.1 * i, float(ag.PROB_EDGES[1450]),
                             0.7 if i else float("nan")))  # fmt: skip
    ps, ys = _scores(0)
    h = sum(ag.score_histogram(p, y) for p, y in zip(ps, ys, strict=True))
    metrics = [
        {"model": r.key, "split": "internal", **ag.metrics_from_histogram(h, r.threshold)} for r in rows
    ]
    model = FederatedModel(
        net=net, spec=spec, rows=rows, primary="fusion_all",
        guard={"rule": "test", "checked": True, "chosen": "fusion_all", "rejected": {}},
        warnings=[], reference={"reference_split": "internal", "mean": [0.0] * 4, "sd": [1.0] * 4, "n": 500},
        metrics=metrics,
        training_data={"kind": "synthetic", "description": "three test sites", "cohort_file": "(federated)",
                       "splits": {"train": {"n": 500, "responders": 200, "centres": ["a", "b", "c"]}},
                       "centres": ["a", "b", "c"]},
        federation={"sites": ["a", "b", "c"], "rounds": 2, "local_epochs": 1, "strategy": "FedAvg",
                    "shared": ["network parameters", "moments", "logistic terms", "score histograms"]},
        config=config_dict(cfg), seconds=1.0, device_used="cpu", final_history=[{"epoch": 1, "loss": 0.7}],
    )  # fmt: skip
    out = tmp_path_factory.mktemp("fed") / "bundle"
    recipe = TrainingRecipe(cohort_csv="(federated)", cfg=cfg, model_id="fed-test", training_kind="synthetic")
    logs: list[str] = []
    summary = write_federated_bundle(out, model, recipe, logs.append)
    return out, summary, logs


def test_federated_bundle_loads_verifies_and_predicts(federated_bundle, capsys):
    from dlrs_desktop.cli import main
    from dlrs_desktop.model.bundle import load_bundle

    out, summary, logs = federated_bundle
    bundle = load_bundle(out)
    m = bundle.manifest
    assert m["training"]["federation"]["sites"] == ["a", "b", "c"]
    assert m["onnx"]["parity_inputs"] == "random" and m["onnx"]["parity_max_abs_logit_diff"] < 1e-3
    assert any("federated across 3 site(s)" in s for s in m["limitations"])
    assert m["primary_model"] == "fusion_all" and m["stacking"]["coefficients"] == [0.8] * 4
    assert m["training"]["oof_auc"]["intratumoral"] is None  # NaN never reaches the JSON
    assert summary["parity"] == m["onnx"]["parity_max_abs_logit_diff"]
    assert "trained federated across 3 site(s)" in logs[-1]
    assert any("rounded to float16" in w for w in m["warnings"])  # a fresh net was not rounded before
    json.loads((out / "manifest.json").read_text())  # plain JSON (no NaN)

    capsys.readouterr()
    assert main(["model", "verify", str(out), "--allow-unsigned"]) == 0
    assert capsys.readouterr().out.startswith("OK: fed-test")
    sample = REPO / "resources" / "samples" / "demo.dcm"
    argv = ["predict", str(sample), "--no-sensitivity", "--allow-unsigned", "--device", "cpu", "--json"]
    assert main([*argv, "--model", str(out)]) == 0
    assert "probability" in capsys.readouterr().out
