"""The bundle manifest (`manifest.json`): schema, validation and the stacking meta-learner.

Anchored on MONAI bundle `metadata.json` (id, version, changelog, task, intended use, data and
network descriptions, required packages) and the TRIPOD+AI reporting items (outcome definition,
intended use, data sources, sample sizes and splits, predictors = preprocessing and regions,
model specification, performance table, limitations). docs/MODEL_BUNDLE.md maps each field.

Validation names the offending field in plain words; it never touches weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.limits import MAX_BUNDLE_FILE_BYTES
from dlrs_desktop.model import bundle_text as T
from dlrs_desktop.model.anatomy import body_part_problem
from dlrs_desktop.model.outcome import check_outcome

SCHEMA = "dlrs-model-bundle"
SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = (1,)

#: Measured on 151 real thyroid, fetal-head and lung scans (docs/DOMAIN_GUARD.md): the guard of a model
#: trained on breast scans called most of them inside, so the card has to say it.
OTHER_ORGANS = (
    "ultrasound of another organ than the one the model was trained on (e.g. thyroid, obstetric, lung): "
    "the domain guard does not reliably tell such images from the training images and may show a "
    "probability"
)
DEFAULT_CONTRAINDICATIONS: tuple[str, ...] = (
    "colour or power Doppler images (a colour overlay over more than 2 % of any analysed region "
    "refuses the prediction)",
    "elastography images (refused by the same 2 % colour rule)",
    "images with overlays, text or caliper marks over the tumour or its surroundings",
    "images without a trustworthy millimetre calibration",
    "tumours much smaller or larger than those seen in training",
    OTHER_ORGANS,
    "use as the sole basis of a clinical decision",
)

#: Required top-level fields and their JSON types (a missing or mistyped one is refused by name).
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "schema_version": int,
    "id": str,
    "version": str,
    "created": str,
    "task": str,
    "outcome": dict,
    "intended_use": str,
    "contraindications": list,
    "training_data": dict,
    "architecture": dict,
    "preprocessing": dict,
    "regions": list,
    "heads": dict,
    "stacking": dict,
    "threshold": (int, float),
    "threshold_rule": str,
    "metrics": list,
    "software": dict,
    "licence": str,
    "files": dict,
    "onnx": dict,
}
REQUIRED_NESTED: dict[str, tuple[str, ...]] = {
    "outcome": ("name", "definition", "positive_label", "negative_label"),
    "training_data": ("kind", "description"),
    "architecture": ("arch", "n_regions", "shared_backbone", "in_channels", "feature_dim", "weights_file"),
    "stacking": ("type", "inputs", "coefficients", "intercept"),
    "heads": ("type", "weights_file", "weight_tensor", "bias_tensor"),
    "onnx": ("file", "opset", "input", "outputs"),
}
FILE_ROLES = ("weights", "onnx", "model-card", "report", "other")
MAX_STACKING_WEIGHT = 1000.0  # |coefficient| and |intercept|: logits are O(10); more is a broken export
MAX_REGIONS = 16
#: Networks averaged in one bundle (dlrs train: folds + 1); bounds the cost of a hostile manifest.
MAX_MEMBERS = 16
#: `stacking.inputs` without and with radiomics signatures (model/radiomics.py)
STACKING_INPUTS = ("region_logits", "region_logits+radiomics")


@dataclass(frozen=True)
class Stacking:
    """Logistic meta-learner: p = σ(intercept + Σ coefficientᵢ · inputᵢ).

    Inputs are the region logits, then (bundles with radiomics signatures) the signature logits
    in the manifest's `radiomics.signatures` order.
    """

    coefficients: tuple[float, ...]
    intercept: float
    n_signatures: int = 0

    def fuse(self, inputs: np.ndarray) -> np.ndarray:
        """(..., R + S) region and signature logits → (...) fused probability, in float64."""
        z = np.asarray(inputs, np.float64) @ np.asarray(self.coefficients, np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "logistic",
            "inputs": STACKING_INPUTS[self.n_signatures > 0],
            "coefficients": [float(c) for c in self.coefficients],
            "intercept": float(self.intercept),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], n_regions: int, n_signatures: int = 0) -> Stacking:
        inputs = STACKING_INPUTS[n_signatures > 0]
        if d.get("type") != "logistic" or d.get("inputs") != inputs:
            raise ModelError(f"Manifest field 'stacking' must describe a logistic model over {inputs}.")
        n = n_regions + n_signatures
        coef = d.get("coefficients")
        if not isinstance(coef, list) or len(coef) != n or not all(_bounded(c) for c in coef):
            raise ModelError(
                f"Manifest field 'stacking.coefficients' must be {n} finite numbers within "
                f"±{MAX_STACKING_WEIGHT:g}."
            )
        if not _bounded(d.get("intercept")):
            raise ModelError(
                f"Manifest field 'stacking.intercept' must be a finite number within "
                f"±{MAX_STACKING_WEIGHT:g}."
            )
        return cls(tuple(float(c) for c in coef), float(d["intercept"]), n_signatures)


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _bounded(v: Any) -> bool:
    return _finite(v) and abs(v) <= MAX_STACKING_WEIGHT


def validate_manifest(m: Any) -> None:
    """Refuse a manifest that is not this schema, with the name of the first wrong field."""
    if not isinstance(m, dict):
        raise ModelError.of(T.NOT_AN_OBJECT)
    if m.get("schema") != SCHEMA:
        raise ModelError.of(T.OTHER_SCHEMA, schema=repr(SCHEMA))
    version = m.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ModelError.of(
            T.UNKNOWN_VERSION,
            version=repr(version)[:40],
            supported=", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS)),
        )
    for key, typ in REQUIRED.items():
        if key not in m:
            raise ModelError(f"The model manifest is missing the required field '{key}'.")
        if not isinstance(m[key], typ) or isinstance(m[key], bool):
            raise ModelError(f"Manifest field '{key}' has the wrong type.")
    for key, subkeys in REQUIRED_NESTED.items():
        for sub in subkeys:
            if sub not in m[key]:
                raise ModelError(f"The model manifest is missing the required field '{key}.{sub}'.")
    if not _finite(m["threshold"]) or not 0.0 < float(m["threshold"]) < 1.0:
        raise ModelError("Manifest field 'threshold' must be a probability strictly between 0 and 1.")
    n = m["architecture"]["n_regions"]
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_REGIONS or n != len(m["regions"]):
        raise ModelError("Manifest fields 'architecture.n_regions' and 'regions' disagree.")
    members = m["architecture"].get("members", 1)
    if not isinstance(members, int) or isinstance(members, bool) or not 1 <= members <= MAX_MEMBERS:
        raise ModelError(
            f"Manifest field 'architecture.members' must be a whole number from 1 to {MAX_MEMBERS}."
        )
    for i, r in enumerate(m["regions"]):
        if not isinstance(r, dict) or not isinstance(r.get("backbone"), int):
            raise ModelError(f"Manifest field 'regions[{i}].backbone' must be an integer.")
    rng = m["training_data"].get("tumour_area_mm2_range")
    if rng is not None and not (
        isinstance(rng, list) and len(rng) == 2 and all(_finite(v) for v in rng) and rng[0] <= rng[1]
    ):
        raise ModelError("Manifest field 'training_data.tumour_area_mm2_range' must be [min, max] in mm².")
    body_part = m["training_data"].get("body_part")
    if body_part is not None and (problem := body_part_problem(body_part)):
        raise ModelError(f"Manifest field 'training_data.body_part' {problem}.")
    check_outcome(m["outcome"])  # text fields: non-empty, bounded, no control characters
    for name, entry in m["files"].items():
        if (
            not isinstance(name, str)
            or not name
            or "\\" in name
            or name.startswith("/")
            or ".." in name.split("/")
        ):
            raise ModelError(f"Manifest field 'files' lists an unsafe path {name!r}.")
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or len(digest) != 64:
            raise ModelError(f"Manifest field 'files.{name}.sha256' is missing or malformed.")
        size = entry.get("bytes", 0)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_BUNDLE_FILE_BYTES:
            raise ModelError(f"Manifest field 'files.{name}.bytes' must be a size in bytes.")
        if entry.get("role") not in FILE_ROLES:
            raise ModelError(f"Manifest field 'files.{name}.role' must be one of {FILE_ROLES}.")
    for field_name, fname in (
        ("architecture.weights_file", m["architecture"]["weights_file"]),
        ("heads.weights_file", m["heads"]["weights_file"]),
        ("onnx.file", m["onnx"]["file"]),
    ):
        if fname not in m["files"]:
            raise ModelError(f"Manifest field '{field_name}' names {fname!r}, not listed in 'files'.")
    _check_int8(m)
    Stacking.from_dict(m["stacking"], n, len(parse_radiomics(m).signatures) if "radiomics" in m else 0)


def _check_int8(m: dict[str, Any]) -> None:
    """The optional int8 graph (model/precision.py) is an ONNX file of its own, pinned in 'files'."""
    block = m.get("onnx_int8")
    if block is None:
        return
    name = block.get("file") if isinstance(block, dict) else None
    entry = m["files"].get(name) if isinstance(name, str) else None
    if not isinstance(entry, dict) or entry.get("role") != "onnx" or name == m["onnx"]["file"]:
        raise ModelError(
            "Manifest field 'onnx_int8.file' must name an ONNX file listed in 'files' (role onnx), "
            "other than the float model."
        )


def parse_radiomics(m: dict[str, Any]):
    """The manifest's radiomics signatures (`Radiomics`), or None for a bundle without them."""
    # lazy: radiomics imports cv2 (~0.45 s); the GUI reads manifests at start-up
    from dlrs_desktop.model.radiomics import Radiomics

    if "radiomics" not in m:
        return None
    return Radiomics.from_dict(m["radiomics"], [r.get("name") for r in m["regions"]])


BUNDLED_DEMO_ID = "dlrs-demo"


def manifest_is_demo(m: dict[str, Any]) -> bool:
    """A bundle is a demonstration model only if it says so (`"demo": true`, or the bundled demo's id).

    Why not "trained on synthetic data": a research site that trains its own `--synthetic` bundle
    has not made a demonstration model, and its card and reports must not call it one.
    """
    return m.get("demo") is True or (m.get("id") == BUNDLED_DEMO_ID and "demo" not in m)
