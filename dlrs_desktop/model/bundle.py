"""Model bundles: a folder (or the same content as one zip) of `manifest.json` + safetensors + ONNX.

Safe by construction: nothing is unpickled (a `.pt/.pth/.ckpt/.pkl` file is refused), every file
is listed in the manifest with its sha256 and checked before any byte of it is used, and the bytes
that were checked are the bytes that are used (no second read of the file).

`load_bundle` needs numpy only; `write_bundle` (training, tests) imports torch.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import hashlib
import importlib.metadata as md
import io
import json
import os
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlrs_desktop import bundle_files as bf
from dlrs_desktop.errors import DlrsError, ModelError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.limits import MAX_BUNDLE_FILE_BYTES, MAX_MANIFEST_BYTES
from dlrs_desktop.model.card import render_model_card
from dlrs_desktop.model.contents import BundleContents
from dlrs_desktop.model.domain import parse_reference
from dlrs_desktop.model.manifest import (
    SCHEMA,
    SCHEMA_VERSION,
    Stacking,
    manifest_is_demo,
    parse_radiomics,
    validate_manifest,
)
from dlrs_desktop.model.outcome import Outcome
from dlrs_desktop.model.preprocess import PreprocessSpec
from dlrs_desktop.model.radiomics import Radiomics
from dlrs_desktop.paths import bundled_model_dir
from dlrs_desktop.source_revision import source_revision

if TYPE_CHECKING:
    from dlrs_desktop.model.network import FusionNet

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
        raise ModelError(
            f"'{name}' is a pickle-based checkpoint; DLRS Desktop never loads pickle files (they can "
            "run arbitrary code). Export the model as a bundle (safetensors + manifest.json) with the "
            "bundle writer."
        )


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
    def tumour_area_range_mm2(self) -> tuple[float, float] | None:
        rng = self.manifest["training_data"].get("tumour_area_mm2_range")
        return (float(rng[0]), float(rng[1])) if rng else None

    def read(self, name: str) -> bytes:
        try:
            return self.files[name]
        except KeyError:
            raise ModelError(f"The model bundle has no file '{name}'.") from None

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
            raise ModelError(f"The heads file lacks the tensor {exc}.") from None
        r, k = len(self.region_names), int(self.manifest["architecture"]["feature_dim"])
        if w.shape != (r, k) or b.shape != (r,):
            raise ModelError(f"The head tensors have shapes {w.shape}/{b.shape}, expected ({r}, {k})/({r},).")
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
def _missing(name: str) -> str:
    return f"The model bundle is incomplete: file '{name}' listed in the manifest is missing."


def _read_folder(root: Path) -> tuple[bytes, dict[str, bytes]]:
    for p in root.rglob("*"):
        if p.is_file():
            _refuse_pickle(p.name)
    if not (root / MANIFEST).is_file():
        raise ModelError(f"'{root}' is not a model bundle: it has no {MANIFEST}.")
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
        raise ModelError(f"'{path.name}' is not a readable model bundle zip ({exc}).") from None
    with zf:
        infos = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        for name in infos:
            _refuse_pickle(name)
            if bf.unsafe_member(name):
                raise ModelError(f"'{path.name}' holds an unsafe path {name!r}; refusing it.")
        # Accept the bundle at the zip root or inside one top-level folder.
        prefix = ""
        if MANIFEST not in infos:
            cands = [n for n in infos if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            if len(cands) != 1:
                raise ModelError(f"'{path.name}' is not a model bundle: it has no {MANIFEST}.")
            prefix = cands[0][: -len(MANIFEST)]
        raw = bf.zip_member(zf, infos[prefix + MANIFEST], MAX_MANIFEST_BYTES)
        m = _parse_manifest(raw)
        bf.check_total([infos[prefix + n].file_size for n in m["files"] if prefix + n in infos])
        data: dict[str, bytes] = {}
        for name in m["files"]:
            info = infos.get(prefix + name)
            if info is None:
                raise ModelError(_missing(name))
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
            raise ModelError(
                f"The bundled demonstration model is not installed (expected in {root}); "
                "pass a model bundle with --model."
            )
    else:
        root = Path(path)
    if not root.exists():
        raise ModelError(f"No model bundle at '{root}'.")
    if root.is_file():
        _refuse_pickle(root.name)
        if root.name == MANIFEST:
            root = root.parent
        elif zipfile.is_zipfile(root):
            raw, data = _read_zip(root)
            return _verify(str(root), raw, data)
        else:
            raise ModelError(f"'{root.name}' is not a model bundle (expected a folder or a .zip).")
    raw, data = _read_folder(root)
    return _verify(str(root), raw, data)


def _verify(source: str, raw: bytes, data: dict[str, bytes]) -> Bundle:
    m = _parse_manifest(raw)
    for name, entry in m["files"].items():
        blob = data[name]
        if "bytes" in entry and entry["bytes"] != len(blob):
            raise ModelError(
                f"File '{name}' of the model bundle has {len(blob)} bytes, the manifest says "
                f"{entry['bytes']} (modified or truncated); refusing to load."
            )
        if sha256_bytes(blob) != entry["sha256"]:
            raise ModelError(
                f"File '{name}' of the model bundle does not match its sha256 in the manifest "
                "(modified or corrupted); refusing to load."
            )
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


# --- writing ----------------------------------------------------------------------------------
def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("dlrs-desktop", "torch", "torchvision", "onnx", "onnxruntime", "safetensors", "numpy",
                 "opencv-python-headless"):  # fmt: skip
        with contextlib.suppress(md.PackageNotFoundError):
            out[dist] = md.version(dist)

    revision = source_revision(Path(__file__).resolve().parents[1])
    if revision:
        out["dlrs-desktop-source"] = revision
    return out


def write_bundle(
    out_dir: str | os.PathLike[str],
    net: FusionNet,
    contents: BundleContents,
    *,
    zip_path: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    verify_onnx: bool = True,
) -> Path:
    """Write a bundle folder (and optionally a zip of it) from a FusionNet and its `BundleContents`.

    The ONNX export is checked against torch on a random input before the bundle is sealed.
    Files are written into a temporary folder which then replaces `out_dir` (never half a bundle).
    """
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise ModelError(f"'{out}' already exists (pass overwrite=True to replace it).")
    _check_fits(net, contents)
    cpu_net = copy.deepcopy(net).to("cpu").eval()
    blobs, roles = _network_files(cpu_net, contents.spec, verify_onnx)
    for fname, blob in contents.extra_files.items():
        _refuse_pickle(fname)
        if fname in blobs or fname in (MANIFEST, CARD_FILE):
            raise ModelError(f"extra file name '{fname}' is reserved")
        blobs[fname] = blob
        is_report = fname.lower().endswith((".md", ".html", ".txt", ".csv", ".png", ".svg"))
        roles[fname] = "report" if is_report else "other"
    manifest = _new_manifest(cpu_net, contents)
    blobs[CARD_FILE] = render_model_card(manifest).encode("utf-8")
    roles[CARD_FILE] = "model-card"
    manifest["files"] = {
        fname: {"sha256": sha256_bytes(blob), "bytes": len(blob), "role": roles[fname]}
        for fname, blob in sorted(blobs.items())
    }
    validate_manifest(manifest)
    raw = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    replace_bundle_folder(out, {**blobs, MANIFEST: raw})
    if zip_path is not None:
        write_zip(out, zip_path)
    return out


def _check_fits(net: FusionNet, contents: BundleContents) -> None:
    """The network, the spec and the stacking describe the same regions and channels."""
    spec = contents.spec
    if net.n_regions != len(spec.regions):
        raise ModelError(
            f"The network has {net.n_regions} heads but the spec declares {len(spec.regions)} regions."
        )
    n_sig = contents.n_signatures
    stacking = contents.stacking
    if len(stacking.coefficients) != net.n_regions + n_sig or stacking.n_signatures != n_sig:
        raise ModelError("The stacking model needs one coefficient per region and per radiomics signature.")
    if net.in_channels != spec.in_channels:
        raise ModelError(
            f"The network takes {net.in_channels} channel(s), the spec gives {spec.in_channels}."
        )
    if "kind" not in contents.training_data or "description" not in contents.training_data:
        raise ModelError("training_data needs at least 'kind' (synthetic|real) and 'description'.")


def _network_files(
    cpu_net: FusionNet, spec: PreprocessSpec, verify_onnx: bool
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Backbone and head safetensors and the ONNX graph (checked against torch), with their roles."""
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import save as st_save

    # lazy: the network imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
    from dlrs_desktop.model import network as nw

    tensors = nw.state_dict_tensors(cpu_net)
    backbone = {k: v for k, v in tensors.items() if k.startswith("backbones.")}
    heads = {k: v for k, v in tensors.items() if not k.startswith("backbones.")}
    blobs: dict[str, bytes] = {
        BACKBONE_FILE: bf.canonical_safetensors(
            st_save(backbone, metadata={"format": "pt", "content": "FusionNet backbones"})
        ),
        HEADS_FILE: bf.canonical_safetensors(
            st_save(heads, metadata={"format": "pt", "content": "FusionNet region heads"})
        ),
        ONNX_FILE: nw.export_onnx(cpu_net, spec.input_size),
    }
    if verify_onnx:
        _check_onnx_parity(cpu_net, blobs[ONNX_FILE], spec)
    return blobs, {BACKBONE_FILE: "weights", HEADS_FILE: "weights", ONNX_FILE: "onnx"}


def _new_manifest(cpu_net: FusionNet, contents: BundleContents) -> dict[str, Any]:
    """manifest.json of a new bundle, without its `files` block."""
    # lazy: the network imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
    from dlrs_desktop.model import network as nw

    spec = contents.spec
    fields = contents.descriptive_fields()
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        **{k: fields[k] for k in ("id", "name", "version")},
        "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        **{k: v for k, v in fields.items() if k not in ("id", "name", "version")},
        "architecture": {**cpu_net.config(), "weights_file": BACKBONE_FILE},
        "preprocessing": spec.to_dict(),
        "regions": [{**r.to_dict(), "backbone": cpu_net.backbone_of(i)} for i, r in enumerate(spec.regions)],
        "heads": {
            "type": "linear",
            "weights_file": HEADS_FILE,
            "weight_tensor": "head.weight",
            "bias_tensor": "head.bias",
            "output": "one logit per region (row r of head.weight is region r's head)",
        },
        "stacking": contents.stacking.to_dict(),
        "threshold": float(contents.threshold),
        "threshold_rule": contents.threshold_rule,
        "metrics": [dict(x) for x in contents.metrics],
        "software": {**software_versions(), "torch_onnx_exporter": "torchscript (dynamo=False)"},
        "licence": contents.licence,
        "onnx": {
            "file": ONNX_FILE,
            "opset": nw.ONNX_OPSET,
            "input": {
                "name": nw.ONNX_INPUT,
                "shape": ["batch", cpu_net.n_regions, spec.in_channels, spec.input_size, spec.input_size],
                "dtype": "float32",
            },
            "outputs": list(nw.ONNX_OUTPUTS),
        },
        **contents.extra,
    }


def _check_onnx_parity(net: FusionNet, onnx_bytes: bytes, spec: PreprocessSpec) -> None:
    # lazy: onnxruntime (~0.3 s) and torch (the optional [train] extra) only for the parity check
    import onnxruntime as ort
    import torch

    rng = np.random.default_rng(0)
    shape = (2, net.n_regions, spec.in_channels, spec.input_size, spec.input_size)
    x = rng.standard_normal(shape).astype(np.float32)
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = sess.run(["region_logits"], {"crops": x})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    err = float(np.max(np.abs(got - want)))
    if not err <= 1e-3 * max(1.0, float(np.max(np.abs(want)))):
        raise ModelError(f"The ONNX export disagrees with the torch model (max logit difference {err:.2e}).")


def check_bundle_target(
    out: str | os.PathLike[str], schema: str = SCHEMA, what: str = "model bundle"
) -> None:
    """Refuse to write a bundle over anything but nothing, an empty folder or an earlier bundle of `schema`.

    Writing replaces the whole folder: pointing `--out` at a folder of other work must not delete it.
    Shared by the fusion model and the contour-assist bundle (`what` names it in the message).
    """
    target = Path(out)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise DlrsError(f"'{target}' exists and is not a folder; choose a new folder for the {what}.")
    entries = [p.name for p in target.iterdir()]
    if not entries:
        return
    manifest = target / MANIFEST
    is_bundle = False
    if manifest.is_file() and not manifest.is_symlink():
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
            raw = manifest.read_bytes() if manifest.stat().st_size <= MAX_MANIFEST_BYTES else b""
            is_bundle = isinstance(m := json.loads(raw), dict) and m.get("schema") == schema
    if not is_bundle:
        raise DlrsError(
            f"'{target}' is a folder with {len(entries)} item(s) that is not a {what}; it would be "
            "replaced. Choose a new or empty folder (nothing was changed)."
        )


def replace_bundle_folder(
    out: Path, files: Mapping[str, bytes], schema: str = SCHEMA, what: str = "model bundle"
) -> None:
    """All files into a temporary sibling folder, then swapped in: a crash leaves the old or the new."""
    check_bundle_target(out, schema, what)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for fname, blob in files.items():
            os.chmod(atomic_write_bytes(tmp / fname, blob), 0o644)
        os.chmod(tmp, 0o755)
        if out.exists():
            keep = _foreign_entries(out, files)
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
            os.replace(tmp, out)
            for name in keep:  # what the user put beside the bundle survives it (a crash: still in .old)
                os.replace(old / name, out / name)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _foreign_entries(out: Path, files: Mapping[str, bytes]) -> list[str]:
    """Entries of an existing bundle folder that no bundle owns: neither the new bundle's files nor
    those the old manifest lists (nor its manifest and signature)."""
    owned = {*files, MANIFEST, SIGNATURE_FILE}
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError, TypeError):
        if (out / MANIFEST).stat().st_size <= MAX_MANIFEST_BYTES:
            listed = json.loads((out / MANIFEST).read_bytes()).get("files") or {}
            owned |= {str(n).split("/")[0] for n in listed}
    return sorted(p.name for p in out.iterdir() if p.name not in owned)


def write_zip(bundle_dir: str | os.PathLike[str], zip_path: str | os.PathLike[str]) -> Path:
    """The same bundle as one zip file (files at the zip root), written atomically."""
    root = Path(bundle_dir)
    raw = (root / MANIFEST).read_bytes()
    m = _parse_manifest(raw)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:  # weights barely compress
        zf.writestr(MANIFEST, raw)
        if (root / SIGNATURE_FILE).is_file():  # the folder's signature holds for the zip too
            zf.writestr(SIGNATURE_FILE, (root / SIGNATURE_FILE).read_bytes())
        for name in sorted(m["files"]):
            zf.writestr(name, (root / name).read_bytes())
    return atomic_write_bytes(zip_path, buf.getvalue())
