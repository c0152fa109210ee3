"""Sealing a federated bundle from score histograms: selection.choose_primary's guard and the metrics.

Why histograms: the server never sees a per-patient score, so the internal AUCs, the best single
region's DeLong CI and the confusion counts come from the sites' summed histograms (aggregates.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated.site import SPLITS
from dlrs_desktop.training.stacking import RowModel


def choose_primary(rows: list[RowModel], internal: np.ndarray) -> tuple[str, dict[str, Any], list[str]]:
    """selection.choose_primary on histograms: `internal` (rows, 2, B) of the pooled internal split.

    Differences: AUCs are of binned scores (0.01 logit bins) and the best single region's 95 % CI is
    DeLong's on those bins (aggregates.auc_ci_from_histogram), not on the exact scores."""
    # lazy: selection imports nothing heavy, but keeps PRIMARY_RULE in one place
    from dlrs_desktop.training.selection import PRIMARY_RULE

    fusions = [r for r in rows if r.kind == "fusion"]
    pos, neg = int(internal[0, 1].sum()), int(internal[0, 0].sum())
    if min(pos, neg) < 2:
        key = "fusion_all" if any(r.key == "fusion_all" for r in fusions) else fusions[-1].key
        msg = (
            f"No internal split with two cases of each class: primary model {key} was not checked "
            "against chance."
        )
        return key, {"rule": PRIMARY_RULE, "checked": False, "chosen": key, "rejected": {}}, [msg]
    scores = {r.key: float(agg.auc_from_histogram(internal[i])) for i, r in enumerate(rows)}
    singles = [(i, r) for i, r in enumerate(rows) if r.kind == "single"]
    bi, best_single = max(singles, key=lambda t: scores[t[1].key])
    _, lo, hi = agg.auc_ci_from_histogram(internal[bi])
    rejected: dict[str, str] = {}
    for f in fusions:
        a = scores[f.key]
        if not a > 0.5:
            rejected[f.key] = f"internal AUC {a:.3f} is not above chance (0.5)"
        elif a < lo:
            rejected[f.key] = (
                f"internal AUC {a:.3f} is below the 95 % CI of the best single region "
                f"{best_single.key} ({scores[best_single.key]:.3f}, {lo:.3f}–{hi:.3f})"
            )
    ranked = [
        rows[i]
        for i in sorted(
            range(len(rows)), key=lambda i: (-scores[rows[i].key], rows[i].key != "fusion_all", i)
        )
    ]
    top_fusion = next(r.key for r in ranked if r.kind == "fusion")
    ok = [r.key for r in ranked if r.kind == "fusion" and r.key not in rejected]
    ok += [r.key for r in ranked if r.kind == "single" and scores[r.key] > 0.5]
    warnings = []
    chosen = ok[0] if ok else ranked[0].key
    if not ok:
        warnings.append(
            f"NO model beats chance on the internal split (best: {chosen}, AUC {scores[chosen]:.3f}). "
            "The bundle was written so that it can be inspected; it is not fit for any use."
        )
    if chosen != top_fusion:
        warnings.append(
            f"Primary model guard: {top_fusion} was rejected ({rejected.get(top_fusion, '')}); "
            f"the bundle is sealed with {chosen} (internal AUC {scores[chosen]:.3f})."
        )
    guard = {
        "rule": PRIMARY_RULE,
        "checked": True,
        "chosen": chosen,
        "internal_auc": scores,
        "best_single": {"key": best_single.key, "auc": scores[best_single.key], "ci": [lo, hi]},
        "rejected": rejected,
        "auc_from": "score histograms (0.01-logit bins), DeLong CI on the bins",
    }
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
