"""Stacking on out-of-fold logits: each fold network in its own units, converted to the shipped one's."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.stacking import fit_row_models, standardise_per_fold, to_network_units

NAMES = ("intratumoral", "ring_3mm", "ring_5mm", "ring_10mm")


def _oof(seed: int = 0):
    """Three folds of region logits; region 0 carries the most signal, fold 1's head is badly scaled."""
    rng = np.random.default_rng(seed)
    n = 300
    y = rng.integers(0, 2, n)
    signal = np.array([1.5, 0.4, 0.6, 0.8])
    logits = (y[:, None] - 0.5) * signal + rng.normal(0, 1, (n, 4))
    folds = [list(range(0, 100)), list(range(100, 200)), list(range(200, 300))]
    raw = logits.copy()
    raw[folds[1], 0] = raw[folds[1], 0] * 20 - 8  # a degenerate head: huge, shifted logits
    return raw, logits, y, folds


def test_per_fold_standardisation_recovers_the_weight_of_a_badly_scaled_head():
    raw, _, y, folds = _oof()
    w_raw = fit_row_models(raw, y, NAMES)[-1].coefficients  # fusion_all
    z = standardise_per_fold(raw, folds)
    for rows in folds:
        assert np.allclose(z[rows].mean(axis=0), 0, atol=1e-9) and np.allclose(z[rows].std(axis=0), 1)
    rows_z = fit_row_models(z, y, NAMES)
    w_z = rows_z[-1].coefficients
    # pooled raw, the strongest region looks weak; standardised, it gets the largest weight
    assert w_z[0] == max(w_z) and w_z[0] > 3 * abs(w_raw[0])
    assert rows_z[0].oof_auc > auc(y, raw[:, 0]) + 0.03  # pooled ranking no longer mixes scales


def test_conversion_to_the_shipped_network_is_exact():
    _, logits, y, folds = _oof(1)
    rows_z = fit_row_models(standardise_per_fold(logits, folds), y, NAMES)
    shipped = logits * [2.0, 0.5, 1.0, 3.0] + [1.0, -2.0, 0.0, 0.5]  # another network's units
    reference = shipped[:120]  # its held-out (internal) cases
    rows, stats = to_network_units(rows_z, reference)
    m, s = reference.mean(axis=0), reference.std(axis=0)
    for r_z, r in zip(rows_z, rows, strict=True):
        np.testing.assert_allclose(r.predict(shipped), r_z.predict((shipped - m) / s), rtol=1e-12)
        assert r.threshold == r_z.threshold and r.key == r_z.key
        # regions a row does not use keep a zero weight
        assert all(c == 0 for c, n in zip(r.coefficients, NAMES, strict=True) if n not in r.regions)
    assert stats["n"] == 120 and stats["sd"] == pytest.approx(list(s))
