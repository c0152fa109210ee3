"""The report's "Domain guard" section of a federated bundle, from the sites' counts and histograms.

The same block `dlrs evaluate` writes (training/domain_eval.guard_metrics): per split the fractions
inside / unusual / outside, the fused AUC among the cases inside and among the flagged ones, the
prediction sets' empirical coverage and the fraction "either"; per site (in place of per centre)
the fractions. The sites score their own cases with the bundle's final reference ("domain_report")
and send counts and 0.01-logit histograms only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.model import domain as dm
from dlrs_desktop.training.domain_eval import block_head, fractions
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import domain_texture as tex_wire
from dlrs_desktop.training.federated.domain import Ask, bundle_files
from dlrs_desktop.training.federated.protocol import Expect
from dlrs_desktop.training.federated.site_domain import REPORT_COUNTS, SPLITS, checks_array


def federated_guard(ask: Ask, bundle_dir: Path, bundle: Any) -> dict[str, Any]:
    """guard_metrics' block from the sites; {"available": False, ...} for a bundle without a reference."""
    ref = bundle.domain
    if ref is None:
        return {"available": False, "reason": dm.NO_REFERENCE}
    conformal = bundle.manifest.get("conformal") or {}
    files, config = bundle_files(bundle_dir, bundle)
    ask("domain_observe", files, config, Expect((), metrics=("cases",)))
    params = np.array([ref.unusual_above, ref.outside_above, float(conformal.get("qhat", 1.0)),
                       float(conformal.get("centre", bundle.manifest["threshold"]))])  # fmt: skip
    checks = checks_array(bundle.manifest["domain_reference"]["checks"])
    texture = tex_wire.pack(bundle.manifest["domain_reference"].get("texture"))
    arrays = [ref.mean, ref.components, ref.precision, ref.residual, texture, checks, params]
    shapes = ((len(SPLITS), len(REPORT_COUNTS)), (len(SPLITS), 2, 2, agg.N_BINS))
    replies = ask("domain_report", arrays, {}, Expect(shapes, metrics=("cases",)))
    counts = sum(r.arrays[0].astype(np.float64) for r in replies)
    hists = sum(r.arrays[1].astype(np.int64) for r in replies)
    gate = ref.has_synthetic_gate
    out = block_head(ref, conformal or None)
    out["computed_from"] = "the sites' status counts and 0.01-logit histograms (AUCs of binned scores)"
    for i, split in enumerate(SPLITS):
        row = _fractions(counts[i], gate)
        if row["n"] == 0:
            continue
        row["auc_inside"], row["auc_flagged"] = (_auc(hists[i, g]) for g in (0, 1))
        if conformal:
            row["coverage"], row["either"] = counts[i, 4] / row["n"], counts[i, 5] / row["n"]
        out["splits"][split] = row
    for r in replies:
        out["centres"][r.site] = _fractions(r.arrays[0].astype(np.float64).sum(axis=0), gate)
    return out


def _fractions(c: np.ndarray, gate: bool) -> dict[str, Any]:
    """domain_eval.fractions from a row of REPORT_COUNTS (n, inside, unusual, outside, ..., gated)."""
    out = fractions(int(c[0]), c[1:4])
    if gate and c[0]:
        out["outside_synthetic"] = float(c[6]) / float(c[0])
    return out


def _auc(h: np.ndarray) -> float | None:
    value = float(agg.auc_from_histogram(h)) if h[0].sum() and h[1].sum() else math.nan
    return value if math.isfinite(value) else None
