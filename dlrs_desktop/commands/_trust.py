"""`--allow-unsigned` and `--trusted-keys`: the command line's say over which model bundles it uses."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlrs_desktop.bundle_signature import TrustPolicy


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trusted-keys",
        action="append",
        default=[],
        metavar="KEYFILE",
        help="an Ed25519 public key (PEM) whose signed bundles are trusted besides the release key "
        "(repeatable)",
    )
    parser.add_argument(
        "--allow-unsigned",
        action="store_true",
        help='use a bundle that no trusted key signed; every result then says "unsigned model"',
    )


def policy_from_args(args: argparse.Namespace) -> TrustPolicy:
    # lazy: cryptography only when a command loads a bundle
    from dlrs_desktop.bundle_signature import TrustPolicy

    return TrustPolicy.from_files(
        getattr(args, "trusted_keys", None) or (), bool(getattr(args, "allow_unsigned", False))
    )
