"""Model bundle format, preprocessing and predictor (no Qt).

Public names are imported lazily so `import dlrs_desktop.model` stays cheap; torch is only
imported by `dlrs_desktop.model.network` (training, export, GPU/reference backend).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Bundle": "bundle",
    "load_bundle": "bundle",
    "write_bundle": "bundle",
    "write_zip": "bundle",
    "Stacking": "manifest",
    "PreprocessSpec": "preprocess",
    "RegionSpec": "preprocess",
    "prepare_inputs": "preprocess",
    "Predictor": "predictor",
    "Prediction": "result",
    "QualityFlag": "result",
    "RegionCam": "result",
    "RegionResult": "result",
    "Sensitivity": "result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dlrs_desktop.model' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dlrs_desktop.model.{module}"), name)
