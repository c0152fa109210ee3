"""Federated `dlrs train` in one process: simulate → bundle, resume, a poisoned site, the wire."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from dlrs_desktop.cli import main
from tests.training_factory import tiny_cohort, tiny_config, tiny_federated_args

pytest.importorskip("torch")

TINY = tiny_federated_args()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("fed")
    cohort = tiny_cohort(root / "cohort", patients=36, seed=3, dicom=False)
    out = root / "model"
    assert (
        main(["federated", "simulate", "--cohort", str(cohort), "--out", str(out), "--sites", "3", *TINY])
        == 0
    )
    return root, cohort, out


@pytest.fixture(scope="module")
def sites(simulated):
    """The three simulated sites, prepared once for the plan-level tests."""
    from dlrs_desktop.training.federated.site import CohortSite

    root, _, _out = simulated
    cfg = _cfg()
    return [CohortSite(p / "cohort.csv", p.name, cfg) for p in sorted((root / "model.sites").iterdir())]


def _cfg():
    return tiny_config(radiomics=True, ensemble="final", distil="off", limit_batches=1)


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_simulated_bundle_verifies_and_predicts(simulated, capsys):
    _root, cohort, out = simulated
    assert main(["model", "verify", str(out), "--allow-unsigned"]) == 0
    case = _read(cohort)[0]
    image, contour = cohort.parent / case["image"], cohort.parent / case["contour"]
    argv = [
        "predict",
        str(image),
        "--contour",
        str(contour),
        "--spacing",
        case["mm_per_px"],
        "--allow-unsigned",
        "--model",
        str(out),
        "--no-sensitivity",
        "--json",
    ]
    capsys.readouterr()
    assert main(argv) == 0
    assert 0 < json.loads(capsys.readouterr().out)["probability"] < 1


def test_manifest_records_the_federation_and_a_primary_row(simulated):
    _, _, out = simulated
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    fed = json.dumps(m)
    assert "site1" in fed and "FedAvg" in fed
    keys = [r["key"] for r in m["models"]]
    assert m["primary_model"] in keys
    aucs = [x["auc"] for x in m["metrics"] if x["model"] == m["primary_model"]]
    assert aucs and all(math.isfinite(a) for a in aucs)
    assert all(math.isfinite(r["oof_auc"]) for r in m["models"])


def test_each_site_holds_only_its_own_cases(simulated):
    root, cohort, _ = simulated
    all_ids = {r["case_id"] for r in _read(cohort)}
    seen: list[set[str]] = []
    for folder in sorted((root / "model.sites").iterdir()):
        rows = _read(folder / "cohort.csv")
        ids = {r["case_id"] for r in rows}
        assert ids and ids <= all_ids and any(r["split"] == "train" for r in rows)
        assert all(not s & ids for s in seen)  # disjoint
        seen.append(ids)
    assert set().union(*seen) == all_ids


@dataclass
class Recorder:
    """A Federation around InProcessFederation counting asks and keeping every reply's shapes."""

    inner: object
    asks: list[tuple[str, dict]] = field(default_factory=list)
    shapes: set[tuple[str, tuple[int, ...]]] = field(default_factory=set)
    metric_types: set[type] = field(default_factory=set)

    def ask(self, request, expect):
        self.asks.append((request.task, dict(request.config)))
        replies = self.inner.ask(request, expect)
        for r in replies:
            self.shapes.update((request.task, tuple(a.shape)) for a in r.arrays)
            self.metric_types.update(type(v) for v in r.metrics.values())
        return replies

    def close(self):
        return None


def _plan(**kw):
    from dlrs_desktop.training.federated.coordinator import FederatedPlan

    return FederatedPlan(rounds=1, local_epochs=1, **kw)


def _recipe(root):
    from dlrs_desktop.training.recipe import TrainingRecipe

    return TrainingRecipe(f"federated:{root}", _cfg(), model_id="fed-test", training_kind="synthetic")


def test_killed_plan_resumes_and_replies_carry_only_declared_shapes(simulated, sites, tmp_path):
    from dlrs_desktop.model.radiomics import feature_names, signature_columns
    from dlrs_desktop.training.federated import aggregates as agg
    from dlrs_desktop.training.federated import report_sums as rs
    from dlrs_desktop.training.federated.coordinator import run_federated
    from dlrs_desktop.training.federated.protocol import InProcessFederation
    from dlrs_desktop.training.stacking import row_specs

    log: list[str] = []

    def dying(msg):
        log.append(msg)
        if msg.startswith("[fold0] done"):
            raise KeyboardInterrupt

    first = Recorder(InProcessFederation(sites, log=log.append))
    with pytest.raises(KeyboardInterrupt):
        run_federated(first, _recipe(tmp_path), _plan(), tmp_path / "model", dying)
    assert ("train", "fold0") in {(t, c.get("stage")) for t, c in first.asks}
    second = Recorder(InProcessFederation(sites, log=log.append))
    run_federated(second, _recipe(tmp_path), _plan(), tmp_path / "model", log.append)
    assert any(line.startswith("resuming from") for line in log)
    assert (tmp_path / "model.report" / "report.html").is_file()
    assert {"report_sums", "calibration_terms"} <= {t for t, _ in second.asks}
    stages = [c.get("stage") for t, c in second.asks if t == "train"]
    assert "fold0" not in stages and "fold1" in stages and "final" in stages
    # (f) nothing per case: network tensors, histograms, moments and logistic terms only
    net = {tuple(a.shape) for a in _weights(sites[0])}
    r, k, s = 4, 2, 4  # regions, folds, radiomics signatures (one per fusion row)
    allowed = net | {(r, 2, agg.N_BINS), (2, agg.N_BINS), (k, 3, r + s), (3, r + s), (3, 8, 2, agg.N_BINS)}
    allowed |= {(agg.terms_size(n),) for n in (1, 2, 3, 5)}  # a row's inputs: regions + its signature
    allowed |= {(3, 8, rs.SUMS_SIZE), (3, 8, rs.CALIBRATION_FITS, rs.TERMS_SIZE)}  # the evaluation report
    shapes = first.shapes | second.shapes
    got = {shape for task, shape in shapes if not task.startswith("radiomics_")}
    assert got <= allowed, got - allowed
    # the signatures' sums: per-fold feature moments, per-problem logistic terms and histograms
    regions = sites[0].local.spec.region_names
    n_features = len(feature_names(regions))
    cols = {len(signature_columns(regions, x)) for _, _, x, kind in row_specs(regions) if kind == "fusion"}
    per_problem = {(agg.terms_size(c),) for c in cols} | {(2, agg.N_BINS)}
    for task, shape in shapes:
        if task.startswith("radiomics_"):
            assert shape == (k, 3, n_features) or shape[1:] in per_problem, (task, shape)
    assert {"radiomics_moments", "radiomics_oof"} <= {t for t, _ in second.asks}
    assert first.metric_types | second.metric_types <= {int, float}


def test_restarted_server_resends_the_signatures_oof_and_refits_nothing(sites, tmp_path):
    """Killed after the signatures' checkpoint: the sites (which keep no OOF logits across a restart)
    are asked to store them again from the checkpointed requests; no signature is refitted."""
    from dlrs_desktop.training.federated.coordinator import run_federated
    from dlrs_desktop.training.federated.protocol import InProcessFederation

    def dying(msg):
        if msg.startswith("radiomics signatures:"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_federated(InProcessFederation(sites), _recipe(tmp_path), _plan(), tmp_path / "model", dying)
    for site in sites:
        site.local.signature_oof.clear()  # a restarted site
    second = Recorder(InProcessFederation(sites))
    run_federated(second, _recipe(tmp_path), _plan(), tmp_path / "model", lambda _: None)
    tasks = [t for t, _ in second.asks]
    assert "radiomics_oof" in tasks and "radiomics_terms" not in tasks and "radiomics_moments" not in tasks
    m = json.loads((tmp_path / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert m["radiomics"]["signatures"]


def _weights(site):
    from dlrs_desktop.training.trainer import new_network

    return new_network(site.local.cfg, site.local.spec).state_dict().values()


@dataclass
class Poisoned:
    """A site whose training replies hold NaN weights (a broken or hostile peer)."""

    inner: object

    @property
    def name(self):
        return self.inner.name

    def handle(self, request):
        reply = self.inner.handle(request)
        if request.task == "train":
            reply = replace(reply, arrays=tuple(np.full_like(a, np.nan) for a in reply.arrays))
        return reply


def test_poisoned_site_is_rejected_and_the_others_finish(sites, tmp_path):
    from dlrs_desktop.training.federated.coordinator import run_federated
    from dlrs_desktop.training.federated.protocol import InProcessFederation

    log: list[str] = []
    fed = InProcessFederation([*sites[:2], Poisoned(sites[2])], min_sites=2, log=log.append)
    summary = run_federated(fed, _recipe(tmp_path), _plan(min_sites=2), tmp_path / "model", log.append)
    assert any("site3" in line and "rejected" in line and "NaN" in line for line in log)
    assert any(line.startswith("fold0 round 1/1: 2 sites") for line in log)
    assert (tmp_path / "model" / "manifest.json").is_file() and summary["primary_model"]


def test_site_refuses_unknown_and_malformed_requests(sites):
    from dlrs_desktop.training.federated.protocol import Request
    from dlrs_desktop.training.federated.site import BadRequest

    with pytest.raises(BadRequest):
        sites[0].handle(Request("send_images"))
    with pytest.raises(BadRequest):
        sites[0].handle(Request("train", (np.zeros(3, np.float32),), {"stage": "final"}))
    with pytest.raises(BadRequest):
        sites[0].handle(Request("evaluate", (np.array([np.nan]),)))


def test_fold_ensemble_members_are_standardised_from_the_sites_moments(sites, tmp_path):
    """--ensemble final+folds: the shipped network averages the final and fold networks, each member's
    logits z-scored with the mean and SD of the pooled internal cases (from the sites' moments)."""
    import torch

    from dlrs_desktop.model.predictor import Predictor
    from dlrs_desktop.training import checkpoint as ckpt
    from dlrs_desktop.training.cohort import load_case, read_cohort
    from dlrs_desktop.training.federated.coordinator import CHECKPOINT_SUFFIX, run_federated
    from dlrs_desktop.training.federated.protocol import InProcessFederation
    from dlrs_desktop.training.trainer import new_network, predict_logits

    recipe = _recipe(tmp_path)
    recipe = replace(recipe, cfg=replace(recipe.cfg, ensemble="final+folds"))
    log: list[str] = []
    out = tmp_path / "model"
    run_federated(InProcessFederation(sites, log=log.append), recipe, _plan(), out, log.append)
    assert any(line.startswith("shipped network: the final and 2 fold networks averaged") for line in log)
    manifest = json.loads((out / "manifest.json").read_text())
    ens = manifest["training"]["ensemble"]
    assert ens["members"] == ["final", "fold0", "fold1"] and ens["standardisation_split"] == "internal"
    assert "fold networks averaged" in manifest["stacking_method"]
    assert "the fold ensemble" not in manifest["training"]["federation"]["not_in_recipe"]
    # each member's standardisation is the pooled internal cases' mean and SD of its logits
    _, tensors = ckpt.load(tmp_path / f"model{CHECKPOINT_SUFFIX}")
    loc = sites[0].local
    for name, mean, sd in zip(ens["members"], ens["member_logit_mean"], ens["member_logit_sd"], strict=True):
        prefix = "final." if name == "final" else f"done.{name}."
        net = new_network(loc.cfg, loc.spec)
        keys = list(net.state_dict())
        net.load_state_dict({k: torch.as_tensor(tensors[prefix + k]).to(v.dtype)
                             for k, v in zip(keys, net.state_dict().values(), strict=True)})  # fmt: skip
        logits = np.concatenate(
            [predict_logits(net, s.local.data.x[s.local.data.subset("internal"), 0], "cpu") for s in sites]
        )
        np.testing.assert_allclose(mean, logits.mean(axis=0), atol=1e-5)
        np.testing.assert_allclose(sd, logits.std(axis=0), atol=1e-5)
    # the bundle holds the three members and predicts like any other
    predictor = Predictor(out, device="cpu")
    case = read_cohort(sites[0].csv)[0]
    image, contour = load_case(case)
    assert 0.0 < predictor.predict(image, contour).probability < 1.0
