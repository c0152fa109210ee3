"""`dlrs evaluate`: a bundle on a cohort → the study-shaped table, DeLong tests, figures, report.

The network runs through the application's own `Predictor` (ONNX Runtime on CPU), on inputs from
the bundle's own preprocessing, so the numbers describe what the app computes. Every row of the
table is one of the bundle's stacking models (`manifest["models"]`); thresholds are those fixed
on the training split and stored in the bundle, never re-tuned on the cohort being evaluated.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, ModelError
from dlrs_desktop.fileio import atomic_write_json, atomic_write_text
from dlrs_desktop.limits import MAX_TABLE_BYTES, read_regular_bytes
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.precision import INT8_BLOCK
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.model.radiomics import DEFAULT_FEATURES
from dlrs_desktop.textsafe import csv_cell
from dlrs_desktop.training.cohort import read_cohort
from dlrs_desktop.training.dataset import prepare_cohort
from dlrs_desktop.training.domain_eval import guard_metrics
from dlrs_desktop.training.progress import ProgressBar
from dlrs_desktop.training.quantize import compare_splits, prepare, stacking_inputs
from dlrs_desktop.training.report import write_report
from dlrs_desktop.training.stacking import RowModel
from dlrs_desktop.training.validation import (
    SPLIT_LABELS,
    compute,
    is_training_cohort,
    participants,
    split_cases_sha256,
)

NOT_IN_METRICS_JSON = ("curves", "table")  # per-case data (predictions.csv) and the flat table (table.csv)


def region_logits(bundle, x: np.ndarray, batch: int = 16, precision: str = "float") -> np.ndarray:
    """Region logits (N, R) of prepared crops (N, R, C, S, S) through the app's Predictor (CPU); the
    float model unless asked (the int8 model is compared with it, `int8_change`)."""
    pred = Predictor(bundle, device="cpu", precision=precision)
    out = [pred.run_crops(np.asarray(x[i : i + batch], np.float32))[0] for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, len(bundle.region_names)))


def int8_change(bundle, cases: list[Any], rows: list[RowModel], primary: str) -> dict[str, Any] | None:
    """The primary model's probability from the int8 graph against the float one, per split (None: the
    bundle has no int8 model)."""
    q = bundle.manifest.get(INT8_BLOCK)
    if not isinstance(q, dict):
        return None
    # float32 crops, exactly as the app feeds them: `data.x` is float16 (memory), and that rounding
    # alone moved the demo's largest internal |Δp| from 0.0093 to 0.0112
    fp, qp = (Predictor(bundle, device="cpu", precision=p) for p in ("float", "int8"))
    crops = prepare(fp, cases)
    z_f, z_q = (stacking_inputs(lambda x, p=p: p.run_crops(x)[0], crops) for p in (fp, qp))
    row = next(r for r in rows if r.key == primary)
    return {
        "file": q.get("file"),
        "splits": compare_splits(row.predict(z_f), row.predict(z_q), crops.y, crops.split),
    }


def row_models(manifest: dict[str, Any]) -> list[RowModel]:
    if "models" not in manifest:
        raise ModelError(
            "This bundle carries no per-region stacking models (it was not written by `dlrs train`); "
            "the study table cannot be computed."
        )
    return [RowModel.from_dict(d) for d in manifest["models"]]


def read_ground_truth(path: Path) -> dict[str, float]:
    """case_id → true probability (synthetic cohorts); a wrong column or value is a CohortError."""
    try:
        text = read_regular_bytes(path, "ground-truth table", MAX_TABLE_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CohortError(f"The ground-truth table {path.name} is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"case_id", "true_probability"} <= set(reader.fieldnames or ()):
        raise CohortError(
            f"The ground-truth table {path.name} needs the columns case_id and true_probability "
            f"(it has {', '.join(reader.fieldnames or ()) or 'none'})."
        )
    out: dict[str, float] = {}
    for n, r in enumerate(reader, 2):
        try:
            p = float(r["true_probability"])
        except (TypeError, ValueError):
            p = math.nan
        if not 0.0 <= p <= 1.0:
            raise CohortError(f"{path.name} line {n}: true_probability must be a number from 0 to 1.")
        out[str(r["case_id"])] = p
    return out


def table_csv(result: dict[str, Any]) -> str:
    buf = io.StringIO()
    cols = ["model", "label", "split", "n", "auc", "auc_ci_low", "auc_ci_high", "accuracy", "sensitivity",
            "specificity", "ppv", "npv", "threshold", "brier", "calibration_intercept", "calibration_slope",
            "observed_expected"]  # fmt: skip
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in result["table"]:
        w.writerow(
            {
                k: (f"{v:.4f}" if isinstance(v, float) else "" if v is None else csv_cell(v))
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def evaluate_bundle(
    model: str | Path, cohort_csv: str | Path, out_dir: str | Path, *, ground_truth: str | Path | None = None
) -> dict[str, Any]:
    """Evaluate a bundle on a cohort; writes report.html, metrics.json, table.csv, delong.csv, PNGs."""
    bundle = load_bundle(model)
    rows = row_models(bundle.manifest)
    primary = str(bundle.manifest.get("primary_model", rows[-1].key))
    cases = read_cohort(cohort_csv, require_train=False)
    bar = ProgressBar(len(cases), "preparing ROI crops")
    rad = bundle.radiomics  # the features it was fitted on
    data = prepare_cohort(
        cases,
        bundle.spec,
        csv_path=cohort_csv,
        progress=lambda i, n: bar.update(i),
        feature_settings=rad.settings if rad is not None else DEFAULT_FEATURES,
    )
    bar.close()
    logits = region_logits(bundle, data.x[:, 0])
    if bundle.radiomics is not None:  # stacking inputs: region logits, then radiomics signature logits
        logits = np.c_[logits, bundle.radiomics.logits(data.radiomics)]
    gt_path = Path(ground_truth) if ground_truth else Path(cohort_csv).parent / "ground_truth.csv"
    truth = read_ground_truth(gt_path) if gt_path.is_file() else None
    cohort_sha = hashlib.sha256(Path(cohort_csv).read_bytes()).hexdigest()
    fingerprint = split_cases_sha256(cases, data.y)
    trained_on = is_training_cohort(bundle.manifest, cohort_sha, participants(cases, data.y), fingerprint)
    result = compute(cases, data.y, logits, rows, primary, truth, bundle.manifest, trained_on)
    result["cohort_sha256"] = cohort_sha
    result["int8"] = int8_change(bundle, cases, rows, primary)

    bar = ProgressBar(len(cases), "domain guard")
    result["domain_guard"] = guard_metrics(bundle, cases, progress=lambda i, n: bar.update(i))
    bar.close()
    result["model"] = {"id": bundle.id, "version": bundle.version, "synthetic": bundle.is_synthetic,
                       "demo": bundle.is_demo, "manifest_sha256": bundle.manifest_sha256}  # fmt: skip
    result["cohort"] = Path(cohort_csv).name
    result["ground_truth_file"] = gt_path.name if truth is not None else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "table.csv", table_csv(result))
    atomic_write_text(out / "delong.csv", _csv(result["comparisons"]))
    atomic_write_text(out / "predictions.csv", predictions_csv(cases, logits, rows, bundle.input_names))
    figures = write_report(out, result, bundle.manifest)
    result["figures"] = figures
    atomic_write_json(out / "metrics.json", {k: v for k, v in result.items() if k not in NOT_IN_METRICS_JSON})
    return result


def _csv(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if records:
        w = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
        w.writeheader()
        for r in records:
            w.writerow({k: (repr(v) if isinstance(v, float) else csv_cell(v)) for k, v in r.items()})
    return buf.getvalue()


def predictions_csv(cases, logits: np.ndarray, rows: list[RowModel], region_names) -> str:
    """Per case: region (and radiomics signature) logits and every row's probability, at full precision.

    Full precision: `repr` round-trips every double.

    Why not rounded: 5 decimals made ties that moved DeLong p-values by up to 0.02 when a reader
    recomputed them from this file.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["case_id", "split", "centre", "label", *[f"logit_{n}" for n in region_names],
                *[r.key for r in rows]])  # fmt: skip
    probs = np.stack([r.predict(logits) for r in rows], axis=1) if len(rows) else np.zeros((len(cases), 0))
    for i, c in enumerate(cases):
        w.writerow([csv_cell(c.case_id), csv_cell(c.split), csv_cell(c.centre), c.label,
                    *[repr(float(v)) for v in logits[i]], *[repr(float(v)) for v in probs[i]]])  # fmt: skip
    return buf.getvalue()


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(model key, label, its table row for each split in order): shared by the Markdown and HTML tables."""
    table = result["table"]
    labels: dict[str, str] = {}
    for r in table:
        labels.setdefault(r["model"], r["label"])
    by_key = {(r["model"], r["split"]): r for r in table}
    return [(k, label, [by_key[k, s] for s in result["split_order"]]) for k, label in labels.items()]


def headline(result: dict[str, Any]) -> str:
    """A compact Markdown table (AUC [95 % CI]) for READMEs."""
    splits = result["split_order"]
    lines = ["| Model | " + " | ".join(SPLIT_LABELS[s] for s in splits) + " |",
             "|---|" + "---|" * len(splits)]  # fmt: skip
    for key, label, rows in table_rows(result):
        cells = []
        for r in rows:
            if r.get("auc") is None:
                cells.append("–")
            elif r.get("auc_ci_low") is None:
                cells.append(f"{r['auc']:.3f}")
            else:
                cells.append(f"{r['auc']:.3f} [{r['auc_ci_low']:.3f}–{r['auc_ci_high']:.3f}]")
        star = " (primary)" if key == result["primary_model"] else ""
        lines.append(f"| {label}{star} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dumps(result: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in result.items() if k not in NOT_IN_METRICS_JSON}, indent=2)
