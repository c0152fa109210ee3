"""The federated server's bundle: the same safe format as `dlrs train`, from what the sites' aggregates gave.

The pooled trainer seals its rows from every case's logits (selection.seal_rows); the federated
server holds no case, so the plan (coordinator.py) hands over rows already in the shipped network's
units, the chosen primary row and its guard, and metrics computed from histograms
(aggregates.py). Writing, float16 storage, re-loading and the ONNX parity check are the pooled
trainer's own (`training.export.seal_bundle`); only the parity inputs differ: the server has no
crops, so a fixed-seed random tensor of the crop shape stands in, and the manifest says so
(`onnx.parity_inputs: "random"`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.contents import BundleContents
from dlrs_desktop.model.manifest import Stacking
from dlrs_desktop.model.radiomics import Radiomics
from dlrs_desktop.training.export import _limitations, round_to_fp16, seal_bundle
from dlrs_desktop.training.recipe import TrainingRecipe
from dlrs_desktop.training.selection import PRIMARY_RULE
from dlrs_desktop.training.stacking import RowModel

PARITY_SEED = 0
PARITY_BATCH = 4
DEFAULT_THRESHOLD_RULE = (
    "Youden index on the pooled histogram (0.01-logit bins, summed over sites) of the training "
    "split's probabilities; the threshold is a bin edge"
)


@dataclass
class FederatedModel:
    """What the federated plan hands to `write_federated_bundle` (the counterpart of TrainedModel).

    rows: every row model in the shipped network's raw-logit units (as selection.seal_rows gives);
    primary: the key of the row the bundle is sealed with; guard and warnings: as choose_primary
    gives them; reference: the logit standardisation block ({"reference_split", "mean", "sd", "n"},
    as to_network_units returns plus the split); metrics: [{"model", "split", **binary_metrics}];
    training_data: the manifest block (kind, description, splits …); federation: how it was trained
    ("sites" — names or a count — is required; rounds, local epochs, strategy, what was shared);
    config: config_dict(TrainConfig); radiomics: the shipped signatures (their logits follow the
    region logits in every row's inputs, as a pooled bundle's), None without; ensemble: the fold
    ensemble's manifest block when the shipped network averages the final and fold networks.
    """

    net: Any  # FusionNet (torch), on the CPU
    spec: Any  # PreprocessSpec
    rows: list[RowModel]
    primary: str
    guard: dict[str, Any]
    warnings: list[str]
    reference: dict[str, Any]
    metrics: list[dict[str, Any]]
    training_data: dict[str, Any]
    federation: dict[str, Any]
    config: dict[str, Any]
    seconds: float
    device_used: str
    final_history: list[Any] | None = None
    stacking_method: str | None = None  # default: _stacking_method below
    threshold_rule: str = DEFAULT_THRESHOLD_RULE
    radiomics: Radiomics | None = None
    ensemble: dict[str, Any] | None = None  # the fold ensemble's block (ensemble.py); None: final alone


def n_sites(federation: dict[str, Any]) -> int:
    sites = federation.get("sites")
    n = len(sites) if isinstance(sites, list | tuple) else sites
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ModelError("federation block needs 'sites': the site names or their number (≥ 1)")
    return n


def write_federated_bundle(out: Path, model: FederatedModel, recipe: TrainingRecipe, log) -> dict[str, Any]:
    """Write and re-check the federated bundle (primary row's stacking and threshold); returns a summary."""
    n = n_sites(model.federation)
    primary = _primary_row(model)
    warnings = list(model.warnings)
    if _round_changed(model.net):
        warnings.append(
            "The network was rounded to float16 for the bundle after its federated evaluation: the "
            "metrics were measured on the unrounded weights (round_to_fp16 before the last round)."
        )
    for w in warnings[len(model.warnings) :]:
        log(f"WARNING: {w}")
    contents = BundleContents(
        spec=model.spec,
        stacking=Stacking(primary.coefficients, primary.intercept, _n_signatures(model)),
        threshold=float(min(max(primary.threshold, 1e-6), 1 - 1e-6)),
        threshold_rule=model.threshold_rule,
        model_id=recipe.model_id,
        version=recipe.version,
        training_data=_json_safe(model.training_data),
        metrics=_json_safe(model.metrics),
        name=recipe.model_id,
        description=recipe.description,
        changelog=recipe.changelog,
        outcome=recipe.outcome,
        extra=_json_safe(_extra_manifest(model, recipe, warnings, n)),
    )
    parity, size = seal_bundle(out, model.net, contents, parity_inputs(model.spec), parity_inputs="random")
    log(
        f"bundle written to {out} ({size / 1e6:.1f} MB); trained federated across {n} site(s); primary "
        f"model {model.primary}"
        + (f" ({len(warnings)} warning(s), recorded in the manifest)" if warnings else "")
        + f"; ONNX parity {parity:.2e} on random crops (the server holds no images)"
    )
    return {
        "bundle": str(out),
        "primary_model": model.primary,
        "metrics": model.metrics,
        "bytes": size,
        "parity": parity,
        "warnings": warnings,
        "seconds": round(model.seconds, 1),
        "device": model.device_used,
    }


def parity_inputs(spec) -> np.ndarray:
    """A fixed-seed standard-normal tensor of the crop shape: the server's stand-in for real crops."""
    shape = (PARITY_BATCH, len(spec.regions), spec.in_channels, spec.input_size, spec.input_size)
    return np.random.default_rng(PARITY_SEED).standard_normal(shape).astype(np.float32)


def _primary_row(model: FederatedModel) -> RowModel:
    keys = [r.key for r in model.rows]
    if model.primary not in keys:
        raise ModelError(f"primary model {model.primary!r} is not one of the rows ({', '.join(keys)})")
    n_inputs = len(model.spec.regions) + _n_signatures(model)
    for r in model.rows:
        if len(r.coefficients) != n_inputs:
            raise ModelError(f"row {r.key} has {len(r.coefficients)} coefficients for {n_inputs} inputs")
    return model.rows[keys.index(model.primary)]


def _n_signatures(model: FederatedModel) -> int:
    return len(model.radiomics.signatures) if model.radiomics is not None else 0


def _round_changed(net) -> bool:
    """Round the net to float16 values (the bundle stores them); True if that changed any weight."""
    # lazy: torch is the optional [train] extra
    import torch

    tensors = [t for t in list(net.parameters()) + list(net.buffers()) if t.is_floating_point()]
    before = [t.detach().clone() for t in tensors]
    round_to_fp16(net)
    return any(not torch.equal(a, t) for a, t in zip(before, tensors, strict=True))


def _shipped_words(model: FederatedModel) -> str:
    e = model.ensemble
    if not e:
        return "shipped network = the final network (whole training split, federated); "
    return (
        f"shipped network = the final network and the {len(e['members']) - 1} fold networks averaged, "
        f"each member's logits z-scored on the {e['standardisation_split']} split (sites' moments); "
    )


def _stacking_method(model: FederatedModel) -> str:
    split = model.reference.get("reference_split", "a held-out")
    return (
        "logistic meta-learner on region logits z-scored with their pooled mean and SD (summed "
        "per-site moments), coefficients constrained to be non-negative, L2-penalised as "
        "scikit-learn's C, fitted by the server with Newton steps on the log-loss, gradient and "
        "Hessian summed over sites (aggregates.fit_logistic_federated: the pooled fit to ~1e-8); "
        + _shipped_words(model)
        + f"coefficients converted to the shipped network's logits with its pooled mean and SD on the "
        f"{split} split; thresholds from pooled 0.01-logit histograms"
        + (
            "; every fusion row also stacks a radiomics signature of its regions (L2 logistic "
            "regression on hand-made grey-level features, standardised and fitted by the server from "
            "the sites' moments and logistic-loss sums, C by the sites' folds' histogram AUC; "
            "out-of-fold on the same folds, its logits z-scored per fold with the region logits)"
            if model.radiomics is not None
            else ""
        )
    )


def _extra_manifest(
    model: FederatedModel, recipe: TrainingRecipe, warnings: list[str], n: int
) -> dict[str, Any]:
    """The blocks of a pooled bundle's `_extra_manifest`, with the federation's instead of folds'."""
    limitations = _limitations(recipe)
    limitations.insert(
        1 if recipe.training_kind == "synthetic" else 0,
        f"Trained federated across {n} site(s); no site's images left the site: only network "
        "parameters and aggregate statistics (sums, score histograms) were shared.",
    )
    return {
        "limitations": limitations,
        "models": [r.to_dict() for r in model.rows],
        "primary_model": model.primary,
        "primary_model_rule": PRIMARY_RULE,
        "primary_model_guard": model.guard,
        "warnings": warnings,
        "demo": bool(recipe.demo),
        **({"radiomics": model.radiomics.to_dict()} if model.radiomics is not None else {}),
        "stacking_method": model.stacking_method or _stacking_method(model),
        "training": {
            "config": {k: v for k, v in model.config.items() if k != "extra"},
            "federation": model.federation,
            "ensemble": model.ensemble or {"members": ["final"]},
            **({"final_history": model.final_history} if model.final_history is not None else {}),
            "oof_auc": {r.key: r.oof_auc for r in model.rows},
            "logit_standardisation": model.reference,
            "seconds": round(model.seconds, 1),
            "device": model.device_used,
            "device_requested": str(model.config.get("device", model.device_used)),
        },
    }


def _json_safe(v: Any) -> Any:
    """NaN/Inf → None (JSON has no NaN; a row without an AUC has none), numpy scalars → Python."""
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    if isinstance(v, np.ndarray):
        return _json_safe(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
