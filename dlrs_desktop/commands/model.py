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

from dlrs_desktop.commands._model_centre_sets import register_centre_sets
from dlrs_desktop.commands._model_quantize import register_quantize
from dlrs_desktop.commands._model_reference import register_add_reference
from dlrs_desktop.commands._model_verify import run_verify
from dlrs_desktop.commands._outcome import register_set_outcome
from dlrs_desktop.commands._trust import add_trust_arguments

if TYPE_CHECKING:
    pass

HELP = "show the model card of a model bundle, or verify its integrity"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(
        dest="model_command",
        metavar="info|verify|sign|keygen|add-reference|quantize|set-outcome",
        required=True,
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
    register_centre_sets(sub)
    register_quantize(sub)
    register_set_outcome(sub)


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.card import render_model_card

    if args.model_command == "add-reference":
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.commands._model_reference import run_add_reference

        return run_add_reference(args)
    if args.model_command == "centre-sets":
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.commands._model_centre_sets import run_centre_sets

        return run_centre_sets(args)
    if args.model_command == "quantize":
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.commands._model_quantize import run_quantize

        return run_quantize(args)
    if args.model_command == "set-outcome":
        # lazy: `dlrs --help` imports every command; the core loads when it runs
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
    # lazy: cryptography only when a bundle is signed or verified
    from dlrs_desktop import bundle_signature as signing

    if args.model_command == "verify":
        return run_verify(args)
    if args.model_command == "keygen":
        key, pub = signing.generate_key(args.key)
        print(f"private key {key} (keep it secret, off the repository); public key {pub}")
        return 0
    # lazy: the bundle loaders (onnxruntime) only when a bundle is signed
    from dlrs_desktop.model.signing import sign_folder

    status = sign_folder(args.model, args.key)
    print(f"signed {args.model}: {status.describe()}")
    return 0
