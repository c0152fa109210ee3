"""Sealing a federated bundle from score histograms: selection.choose_primary's guard and the metrics.

Why histograms: the server never sees a per-patient score, so the internal AUCs, the best single
region's DeLong CI and the confusion counts come from the sites' summed histograms (aggregates.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated.site import SPLITS
from dlrs_desktop.training.selection import guarded_primary, unchecked_primary
from dlrs_desktop.training.stacking import RowModel


def choose_primary(rows: list[RowModel], internal: np.ndarray) -> tuple[str, dict[str, Any], list[str]]:
    """selection.choose_primary on histograms: `internal` (rows, 2, B) of the pooled internal split.

    Differences: AUCs are of binned scores (0.01 logit bins) and the best single region's 95 % CI is
    DeLong's on those bins (aggregates.auc_ci_from_histogram), not on the exact scores."""
    if min(int(internal[0, 1].sum()), int(internal[0, 0].sum())) < 2:
        return unchecked_primary(rows)
    scores = {r.key: float(agg.auc_from_histogram(internal[i])) for i, r in enumerate(rows)}
    singles = [(i, r) for i, r in enumerate(rows) if r.kind == "single"]
    best = max(singles, key=lambda t: scores[t[1].key])[0]
    _, lo, hi = agg.auc_ci_from_histogram(internal[best])
    chosen, guard, warnings = guarded_primary(rows, scores, (lo, hi))
    guard["auc_from"] = "score histograms (0.01-logit bins), DeLong CI on the bins"
    return chosen, guard, warnings


def split_metrics(rows: list[RowModel], hists: np.ndarray) -> list[dict[str, Any]]:
    """binary_metrics per split (both classes present) and row, from the summed histograms."""
    out = []
    for s, split in enumerate(SPLITS):
        if min(int(hists[s, 0, 1].sum()), int(hists[s, 0, 0].sum())) < 1:
            continue
        for i, r in enumerate(rows):
            out.append(
                {"model": r.key, "split": split, **agg.metrics_from_histogram(hists[s, i], r.threshold)}
            )
    return out
