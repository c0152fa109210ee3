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

NOT_FEDERATED = ("distillation", "weight EMA", "the int8 model")
ROUND_RULE = (
    "best round by the pooled internal split's mean region AUC (score histograms summed over "
    "sites); the last round when no internal split holds both classes"
)


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


def training_data(
    recipe, counts: dict[str, int], sites: dict[str, dict[str, int]], area: list[float]
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The manifest's training_data block from the sites' counts (the server holds no cohort file)."""
    c, names = counts, sorted(sites)
    return {
        "kind": recipe.training_kind,
        "description": recipe.description or f"federated across {len(names)} sites",
        "cohort_file": f"federated: {len(names)} site cohorts (never pooled)",
        "splits": {
            s: {
                "n": c[f"n_{s}"],
                "responders": c[f"pos_{s}"],
                "centres": [n for n in names if sites[n][s]],
            }
            for s in SPLITS
        },
        "centres": names,
        "sites": sites,
        "tumour_area_mm2_range": area,
        **({"body_part": recipe.body_part} if recipe.body_part else {}),
    }


def federation_block(plan, sites: list[str], completed: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The manifest's training.federation block: the plan (a coordinator.FederatedPlan), the sites and
    the round kept per network, and what crossed the wire."""
    return {
        **plan.federation,
        "sites": sites,
        "n_sites": len(sites),
        **{k: getattr(plan, k) for k in ("rounds", "local_epochs", "min_sites", "prox_mu")},
        "aggregation": "FedAvg weighted by each site's training cases"
        + (" with a FedProx term" if plan.prox_mu else ""),
        "round_choice": ROUND_RULE,
        "learning_rate": "cosine annealed over the rounds; fresh AdamW per round at each site",
        "not_in_recipe": list(NOT_FEDERATED),
        "rounds_kept": {k: v["best_round"] for k, v in completed.items()},
        "what_crossed": "network weights, radiomics signature coefficients, case counts, moments, "
        "logistic-loss sums and score histograms; for the domain reference the sealed bundle (to the "
        "sites) and feature sums, moments and histograms (back); never images, crops, masks, "
        "per-patient features or logits",
    }
