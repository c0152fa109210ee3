"""Signing and verifying a bundle of either kind (fusion model or contour assist) from its folder.

The signature itself (keys, `signature.json`, trust) is `dlrs_desktop.bundle_signature`; this module adds
what needs the bundle loaders: telling the two kinds apart and signing a verified folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dlrs_desktop import bundle_files as bf
from dlrs_desktop.bundle_signature import (
    SIGNATURE_FILE,
    SignatureStatus,
    TrustedKey,
    load_private_key,
    public_raw,
    release_keys,
    signature_bytes,
    status_of,
)
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.limits import MAX_MANIFEST_BYTES
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.roi.assist_bundle import SCHEMA as ASSIST_SCHEMA
from dlrs_desktop.roi.assist_bundle import load_assist_bundle


def sign_folder(folder: str | os.PathLike[str], key_path: str | os.PathLike[str]) -> SignatureStatus:
    """Verify a bundle folder (fusion or assist) and write its `signature.json`; weights untouched."""
    key = load_private_key(key_path)
    bundle = load_any(folder)
    name = Path(key_path).stem
    raw = signature_bytes(key, bundle.manifest["schema"], bundle.manifest_sha256, bundle.files, name)
    atomic_write_bytes(Path(bundle.source) / SIGNATURE_FILE, raw)
    own = TrustedKey(name, public_raw(key))
    return status_of(bundle, [*release_keys(), own])


def load_any(path: str | os.PathLike[str] | None) -> Any:
    """A fusion-model or contour-assist bundle, whichever the manifest's schema says."""
    root = Path(path) if path is not None else None
    if root is not None and root.is_file() and root.name == "manifest.json":
        root = root.parent
    if root is not None and root.is_dir() and (root / "manifest.json").is_file():
        with_schema = bf.manifest_json(bf.folder_file(root, "manifest.json", MAX_MANIFEST_BYTES))
        if isinstance(with_schema, dict) and with_schema.get("schema") == ASSIST_SCHEMA:
            return load_assist_bundle(root)
    return load_bundle(root)
