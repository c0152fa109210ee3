"""Writing model bundles: a new bundle from a trained network (training, tests), a folder swapped in
whole, the same bundle as one zip. Split from `bundle.py` (reading), which the workstation loads without
torch; this module is used by training and the bundle tools only.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import importlib.metadata as md
import io
import json
import os
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlrs_desktop import bundle_files as bf
from dlrs_desktop.errors import DlrsError, ModelError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.limits import MAX_MANIFEST_BYTES
from dlrs_desktop.model.bundle import (
    BACKBONE_FILE,
    CARD_FILE,
    HEADS_FILE,
    MANIFEST,
    ONNX_FILE,
    SIGNATURE_FILE,
    _parse_manifest,
    _refuse_pickle,
    sha256_bytes,
)
from dlrs_desktop.model.card import render_model_card
from dlrs_desktop.model.contents import BundleContents
from dlrs_desktop.model.manifest import (
    SCHEMA,
    SCHEMA_VERSION,
    validate_manifest,
)
from dlrs_desktop.model.preprocess import PreprocessSpec
from dlrs_desktop.source_revision import source_revision

if TYPE_CHECKING:
    from dlrs_desktop.model.network import FusionNet


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
