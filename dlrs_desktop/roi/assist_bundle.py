"""The learned assist's bundle: a folder of manifest.json + ONNX + safetensors, sha256-checked (no torch).

Same rules as the fusion model's bundle (`model.bundle`): a pickle-type file anywhere in the
folder is refused, every file the manifest lists is read once, its size and sha256 checked, and the
checked bytes are the bytes used. Anything wrong → `ModelError` with one sentence; the caller then
falls back to the classical assist and says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop import bundle_files as bf
from dlrs_desktop.errors import ModelError
from dlrs_desktop.limits import MAX_MANIFEST_BYTES
from dlrs_desktop.paths import resources_dir
from dlrs_desktop.roi.assist_prompt import SIZE

SCHEMA = "dlrs-assist-bundle"
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "weights.safetensors"
TRAINING_SET_FILE = "training_set.json"
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".joblib", ".npy", ".npz")
MAX_BUNDLE_BYTES = 64 * 1024**2  # the shipped bundle is ~2 MB; refuse anything absurd before reading


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def default_bundle_dir() -> Path:
    return resources_dir() / "models" / "dlrs-assist"


@dataclass(frozen=True, eq=False)
class AssistBundle:
    source: str
    manifest: dict[str, Any]
    manifest_sha256: str
    files: dict[str, bytes]

    @property
    def onnx_bytes(self) -> bytes:
        return self.files[self.manifest["onnx"]["file"]]

    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

    @property
    def label(self) -> str:
        return f"{self.manifest['id']} {self.manifest['version']}"

    def training_set(self) -> dict[str, Any]:
        return json.loads(self.files[TRAINING_SET_FILE].decode("utf-8"))


def _check_manifest(m: Any) -> None:
    if not isinstance(m, dict) or m.get("schema") != SCHEMA:
        raise ModelError(f"{MANIFEST} is not a contour-assist bundle manifest (schema {SCHEMA!r}).")
    if m.get("schema_version") != SCHEMA_VERSION:
        raise ModelError(f"Unsupported contour-assist bundle version {m.get('schema_version')!r}.")
    files = m.get("files")
    if not isinstance(files, dict) or not files:
        raise ModelError(f"{MANIFEST} lists no files.")
    for name, entry in files.items():
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise ModelError(f"{MANIFEST} lists an unsafe file name {name!r}.")
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise ModelError(f"{MANIFEST}: file {name!r} has no sha256.")
    onnx = m.get("onnx")
    if not isinstance(onnx, dict) or onnx.get("file") not in files:
        raise ModelError(f"{MANIFEST} names no ONNX file among its files.")
    t = m.get("threshold")
    if not isinstance(t, int | float) or not 0 < float(t) < 1:
        raise ModelError(f"{MANIFEST}: the threshold must be a number between 0 and 1.")
    size = m.get("input", {}).get("size")
    if size != SIZE:
        raise ModelError(f"The contour-assist bundle expects {size!r}-px crops; this version makes {SIZE}.")


def load_assist_bundle(path: str | Path | None = None) -> AssistBundle:
    """Open and verify the bundle folder (default: the one shipped in resources/models/dlrs-assist)."""
    root = Path(path) if path is not None else default_bundle_dir()
    if root.is_file() and root.name == MANIFEST:
        root = root.parent
    if not (root / MANIFEST).is_file():
        raise ModelError(f"No contour-assist bundle at '{root}' (no {MANIFEST}).")
    total = 0
    for p in root.iterdir():
        if p.name.lower().endswith(PICKLE_SUFFIXES):
            raise ModelError(f"'{p.name}' is a pickle-type file; a contour-assist bundle never holds one.")
        if p.is_file():
            total += p.stat().st_size
    if total > MAX_BUNDLE_BYTES:
        raise ModelError(f"The contour-assist bundle at '{root}' is implausibly large ({total} bytes).")
    # The fusion bundle's file rules (bundle_files): regular files inside the folder, sizes, headers.
    raw = bf.folder_file(root, MANIFEST, MAX_MANIFEST_BYTES)
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{MANIFEST} of the contour-assist bundle is not valid JSON ({exc}).") from None
    _check_manifest(m)
    files: dict[str, bytes] = {}
    for name, entry in m["files"].items():
        if not (root / name).is_file():
            raise ModelError(f"The contour-assist bundle is incomplete: '{name}' is missing.")
        blob = bf.folder_file(root, name, MAX_BUNDLE_BYTES)
        bf.check_listed(name, blob, entry, bf.ASSIST_BUNDLE)
        if entry.get("role") == "weights":
            bf.check_safetensors(name, blob)
        elif entry.get("role") == "onnx":
            bf.check_onnx(blob)
        files[name] = blob
    return AssistBundle(str(root), m, sha256_bytes(raw), files)
