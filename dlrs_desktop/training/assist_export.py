"""Write the learned assist's bundle: manifest.json + weights.safetensors + model.onnx + training_set.json.

The same safety rules as the fusion model's bundle (`model.bundle`): no pickle, every file listed
with its sha256 and size, checked before use (`roi.assist_bundle.load_assist_bundle`). The ONNX
graph is checked against torch before the bundle is written.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.model.bundle_write import check_bundle_target, replace_bundle_folder, software_versions
from dlrs_desktop.roi import assist_prompt as ap
from dlrs_desktop.roi.assist_bundle import (
    MANIFEST,
    ONNX_FILE,
    SCHEMA,
    SCHEMA_VERSION,
    TRAINING_SET_FILE,
    WEIGHTS_FILE,
    sha256_bytes,
)
from dlrs_desktop.training.assist_data import counts, manifest_entries

BUNDLE_ID = "dlrs-assist"
#: the bundle's version follows its training recipe (assist_augment): 1.0.0 was the first shipped bundle
BUNDLE_VERSIONS = {1: "1.0.0", 2: "2.0.0", 3: "2.1.0"}


def _onnx_bytes(model) -> bytes:  # type: ignore[no-untyped-def]

    # lazy: optional [train] extra; extras.require names the install
    import torch

    buf = io.BytesIO()
    dummy = torch.zeros(1, model.in_channels, ap.SIZE, ap.SIZE)
    torch.onnx.export(
        model,
        (dummy,),
        buf,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    return buf.getvalue()


def _check_parity(model, onnx_bytes: bytes) -> float:  # type: ignore[no-untyped-def]
    # lazy: onnxruntime (~0.3 s) and torch (the optional [train] extra) only for the parity check
    import onnxruntime as ort
    import torch

    x = np.random.default_rng(0).normal(size=(2, model.in_channels, ap.SIZE, ap.SIZE)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x})[0]
    err = float(np.abs(got - ref).max())
    if err > 1e-3:
        raise RuntimeError(f"ONNX export differs from torch by {err:.2e}")
    return err


def export_bundle(
    model,  # type: ignore[no-untyped-def]
    out: Path,
    cfg,  # type: ignore[no-untyped-def]
    stored: list,
    excluded: dict[str, list[str]],
    sources: dict[str, Any],
    summary: dict[str, Any],
) -> Path:
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import save as st_save

    weights = st_save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()})
    onnx_bytes = _onnx_bytes(model)
    parity = _check_parity(model, onnx_bytes)
    training_set = {
        "description": "every image and mask read, with its source path under the data folder, "
        "sha256 and split (patient-level, seeded)",
        "split_seed": cfg.seed,
        "sources": sources,
        "counts": counts(stored),
        "excluded": excluded,
        "cases": manifest_entries(stored),
    }
    ts_bytes = json.dumps(training_set, indent=1, ensure_ascii=False).encode("utf-8")
    files = {WEIGHTS_FILE: weights, ONNX_FILE: onnx_bytes, TRAINING_SET_FILE: ts_bytes}
    roles = {WEIGHTS_FILE: "weights", ONNX_FILE: "onnx", TRAINING_SET_FILE: "training-set"}
    manifest = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "id": BUNDLE_ID,
        "version": BUNDLE_VERSIONS[cfg.recipe],
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "purpose": "prompted lesion outline (box, click, diameter; corrective clicks from 2.1.0) on breast "
        "ultrasound; research use",
        "input": {
            "size": ap.SIZE,
            "channels": ["grey z-scored over the crop", "box mask", "click Gaussian"]
            + (["include points", "exclude points"] if model.in_channels == ap.CORRECTION_CHANNELS else []),
            "box_margin": ap.BOX_MARGIN,
            "max_stretch": ap.MAX_STRETCH,
            "click_sigma": ap.CLICK_SIGMA,
        },
        "architecture": {"name": "AssistUNet", "widths": list(cfg.widths), "weights_file": WEIGHTS_FILE},
        "onnx": {"file": ONNX_FILE, "input": "input", "output": "logits", "opset": 17, "parity": parity},
        "threshold": 0.5,
        "training_data": {
            "kind": "real",
            "datasets": sorted({s.case.dataset for s in stored}),
            "counts": counts(stored),
            "manifest_file": TRAINING_SET_FILE,
        },
        "training": {
            **{k: v for k, v in summary.items() if k != "history"},
            "history": summary["history"],
            # `init` by its folder name: `initialised_from` names that bundle by id and manifest sha256
            "config": {**cfg.__dict__, "widths": list(cfg.widths), "init": Path(cfg.init).name},
            "software": software_versions(),
        },
        "files": {
            name: {"sha256": sha256_bytes(blob), "bytes": len(blob), "role": roles[name]}
            for name, blob in files.items()
        },
    }
    raw = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    _write_folder(out, {MANIFEST: raw, **files})
    return out


def check_target(out: Path) -> None:
    """Refuse to replace anything but nothing, an empty folder or an earlier contour-assist bundle
    (writing replaces the whole folder: `--out` pointed at other work must not delete it)."""
    check_bundle_target(out, SCHEMA, "contour-assist bundle")


def _write_folder(out: Path, files: dict[str, bytes]) -> None:
    replace_bundle_folder(out, files, SCHEMA, "contour-assist bundle")
