"""`dlrs model info|verify [DIR]`: the model card, and an integrity check of a bundle
(`set-outcome --model DIR`: declare what a trained bundle predicts, commands/_outcome.py).

`verify` checks what the predictor checks at load (schema, every file's size and sha256, weight
files are safetensors) and also that ONNX Runtime accepts the graph with the declared input.
Exit 0 when sound, 3 with one line saying what is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlrs_desktop.model.bundle import Bundle

HELP = "show the model card of a model bundle, or verify its integrity"


def register(parser: argparse.ArgumentParser) -> None:
    from dlrs_desktop.commands._model_reference import register_add_reference
    from dlrs_desktop.commands._outcome import register_set_outcome
    from dlrs_desktop.commands._trust import add_trust_arguments

    sub = parser.add_subparsers(
        dest="model_command", metavar="info|verify|sign|keygen|add-reference|set-outcome", required=True
    )
    info = sub.add_parser("info", help="print the model card (intended use, training data, metrics, files)")
    info.add_argument(
        "dir", nargs="?", metavar="DIR", help="bundle folder or zip (default: the bundled model)"
    )
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    verify = sub.add_parser(
        "verify",
        help="check schema, sha256 of every file, that the ONNX graph loads and gives finite, "
        "input-dependent outputs on a built-in probe",
    )
    verify.add_argument(
        "dir", nargs="?", metavar="DIR", help="bundle folder or zip (default: the bundled model)"
    )
    verify.add_argument("--model", metavar="DIR", help="the same as DIR")
    add_trust_arguments(verify)
    sign = sub.add_parser("sign", help="sign a bundle folder (model or contour assist) with an Ed25519 key")
    sign.add_argument("--model", required=True, metavar="DIR", help="the bundle folder to sign")
    sign.add_argument("--key", required=True, metavar="KEYFILE", help="the private key (PEM, Ed25519)")
    keygen = sub.add_parser("keygen", help="make a signing key (KEYFILE) and its public key (KEYFILE.pub)")
    keygen.add_argument("--key", required=True, metavar="KEYFILE", help="where to write the private key")
    register_add_reference(sub)
    register_set_outcome(sub)


def run(args: argparse.Namespace) -> int:
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.card import render_model_card

    if args.model_command == "add-reference":
        from dlrs_desktop.commands._model_reference import run_add_reference

        return run_add_reference(args)
    if args.model_command == "set-outcome":
        from dlrs_desktop.commands._outcome import run_set_outcome

        return run_set_outcome(args)
    if args.model_command in ("verify", "sign", "keygen"):
        return _run_signing(args)
    bundle = load_bundle(args.dir)
    if args.model_command == "info":
        if args.json:
            json.dump(bundle.manifest, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(render_model_card(bundle.manifest))
            print(f"\nBundle: {bundle.source}\nManifest sha256: {bundle.manifest_sha256}")
        return 0
    return 0


def _run_signing(args: argparse.Namespace) -> int:
    from dlrs_desktop import bundle_signature as signing

    if args.model_command == "verify":
        from dlrs_desktop.commands._model_verify import run_verify

        return run_verify(args)
    if args.model_command == "keygen":
        key, pub = signing.generate_key(args.key)
        print(f"private key {key} (keep it secret, off the repository); public key {pub}")
        return 0
    from dlrs_desktop.model.signing import sign_folder

    status = sign_folder(args.model, args.key)
    print(f"signed {args.model}: {status.describe()}")
    return 0


def _probe_case(seed: int, radius_px: float) -> tuple[object, object]:
    """A synthetic B-mode frame (speckle, one dark lesion) at 0.1 mm/px and the lesion's outline."""
    import numpy as np

    from dlrs_desktop.imaging import Calibration, image_from_array
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


def _probe(bundle: Bundle) -> tuple[float, float]:
    """Run the full pipeline on two different built-in probes: finite outputs that depend on the input.

    Checks what sha256 cannot: a bundle whose files are intact but whose numbers are broken (weights
    scaled to infinity or to zero, a manifest mean of 1e308) gives NaN or the same answer for anything.
    """
    import numpy as np

    from dlrs_desktop.errors import DlrsError, ModelError
    from dlrs_desktop.model.predictor import Predictor

    predictor = Predictor(bundle, device="cpu")
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
    import numpy as np

    from dlrs_desktop.errors import ModelError
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
