"""synth → train → evaluate on a tiny cohort, then the bundle in the application's Predictor."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from dlrs_desktop.cli import main
from tests.training_factory import rewrite, tiny_args, tiny_cohort, tiny_config

TINY = [*tiny_args(distil="off"), "--synthetic", "--id", "tiny"]  # the student: test_training_distil.py


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    cohort = tiny_cohort(root / "cohort", patients=24, seed=3)
    log = ["--changelog", "0.0.9=an older bundle", "--changelog", "first tiny bundle"]
    folds = ["--save-fold-networks", str(root / "folds")]
    assert main(["train", "--cohort", str(cohort), "--out", str(root / "model"), *TINY, *log, *folds]) == 0
    return root, cohort


def test_fold_networks_are_kept_when_asked_and_are_the_shipped_ensemble_members(trained):
    """By default the bundle ships the final and fold networks averaged (`--ensemble final+folds`):
    its architecture declares the members, and trunks 1.. are exactly the saved fold networks."""
    from safetensors.torch import load as st_load

    from dlrs_desktop.model import load_bundle
    from dlrs_desktop.model.network import load_net
    from dlrs_desktop.training.trainer import predict_logits

    root, _ = trained
    bundle = load_bundle(root / "model")
    files = sorted(p.name for p in (root / "folds").iterdir())
    assert files == ["fold0.safetensors", "fold1.safetensors"]  # --folds 2, nothing else left behind
    assert bundle.architecture["members"] == 3 and bundle.architecture["feature_dim"] == 3 * 512
    ensemble = bundle.manifest["training"]["ensemble"]
    assert ensemble["members"] == ["final", "fold0", "fold1"]
    assert ensemble["standardisation_split"] == "internal"
    assert "fold networks averaged" in bundle.manifest["stacking_method"]
    card = (root / "model" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "ensemble of 3 networks (final, fold0, fold1)" in card
    single = {k: v for k, v in bundle.architecture.items() if k not in ("members", "feature_dim")}
    x = np.random.default_rng(0).standard_normal((2, 4, 1, 32, 32)).astype(np.float32)
    shipped = st_load(bundle.weights_bytes()[0])
    for m, f in enumerate(files, start=1):
        fold = st_load((root / "folds" / f).read_bytes())
        for k, v in fold.items():
            if k.startswith("backbones.0."):  # the bundle stores float16-rounded copies
                got = shipped[k.replace("backbones.0.", f"backbones.{m}.")].float()
                assert np.allclose(got.numpy(), v.numpy(), rtol=1e-3, atol=1e-4), k
    outs = [predict_logits(load_net(single, (root / "folds" / f).read_bytes()), x, "cpu") for f in files]
    assert all(np.isfinite(o).all() for o in outs) and not np.allclose(outs[0], outs[1])


def test_bundle_is_complete_and_loads_in_the_predictor(trained):
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.model import Predictor, load_bundle
    from dlrs_desktop.roi import Contour

    root, cohort = trained
    bundle = load_bundle(root / "model")
    m = bundle.manifest
    assert m["training_data"]["kind"] == "synthetic" and bundle.is_synthetic
    assert m["changelog"] == {"0.0.9": "an older bundle", "0.1.0": "first tiny bundle"}
    assert m["preprocessing"]["fill"] == "mean"  # the default: pooled features independent of ROI size
    assert m["training_data"]["splits"]["train"]["n"] + m["training_data"]["splits"]["internal"]["n"] > 0
    keys = [r["key"] for r in m["models"]]
    assert keys == ["intratumoral", "ring_3mm", "ring_5mm", "ring_10mm", "fusion_ring_3mm", "fusion_ring_5mm",
                    "fusion_ring_10mm", "fusion_all"]  # fmt: skip
    primary = next(r for r in m["models"] if r["key"] == m["primary_model"])
    # a fusion, unless the guard rejected every fusion (recorded with its reason)
    assert primary["kind"] == "fusion" or m["primary_model_guard"]["rejected"]
    assert m["training"]["seconds"] > 0 and m["training"]["device"].startswith("cpu")
    assert m["stacking"]["coefficients"] == primary["coefficients"] and m["threshold"] == pytest.approx(
        min(max(primary["threshold"], 1e-6), 1 - 1e-6)
    )
    assert "out-of-fold" in m["stacking_method"] and m["onnx"]["parity_max_abs_logit_diff"] < 1e-3
    assert m["architecture"]["weights_dtype"].startswith("float16")
    card = (root / "model" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"shown by the application: `{m['primary_model']}`" in card and "**(primary)**" in card
    assert "- 0.1.0: first tiny bundle" in card and "Demonstration model" not in card
    row = next(csv.DictReader(cohort.open()))
    image = load_image(cohort.parent / row["image"])
    contour = Contour.load(cohort.parent / row["contour"])
    onnx = Predictor(bundle, device="cpu").predict(image, contour, sensitivity=False)
    torch_ = Predictor(bundle, device="cpu", backend="torch").predict(image, contour, sensitivity=False)
    d_onnx, d_torch = onnx.to_json_dict(), torch_.to_json_dict()
    p1, p2 = d_onnx["probability"], d_torch["probability"]
    assert 0 < p1 < 1 and abs(p1 - p2) < 1e-4
    # the default recipe stacks a radiomics signature into every fusion row (model/radiomics.py)
    sigs = m["radiomics"]["signatures"]
    assert [s["name"] for s in sigs] == ["radiomics_ring_3mm", "radiomics_ring_5mm", "radiomics_ring_10mm",
                                         "radiomics_all"]  # fmt: skip
    assert m["stacking"]["inputs"] == "region_logits+radiomics" and len(m["stacking"]["coefficients"]) == 8
    assert [s["name"] for s in d_onnx["signatures"]] == [s["name"] for s in sigs]
    assert "radiomics signatures (radiomics_ring_3mm, radiomics_ring_5mm, radiomics_ring_10mm" in card
    assert (
        "Fusion: all regions + radiomics" in card
        and "radiomics signature of its regions" in m["stacking_method"]
    )
    inputs = [r["logit"] for r in d_onnx["regions"]] + [s["logit"] for s in d_onnx["signatures"]]
    assert float(bundle.stacking.fuse(np.asarray(inputs))) == pytest.approx(p1, abs=1e-6)
    # the evidence adds up: intercept + every contribution = the fused logit
    contributions = [r["contribution"] for r in d_onnx["regions"] + d_onnx["signatures"]]
    assert d_onnx["intercept"] + sum(contributions) == pytest.approx(np.log(p1 / (1 - p1)), abs=1e-6)


def test_evaluate_writes_the_study_table_and_figures(trained, capsys):
    root, cohort = trained
    out = root / "report"
    assert main(["evaluate", "--model", str(root / "model"), "--cohort", str(cohort), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| Fusion: all regions" in printed and "ratio" in printed
    for name in ("report.html", "metrics.json", "table.csv", "delong.csv", "predictions.csv"):
        assert (out / name).stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["splits"]) == metrics["split_order"] == ["train", "internal", "external"]
    table = list(csv.DictReader((out / "table.csv").open()))
    assert len(table) == 8 * 3
    for r in table:
        if r["auc"]:
            assert 0 <= float(r["auc_ci_low"]) <= float(r["auc"]) <= float(r["auc_ci_high"]) <= 1
    for fig in metrics["figures"].values():
        for name in fig.values():
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert "SYNTHETIC" in html and "DeLong" in html and "roc_external.png" in html
    assert "<th>Positive (early responder)</th>" in html  # the bundle's outcome names the column
    preds = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(preds) == 24 and set(preds[0]) >= {"logit_intratumoral", "fusion_all"}


def test_training_resumes_from_its_checkpoint(trained, capsys):
    root, cohort = trained
    ck = root / "model.checkpoint"
    state = json.loads((ck / "state.json").read_text())
    assert set(state["completed"]) == {"fold0", "fold1", "final"}
    assert (ck / "tensors.safetensors").is_file() and not list(ck.glob("*.pt*"))
    before = json.loads((root / "model" / "manifest.json").read_text())
    log = ["--changelog", "0.0.9=an older bundle", "--changelog", "first tiny bundle"]
    assert main(["train", "--cohort", str(cohort), "--out", str(root / "model"), *TINY, *log]) == 0
    err = capsys.readouterr().err
    assert "resuming" in err and "epoch 1:" not in err  # nothing retrained
    after = json.loads((root / "model" / "manifest.json").read_text())
    assert after["stacking"] == before["stacking"]
    # provenance: the time of every session (the first run and this resumption), the device that ran it
    sessions = after["training"]["seconds_by_session"]
    assert len(sessions) == 2 and sessions[0]["seconds"] == before["training"]["seconds"]
    assert after["training"]["seconds"] == pytest.approx(sum(x["seconds"] for x in sessions), abs=0.2)
    assert after["training"]["device"].startswith("cpu") and after["training"]["device_requested"] == "auto"
    # same weights → same bytes (the heads file is the model package's and may order its metadata freely)
    assert (
        after["files"]["backbone.safetensors"]["sha256"] == before["files"]["backbone.safetensors"]["sha256"]
    )


def test_no_radiomics_restacks_the_same_networks_from_the_checkpoint(trained, capsys):
    """`--no-radiomics` changes the stacking only: a checkpoint made with signatures resumes without
    retraining, and the bundle stacks the region logits alone (as bundles before signatures did)."""
    import shutil

    from dlrs_desktop.model import Predictor, load_bundle

    root, cohort = trained
    shutil.copytree(root / "model.checkpoint", root / "plain.checkpoint")
    (root / "plain.checkpoint" / "finished.json").unlink(missing_ok=True)
    assert (
        main(["train", "--cohort", str(cohort), "--out", str(root / "plain"), *TINY, "--no-radiomics"]) == 0
    )
    err = capsys.readouterr().err
    assert "resuming" in err and "epoch 1:" not in err and "radiomics signatures" not in err
    plain, full = load_bundle(root / "plain"), load_bundle(root / "model")
    assert plain.radiomics is None and "radiomics" not in plain.manifest
    assert plain.manifest["stacking"]["inputs"] == "region_logits" and len(plain.stacking.coefficients) == 4
    assert plain.manifest["training"]["config"]["radiomics"] is False
    assert all("radiomics" not in r["label"] for r in plain.manifest["models"])
    sha = {b: b.manifest["files"]["backbone.safetensors"]["sha256"] for b in (plain, full)}
    assert sha[plain] == sha[full]  # the same networks
    row = next(csv.DictReader(cohort.open()))
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.roi import Contour

    image, contour = load_image(cohort.parent / row["image"]), Contour.load(cohort.parent / row["contour"])
    pred = Predictor(plain, device="cpu").predict(image, contour, sensitivity=False)
    assert pred.signatures == () and "signatures" not in pred.to_json_dict()


def test_a_radiomics_core_and_shape_restack_the_same_networks_and_every_surface_reads_them(trained, capsys):
    """`--radiomics-core-mm` and `--radiomics-shape` change the signatures only: the checkpoint resumes
    without retraining; the manifest carries both; the application and `dlrs evaluate` compute the same
    signature logits."""
    import shutil

    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.model import Predictor, load_bundle
    from dlrs_desktop.roi import Contour

    root, cohort = trained
    shutil.copytree(root / "model.checkpoint", root / "core.checkpoint")
    (root / "core.checkpoint" / "finished.json").unlink(missing_ok=True)
    args = [
        "train",
        "--cohort",
        str(cohort),
        "--out",
        str(root / "core"),
        *TINY,
        "--radiomics-core-mm",
        "1.5",
        "--radiomics-shape",
        "concavity",
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "resuming" in err and "epoch 1:" not in err and "radiomics signatures" in err
    core, full = load_bundle(root / "core"), load_bundle(root / "model")
    assert core.radiomics.core_mm == 1.5 and core.manifest["radiomics"]["intratumoral_core_mm"] == 1.5
    assert core.manifest["training"]["config"]["radiomics_core_mm"] == 1.5
    assert full.radiomics.core_mm == 0.0 and "intratumoral_core_mm" not in full.manifest["radiomics"]
    assert core.radiomics.shape == "concavity" and core.manifest["radiomics"]["shape_features"] == "concavity"
    assert core.radiomics.features[-2:] == ("shape.concavity_max_mm", "shape.concavity_mean_mm")
    assert full.radiomics.shape == "outline" and "shape_features" not in full.manifest["radiomics"]
    sha = {b: b.manifest["files"]["backbone.safetensors"]["sha256"] for b in (core, full)}
    assert sha[core] == sha[full]  # the same networks
    out = root / "report_core"
    assert main(["evaluate", "--model", str(root / "core"), "--cohort", str(cohort), "--out", str(out)]) == 0
    row = next(csv.DictReader((out / "predictions.csv").open()))
    case = next(r for r in csv.DictReader(cohort.open()) if r["case_id"] == row["case_id"])
    image = load_image(cohort.parent / case["image"])
    contour = Contour.load(cohort.parent / case["contour"])
    pred = Predictor(core, device="cpu").predict(image, contour, sensitivity=False)
    for sig in pred.signatures:
        assert sig.logit == pytest.approx(float(row[f"logit_{sig.name}"]), abs=1e-6)
    plain = Predictor(full, device="cpu").predict(image, contour, sensitivity=False)
    assert [s.logit for s in plain.signatures] != [s.logit for s in pred.signatures]


@pytest.mark.parametrize("flag, value", [("--radiomics-core-mm", "20"), ("--radiomics-core-mm", "nan")])
def test_a_radiomics_setting_no_bundle_can_hold_is_refused_before_training(trained, capsys, flag, value):
    """The manifest would refuse it at load; the trainer refuses it first, before any case is prepared."""
    root, cohort = trained
    out = root / "refused"
    assert main(["train", "--cohort", str(cohort), "--out", str(out), *TINY, flag, value]) == 3
    err = capsys.readouterr().err
    assert "Radiomics settings need a core of 0–10 mm" in err and "preparing" not in err
    assert not out.exists() and not (root / "refused.checkpoint").exists()


ROW_KEYS = {"auc", "auc_ci", "threshold", "sensitivity", "sensitivity_ci", "specificity", "specificity_ci",
            "ppv", "ppv_ci", "npv", "npv_ci", "accuracy", "accuracy_ci", "brier", "calibration_intercept",
            "calibration_slope", "net_benefit", "net_benefit_treat_all"}  # fmt: skip


def test_metrics_json_has_every_key_and_its_numbers_follow_from_predictions_csv(trained):
    """The documented keys for every row and split; a sensitivity CI, a calibration slope and a net
    benefit recomputed from predictions.csv with independent code (textbook Wilson, sklearn)."""
    from sklearn.linear_model import LogisticRegression

    root, cohort = trained
    out = root / "report_keys"
    assert main(["evaluate", "--model", str(root / "model"), "--cohort", str(cohort), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"splits", "warnings", "primary"} <= set(metrics) and isinstance(metrics["warnings"], list)
    preds = list(csv.DictReader((out / "predictions.csv").open()))
    for split, d in metrics["splits"].items():
        assert {"n", "n_positive", "by_centre", "rows"} <= set(d)
        n_preds = sum(p["split"] == split for p in preds)
        assert sum(c["n"] for c in d["by_centre"].values()) == d["n"] == n_preds
        assert all({"n", "n_positive"} <= set(c) for c in d["by_centre"].values())
        assert len(d["rows"]) == 8
        for row in d["rows"].values():
            assert set(row) >= ROW_KEYS
            assert [f"{0.05 * k:.2f}" for k in range(1, 20)] == list(row["net_benefit"])
    # ≥ 9 significant digits (repr of a double: round-trips)
    prob = preds[0][metrics["primary"]]
    assert len(prob.lstrip("0.-").replace(".", "").split("e")[0]) >= 9 or float(prob) in (0.0, 1.0)
    split = "train"
    rows = [p for p in preds if p["split"] == split]
    y = np.array([int(p["label"]) for p in rows])
    key = metrics["primary"]
    prob = np.array([float(p[key]) for p in rows])
    m = metrics["splits"][split]["rows"][key]
    tp = int(((prob >= m["threshold"]) & (y == 1)).sum())
    n_pos = int(y.sum())
    z = 1.959963984540054
    centre = (tp + z * z / 2) / (n_pos + z * z)
    half = z * np.sqrt(tp * (n_pos - tp) / n_pos + z * z / 4) / (n_pos + z * z)
    assert m["sensitivity"] == pytest.approx(tp / n_pos)
    assert m["sensitivity_ci"] == pytest.approx([centre - half, centre + half], abs=1e-9)
    lp = np.log(prob / (1 - prob))
    slope = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(lp[:, None], y).coef_[0, 0]
    assert m["calibration_slope"] == pytest.approx(slope, rel=1e-4, abs=1e-6)
    t = 0.3
    nb = ((prob >= t) & (y == 1)).sum() / len(y) - ((prob >= t) & (y == 0)).sum() / len(y) * t / (1 - t)
    assert m["net_benefit"]["0.30"] == pytest.approx(nb, abs=1e-12)
    assert m["net_benefit_treat_all"]["0.30"] == pytest.approx(y.mean() - (1 - y.mean()) * t / (1 - t))


def test_the_training_cohort_written_elsewhere_is_still_recognised_and_its_internal_split_called_optimistic(
    trained,
):
    """The cohort file's checksum covers its image paths; a copy written in another folder is the same
    cohort, and the report must keep saying that its internal figures are optimistic (a real-data
    report once said the opposite: its cohort had gained an external split and moved)."""
    root, cohort = trained
    manifest = json.loads((root / "model" / "manifest.json").read_text())
    assert len(manifest["training_data"]["split_cases_sha256"]) == 64
    (cohort.parent / "moved").mkdir()

    def moved(rows):
        return [{**r, "image": f"../{r['image']}", "contour": f"../{r['contour']}"} for r in rows]

    copy = rewrite(cohort, cohort.parent / "moved" / "cohort.csv", moved)
    assert copy.read_bytes() != cohort.read_bytes()
    relabelled = rewrite(cohort, cohort.parent / "relabelled.csv",
                         lambda rows: [{**r, "label": str(1 - int(r["label"]))} if r["split"] == "internal"
                                       else r for r in rows])  # fmt: skip
    for csv_path, expected in ((copy, True), (relabelled, False)):
        out = root / f"report_{csv_path.parent.name}_{csv_path.stem}"
        args = ["evaluate", "--model", str(root / "model"), "--cohort", str(csv_path), "--out", str(out)]
        assert main(args) == 0
        assert json.loads((out / "metrics.json").read_text())["training_cohort"] is expected
        html = (out / "report.html").read_text()
        assert ("This is the cohort the bundle was trained on" in html) is expected
        assert ("its figures are optimistic" in html) is expected


def test_evaluate_warns_when_the_primary_model_is_worse_than_chance(trained, capsys):
    """Labels flipped: every split where the primary ranked better than chance now ranks worse."""
    root, cohort = trained
    base = json.loads((root / "report_keys" / "metrics.json").read_text())
    better = [s for s, d in base["splits"].items() if (d["rows"][base["primary"]]["auc"] or 0.5) > 0.5]
    flipped = rewrite(cohort, cohort.parent / "flipped.csv",
                      lambda rows: [{**r, "label": str(1 - int(r["label"]))} for r in rows])  # fmt: skip
    out = root / "report_flipped"
    args = ["evaluate", "--model", str(root / "model"), "--cohort", str(flipped), "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    warned = [line for line in printed.splitlines() if line.startswith("WARNING: AUC below 0.5")]
    assert warned and all(any(f"on the {n} split for the PRIMARY" in w for w in warned) for n in
                          [{"train": "training"}.get(s, s) for s in better])  # fmt: skip
    html = (out / "report.html").read_text()
    assert "class=warnings" in html and "AUC below 0.5" in html
    assert json.loads((out / "metrics.json").read_text())["warnings"]


def test_a_run_interrupted_between_folds_resumes_to_the_same_ensemble(trained, tmp_path):
    """The finished fold networks are ensemble members: they must survive an interruption in the
    checkpoint (`done.fold<i>.` tensors), so the resumed run ships the very same weights."""
    from dlrs_desktop.training.pipeline import train_from_cohort
    from dlrs_desktop.training.recipe import TrainingRecipe

    root, cohort = trained
    cfg = tiny_config(distil="off")  # = TINY

    class Interrupted(Exception):
        pass

    def stop_in_fold1(msg: str) -> None:
        if msg.startswith("[fold1] epoch 1:"):
            raise Interrupted

    out = tmp_path / "model"
    with pytest.raises(Interrupted):
        train_from_cohort(TrainingRecipe(cohort, cfg, training_kind="synthetic"), out, log=stop_in_fold1)
    state = json.loads((tmp_path / "model.checkpoint" / "state.json").read_text())
    assert set(state["completed"]) == {"fold0"} and not out.exists()
    train_from_cohort(TrainingRecipe(cohort, cfg, training_kind="synthetic"), out, log=lambda _msg: None)
    resumed = json.loads((out / "manifest.json").read_text())
    uninterrupted = json.loads((root / "model" / "manifest.json").read_text())
    assert resumed["architecture"]["members"] == 3
    assert (
        resumed["files"]["backbone.safetensors"]["sha256"]
        == uninterrupted["files"]["backbone.safetensors"]["sha256"]
    )
