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


def test_inverted_out_of_fold_region_gets_no_negative_weight_and_the_sealed_primary_beats_chance():
    """The issue-15 failure: weak fold networks invert the intratumoral region; the shipped one does not."""
    from dlrs_desktop.training.selection import seal_rows

    rng = np.random.default_rng(7)
    n_tr, n_iv = 240, 120
    y_all = rng.integers(0, 2, n_tr + n_iv)
    signal = np.array([1.6, 0.3, 0.5, 0.7])
    shipped = (y_all[:, None] - 0.5) * signal + rng.normal(0, 1, (n_tr + n_iv, 4))
    y = y_all[:n_tr]
    oof = (y[:, None] - 0.5) * signal + rng.normal(0, 1, (n_tr, 4))
    oof[:, 0] = -oof[:, 0]  # injected: the fold networks' intratumoral logits point against the label
    folds = [list(range(0, 80)), list(range(80, 160)), list(range(160, 240))]
    rows_z = fit_row_models(standardise_per_fold(oof, folds), y, NAMES)
    for r in rows_z:
        assert min(r.coefficients) >= 0, r
    intratumoral = rows_z[0]
    assert intratumoral.coefficients[0] == 0 and "point against the label" in intratumoral.notes[0]
    splits = np.array(["train"] * n_tr + ["internal"] * n_iv)
    sealed = seal_rows(rows_z, NAMES, shipped, y_all, splits)
    assert all(min(r.coefficients) >= 0 for r in sealed.rows)
    assert any("intratumoral" in w and "against the label" in w for w in sealed.warnings)
    # the single-region row is refitted on the shipped network (not left constant, not inverted)
    single = sealed.rows[0]
    assert single.coefficients[0] > 0 and single.fit.startswith("in-sample")
    iv = splits == "internal"
    assert auc(y_all[iv], single.predict(shipped[iv])) == pytest.approx(auc(y_all[iv], shipped[iv, 0]))
    primary = next(r for r in sealed.rows if r.key == sealed.primary)
    assert auc(y_all[iv], primary.predict(shipped[iv])) > 0.5
    assert sealed.guard["checked"] and sealed.guard["chosen"] == sealed.primary


def test_guard_rejects_a_primary_below_chance_or_below_the_best_single_region():
    """Every fusion worse than chance on the internal split: the best single region is sealed, loudly."""
    from dlrs_desktop.training.selection import choose_primary
    from dlrs_desktop.training.stacking import RowModel, row_specs

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 150)
    logits = (y[:, None] - 0.5) * np.array([2.0, 0.2, 0.2, 0.2]) + rng.normal(0, 1, (150, 4))
    rows = []
    for key, label, regions, kind in row_specs(NAMES):
        coef = [0.0] * 4
        for reg in regions:
            coef[NAMES.index(reg)] = 1.0 if kind == "single" else (-1.0 if reg == "intratumoral" else 0.2)
        rows.append(RowModel(key, label, regions, kind, tuple(coef), 0.0, 0.5, 0.5))
    key, guard, warnings = choose_primary(rows, logits, y)
    assert key == "intratumoral"
    assert set(guard["rejected"]) == {r.key for r in rows if r.kind == "fusion"}
    assert all("not above chance" in v for v in guard["rejected"].values())
    assert any("rejected" in w and "sealed with intratumoral" in w for w in warnings)
    # a fusion above chance but below the best single region's CI is rejected too
    rows[-1] = RowModel("fusion_all", "all", NAMES, "fusion", (0.0, 0.0, 0.0, 1.0), 0.0, 0.5, 0.5)
    key, guard, _ = choose_primary(rows, logits, y)
    assert key == "intratumoral" and "below the 95 % CI" in guard["rejected"]["fusion_all"]
