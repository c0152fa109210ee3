"""The int8 model of a bundle (`dlrs model quantize`, and `dlrs train` at its end): static quantization
with ONNX Runtime's own tools, written only if it predicts what the float model predicts.

Recipe (recorded in the manifest): `quant_pre_process` (shape inference, Conv+BN folding), then
`quantize_static` in QDQ format: int8 symmetric per-channel weights, uint8 activations with MinMax
ranges calibrated on the cohort's *training split* crops (prepared by the predictor's own
`prepare_inputs`). Only Conv layers are quantized, never the stem convolution that reads the crops;
if the guard refuses, the convolutions writing the last feature maps stay float too (RECIPES). On the
demo, quantizing the stem or the residual Adds as well doubled the probability drift for little speed.

Accuracy guard: float and int8 run on every split of the cohort; the int8 model is written only if
max |Δp| of the fused probability on the internal split ≤ 0.01 and |ΔAUC| ≤ 0.005 on the train and
internal splits. The external split is reported, never gated on: a choice made from it would make it
no longer external (docs/MODEL_BUNDLE.md "int8 model").
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError, ModelError
from dlrs_desktop.model import precision as prec
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.bundle_edit import rewrite_with_files
from dlrs_desktop.model.predictor import Predictor, _OrtBackend
from dlrs_desktop.model.preprocess import prepare_inputs
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.metrics import auc

DP_TOLERANCE = 0.01  # max |p_int8 - p_float| on the internal split
AUC_TOLERANCE = 0.005  # |AUC_int8 - AUC_float| on every gated split
GATED_SPLITS = ("train", "internal")
BATCH = 16
#: calibration stride: at most this many cases' activations are held at once (ORT merges the ranges)
CALIB_CHUNK = 16

Progress = Callable[[str, int, int], None]


@dataclass
class Crops:
    """Every usable case of the cohort as the predictor prepares it."""

    x: list[np.ndarray]  # per case (R, C, S, S) float32
    sig: np.ndarray  # (N, S) radiomics signature logits (S may be 0)
    y: np.ndarray
    split: np.ndarray


def prepare(predictor: Predictor, cases: list[Any], progress: Progress | None = None) -> Crops:
    """Crops and signature logits of every case; any case that cannot be predicted is a CohortError."""
    xs, sigs, problems = [], [], []
    for k, case in enumerate(cases):
        try:
            image, contour = load_case(case)
            x, info = prepare_inputs(image, contour, predictor.bundle.spec)
            xs.append(np.ascontiguousarray(x, np.float32))
            sigs.append(predictor.signature_logits(image, info))
        except DlrsError as exc:
            problems.append(f"case {case.case_id}: {exc}")
        if progress:
            progress("preparing crops", k + 1, len(cases))
    if problems:
        raise CohortError("The int8 model cannot be checked: " + "; ".join(problems[:5]))
    n_sig = len(sigs[0]) if sigs else 0
    return Crops(
        xs,
        np.asarray(sigs, np.float64).reshape(len(xs), n_sig),
        np.array([c.label for c in cases]),
        np.array([c.split for c in cases]),
    )


def _nearest_convs(model: Any, forward: bool) -> list[str]:
    """Conv nodes reached from the graph's inputs (forward) or outputs (backward) without crossing
    another Conv: the stem of each backbone, or the convolutions that write its last feature maps
    (through the residual Adds). Found from the graph, so ensembles and other trunks work alike."""
    links: dict[str, list[Any]] = {}
    for node in model.graph.node:
        for name in node.input if forward else node.output:
            links.setdefault(name, []).append(node)
    found, seen = [], set()
    todo = [v.name for v in (model.graph.input if forward else model.graph.output)]
    while todo:
        for node in links.get(todo.pop(), []):
            if node.name in seen:
                continue
            seen.add(node.name)
            if node.op_type == "Conv":
                found.append(node.name)
            else:
                todo.extend(node.output if forward else node.input)
    return sorted(found)


class _Reader:
    """`CalibrationDataReader` protocol, read in strides (`CalibStridedMinMax`): one case per call, None at
    the end of the stride. Strides keep at most CALIB_CHUNK cases' activations in memory; ORT merges the
    ranges of the strides. `len` is rounded up to whole strides (ORT requires it); the last one is short.

    Why not `CalibMaxIntermediateOutputs`: ONNX Runtime 1.32 clears the collected outputs every N cases
    without merging them, so only the last `len % N` cases were calibrated on."""

    def __init__(self, crops: list[np.ndarray]) -> None:
        self._crops = crops
        self._pos = self._end = 0

    def __len__(self) -> int:
        return -(-len(self._crops) // CALIB_CHUNK) * CALIB_CHUNK

    def set_range(self, start_index: int, end_index: int) -> None:
        self._pos, self._end = start_index, min(end_index, len(self._crops))

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._pos >= self._end:
            return None
        self._pos += 1
        return {"crops": self._crops[self._pos - 1][None]}


#: what stays in float, tried in this order until the guard passes (fastest first)
RECIPES = ("stem", "stem+tail")


def quantize_onnx(
    float_onnx: bytes, calibration: list[np.ndarray], recipe: str = "stem"
) -> tuple[bytes, list[str]]:
    """(int8 QDQ graph, the Conv nodes kept in float) from the float graph and calibration crops.

    recipe "stem": every Conv but the stem is int8; "stem+tail": the convolutions writing the last
    feature maps stay float too (the demo's worst internal case: |Δp| 0.0101 → 0.009).
    """
    # lazy: onnx and onnxruntime.quantization are the optional [train] extra
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="dlrs-quant-") as tmp:
        src, pre, out = (Path(tmp) / n for n in ("float.onnx", "pre.onnx", "int8.onnx"))
        src.write_bytes(float_onnx)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        graph = onnx.load(str(pre))
        keep = _nearest_convs(graph, forward=True)
        if recipe == "stem+tail":
            keep += _nearest_convs(graph, forward=False)
        quantize_static(
            str(pre),
            str(out),
            _Reader(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            op_types_to_quantize=["Conv"],
            nodes_to_exclude=keep,
            extra_options={"CalibStridedMinMax": CALIB_CHUNK},
        )
        return out.read_bytes(), keep


def stacking_inputs(run: Callable[[np.ndarray], np.ndarray], crops: Crops) -> np.ndarray:
    """(N, R + S) region logits from the network `run` (crops → region logits), then signature logits."""
    logits = [run(np.stack(crops.x[i : i + BATCH])) for i in range(0, len(crops.x), BATCH)]
    return np.c_[np.concatenate(logits).astype(np.float64), crops.sig]


def fused_probabilities(run: Callable[[np.ndarray], np.ndarray], crops: Crops, stacking: Any) -> np.ndarray:
    """The bundle's fused probability of every case, with the network `run` (crops → region logits)."""
    return np.asarray(stacking.fuse(stacking_inputs(run, crops)), np.float64)


def compare_splits(p_float: np.ndarray, p_int8: np.ndarray, y: np.ndarray, split: np.ndarray) -> dict:
    """Per split: n, max and mean |Δp|, AUC of both and its change (shared with `dlrs evaluate`)."""
    out: dict[str, dict[str, Any]] = {}
    for s in dict.fromkeys(split.tolist()):
        i = split == s
        dp = np.abs(p_int8[i] - p_float[i])
        both = len(set(y[i].tolist())) == 2
        a_f, a_q = (auc(y[i], p) if both else None for p in (p_float[i], p_int8[i]))
        out[str(s)] = {
            "n": int(i.sum()),
            "max_abs_dp": float(dp.max()),
            "mean_abs_dp": float(dp.mean()),
            "auc_float": a_f,
            "auc_int8": a_q,
            "auc_change": None if a_f is None or a_q is None else float(a_q - a_f),
        }
    return out


def guard(splits: dict[str, dict[str, Any]], dp_tol: float, auc_tol: float) -> list[str]:
    """Why the int8 model may not ship (empty: it may)."""
    if "internal" not in splits:
        return ["the cohort has no internal split to check the probability drift on"]
    why = []
    if not splits["internal"]["max_abs_dp"] <= dp_tol:
        why.append(f"max |Δp| {splits['internal']['max_abs_dp']:.4f} on the internal split > {dp_tol:g}")
    for s in GATED_SPLITS:
        change = splits.get(s, {}).get("auc_change")
        if change is not None and not abs(change) <= auc_tol:
            why.append(f"AUC change {change:+.4f} on the {s} split exceeds ±{auc_tol:g}")
    return why


def _calibration_set(crops: Crops, limit: int | None, seed: int = 0) -> list[np.ndarray]:
    idx = np.flatnonzero(crops.split == "train")
    if len(idx) < 10:
        raise CohortError(
            f"The int8 calibration needs at least 10 training-split cases (the cohort has {len(idx)})."
        )
    if limit is not None and len(idx) > limit:
        idx = np.sort(np.random.default_rng(seed).choice(idx, limit, replace=False))
    return [crops.x[i] for i in idx]


def quantize_bundle(
    bundle_dir: str | os.PathLike[str],
    cohort_csv: str | os.PathLike[str],
    *,
    dp_tol: float = DP_TOLERANCE,
    auc_tol: float = AUC_TOLERANCE,
    calibration_cases: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    cohort_command: str | None = None,
) -> dict[str, Any]:
    """Quantize, check, and (if the guard passes) write `model.int8.onnx` into the bundle folder.

    Returns {"written": bool, "why": [reasons it was not], "block": the manifest block, ...}.
    """
    # lazy: onnxruntime (~0.3 s) only where a model runs
    import onnxruntime as ort

    cases = read_cohort(cohort_csv, require_train=False)
    b = load_bundle(bundle_dir)  # kept whole: the predictor lets go of its ONNX bytes once loaded
    fp = Predictor(b, device="cpu", backend="onnx", threads=threads, precision="float")
    if b.manifest["onnx"]["file"] == prec.INT8_FILE:
        raise ModelError(f"This bundle's float model is named {prec.INT8_FILE}; rename it to quantize.")
    crops = prepare(fp, cases, progress)
    calib = _calibration_set(crops, calibration_cases)
    p_f = fused_probabilities(lambda x: fp.run_crops(x)[0], crops, b.stacking)
    attempts: list[dict[str, Any]] = []
    for recipe in RECIPES:  # the guard reads train and internal only, never external
        if progress:
            progress(f"calibrating ({recipe} in float)", 0, 1)
        q_bytes, kept = quantize_onnx(b.onnx_bytes, calib, recipe)
        qb = _OrtBackend(q_bytes, threads)
        p_q = fused_probabilities(lambda x, qb=qb: qb.run(x, False)[0], crops, b.stacking)
        splits = compare_splits(p_f, p_q, crops.y, crops.split)
        why = guard(splits, dp_tol, auc_tol)
        attempts.append({"float_kept": recipe, "passed": not why, **({"why": why} if why else {})})
        if not why:
            break
    calibration = {"cohort": Path(cohort_csv).name, "split": "train", "n": len(calib)}
    if cohort_command:
        calibration["command"] = str(cohort_command)
    block = {
        "file": prec.INT8_FILE,
        "method": "onnxruntime.quantization.quantize_static, QDQ: int8 symmetric per-channel weights, "
        "uint8 activations (MinMax calibration); Conv layers int8 except those in float_kept",
        "onnxruntime": ort.__version__,
        "float_kept": kept,
        "attempts": attempts,
        "calibration": calibration,
        "guard": {
            "max_abs_dp": dp_tol,
            "max_abs_dp_split": "internal",
            "auc_change": auc_tol,
            "auc_splits": list(GATED_SPLITS),
            "reported_only": sorted(set(splits) - set(GATED_SPLITS)),
        },
        "splits": splits,
    }
    out = {"written": not why, "why": why, "block": block, "bundle": str(bundle_dir), "bytes": len(q_bytes)}
    if why:
        return out

    def update(m: dict[str, Any]) -> None:
        m[prec.INT8_BLOCK] = block

    after = rewrite_with_files(bundle_dir, {prec.INT8_FILE: q_bytes}, update, role="onnx")
    return {**out, "manifest_sha256": after.manifest_sha256}


def add_int8_model(
    bundle_dir: str | os.PathLike[str],
    cohort_csv: str | os.PathLike[str],
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any] | None:
    """`dlrs train`'s last step (after the domain reference): the int8 model, or None with a logged line
    when ONNX Runtime's quantization tools are missing or the cohort cannot calibrate it."""
    try:
        # lazy: only to learn whether the quantization tools are installed
        import onnx  # noqa: F401
        import onnxruntime.quantization  # noqa: F401
    except ImportError as exc:
        log(f"no int8 model in this bundle: ONNX Runtime's quantization tools are missing ({exc})")
        return None
    log("int8 model: calibrated on the train split, checked against the float model on every split")
    try:
        out = quantize_bundle(bundle_dir, cohort_csv, threads=threads)
    except CohortError as exc:
        log(f"no int8 model in this bundle: {exc}")
        return None
    splits = out["block"]["splits"]
    log(
        "int8 model "
        + ("written" if out["written"] else "NOT written: " + "; ".join(out["why"]))
        + " ("
        + ", ".join(f"{s} max |Δp| {d['max_abs_dp']:.4f}" for s, d in splits.items())
        + ")"
    )
    return {"written": out["written"], "why": out["why"], "splits": splits}
