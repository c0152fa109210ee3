"""Predictor: determinism, torch/ONNX parity, CAM location, the torch-free CPU path, threads, GPU fallback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.model.predictor import Predictor, gpu_hint
from dlrs_desktop.model.preprocess import prepare_inputs
from tests.model_factory import bmode_case, cached_bundle, with_pixels

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cpu(bundle_dir: Path) -> Predictor:
    return Predictor(bundle_dir, device="cpu")


@pytest.fixture(scope="module")
def case():
    return bmode_case(seed=3)


def test_prediction_is_complete_and_tied_to_its_inputs(cpu: Predictor, case) -> None:
    image, contour = case
    p = cpu.predict(image, contour)
    assert 0.0 < p.probability < 1.0
    assert p.positive == (p.probability >= p.threshold)
    assert p.category == ("likely early responder" if p.positive else "likely non-responder")
    assert [r.name for r in p.regions] == ["intratumoral", "ring_3mm", "ring_5mm", "ring_10mm"]
    # The fused probability is exactly the declared stacking of the per-region logits.
    z = sum(r.contribution for r in p.regions) + p.intercept
    assert p.probability == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-12)
    for r in p.regions:
        assert r.probability == pytest.approx(1 / (1 + np.exp(-r.logit)))
    assert p.regions[0].area_mm2 == pytest.approx(np.pi * 6.0 * 4.8, rel=0.05)
    assert p.contour_hash == contour.content_hash()
    assert p.bundle_hash == cpu.bundle.manifest_sha256 and p.model_id == "test-random"
    assert p.calibration["mm_per_px_x"] == 0.1 and p.image_sha256 == image.sha256
    assert (p.backend, p.device, p.device_note) == ("onnxruntime", "cpu", None)
    assert {"preprocess", "inference", "total", "sensitivity"} <= set(p.timings_ms)
    assert "Research use only" in p.research_notice
    s = p.sensitivity
    assert s is not None and s.offsets_mm == (-1.0, -0.5, 0.5, 1.0) and not s.skipped
    assert s.min <= s.max and all(0 < q < 1 for q in s.valid)
    d = json.loads(json.dumps(p.to_json_dict()))
    assert d["probability"] == p.probability and d["sensitivity"]["max"] == s.max


def test_sensitivity_as_a_second_stage_matches(cpu: Predictor, case) -> None:
    image, contour = case
    first = cpu.predict(image, contour, sensitivity=False)
    assert first.sensitivity is None
    later = first.with_sensitivity(cpu.predict_sensitivity(image, contour))
    assert later.sensitivity.probabilities == cpu.predict(image, contour).sensitivity.probabilities
    assert later.probability == first.probability and "sensitivity" in later.timings_ms


def test_deterministic_on_cpu(bundle_dir: Path, cpu: Predictor, case) -> None:
    image, contour = case
    runs = [cpu.predict(image, contour, sensitivity=False).probability for _ in range(3)]
    runs.append(Predictor(bundle_dir, device="cpu").predict(image, contour, sensitivity=False).probability)
    assert max(runs) - min(runs) <= 1e-6


def test_torch_and_onnx_runtime_agree(bundle_dir: Path, cpu: Predictor, case) -> None:
    image, contour = case
    ref = Predictor(bundle_dir, device="cpu", backend="torch")
    assert ref.backend == "torch"
    a = cpu.predict(image, contour, sensitivity=False, cam=True)
    b = ref.predict(image, contour, sensitivity=False, cam=True)
    assert abs(a.probability - b.probability) <= 1e-4
    for ra, rb in zip(a.regions, b.regions, strict=True):
        assert abs(ra.probability - rb.probability) <= 1e-4
    for ca, cb in zip(a.cams, b.cams, strict=True):
        assert np.nanmax(np.abs(ca.values - cb.values)) <= 1e-3


def test_one_backbone_per_region_bundle(tmp_path: Path) -> None:
    """The format also carries one backbone per region (as the study did); both backends agree."""
    from dlrs_desktop.model.preprocess import RegionSpec

    # Two regions keep the test small (four ResNet-18s would write ~180 MB).

    spec = {"regions": (RegionSpec("intratumoral", 0.0, "tumour"), RegionSpec("ring_5mm", 5.0, "expanded"))}
    path = cached_bundle(input_size=64, shared_backbone=False, spec_overrides=spec)
    onnx, ref = Predictor(path, device="cpu"), Predictor(path, device="cpu", backend="torch")
    assert [r["backbone"] for r in onnx.bundle.manifest["regions"]] == [0, 1]
    image, contour = bmode_case(seed=5)
    a, b = onnx.predict(image, contour, sensitivity=False), ref.predict(image, contour, sensitivity=False)
    assert [r.name for r in a.regions] == ["intratumoral", "ring_5mm"]
    assert abs(a.probability - b.probability) <= 1e-4


def _blob_case(seed: int, bx: float, by: float):
    image, contour = bmode_case(seed=seed, radius_mm=7.0)
    display = np.array(image.display)
    cv2.circle(display, (round(bx), round(by)), 14, (250, 250, 250), -1)  # 1.4 mm bright blob
    return with_pixels(image, display), contour


def test_cam_shape_and_location(tmp_path: Path) -> None:
    """A bright blob planted in the tumour dominates the tumour's activation map.

    With random weights no head "means" anything, so the intratumoral head is constructed as a matched
    filter for a bright blob: the mean change in the last feature vector when a blob is added at three
    reference positions (same image with and without the blob, so tumour shape and position cancel).
    The test then plants a blob at positions never used for the head, on other speckle, and checks
    that the CAM — computed by the predictor from ONNX feature maps and mapped back onto the image —
    peaks on it. This exercises the exact-CAM maths and the crop→image mapping, not learned content.
    """
    import torch

    from dlrs_desktop.model.network import FusionNet
    from dlrs_desktop.model.preprocess import PreprocessSpec
    from tests.model_factory import make_bundle

    spec = PreprocessSpec(input_size=224, crop="fit")
    torch.manual_seed(0)  # the same backbone make_bundle(seed=0) will write
    net = FusionNet("resnet18", 4).eval()
    s = spec.input_size

    def cell_feature(image, contour, bx, by):
        x, info = prepare_inputs(image, contour, spec)
        with torch.no_grad():
            _, f = net.forward_with_features(torch.from_numpy(x[None]))
        f = f[0, 0].numpy()
        u, v = cv2.invertAffineTransform(info.crops[0].matrix) @ np.array([bx, by, 1.0])
        h = f.shape[-1]
        return f[:, int(v * h / s), int(u * h / s)]

    cx, cy = 220, 180
    diffs = []
    for k, (dx, dy) in enumerate([(-35, -25), (30, -5), (-20, 20)]):
        plain = bmode_case(seed=10 + k, radius_mm=7.0)
        blob = _blob_case(10 + k, cx + dx, cy + dy)
        diffs.append(cell_feature(*blob, cx + dx, cy + dy) - cell_feature(*plain, cx + dx, cy + dy))
    w = np.mean(diffs, axis=0)
    heads = np.zeros((4, 512), np.float32)
    heads[0] = w / np.linalg.norm(w)
    predictor = Predictor(
        make_bundle(tmp_path / "cam", input_size=224, spec_overrides={"crop": "fit"}, head_weight=heads),
        device="cpu",
    )
    for seed, (dx, dy) in [(2, (35, 25)), (3, (-10, 30)), (4, (40, -20))]:
        bx, by = cx + dx, cy + dy
        image, contour = _blob_case(seed, bx, by)
        p = predictor.predict(image, contour, sensitivity=False, cam=True)
        assert [c.name for c in p.cams] == [r.name for r in p.regions]
        tumour = p.cams[0]
        x0, y0, x1, y1 = tumour.bbox
        assert tumour.values.shape == (y1 - y0, x1 - x0) == tumour.mask.shape
        assert np.array_equal(tumour.mask, contour.to_mask(image.shape)[y0:y1, x0:x1])
        px, py = tumour.peak_xy()
        assert np.hypot(px - bx, py - by) * 0.1 <= 3.0, (px, py, bx, by)  # within 3 mm of the blob
        mirror = (round(2 * cx - bx) - x0, round(2 * cy - by) - y0)
        assert tumour.values[by - y0, bx - x0] > tumour.values[mirror[1], mirror[0]]
        full = tumour.full(image.shape)
        assert full.shape == image.shape and np.isnan(full[0, 0])


def test_cpu_path_never_imports_torch(bundle_dir: Path) -> None:
    code = (
        "import sys\n"
        "from tests.model_factory import bmode_case\n"
        "from dlrs_desktop.model import Predictor\n"
        f"p = Predictor({str(bundle_dir)!r}, device='auto')\n"
        "image, contour = bmode_case(seed=1)\n"
        "r = p.predict(image, contour, cam=True)\n"
        "print(r.backend, r.device, 'torch' in sys.modules, 'torchvision' in sys.modules)\n"
    )
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr
    if gpu_hint() is None:
        assert out.stdout.split() == ["onnxruntime", "cpu", "False", "False"]
    else:  # a GPU machine legitimately uses torch for "auto"
        assert out.stdout.split()[0] in ("torch", "onnxruntime")


def test_thread_safe(cpu: Predictor, case) -> None:
    image, contour = case
    want = cpu.predict(image, contour, sensitivity=False).probability
    got: list[float] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(2):
                got.append(cpu.predict(image, contour, sensitivity=False).probability)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 8
    assert max(abs(g - want) for g in got) <= 1e-6


@pytest.mark.skipif(gpu_hint() is not None, reason="this machine has a GPU")
def test_gpu_request_without_gpu_runs_on_cpu_and_says_so(bundle_dir: Path, case) -> None:
    p = Predictor(bundle_dir, device="gpu").predict(*case, sensitivity=False)
    assert p.device == "cpu" and "GPU" in (p.device_note or "")


@pytest.mark.gpu
def test_cuda_matches_cpu(bundle_dir: Path, cpu: Predictor, case) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    gpu = Predictor(bundle_dir, device="gpu")
    assert gpu.device.startswith("cuda") and gpu.backend == "torch"
    a = gpu.predict(*case, sensitivity=False)
    b = cpu.predict(*case, sensitivity=False)
    assert abs(a.probability - b.probability) <= 1e-3 and a.device_note is None


def test_distance_channel_bundle_runs_end_to_end(tmp_path: Path) -> None:
    """A bundle declaring the distance channel: 2-channel ONNX input, both backends agree, the
    channel is the outline's signed distance and moving the contour changes the answer."""
    from dlrs_desktop.roi import Contour

    path = cached_bundle(input_size=64, spec_overrides={"distance_channel": True})
    onnx, ref = Predictor(path, device="cpu"), Predictor(path, device="cpu", backend="torch")
    assert onnx.bundle.spec.in_channels == 2
    assert onnx.bundle.manifest["onnx"]["input"]["shape"][2] == 2
    image, contour = bmode_case(seed=5)
    a = onnx.predict(image, contour, sensitivity=False)
    b = ref.predict(image, contour, sensitivity=False)
    assert abs(a.probability - b.probability) <= 1e-4
    x, info = prepare_inputs(image, contour, onnx.bundle.spec)
    assert x.shape == (4, 2, 64, 64)
    for r, crop in enumerate(info.crops):
        d_mm = x[r, 1] * 10.0
        assert np.array_equal(x[r, 1], x[0, 1]) or crop.grown  # one field of view: one distance map
        if r:  # a ring's pixels lie between the outline and the ring radius (± one crop pixel)
            ring = d_mm[crop.mask]
            radius = float(crop.name.removeprefix("ring_").removesuffix("mm"))
            assert ring.min() > -crop.out_mm_per_px and ring.max() < radius + crop.out_mm_per_px
    # the tumour pixels are the negative ones (the outline's interior), up to rasterisation
    inside = x[0, 1] < 0
    iou = (inside & info.crops[0].mask).sum() / (inside | info.crops[0].mask).sum()
    assert iou > 0.85
    shifted = Contour(np.asarray(contour.points) + np.array([6.0, 0.0]), calibration=contour.calibration)
    assert onnx.predict(image, shifted, sensitivity=False).probability != a.probability


def test_ensemble_of_is_the_mean_of_standardised_members() -> None:
    """`ensemble_of` (how `dlrs train` ships the final and fold networks) gives exactly the mean of
    each member's logits standardised with its own mean and SD, and its CAM stays exact."""
    import torch

    from dlrs_desktop.model.network import FusionNet, ensemble_of

    torch.manual_seed(3)
    nets = [FusionNet("resnet18", n_regions=4).eval() for _ in range(3)]
    for n in nets:
        with torch.no_grad():
            n.head.weight.normal_(0.0, 0.05)
            n.head.bias.normal_(0.0, 1.0)
    mean = np.array([[0.5, -1, 0, 2], [0, 0, 0, 0], [3, 1, -2, 0.1]])
    sd = np.array([[1, 2, 0.5, 1], [4, 1, 1, 1], [0.2, 1, 3, 1]])
    ens = ensemble_of(nets, mean, sd)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(5, 4, 1, 64, 64)).astype(np.float32))
    with torch.no_grad():
        want = np.mean([(n(x).double().numpy() - mean[i]) / sd[i] for i, n in enumerate(nets)], axis=0)
        got, feats = ens.forward_with_features(x)
        cam = ens.cam(feats)
    assert np.abs(got.numpy() - want).max() < 1e-4
    assert np.abs(cam.mean(dim=(-2, -1)).numpy() - got.numpy()).max() < 1e-4
    assert ens.config()["members"] == 3 and FusionNet.from_config(ens.config()).feature_dim == 3 * 512
    assert "members" not in nets[0].config()  # single-network bundles keep the old architecture block
    with pytest.raises(ValueError, match="positive SDs"):
        ensemble_of(nets, mean, sd * 0)


def test_ensemble_bundle_runs_on_both_backends() -> None:
    """An ensemble bundle (three members) through the real writer: the architecture block says so,
    ONNX and torch agree on probability and CAM, and the ONNX CAM's mean is its region logit."""
    path = cached_bundle(input_size=64, members=3)
    onnx, ref = Predictor(path, device="cpu"), Predictor(path, device="cpu", backend="torch")
    arch = onnx.bundle.manifest["architecture"]
    assert arch["members"] == 3 and arch["feature_dim"] == 3 * 512
    image, contour = bmode_case(seed=7)
    a = onnx.predict(image, contour, sensitivity=False, cam=True)
    b = ref.predict(image, contour, sensitivity=False, cam=True)
    assert abs(a.probability - b.probability) <= 1e-4
    for ca, cb in zip(a.cams, b.cams, strict=True):
        assert np.nanmax(np.abs(ca.values - cb.values)) <= 1e-3
    x, _ = prepare_inputs(image, contour, onnx.bundle.spec)
    logits, feats = onnx.run_crops(x[None], features=True)
    w, bias = onnx.bundle.head_arrays()
    cam = np.einsum("rkhw,rk->rhw", feats[0], w) + bias[:, None, None]
    assert np.allclose(cam.mean(axis=(1, 2)), logits[0], atol=1e-4)
