"""From a trained network to a complete bundle, through the model package's `write_bundle`.

Size: a ResNet-18 backbone is 45 MB in float32 and its ONNX export another 45 MB. The backbone
weights are rounded to float16 *before* export, so the ONNX graph (float32 storage) and the
safetensors file (float16 storage) hold exactly the same numbers; storing the safetensors in
float16 is then lossless, and the ONNX-vs-torch parity is checked again on real crops.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.fileio import atomic_write_bytes, atomic_write_json
from dlrs_desktop.model.bundle import load_bundle, sha256_bytes
from dlrs_desktop.model.bundle_write import write_bundle
from dlrs_desktop.model.contents import BundleContents
from dlrs_desktop.model.manifest import Stacking, validate_manifest
from dlrs_desktop.training.metrics import binary_metrics
from dlrs_desktop.training.recipe import TrainedModel, TrainingRecipe
from dlrs_desktop.training.selection import PRIMARY_RULE, seal_rows
from dlrs_desktop.training.trainer import predict_logits
from dlrs_desktop.training.validation import split_cases_sha256


def round_to_fp16(net) -> None:
    # lazy: optional [train] extra; extras.require names the install
    import torch

    with torch.no_grad():
        for t in list(net.parameters()) + list(net.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def store_backbone_fp16(bundle_dir: Path) -> dict[str, Any]:
    """Re-store the backbone safetensors in float16 and update its manifest entry (sha256, bytes)."""
    # lazy: safetensors (~0.15 s) only when a bundle is read
    from safetensors.numpy import load as np_load
    from safetensors.numpy import save as np_save

    mpath = bundle_dir / "manifest.json"
    m = json.loads(mpath.read_text(encoding="utf-8"))
    name = m["architecture"]["weights_file"]
    tensors = np_load((bundle_dir / name).read_bytes())
    half = {}
    for k, v in sorted(tensors.items()):  # fixed order: same weights, same bytes, same sha256
        h = v.astype(np.float16) if v.dtype == np.float32 else v
        if v.dtype == np.float32 and not np.array_equal(h.astype(np.float32), v):
            raise ModelError(f"tensor {k} is not exactly representable in float16 (round the net first)")
        half[k] = h
    # One metadata key only: safetensors writes its metadata map in an order that varies between
    # processes, and the same weights must give the same bytes (sha256 in the manifest).
    blob = np_save(half, metadata={"format": "pt"})
    os.chmod(atomic_write_bytes(bundle_dir / name, blob), 0o644)  # readable like the rest of the bundle
    m["files"][name].update({"sha256": sha256_bytes(blob), "bytes": len(blob)})
    m["architecture"]["weights_dtype"] = "float16 (exact: weights rounded before ONNX export)"
    validate_manifest(m)
    os.chmod(atomic_write_json(mpath, m), 0o644)
    return m


def _metrics_rows(logits, y, splits, rows) -> list[dict[str, Any]]:
    out = []
    for split in ("train", "internal", "external"):
        idx = np.where(splits == split)[0]
        if len(idx) == 0 or len(set(y[idx].tolist())) < 2:
            continue
        for r in rows:
            bm = binary_metrics(y[idx], r.predict(logits[idx]), r.threshold)
            out.append({"model": r.key, "split": split, **bm.to_dict()})
    return out


def write_trained_bundle(out: Path, model: TrainedModel, recipe: TrainingRecipe, log) -> dict[str, Any]:
    """Seal the rows (primary model and its guard), write the bundle and re-check it; returns a summary."""
    round_to_fp16(model.net)
    data = model.data
    logits = predict_logits(model.net, data.x[:, 0], "cpu")
    if model.radiomics is not None:  # the stacking's inputs: region logits, then signature logits
        logits = np.c_[logits, model.radiomics.logits(data.radiomics)]
    y = data.y
    splits = np.array([c.split for c in data.cases])
    sealed = seal_rows(model.rows, model.spec.region_names, logits, y, splits, recipe.cfg.meta_c)
    for w in sealed.warnings:
        log(f"WARNING: {w}")
    primary = next(r for r in sealed.rows if r.key == sealed.primary)
    metrics = _metrics_rows(logits, y, splits, sealed.rows)
    n_sig = len(model.radiomics.signatures) if model.radiomics else 0
    contents = BundleContents(
        spec=model.spec,
        stacking=Stacking(primary.coefficients, primary.intercept, n_sig),
        threshold=float(min(max(primary.threshold, 1e-6), 1 - 1e-6)),
        threshold_rule="Youden index on the out-of-fold predictions of the training split",
        model_id=recipe.model_id,
        version=recipe.version,
        training_data=_training_data(recipe, data, y, splits),
        metrics=metrics,
        name=recipe.model_id,
        description=recipe.description,
        changelog=recipe.changelog,
        outcome=recipe.outcome,
        extra=_extra_manifest(model, recipe, sealed),
    )
    parity, size = seal_bundle(out, model.net, contents, data.x[: min(8, len(data.x)), 0])
    log(
        f"bundle written to {out} ({size / 1e6:.1f} MB); primary model {sealed.primary}"
        + (f" ({len(sealed.warnings)} warning(s) above, recorded in the manifest)" if sealed.warnings else "")
        + "; "
        f"ONNX parity {parity:.2e}"
    )
    return {
        "bundle": str(out),
        "primary_model": sealed.primary,
        "metrics": metrics,
        "bytes": size,
        "parity": parity,
        "warnings": sealed.warnings,
        "seconds": round(model.seconds, 1),
        "device": model.device_used,
    }


def seal_bundle(
    out: Path, net, contents: BundleContents, parity_x: np.ndarray, *, parity_inputs: str | None = None
) -> tuple[float, int]:
    """Write the bundle, store its backbone in float16, re-load it and record the ONNX-vs-torch parity
    on `parity_x` (N, R, C, S, S); returns (parity, bytes on disk). `net` must be rounded to float16.

    Shared by the pooled (`write_trained_bundle`) and the federated (federated/export.py) trainers.
    `parity_inputs`, when given, is recorded as `onnx.parity_inputs` (e.g. "random": the federated
    server holds no crops).
    """
    write_bundle(out, net, contents, overwrite=True)
    store_backbone_fp16(out)
    bundle = load_bundle(out)  # sha256 + schema check of what was written
    parity = _real_parity(
        bundle, parity_x, "real crops" if parity_inputs is None else f"{parity_inputs} crops"
    )
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    m["onnx"]["parity_max_abs_logit_diff"] = parity
    if parity_inputs is not None:
        m["onnx"]["parity_inputs"] = parity_inputs
    os.chmod(atomic_write_json(out / "manifest.json", m), 0o644)
    load_bundle(out)
    return parity, sum(p.stat().st_size for p in out.iterdir())


def _training_data(recipe: TrainingRecipe, data, y: np.ndarray, splits: np.ndarray) -> dict[str, Any]:
    """The manifest's `training_data` block: the cohort file, its hash, and who is in which split."""
    cohort_csv = Path(recipe.cohort_csv)
    tr = np.where(splits == "train")[0]
    return {
        "kind": recipe.training_kind,
        "description": recipe.description or f"cohort {cohort_csv.name}",
        "cohort_file": cohort_csv.name,
        "cohort_sha256": hashlib.sha256(cohort_csv.read_bytes()).hexdigest(),
        "split_cases_sha256": split_cases_sha256(data.cases, y),
        "splits": {
            s: {
                "n": int((splits == s).sum()),
                "responders": int(y[splits == s].sum()),
                "centres": sorted({c.centre for c in data.cases if c.split == s}),
            }
            for s in ("train", "internal", "external")
        },
        "centres": sorted({c.centre for c in data.cases}),
        "tumour_area_mm2_range": [
            float(data.tumour_area_mm2[tr].min()),
            float(data.tumour_area_mm2[tr].max()),
        ],
        **({"body_part": recipe.body_part} if recipe.body_part else {}),
    }


def _limitations(recipe: TrainingRecipe) -> list[str]:
    out = [
        "Trained and validated on the cohort in training_data only; elsewhere its performance is unknown.",
        "Needs a tumour contour drawn or checked by a sonographer and a trustworthy mm/pixel calibration.",
        "Thresholds were fixed on the training split; a site should re-check calibration on its own data.",
    ]
    if recipe.training_kind == "synthetic":
        out.insert(
            0,
            "Trained on SYNTHETIC images generated by `dlrs synth` from a simple, documented label model: "
            "its numbers say nothing about performance on patients."
            + (" Demonstration model only." if recipe.demo else ""),
        )
    return out


def _shipped_network(model: TrainedModel) -> str:
    """What the stacking's "shipped network" is, in the manifest's words."""
    d, ensemble = model.distillation, model.ensemble
    if d is not None and d.get("shipped") == "student":
        return (
            f"shipped network = one student network distilled from the {len(d['teacher'])}-network "
            "ensemble (final + fold networks) on their out-of-fold logits (training.distillation); "
        )
    if ensemble:
        return (
            "shipped network = the final network (whole training split) and the "
            f"{len(ensemble['members']) - 1} fold networks averaged, each member's logits z-scored "
            f"on the {ensemble['standardisation_split']} split; "
        )
    return "base network refitted on the whole training split; "


def _fold_words(model: TrainedModel) -> str:
    k = int(model.folds.max()) + 1
    if (model.state.get("config") or {}).get("fold_by") == "centre":
        return f"{k} folds, one per training centre: leave-one-centre-out"
    return f"{k} folds grouped by patient, stratified by label"


def _stacking_method(model: TrainedModel, reference_split: str) -> str:
    return (
        "logistic meta-learner on out-of-fold region logits of the training split "
        f"({_fold_words(model)}), each fold "
        "network's logits z-scored per region, coefficients constrained to be non-negative; "
        + _shipped_network(model)
        + f"coefficients converted to its logits with its mean and SD on the {reference_split} split"
        + (
            "; every fusion row also stacks a radiomics signature of its regions (L2 logistic "
            "regression on hand-made grey-level features, out-of-fold on the same folds)"
            if model.radiomics is not None
            else ""
        )
    )


def _extra_manifest(model: TrainedModel, recipe: TrainingRecipe, sealed) -> dict[str, Any]:
    """The manifest blocks only a trained bundle has: rows, primary model, provenance of the training."""
    state = model.state
    return {
        "limitations": _limitations(recipe),
        "models": [r.to_dict() for r in sealed.rows],
        "primary_model": sealed.primary,
        "primary_model_rule": PRIMARY_RULE,
        "primary_model_guard": sealed.guard,
        "warnings": sealed.warnings,
        "demo": bool(recipe.demo),
        **({"radiomics": model.radiomics.to_dict()} if model.radiomics is not None else {}),
        "stacking_method": _stacking_method(model, sealed.reference["reference_split"]),
        "training": {
            "config": {k: v for k, v in state["config"].items() if k != "extra"},
            "folds_best_epoch": {
                k: v["best_epoch"] for k, v in state["completed"].items() if k.startswith("fold")
            },
            "final_best_epoch": model.final_info["best_epoch"],
            "ensemble": model.ensemble or {"members": [_single_member(model)]},
            **({"distillation": model.distillation} if model.distillation is not None else {}),
            "final_history": model.final_info["history"],
            "oof_auc": {r.key: r.oof_auc for r in sealed.rows},
            "logit_standardisation": sealed.reference,
            "seconds": round(model.seconds, 1),  # all stages and resumptions (pipeline.py)
            "seconds_by_session": state.get("sessions", []),
            "device": model.device_used,
            "device_requested": str(recipe.cfg.device),
        },
    }


def _single_member(model: TrainedModel) -> str:
    d = model.distillation
    return "student" if d is not None and d.get("shipped") == "student" else "final"


def _real_parity(bundle, x: np.ndarray, what: str = "real crops") -> float:
    """Max |logit| difference between the ONNX graph and torch loaded from the bundle's safetensors."""
    # lazy: onnxruntime (~0.3 s) and torch (the optional [train] extra) only for the parity check
    import onnxruntime as ort
    import torch

    # lazy: imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
    from dlrs_desktop.model.network import load_net

    backbone, heads = bundle.weights_bytes()
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    merged = {**st_load(backbone), **st_load(heads)}
    net = load_net(bundle.architecture, st_save({k: v.float() for k, v in merged.items()}))
    xs = np.asarray(x, np.float32)
    sess = ort.InferenceSession(bundle.onnx_bytes, providers=["CPUExecutionProvider"])
    got = sess.run(["region_logits"], {"crops": xs})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(xs)).numpy()
    err = float(np.max(np.abs(got - want)))
    if err > 1e-3 * max(1.0, float(np.abs(want).max())):
        raise ModelError(f"ONNX and torch disagree on {what} (max logit difference {err:.2e}).")
    return err
