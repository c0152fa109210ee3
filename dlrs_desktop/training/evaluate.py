"""`dlrs evaluate`: a bundle on a cohort → the study-shaped table, DeLong tests, figures, report.

The network runs through the application's own `Predictor` (ONNX Runtime on CPU), on inputs from
the bundle's own preprocessing, so the numbers describe what the app computes. Every row of the
table is one of the bundle's stacking models (`manifest["models"]`); thresholds are those fixed
on the training split and stored in the bundle, never re-tuned on the cohort being evaluated.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.fileio import atomic_write_json, atomic_write_text
from dlrs_desktop.textsafe import csv_cell
from dlrs_desktop.training.metrics import auc, binary_metrics, brier, delong_test
from dlrs_desktop.training.stacking import RowModel

SPLIT_LABELS = {"train": "Training", "internal": "Internal validation", "external": "External validation"}


def region_logits(bundle, x: np.ndarray, batch: int = 16) -> np.ndarray:
    """Region logits (N, R) of prepared crops (N, R, C, S, S) through the app's Predictor (CPU)."""
    from dlrs_desktop.model.predictor import Predictor

    pred = Predictor(bundle, device="cpu")
    out = [pred.run_crops(np.asarray(x[i : i + batch], np.float32))[0] for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, len(bundle.region_names)))


def row_models(manifest: dict[str, Any]) -> list[RowModel]:
    if "models" not in manifest:
        raise ModelError(
            "This bundle carries no per-region stacking models (it was not written by `dlrs train`); "
            "the study table cannot be computed."
        )
    return [RowModel.from_dict(d) for d in manifest["models"]]


def read_ground_truth(path: Path) -> dict[str, float]:
    """case_id → true probability (synthetic cohorts); a wrong column or value is a CohortError."""
    from dlrs_desktop.errors import CohortError
    from dlrs_desktop.limits import MAX_TABLE_BYTES, read_regular_bytes

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


def compute(
    cases,
    y: np.ndarray,
    logits: np.ndarray,
    rows: list[RowModel],
    primary: str,
    truth: dict[str, float] | None,
) -> dict[str, Any]:
    """All numbers of the report (JSON-serialisable)."""
    splits = np.array([c.split for c in cases])
    present = [s for s in ("train", "internal", "external") if (splits == s).any()]
    table: list[dict[str, Any]] = []
    delong: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    gt: dict[str, Any] = {}
    for s in present:
        idx = np.where(splits == s)[0]
        ys = y[idx]
        two = len(set(ys.tolist())) == 2
        probs = {r.key: r.predict(logits[idx]) for r in rows}
        curves[s] = {"y": ys.tolist(), "probs": {k: v.tolist() for k, v in probs.items()}}
        for r in rows:
            m = binary_metrics(ys, probs[r.key], r.threshold).to_dict() if two else {"n": len(ys)}
            m["brier"] = brier(ys, probs[r.key])
            table.append({"model": r.key, "label": r.label, "kind": r.kind, "split": s, **m})
        if two and min(int(ys.sum()), len(ys) - int(ys.sum())) >= 2:
            for f in (r for r in rows if r.kind == "fusion"):
                for single in (r for r in rows if r.kind == "single"):
                    t = delong_test(ys, probs[f.key], probs[single.key])
                    delong.append({"split": s, "fusion": f.key, "single": single.key, **t})
        if truth is not None and two:
            tp = np.array([truth.get(cases[i].case_id, np.nan) for i in idx])
            if not np.isnan(tp).any():
                best = auc(ys, tp)
                gt[s] = {
                    "ground_truth_auc": best,
                    "primary_auc": auc(ys, probs[primary]),
                    "ratio": auc(ys, probs[primary]) / best,
                    "best_single_auc": max(auc(ys, probs[r.key]) for r in rows if r.kind == "single"),
                }
    return {"splits": present, "primary_model": primary, "table": table, "delong": delong, "curves": curves,
            "ground_truth": gt}  # fmt: skip


def table_csv(result: dict[str, Any]) -> str:
    buf = io.StringIO()
    cols = ["model", "label", "split", "n", "auc", "auc_ci_low", "auc_ci_high", "accuracy", "sensitivity",
            "specificity", "ppv", "npv", "threshold", "brier"]  # fmt: skip
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
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.dataset import prepare_cohort
    from dlrs_desktop.training.progress import ProgressBar
    from dlrs_desktop.training.report import write_report

    bundle = load_bundle(model)
    rows = row_models(bundle.manifest)
    primary = str(bundle.manifest.get("primary_model", rows[-1].key))
    cases = read_cohort(cohort_csv, require_train=False)
    bar = ProgressBar(len(cases), "preparing ROI crops")
    data = prepare_cohort(cases, bundle.spec, csv_path=cohort_csv, progress=lambda i, n: bar.update(i))
    bar.close()
    logits = region_logits(bundle, data.x[:, 0])
    gt_path = Path(ground_truth) if ground_truth else Path(cohort_csv).parent / "ground_truth.csv"
    truth = read_ground_truth(gt_path) if gt_path.is_file() else None
    result = compute(cases, data.y, logits, rows, primary, truth)
    result["model"] = {"id": bundle.id, "version": bundle.version, "synthetic": bundle.is_synthetic,
                       "manifest_sha256": bundle.manifest_sha256}  # fmt: skip
    result["cohort"] = Path(cohort_csv).name
    result["ground_truth_file"] = gt_path.name if truth is not None else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "table.csv", table_csv(result))
    buf = io.StringIO()
    if result["delong"]:
        w = csv.DictWriter(buf, fieldnames=list(result["delong"][0]), lineterminator="\n")
        w.writeheader()
        w.writerows(result["delong"])
    atomic_write_text(out / "delong.csv", buf.getvalue())
    pred_buf = io.StringIO()
    w = csv.writer(pred_buf, lineterminator="\n")
    w.writerow(
        ["case_id", "split", "label", *[f"logit_{n}" for n in bundle.region_names], *[r.key for r in rows]]
    )
    for i, c in enumerate(cases):
        w.writerow([csv_cell(c.case_id), csv_cell(c.split), c.label, *[f"{v:.5f}" for v in logits[i]],
                    *[f"{float(r.predict(logits[i:i + 1])[0]):.5f}" for r in rows]])  # fmt: skip
    atomic_write_text(out / "predictions.csv", pred_buf.getvalue())
    figures = write_report(out, result, bundle.manifest)
    result["figures"] = figures
    atomic_write_json(out / "metrics.json", {k: v for k, v in result.items() if k != "curves"})
    return result


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(model key, label, its table row for each split in order): shared by the Markdown and HTML tables."""
    table = result["table"]
    labels: dict[str, str] = {}
    for r in table:
        labels.setdefault(r["model"], r["label"])
    by_key = {(r["model"], r["split"]): r for r in table}
    return [(k, label, [by_key[k, s] for s in result["splits"]]) for k, label in labels.items()]


def headline(result: dict[str, Any]) -> str:
    """A compact Markdown table (AUC [95 % CI]) for READMEs."""
    splits = result["splits"]
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
    return json.dumps({k: v for k, v in result.items() if k != "curves"}, indent=2)
