"""`dlrs model centre-sets`: prediction sets calibrated on hospitals the networks never saw.

For a bundle whose stacking was not fitted on centre folds (or whose out-of-fold predictions are
gone), one network per training centre is trained without that centre, with the bundle's own recipe
(as `dlrs train --fold-by centre` does), its held-out centre scored by the bundle's own stacking, and
the conformal block widened to those centres' quantiles (training/conformal_fit.py says why). The
shipped weights and stacking are not touched; the manifest is re-pinned. `dlrs train --fold-by centre`
does the same from the folds it trains anyway.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.bundle_edit import rewrite_manifest
from dlrs_desktop.training.cohort import read_cohort
from dlrs_desktop.training.conformal_fit import CentreScores, scores_from_out_of_fold, with_centres
from dlrs_desktop.training.radiomics_fit import fit_signatures


def scores_for_bundle(
    bundle_dir: str | os.PathLike[str],
    cohort_csv: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    log=None,
) -> CentreScores:
    """Train one network per training centre (left out) with the bundle's recipe, as `dlrs train
    --fold-by centre` does, and score each centre with the bundle's primary row. Resumes from
    `checkpoint` (default `<bundle>.centre-folds.checkpoint`), the same format as `dlrs train`'s."""
    # lazy: torch and the trainer are the optional [train] extra; `dlrs --help` must not import them
    import torch

    # lazy: the trainer imports torch (optional [train] extra)
    from dlrs_desktop.training.pipeline import Stages, make_spec, prepare_for, resume_state
    from dlrs_desktop.training.trainer import TrainConfig, describe, group_folds, resolve_device

    log = log or describe
    manifest = load_bundle(bundle_dir).manifest
    known = {f.name for f in fields(TrainConfig)}  # a setting this version does not know is not a recipe
    recipe = {k: v for k, v in (manifest.get("training") or {}).get("config", {}).items() if k in known}
    cfg = TrainConfig(**{**recipe, "fold_by": "centre"})
    torch.set_num_threads(threads or cfg.threads or torch.get_num_threads())
    ckdir = Path(checkpoint) if checkpoint else Path(f"{Path(bundle_dir).resolve()}.centre-folds.checkpoint")
    cases = read_cohort(cohort_csv)
    _check_training_split(manifest, [c for c in cases if c.split == "train"])
    spec = make_spec(cfg)
    data = prepare_for(cfg, spec, cases, cohort_csv)
    tr = data.subset("train")
    folds = group_folds([data.cases[i] for i in tr], data.y[tr], cfg.folds, cfg.seed, "centre")
    state, tensors = resume_state(ckdir, cfg, cohort_csv, False, log)
    stages = Stages(cfg, spec, data, resolve_device(cfg.device), ckdir, state, tensors, log, lambda: None)
    oof, fold_rows = stages.cross_fit(tr, folds, None)
    if manifest.get("radiomics"):
        settings = cfg.feature_settings
        _, oof_sig = fit_signatures(data.radiomics, data.y, tr, folds, spec.region_names, settings)
        oof = np.c_[oof, oof_sig]
    centres = np.array([str(data.cases[i].centre) for i in tr])
    return scores_from_out_of_fold(oof, fold_rows, data.y[tr], centres, manifest)


def _check_training_split(manifest: dict[str, Any], train: list[Any]) -> None:
    """The stacking is applied to the cases it was fitted on: the cohort's train split is the bundle's."""
    rec = ((manifest.get("training_data") or {}).get("splits") or {}).get("train") or {}
    mine = (len(train), sum(int(c.label) for c in train))
    if rec and mine != (rec.get("n"), rec.get("responders")):
        raise CohortError(
            f"This cohort's train split ({mine[0]} cases, {mine[1]} positive) is not the bundle's "
            f"({rec.get('n')} cases, {rec.get('responders')} positive): give the cohort it was trained on."
        )


def add_centre_sets(bundle_dir: str | os.PathLike[str], scores: CentreScores) -> dict[str, Any]:
    """Widen the bundle's conformal block to the held-out centres (weights byte-identical; manifest
    re-pinned). Returns the new block."""
    out: dict[str, Any] = {}

    def update(m: dict[str, Any]) -> None:
        internal = m.get("conformal")
        if not internal:
            raise CohortError(
                "This bundle has no conformal prediction sets; run `dlrs model add-reference` first."
            )
        out.update(with_centres(internal, scores))  # an earlier widening is replaced, not stacked
        m["conformal"] = out

    rewrite_manifest(bundle_dir, update)
    return out
