"""Editing the manifest of an existing bundle without retraining: `rewrite_manifest`.

Used by `dlrs model set-outcome` and by anything else that must add or correct metadata of a bundle
that is already trained (its outcome, a training-data reference). Guarantees:

* the bundle is fully verified (as `load_bundle` does) before anything is changed;
* every weight file is written back from the bytes that were verified, so it stays byte-identical;
  the edit may not touch `files` (the sha256 list that pins the weights);
* the edited manifest is re-validated exactly as `load_bundle` validates it, before anything is
  written; MODEL_CARD.md (if the bundle has one) is re-rendered from it and its sha256/size updated;
* the new bundle replaces the old one as a whole (`replace_bundle_folder`): a crash leaves the old
  bundle or the new one, never a card that disagrees with its manifest.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlrs_desktop.errors import ModelError
from dlrs_desktop.limits import MAX_MANIFEST_BYTES
from dlrs_desktop.model.bundle import (
    CARD_FILE,
    MANIFEST,
    Bundle,
    _verify,
    load_bundle,
    sha256_bytes,
)
from dlrs_desktop.model.bundle_write import replace_bundle_folder
from dlrs_desktop.model.card import render_model_card

ManifestUpdate = Callable[[dict[str, Any]], None]


def _bundle_folder(bundle_dir: str | os.PathLike[str]) -> Path:
    root = Path(bundle_dir)
    if root.is_file() and root.name == MANIFEST:
        root = root.parent
    if root.is_symlink() or not root.is_dir():
        raise ModelError(
            f"'{root}' is not a model bundle folder; only a bundle folder can be edited (unpack a "
            "zip first, edit the folder, then zip it again)."
        )
    return root


def render_card_bytes(manifest: dict[str, Any]) -> bytes:
    """MODEL_CARD.md for a manifest, rendered as `write_bundle` renders it (before the file list)."""
    return render_model_card({k: v for k, v in manifest.items() if k != "files"}).encode("utf-8")


def rewrite_manifest(bundle_dir: str | os.PathLike[str], update: ManifestUpdate) -> Bundle:
    """Apply `update` (edits the manifest dict in place) to the bundle folder and return it re-loaded.

    Raises ModelError (nothing changed on disk) when the bundle does not verify, when `update` touches
    `files`, or when the edited manifest would not load.
    """
    return rewrite_with_files(bundle_dir, {}, update)


def rewrite_with_files(
    bundle_dir: str | os.PathLike[str],
    new_files: dict[str, bytes],
    update: ManifestUpdate,
    role: str = "other",
) -> Bundle:
    """Like `rewrite_manifest`, and also add (or replace) data files listed and hashed in `files`.

    Only files with the given `role` may be replaced (never weights, ONNX or the card); every other
    file is written back from its verified bytes. Used by `dlrs model add-reference`.
    """
    root = _bundle_folder(bundle_dir)
    before = load_bundle(root)
    # files the manifest does not list survive the rewrite (`replace_bundle_folder` keeps them)
    manifest = copy.deepcopy(before.manifest)
    blobs = dict(before.files)
    for name, blob in new_files.items():
        old = manifest["files"].get(name)
        if name in (MANIFEST, CARD_FILE) or (old is not None and old.get("role") != role):
            raise ModelError(f"'{name}' is a file of another kind in this bundle; nothing was changed.")
        blobs[name] = blob
        manifest["files"][name] = {"sha256": sha256_bytes(blob), "bytes": len(blob), "role": role}
    pinned = copy.deepcopy(manifest["files"])
    update(manifest)
    if not isinstance(manifest, dict) or manifest.get("files") != pinned:
        raise ModelError(
            "A manifest edit may not change 'files' (the sha256 list that pins the weights); "
            "nothing was changed."
        )
    if CARD_FILE in manifest["files"]:
        card = render_card_bytes(manifest)
        blobs[CARD_FILE] = card
        manifest["files"][CARD_FILE] = {
            **manifest["files"][CARD_FILE],
            "sha256": sha256_bytes(card),
            "bytes": len(card),
        }
    try:
        raw = (json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ModelError(f"The edited manifest is not plain JSON ({exc}); nothing was changed.") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ModelError(f"The edited manifest is over the limit of {MAX_MANIFEST_BYTES:,} bytes.")
    _verify(str(root), raw, blobs)  # the checks `load_bundle` makes, before a byte is written
    replace_bundle_folder(root, {**blobs, MANIFEST: raw})
    after = load_bundle(root)
    for name, entry in before.manifest["files"].items():
        if name not in (CARD_FILE, *new_files) and after.manifest["files"][name] != entry:  # pragma: no cover
            raise ModelError(f"File '{name}' changed while the manifest was rewritten.")
    return after
