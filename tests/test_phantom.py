"""The simulated QA-phantom scans behind the guard's texture gate (training/phantom.py)."""

from __future__ import annotations

import numpy as np

from dlrs_desktop.training.phantom import phantom_scan


def _autocorr(hp: np.ndarray, axis: int, lag: int) -> float:
    a = np.take(hp, np.arange(lag, hp.shape[axis]), axis=axis)
    b = np.take(hp, np.arange(0, hp.shape[axis] - lag), axis=axis)
    return float((a * b).mean() / (hp * hp).mean())


def test_a_phantom_is_seeded_framed_8_bit_speckle_with_its_contour_on_a_target():
    a, b, c = phantom_scan(3), phantom_scan(3), phantom_scan(4)
    assert np.array_equal(a.gray, b.gray) and np.array_equal(a.contour, b.contour)
    assert not np.array_equal(a.gray[:50, :50], c.gray[:50, :50])
    assert a.gray.dtype == np.uint8 and 0.05 <= a.mm_per_px <= 0.15
    h, w = a.gray.shape
    assert a.gray[:20].max() == 0 and a.gray[:, :30].max() == 0  # the black frame round the scan area
    assert a.contour[:, 0].min() > 30 and a.contour[:, 0].max() < w - 30 and a.contour[:, 1].max() < h - 20
    inner = a.gray[20:-20, 30:-30].astype(float)
    assert 20 < inner.mean() < 235 and inner.std() > 10  # speckle, neither black nor saturated


def test_its_speckle_is_longer_across_the_beam_than_along_it():
    """The pulse–echo PSF is wider laterally than axially, as on every scanner: the speckle's lateral
    autocorrelation at 2 px exceeds the axial one (the descriptor's axial/lateral numbers read this)."""
    for seed in range(5):
        g = phantom_scan(seed).gray[20:-20, 30:-30].astype(float)
        hp = g - g.mean()
        assert _autocorr(hp, 1, 2) > _autocorr(hp, 0, 2), seed
