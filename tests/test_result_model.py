"""The typed result (model/result.py): `dlrs predict --json` prints what it printed before the result
was typed (golden files written by main 0a3cd6a on the bundled samples, timings zeroed; the sensitivity
probabilities rewritten when offsets moved to a one-pixel grid, issue 29), a saved result
reads back into the same JSON, and a non-finite number is refused when a result is built."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.reading import class_text, is_uncertain, sensitivity_band
from dlrs_desktop.model.result import DomainResult, Prediction, RegionResult, Sensitivity
from dlrs_desktop.paths import samples_dir

GOLDEN = Path(__file__).parent / "data" / "predict_json"
SAMPLES = ("demo", "sample-centre1", "sample-centre2")


def _timings_zeroed(d: dict) -> dict:
    d = {**d, "load_ms": 0.0, "timings_ms": {k: 0.0 for k in d["timings_ms"]}}
    d["sensitivity"] = {**d["sensitivity"], "time_ms": 0.0}
    return d


def _same(a: object, b: object, where: str = "") -> None:
    """Equal keys in the same order, equal texts, numbers equal to 1e-6, relative or absolute (ONNX
    Runtime's float32 kernels differ in the last bits between CPUs: an AVX2 EPYC gave a logit of
    -0.04386572 where the goldens' AVX-512 CPU gave -0.04386580, 1.8e-6 relative)."""
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6), where
    else:
        assert a == b, where


@pytest.mark.parametrize("sample", SAMPLES)
def test_predict_json_is_unchanged_on_the_bundled_samples(sample, capsys):
    """The float model (`--precision float`): the goldens changed only by the "precision" key and the
    bundle hash (the demo's manifest was re-pinned for its int8 model; its weights did not change)."""
    args = ["predict", str(samples_dir() / f"{sample}.dcm"), "--json", "--device", "cpu"]
    assert main([*args, "--precision", "float"]) == 0
    out = json.loads(capsys.readouterr().out)
    golden = json.loads((GOLDEN / f"{sample}.json").read_text(encoding="utf-8"))
    _same(_timings_zeroed(out), golden)
    # the int8 model gives the same result within the guard's 0.01 (docs/MODEL_BUNDLE.md "int8 model")
    assert main([*args, "--precision", "int8"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert q["precision"] == "int8" and abs(q["probability"] - golden["probability"]) <= 0.01
    assert q["category"] == golden["category"] and q["model"] == golden["model"]


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_saved_result_reads_back_into_the_same_json(sample):
    d = json.loads((GOLDEN / f"{sample}.json").read_text(encoding="utf-8"))
    saved = {k: v for k, v in d.items() if k not in ("uncertain", "image", "load_ms")}
    pred = Prediction.from_json_dict(saved)
    assert json.dumps(pred.to_json_dict()) == json.dumps(saved)
    assert pred.regions[0].name == "intratumoral" and pred.model_id == d["model"]["id"]
    assert is_uncertain(pred) is d["uncertain"]
    probs = [q for q in d["sensitivity"]["probabilities"] if q is not None] + [d["probability"]]
    assert sensitivity_band(pred) == (min(probs), max(probs), 1.0)
    assert d["category"] in class_text(pred) and ("uncertain" in class_text(pred)) is d["uncertain"]


def test_a_non_finite_number_is_refused_when_the_result_is_built():
    d = json.loads((GOLDEN / "demo.json").read_text(encoding="utf-8"))
    pred = Prediction.from_json_dict(d)
    with pytest.raises(ModelError, match="probability"):
        replace(pred, probability=math.nan)
    with pytest.raises(ModelError, match=r"timings_ms\.total"):
        replace(pred, timings_ms={"total": math.inf})
    with pytest.raises(ModelError, match=r"probabilities\[1\]"):
        Sensitivity((-1.0, 1.0), (0.4, math.nan), (), 1.0)
    with pytest.raises(ModelError, match="area_mm2"):
        replace(pred.regions[0], area_mm2=-math.inf)
    with pytest.raises(ModelError, match="score"):
        DomainResult("inside", math.nan, 1.0, 2.0, "x")
    with pytest.raises(ModelError, match="logit"):
        RegionResult.from_json_dict({**d["regions"][0], "logit": math.inf})
    assert Sensitivity((-1.0, 1.0), (0.4, None), ("-1 mm: too small",), 1.0).valid == (0.4,)


def test_an_older_saved_result_reads_with_defaults():
    """A sidecar written before domains and outcomes were recorded (the schema lets those be absent)."""
    pred = Prediction.from_json_dict(
        {"probability": 0.7, "threshold": 0.5, "category": "x", "regions": [{"name": "intratumoral"}]}
    )
    assert pred.domain.status == "unknown" and pred.prediction_set == () and pred.sensitivity is None
    assert pred.regions[0].probability == 0.0 and pred.outcome.short_name


def test_the_bundle_reading_is_typed_from_the_manifest_once():
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.reading import BundleReading

    bundle = load_bundle(None)
    reading = BundleReading.from_manifest(bundle.manifest)
    assert reading.ring_radii == bundle.spec.ring_radii and reading.ring_radii
    assert reading.outcome == bundle.outcome
    assert {r.name for r in bundle.spec.regions} <= set(reading.region_thresholds)
    assert BundleReading.from_manifest(None).ring_radii == ()
    row = {"split": "train", "model": "intratumoral", "threshold": math.nan}
    with pytest.raises(ModelError, match=r"region_thresholds\.intratumoral"):
        broken = {**bundle.manifest, "metrics": [row]}
        BundleReading.from_manifest(broken)
