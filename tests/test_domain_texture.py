"""Issue 26: the guard's speckle-texture checks and the synthetic-likeness gate (model/domain_texture.py).

Real components: the real descriptor on real pixels, a bundle written by the real writer, a cohort and
negatives from the real synthetic generator, `dlrs model add-reference --synthetic-negatives`, the real
predictor and CLI reading the block back.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import ModelError
from dlrs_desktop.model import domain_texture as dtx
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.training.cohort import load_case, read_cohort
from tests.model_factory import cached_bundle, copy_bundle
from tests.training_factory import tiny_cohort


class _Roi:
    def __init__(self, bbox):
        self.bbox = bbox


class _RoiSet:
    def __init__(self, bbox):
        self.all = (_Roi(bbox),)


def _speckle(sigma_lateral: float, sigma_axial: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    re_, im_ = (
        cv2.GaussianBlur(noise.astype(np.float32), (0, 0), sigma_lateral, sigmaY=sigma_axial)
        for noise in (rng.standard_normal((256, 256)), rng.standard_normal((256, 256)))
    )
    env = np.sqrt(re_**2 + im_**2)
    return np.clip(255 * env / np.percentile(env, 99.5) * 0.8, 0, 255).astype(np.uint8)


def test_the_descriptor_reads_speckle_elongated_across_the_beam_as_lateral():
    box = _RoiSet((16, 16, 240, 240))
    mask = np.ones((256, 256), bool)
    wide = dict(zip(dtx.FEATURES, dtx.descriptor(_speckle(4.0, 1.0), mask, box), strict=True))
    tall = dict(zip(dtx.FEATURES, dtx.descriptor(_speckle(1.0, 4.0), mask, box), strict=True))
    assert all(np.isfinite(v) for v in (*wide.values(), *tall.values()))
    # grains wide across the beam (x): neighbours along x correlate more, intensity changes along y
    assert wide["autocorr_lateral_2px"] > wide["autocorr_axial_2px"] + 0.2
    assert tall["autocorr_axial_2px"] > tall["autocorr_lateral_2px"] + 0.2
    assert wide["axial_lateral_gradient_log_ratio"] > 0.5 > -0.5 > tall["axial_lateral_gradient_log_ratio"]
    # a region too small to measure gives zeros, not a crash or a NaN
    assert not dtx.descriptor(_speckle(1, 1), mask, _RoiSet((0, 0, 8, 8))).any()


@pytest.fixture(scope="module")
def gated(tmp_path_factory) -> tuple[Path, Path]:
    cohort = tiny_cohort(tmp_path_factory.mktemp("cohort"), patients=60, seed=5, dicom=False)
    bundle = copy_bundle(cached_bundle(), tmp_path_factory.mktemp("b") / "bundle")
    args = ["--components", "8", "--threads", "1", "--synthetic-negatives", "6"]
    assert main(["model", "add-reference", "--model", str(bundle), "--cohort", str(cohort), *args]) == 0
    return bundle, cohort


def test_add_reference_writes_the_texture_block_and_the_gate_it_was_asked_for(gated):
    bundle = gated[0]
    block = load_bundle(bundle).manifest["domain_reference"]
    tex = block["texture"]
    assert tex["method"] == dtx.METHOD and tex["features"] == list(dtx.FEATURES)
    assert tex["n_train"] == block["n_train"]
    syn = tex["synthetic"]
    assert syn["gate_logit"] == 0.0 and syn["n_negatives"] == 12 and "--seed 20261204" in syn["negatives"]
    assert "6 simulated phantom scans" in syn["negatives"]
    names = {c["name"]: c for c in block["checks"]}
    assert names[dtx.DISTANCE]["kind"] == names[dtx.SYNTHETIC]["kind"] == "texture"
    ref = load_bundle(bundle).domain
    assert ref.texture is not None and ref.texture.coef is not None


def _with_gate(src: Path, dst: Path, gate: float) -> Path:
    out = copy_bundle(src, dst)
    m = json.loads((out / "manifest.json").read_text())
    m["domain_reference"]["texture"]["synthetic"]["gate_logit"] = gate
    (out / "manifest.json").write_text(json.dumps(m))
    return out


def test_the_gate_makes_an_image_outside_whatever_the_score_and_names_itself(gated, tmp_path):
    bundle, cohort = gated
    case = next(c for c in read_cohort(cohort, require_train=False) if c.split == "internal")
    image, contour = load_case(case)
    low = Predictor(_with_gate(bundle, tmp_path / "low", -1e6), device="cpu", threads=1)
    d = low.predict(image, contour, sensitivity=False).domain
    assert d.status == "outside"
    assert "looks simulated (like the application's synthetic scans or a speckle phantom)" in d.reason
    assert d.score <= d.outside_above  # the score alone would not have said outside
    high = Predictor(_with_gate(bundle, tmp_path / "high", 1e6), device="cpu", threads=1)
    d2 = high.predict(image, contour, sensitivity=False).domain
    assert d2.score == pytest.approx(d.score) and "synthetic" not in d2.reason
    statuses = ("inside", "unusual", "outside")
    assert d2.status == statuses[(d2.score > d2.unusual_above) + (d2.score > d2.outside_above)]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda t: t["scale"].__setitem__(0, -1.0), "texture.scale"),
        (lambda t: t["mean"].__setitem__(3, 1e300), "texture.mean"),
        (lambda t: t["precision"][0].__setitem__(1, t["precision"][0][1] + 5.0), "texture.precision"),
        (lambda t: t["features"].reverse(), "texture.features"),
        (lambda t: t["synthetic"].__setitem__("gate_logit", "high"), "texture.synthetic.gate_logit"),
        (lambda t: t["synthetic"]["coef"].pop(), "texture.synthetic.coef"),
        (lambda t: t.__setitem__("method", "other/9"), "texture.method"),
    ],
)
def test_a_tampered_texture_block_is_refused_at_load_naming_the_field(gated, tmp_path, edit, field):
    bad = copy_bundle(gated[0], tmp_path / "bad")
    m = json.loads((bad / "manifest.json").read_text())
    edit(m["domain_reference"]["texture"])
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match=field.replace(".", r"\.")):
        load_bundle(bad)


def test_a_reference_written_before_the_texture_checks_still_loads_and_scores(gated, tmp_path):
    old = copy_bundle(gated[0], tmp_path / "old")
    m = json.loads((old / "manifest.json").read_text())
    block = m["domain_reference"]
    del block["texture"]
    block["checks"] = [c for c in block["checks"] if not c["name"].startswith("texture:")]
    (old / "manifest.json").write_text(json.dumps(m))
    ref = load_bundle(old).domain
    assert ref is not None and ref.texture is None
    case = next(c for c in read_cohort(gated[1], require_train=False) if c.split == "internal")
    d = Predictor(old, device="cpu", threads=1).predict(*load_case(case), sensitivity=False).domain
    assert d.status in ("inside", "unusual", "outside")
    assert not any(n.startswith("texture:") for n, _ in d.factors)
    # a texture check listed without its block is refused (the check set must match what the block implies)
    m["domain_reference"]["checks"].append({**block["checks"][0], "name": dtx.DISTANCE, "kind": "texture"})
    (old / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match=r"domain_reference\.checks"):
        load_bundle(old)


def test_dlrs_train_gives_real_data_the_gate_by_default_and_synthetic_data_none(tmp_path, capsys):
    from dlrs_desktop.training.recipe import SYNTHETIC_NEGATIVES, TrainingRecipe

    assert TrainingRecipe("c.csv").negatives() == SYNTHETIC_NEGATIVES == 150  # real unless declared
    assert TrainingRecipe("c.csv", training_kind="synthetic").negatives() == 0
    assert TrainingRecipe("c.csv", training_kind="synthetic", synthetic_negatives=7).negatives() == 7
    assert TrainingRecipe("c.csv", synthetic_negatives=0).negatives() == 0
    code = main(["train", "--cohort", str(tmp_path / "c.csv"), "--out", str(tmp_path / "m"),
                 "--synthetic-negatives", "-3"])  # fmt: skip
    assert code == 2 and "--synthetic-negatives must be from 0 to 5000" in capsys.readouterr().err


def test_dlrs_evaluate_reports_how_many_scans_the_gate_made_outside(gated, tmp_path):
    """On real scans the gate's "outside" are false alarms: the evaluation counts them (splits, centres)."""
    from dlrs_desktop.training.domain_eval import guard_html, guard_metrics

    bundle, cohort = gated
    cases = read_cohort(cohort, require_train=False)
    always = guard_metrics(load_bundle(_with_gate(bundle, tmp_path / "low", -1e6)), cases)
    assert set(always["splits"]) == {"train", "internal", "external"}
    assert all(r["outside_synthetic"] == r["outside"] == 1.0 for r in always["splits"].values())
    assert all(r["outside_synthetic"] == 1.0 for r in always["centres"].values())
    assert "Made outside by the synthetic-likeness gate: " in guard_html(always)
    never = guard_metrics(load_bundle(_with_gate(bundle, tmp_path / "high", 1e6)), cases)
    assert all(r["outside_synthetic"] == 0.0 for r in never["splits"].values())
    # the prediction sets per centre too, and the calibration they came from; every case counted once
    assert never["sets_calibration"] == "internal" and 0.0 < never["qhat"] <= 1.0
    by_split = sum(r["n"] * r["coverage"] for r in never["splits"].values())
    by_centre = sum(r["n"] * r["coverage"] for r in never["centres"].values())
    assert by_split == pytest.approx(by_centre) and all(
        0.0 <= r["either"] <= 1.0 for r in never["centres"].values()
    )
    assert "calibrated on: internal" in guard_html(
        never
    ) and "<th>set coverage</th><th>either</th></tr>" in guard_html(never)
