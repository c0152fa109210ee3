"""Memory and batching of the CPU predictor (issue 29, point 5): one ONNX Runtime session per bundle,
no second copy of the network's bytes, the sensitivity stage batched without changing a number."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.model.preprocess import validated_contour
from tests.model_factory import bmode_case, cached_bundle

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ensemble_dir() -> Path:
    return cached_bundle(input_size=64, members=2, radiomics=True)


@pytest.fixture(scope="module")
def case():
    return bmode_case(shape=(360, 420), mm_per_px=0.1, radius_mm=6.0)


def test_one_session_per_bundle(ensemble_dir: Path, case) -> None:
    a = Predictor(ensemble_dir, device="cpu")
    b = Predictor(ensemble_dir, device="cpu")
    other = Predictor(cached_bundle(input_size=64), device="cpu")
    assert a._backend.session is b._backend.session  # the second Predictor made no second session
    assert other._backend.session is not a._backend.session
    assert a.predict(*case, sensitivity=False).probability == b.predict(*case, sensitivity=False).probability
    assert Predictor(ensemble_dir, device="cpu", threads=1)._backend is not a._backend  # other options
    alive = weakref.ref(a._backend)
    del a, b
    gc.collect()
    assert alive() is None  # the last Predictor gone, its session goes too (the cache holds none)


def test_cpu_predictor_holds_no_second_copy_of_the_network(ensemble_dir: Path, case) -> None:
    bundle = load_bundle(ensemble_dir)
    p = Predictor(bundle, device="cpu")
    assert "model.onnx" not in p.bundle.files and "backbone.safetensors" not in p.bundle.files
    assert "heads.safetensors" in p.bundle.files
    assert getattr(p._backend.session, "_model_bytes", None) is None  # onnxruntime's own copy dropped
    assert "model.onnx" in bundle.files  # the caller's bundle is untouched
    assert p.bundle.manifest_sha256 == bundle.manifest_sha256
    assert p.info()["bundle_hash"] == bundle.manifest_sha256
    assert 0.0 <= p.predict(*case, sensitivity=True).probability <= 1.0


def test_torch_backend_keeps_the_weights(ensemble_dir: Path, case) -> None:
    pytest.importorskip("torch")
    ref = Predictor(ensemble_dir, device="cpu", backend="torch")
    assert ref.backend == "torch"
    assert len(ref.bundle.weights_bytes()[0]) > 0 and len(ref.bundle.onnx_bytes) > 0


def test_sensitivity_batched_equals_one_run_each(ensemble_dir: Path, case) -> None:
    image, contour = case
    p = Predictor(ensemble_dir, device="cpu")
    batched = p.predict_sensitivity(image, contour)
    base = validated_contour(image, contour)
    one_each = [p.predict(image, base.offset(d), sensitivity=False).probability for d in batched.offsets_mm]
    assert None not in batched.probabilities
    assert batched.probabilities == pytest.approx(one_each, abs=1e-6)
    assert len(set(one_each)) == len(one_each)  # the offsets change the answer: the check has teeth


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="no CPU affinity here")
def test_threads_follow_the_cpu_set() -> None:
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        "from dlrs_desktop.model.predictor import physical_cores; print(physical_cores())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "1"
