"""Fitting the radiomics signatures (model/radiomics.py) of every fusion row, with out-of-fold logits.

Each fusion row ("intratumoral + 5 mm", …, "all regions") gets one signature: a standardised L2
logistic regression on the features of the row's regions plus the contour's shape, its strength
chosen by 5-fold cross-validated AUC on the training split (scikit-learn's LogisticRegressionCV).
The stacking needs the signature's *out-of-fold* logits on the training split, as it needs the
networks' (stacking.py): the same patient-grouped folds are used, each fold's signature refitted
without that fold. The shipped signature is refitted on the whole training split.
"""

from __future__ import annotations

import warnings

import numpy as np

from dlrs_desktop.errors import CohortError
from dlrs_desktop.model.radiomics import (
    DEFAULT_FEATURES,
    FeatureSettings,
    Radiomics,
    Signature,
    feature_names,
    signature_columns,
    signature_name,
)
from dlrs_desktop.training.stacking import REGION_LABELS, row_specs

C_GRID = tuple(float(c) for c in np.logspace(-3, 1, 9))
DEFAULT_C = 0.1  # when a cohort is too small to cross-validate the strength


def fit_signature_model(x: np.ndarray, y: np.ndarray):
    """Standardiser + L2 logistic regression; None when the cases hold one class only (a tiny fold)."""
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    smallest = int(np.bincount(y, minlength=2).min())
    if smallest == 0:
        return None
    cv = min(5, smallest)
    lr = (
        LogisticRegressionCV(Cs=list(C_GRID), cv=cv, scoring="roc_auc", max_iter=5000)
        if cv >= 2
        else LogisticRegression(C=DEFAULT_C, max_iter=5000)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn 1.8's announced parameter changes
        return make_pipeline(StandardScaler(), lr).fit(x, y)


def fit_signatures(
    features: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    folds: np.ndarray,
    region_names: tuple[str, ...],
    settings: FeatureSettings = DEFAULT_FEATURES,
) -> tuple[Radiomics, np.ndarray]:
    """(signatures, out-of-fold logits (len(train_idx), S)) for every fusion row of `region_names`.

    `folds[i]` is the fold of training case `train_idx[i]` (trainer.group_folds).
    """
    names = feature_names(region_names, settings.shape)
    x, yt = np.asarray(features, np.float64)[train_idx], np.asarray(y)[train_idx].astype(int)
    sigs, oof = [], np.zeros((len(train_idx), 0))
    for key, _label, regions, kind in row_specs(region_names):
        if kind != "fusion":
            continue
        cols = signature_columns(region_names, regions)
        model = fit_signature_model(x[:, cols], yt)
        if model is None:
            raise CohortError(
                "The radiomics signatures need responders and non-responders in the training split."
            )
        scaler, lr = model[0], model[1]
        sigs.append(
            Signature(
                name=signature_name(key),
                label="Radiomics: " + " + ".join(REGION_LABELS.get(r, r) for r in regions),
                regions=tuple(regions),
                columns=tuple(cols),
                mean=tuple(float(v) for v in scaler.mean_),
                scale=tuple(float(v) for v in scaler.scale_),
                coefficients=tuple(float(v) for v in lr.coef_[0]),
                intercept=float(lr.intercept_[0]),
            )
        )
        held = np.zeros(len(train_idx))
        for f in np.unique(folds):
            fit, hold = folds != f, folds == f
            m = fit_signature_model(x[fit][:, cols], yt[fit])
            held[hold] = 0.0 if m is None else m.decision_function(x[hold][:, cols])
        oof = np.c_[oof, held]
    return Radiomics(tuple(names), tuple(sigs), settings), oof
