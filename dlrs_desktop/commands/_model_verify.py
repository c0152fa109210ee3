"""`dlrs model verify`: everything that can be checked about a bundle before anyone relies on it.

Both bundle kinds (fusion model, contour assist): schema and every file's sha256 (as at load), the
signature (bundle_signature.py), that the ONNX graph runs and gives finite, input-dependent outputs on
built-in probe images, and that the ONNX reproduces the network held in the safetensors on those
probes (a swapped ONNX, NaN weights). Exit 0 when sound; 3 with one line saying what is wrong.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import numpy as np

from dlrs_desktop.commands._trust import policy_from_args
from dlrs_desktop.errors import DlrsError, ModelError
from dlrs_desktop.imaging import Calibration, image_from_array

if TYPE_CHECKING:
    from dlrs_desktop.model.bundle import Bundle

PARITY_TOLERANCE = 1e-3  # relative to the largest logit; the export itself is checked to this


def _parity_error(got: np.ndarray, want: np.ndarray, what: str) -> None:
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        raise ModelError(f"The {what} gives non-finite outputs on the built-in probe (broken weights).")
    err = float(np.max(np.abs(got - want)))
    if not err <= PARITY_TOLERANCE * max(1.0, float(np.max(np.abs(want)))):
        raise ModelError(
            f"The ONNX graph does not reproduce the safetensors network on the built-in probe (max "
            f"logit difference {err:.2e}): the ONNX or the weights were replaced."
        )


def _torch_or_none() -> Any:
    try:
        # lazy: torch (3 s) is optional ([train]/[gpu]); its absence only skips the parity check
        import torch
    except ImportError:
        return None
    return torch


def fusion_parity(bundle: Any) -> str:
    """Region logits of ONNX Runtime vs the torch network built from the safetensors, on both probes."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.predictor import Predictor

    if _torch_or_none() is None:
        return "ONNX-vs-safetensors parity not checked (needs torch: the [train] or [gpu] extra)"
    onnx = Predictor(bundle, device="cpu", backend="onnx", precision="float")
    ref = Predictor(bundle, device="cpu", backend="torch")
    for seed, radius in ((1, 90.0), (2, 60.0)):
        image, contour = _probe_case(seed, radius)
        got = onnx.predict(image, contour, sensitivity=False)  # type: ignore[arg-type]
        want = ref.predict(image, contour, sensitivity=False)  # type: ignore[arg-type]
        _parity_error(
            np.array([r.logit for r in got.regions]), np.array([r.logit for r in want.regions]), "model"
        )
    return "ONNX reproduces the safetensors network on the probes"


def _assist_inputs(channels: int) -> np.ndarray:
    """Two box probes; for a graph that takes corrective clicks, the second carries an include and an
    exclude point, so those channels are exercised too."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.roi import assist_prompt as ap

    xs = []
    for seed, radius in ((1, 90.0), (2, 60.0)):
        image, _ = _probe_case(seed, radius)
        box = (240 - 1.1 * radius, 200 - 0.8 * radius, 240 + 1.1 * radius, 200 + 0.8 * radius)
        clicks: dict = {}
        if seed == 2 and channels == ap.CORRECTION_CHANNELS:
            clicks = {"include": [(240.0, 200.0)], "exclude": [(box[0], box[1])]}
        frame = ap.box_frame(box)  # type: ignore[attr-defined]
        xs.append(ap.make_input(image.gray, frame, box=box, channels=channels, **clicks))  # type: ignore[attr-defined]
    return np.stack(xs).astype(np.float32)


def verify_assist(bundle: Any) -> str:
    """The assist's ONNX runs on two probe crops (finite, input-dependent) and matches its safetensors."""
    # lazy: onnxruntime (0.3 s) only when a bundle is verified
    import onnxruntime as ort

    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.roi.assist_prompt import graph_channels

    try:
        sess = ort.InferenceSession(bundle.onnx_bytes, providers=["CPUExecutionProvider"])
        x = _assist_inputs(graph_channels(sess.get_inputs()[0].shape))
        got = sess.run(None, {bundle.manifest["onnx"].get("input", "input"): x})[0]
    except Exception as exc:  # onnxruntime raises its own types for a bad graph or input name
        raise ModelError(f"The contour-assist ONNX graph does not run ({type(exc).__name__}).") from None
    if got.shape[:1] != (2,) or not np.all(np.isfinite(got)):
        raise ModelError("The contour-assist ONNX graph gives no finite outline map on the built-in probe.")
    if np.allclose(got[0], got[1], rtol=0, atol=1e-6):
        raise ModelError("The contour-assist model gives the same output for two different probes.")
    torch = _torch_or_none()
    if torch is None:
        return "ONNX runs (parity with the safetensors not checked: needs torch)"
    # lazy: torch-backed loaders, only when torch is installed (checked above)
    from safetensors.torch import load as st_load

    # lazy: the network definition imports torch
    from dlrs_desktop.training.assist_net import AssistUNet

    arch = bundle.manifest.get("architecture", {})
    try:
        net = AssistUNet(tuple(arch.get("widths", ())), in_channels=x.shape[1])
        net.load_state_dict(st_load(bundle.files[arch["weights_file"]]))
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise ModelError(f"The contour-assist weights do not fit its architecture ({exc}).") from None
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    _parity_error(got, want, "contour-assist model")
    return "ONNX reproduces the safetensors network on the probes"


def run_verify(args: argparse.Namespace) -> int:
    # lazy: cryptography and the bundle loaders only when `dlrs model verify` runs
    from dlrs_desktop import bundle_signature as signing
    from dlrs_desktop.model.signing import load_any
    from dlrs_desktop.roi.assist_bundle import AssistBundle

    policy = policy_from_args(args)
    bundle = load_any(getattr(args, "model", None) or args.dir)
    status = signing.status_of(bundle, policy.keys)
    if status.state == "invalid":  # changed after signing: an integrity failure whatever is allowed
        raise ModelError(f"The bundle's signature does not match its content: {status.reason}.")
    signing.admit(status, policy)
    if isinstance(bundle, AssistBundle):
        detail = verify_assist(bundle)
        head = f"OK: contour assist {bundle.label}"
    else:
        _check_onnx(bundle)
        probs = _probe(bundle, "float")
        detail = f"probes give finite input-dependent outputs (p = {probs[0]:.3f} / {probs[1]:.3f}); "
        if bundle.manifest.get("onnx_int8"):
            q = _probe(bundle, "int8")
            detail += f"its int8 model too (p = {q[0]:.3f} / {q[1]:.3f}); "
        detail += fusion_parity(bundle)
        head = f"OK: {bundle.id} {bundle.version}"
    n = len(bundle.manifest["files"])
    print(
        f"{head} — {status.describe()}; schema v{bundle.manifest['schema_version']}, {n} files match "
        f"their sha256, {detail}; manifest sha256 {bundle.manifest_sha256}"
    )
    return 0


def _probe_case(seed: int, radius_px: float) -> tuple[object, object]:
    """A synthetic B-mode frame (speckle, one dark lesion) at 0.1 mm/px and the lesion's outline."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.roi import Contour

    rng = np.random.default_rng(seed)
    h, w = 400, 480
    img = np.clip(rng.rayleigh(50.0, (h, w)) + 30, 0, 255)
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((xx - 240) / radius_px) ** 2 + ((yy - 200) / (0.7 * radius_px)) ** 2 <= 1
    img[inside] *= 0.35 + 0.2 * rng.random()
    t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    pts = np.column_stack([240 + radius_px * np.cos(t), 200 + 0.7 * radius_px * np.sin(t)])
    image = image_from_array(img.astype(np.uint8), calibration=Calibration.manual(0.1), path="<probe>")
    return image, Contour(pts)


def _probe(bundle: Bundle, precision: str) -> tuple[float, float]:
    """Run the full pipeline on two different built-in probes: finite outputs that depend on the input.

    Checks what sha256 cannot: a bundle whose files are intact but whose numbers are broken (weights
    scaled to infinity or to zero, a manifest mean of 1e308) gives NaN or the same answer for anything.
    """
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.predictor import Predictor

    predictor = Predictor(bundle, device="cpu", precision=precision)
    results = []
    for seed, radius in ((1, 90.0), (2, 60.0)):
        image, contour = _probe_case(seed, radius)
        try:
            results.append(predictor.predict(image, contour, sensitivity=False))  # type: ignore[arg-type]
        except ModelError:
            raise
        except DlrsError as exc:
            raise ModelError(f"The model refuses its built-in probe image ({exc}).") from None
    z = np.array([[r.logit for r in res.regions] for res in results])
    if np.allclose(z[0], z[1], rtol=0, atol=1e-6):
        raise ModelError(
            "The model gives the same outputs for two different probe images: its weights are broken "
            "(constant outputs)."
        )
    return results[0].probability, results[1].probability


def _check_onnx(bundle: Bundle) -> None:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.predictor import _OrtBackend

    backend = _OrtBackend(bundle.onnx_bytes, threads=1)
    inp = backend.session.get_inputs()[0]
    spec = bundle.spec
    want = [len(spec.regions), spec.in_channels, spec.input_size, spec.input_size]
    if inp.name != "crops" or list(inp.shape[1:]) != want:
        raise ModelError(
            f"The ONNX graph's input {inp.name} {inp.shape} does not match the manifest ({want})."
        )
    x = np.zeros((1, *want), np.float32)
    logits, _ = backend.run(x, features=False)
    if logits.shape != (1, len(spec.regions)) or not np.all(np.isfinite(logits)):
        raise ModelError("The ONNX graph does not give one finite logit per region.")
