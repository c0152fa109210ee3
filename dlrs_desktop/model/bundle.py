"""Model bundles: a folder (or the same content as one zip) of `manifest.json` + safetensors + ONNX.

Safe by construction: nothing is unpickled (a `.pt/.pth/.ckpt/.pkl` file is refused), every file
is listed in the manifest with its sha256 and checked before any byte of it is used, and the bytes
that were checked are the bytes that are used (no second read of the file).

`load_bundle` needs numpy only; writing a bundle (training, tests: torch) is `bundle_write.py`.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlrs_desktop import bundle_files as bf
from dlrs_desktop.errors import ModelError
from dlrs_desktop.limits import MAX_BUNDLE_FILE_BYTES, MAX_MANIFEST_BYTES
from dlrs_desktop.model import bundle_text as T
from dlrs_desktop.model.domain import parse_reference
from dlrs_desktop.model.manifest import (
    Stacking,
    manifest_is_demo,
    parse_radiomics,
    validate_manifest,
)
from dlrs_desktop.model.outcome import Outcome
from dlrs_desktop.model.preprocess import PreprocessSpec
from dlrs_desktop.model.radiomics import Radiomics
from dlrs_desktop.paths import bundled_model_dir

if TYPE_CHECKING:
    pass

MANIFEST = "manifest.json"
BACKBONE_FILE = "backbone.safetensors"
HEADS_FILE = "heads.safetensors"
ONNX_FILE = "model.onnx"
CARD_FILE = "MODEL_CARD.md"
SIGNATURE_FILE = "signature.json"  # bundle_signature.py; not listed in the manifest (it signs the manifest)
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".joblib", ".npy", ".npz")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _refuse_pickle(name: str) -> None:
    if name.lower().endswith(PICKLE_SUFFIXES):
        raise ModelError.of(T.PICKLE, name=name)


@dataclass(frozen=True, eq=False)
class Bundle:
    """A verified bundle: manifest, parsed spec/stacking, and the checked bytes of every file."""

    source: str
    manifest: dict[str, Any]
    manifest_sha256: str  # the bundle's identity: it pins the sha256 of every other file
    spec: PreprocessSpec
    stacking: Stacking
    files: Mapping[str, bytes]
    radiomics: Radiomics | None = None  # radiomics signatures stacked after the region logits
    domain: Any = None  # model.domain.DomainReference | None (docs/DOMAIN_GUARD.md)
    trust_note: str = ""  # "unsigned model …" when no trusted key signed it (bundle_signature.py)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The stacking's inputs in order: region logits, then signature logits."""
        return self.region_names + (self.radiomics.names if self.radiomics else ())

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r["name"] for r in self.manifest["regions"])

    @property
    def architecture(self) -> dict[str, Any]:
        return dict(self.manifest["architecture"])

    @property
    def is_synthetic(self) -> bool:
        return str(self.manifest["training_data"].get("kind", "")).lower() != "real"

    @property
    def body_part(self) -> str | None:
        """The DICOM body part the training images show (e.g. BREAST); None in bundles written before
        the field existed: the DICOM header's body part is then not checked (model/anatomy.py)."""
        value = self.manifest["training_data"].get("body_part")
        return str(value) if value is not None else None

    @property
    def tumour_area_range_mm2(self) -> tuple[float, float] | None:
        rng = self.manifest["training_data"].get("tumour_area_mm2_range")
        return (float(rng[0]), float(rng[1])) if rng else None

    def read(self, name: str) -> bytes:
        try:
            return self.files[name]
        except KeyError:
            raise ModelError.of(T.NO_FILE, name=name) from None

    @property
    def onnx_bytes(self) -> bytes:
        return self.read(self.manifest["onnx"]["file"])

    def weights_bytes(self) -> tuple[bytes, bytes]:
        """(backbone safetensors, heads safetensors)."""
        return self.read(self.manifest["architecture"]["weights_file"]), self.read(
            self.manifest["heads"]["weights_file"]
        )

    def head_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-region head weights (R, K) and biases (R,) as float32 numpy (no torch needed)."""
        # lazy: safetensors (~0.15 s) only when a bundle is read
        from safetensors.numpy import load as np_load

        heads = self.manifest["heads"]
        tensors = np_load(self.read(heads["weights_file"]))
        try:
            w, b = tensors[heads["weight_tensor"]], tensors[heads["bias_tensor"]]
        except KeyError as exc:
            raise ModelError.of(T.HEADS_TENSOR, tensor=str(exc)) from None
        r, k = len(self.region_names), int(self.manifest["architecture"]["feature_dim"])
        if w.shape != (r, k) or b.shape != (r,):
            raise ModelError.of(T.HEADS_SHAPES, w=w.shape, b=b.shape, r=r, k=k)
        return w.astype(np.float32), b.astype(np.float32)

    @property
    def outcome(self) -> Outcome:
        """What the probability is of, in the bundle's own words (model/outcome.py)."""
        return Outcome.from_manifest(self.manifest)

    @property
    def is_demo(self) -> bool:
        return manifest_is_demo(self.manifest)

    @property
    def research_notice(self) -> str:
        kind = "synthetic data" if self.is_synthetic else "real patient data"
        what = "demonstration model" if self.is_demo else "model"
        note = f"; {self.trust_note}" if self.trust_note else ""
        return f"Research use only — {what} {self.id} {self.version}, trained on {kind}{note}."


# --- reading ----------------------------------------------------------------------------------
def _read_folder(root: Path) -> tuple[bytes, dict[str, bytes]]:
    for p in root.rglob("*"):
        if p.is_file():
            _refuse_pickle(p.name)
    if not (root / MANIFEST).is_file():
        raise ModelError.of(T.NO_MANIFEST, root=str(root), manifest=MANIFEST)
    raw = bf.folder_file(root, MANIFEST, MAX_MANIFEST_BYTES)
    m = _parse_manifest(raw)
    data: dict[str, bytes] = {}
    for name in m["files"]:
        _refuse_pickle(name)
        data[name] = bf.folder_file(root, name, MAX_BUNDLE_FILE_BYTES)
        bf.check_total([len(v) for v in data.values()])
    return raw, data


def _read_zip(path: Path) -> tuple[bytes, dict[str, bytes]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelError.of(T.ZIP_UNREADABLE, name=path.name, detail=str(exc)) from None
    with zf:
        infos = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        for name in infos:
            _refuse_pickle(name)
            if bf.unsafe_member(name):
                raise ModelError.of(T.ZIP_UNSAFE_PATH, name=path.name, path=repr(name))
        # Accept the bundle at the zip root or inside one top-level folder.
        prefix = ""
        if MANIFEST not in infos:
            cands = [n for n in infos if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            if len(cands) != 1:
                raise ModelError.of(T.NO_MANIFEST, root=path.name, manifest=MANIFEST)
            prefix = cands[0][: -len(MANIFEST)]
        raw = bf.zip_member(zf, infos[prefix + MANIFEST], MAX_MANIFEST_BYTES)
        m = _parse_manifest(raw)
        bf.check_total([infos[prefix + n].file_size for n in m["files"] if prefix + n in infos])
        data: dict[str, bytes] = {}
        for name in m["files"]:
            info = infos.get(prefix + name)
            if info is None:
                raise ModelError.of(T.LISTED_MISSING, name=name)
            data[name] = bf.zip_member(zf, info, MAX_BUNDLE_FILE_BYTES)
    return raw, data


def _parse_manifest(raw: bytes) -> dict[str, Any]:
    m = bf.manifest_json(raw)
    validate_manifest(m)
    return m  # type: ignore[return-value]


def _check_safetensors(name: str, data: bytes) -> None:
    """A weights file must be safetensors: 8-byte header length + JSON header (no code, no pickle)."""
    bf.check_safetensors(name, data)


def load_bundle(path: str | os.PathLike[str] | None = None) -> Bundle:
    """Open and verify a bundle (folder, its manifest.json, or a zip); default: the bundled model.

    Checks the schema and the sha256 and size of every listed file before anything is used.
    """
    if path is None:
        root = bundled_model_dir()
        if not root.exists():
            raise ModelError.of(T.DEMO_NOT_INSTALLED, root=str(root))
    else:
        root = Path(path)
    if not root.exists():
        raise ModelError.of(T.NOTHING_THERE, root=str(root))
    if root.is_file():
        _refuse_pickle(root.name)
        if root.name == MANIFEST:
            root = root.parent
        elif zipfile.is_zipfile(root):
            raw, data = _read_zip(root)
            return _verify(str(root), raw, data)
        else:
            raise ModelError.of(T.NOT_FOLDER_OR_ZIP, name=root.name)
    raw, data = _read_folder(root)
    return _verify(str(root), raw, data)


def _verify(source: str, raw: bytes, data: dict[str, bytes]) -> Bundle:
    m = _parse_manifest(raw)
    for name, entry in m["files"].items():
        blob = data[name]
        bf.check_listed(name, blob, entry, bf.MODEL_BUNDLE)
        if entry["role"] == "weights":
            _check_safetensors(name, blob)
        elif entry["role"] == "onnx":
            bf.check_onnx(blob)
    spec = PreprocessSpec.from_dict(m["preprocessing"], m["regions"])
    radiomics = parse_radiomics(m)
    stacking = Stacking.from_dict(
        m["stacking"], len(m["regions"]), len(radiomics.signatures) if radiomics else 0
    )

    domain = parse_reference(m, data)
    return Bundle(source, m, sha256_bytes(raw), spec, stacking, dict(data), radiomics, domain)
