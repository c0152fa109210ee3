"""`dlrs model info|verify [DIR]`: the model card, and an integrity check of a bundle.

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
    sub = parser.add_subparsers(dest="model_command", metavar="info|verify", required=True)
    info = sub.add_parser("info", help="print the model card (intended use, training data, metrics, files)")
    info.add_argument(
        "dir", nargs="?", metavar="DIR", help="bundle folder or zip (default: the bundled model)"
    )
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    verify = sub.add_parser(
        "verify", help="check schema, sha256 of every file, and that the ONNX graph loads"
    )
    verify.add_argument(
        "dir", nargs="?", metavar="DIR", help="bundle folder or zip (default: the bundled model)"
    )


def run(args: argparse.Namespace) -> int:
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.card import render_model_card

    bundle = load_bundle(args.dir)
    if args.model_command == "info":
        if args.json:
            json.dump(bundle.manifest, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(render_model_card(bundle.manifest))
            print(f"\nBundle: {bundle.source}\nManifest sha256: {bundle.manifest_sha256}")
        return 0
    _check_onnx(bundle)
    n = len(bundle.manifest["files"])
    print(
        f"OK: {bundle.id} {bundle.version} — schema v{bundle.manifest['schema_version']}, "
        f"{n} files match their sha256, ONNX graph loads; manifest sha256 {bundle.manifest_sha256}"
    )
    return 0


def _check_onnx(bundle: Bundle) -> None:
    import numpy as np

    from dlrs_desktop.errors import ModelError
    from dlrs_desktop.model.predictor import _OrtBackend

    backend = _OrtBackend(bundle.onnx_bytes, threads=1)
    inp = backend.session.get_inputs()[0]
    spec = bundle.spec
    want = [len(spec.regions), spec.channels, spec.input_size, spec.input_size]
    if inp.name != "crops" or list(inp.shape[1:]) != want:
        raise ModelError(
            f"The ONNX graph's input {inp.name} {inp.shape} does not match the manifest ({want})."
        )
    x = np.zeros((1, *want), np.float32)
    logits, _ = backend.run(x, features=False)
    if logits.shape != (1, len(spec.regions)) or not np.all(np.isfinite(logits)):
        raise ModelError("The ONNX graph does not give one finite logit per region.")
