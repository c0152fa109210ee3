"""roi.geometry against the maintained libraries it was measured against (module docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.roi import geometry as geo

shapely = pytest.importorskip("shapely")


def _lesions(count: int = 20) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(count):
        t = np.linspace(0, 2 * np.pi, int(rng.integers(16, 300)), endpoint=False)
        r = 40 + 6 * np.sin(int(rng.integers(2, 7)) * t) + rng.normal(0, 0.7, len(t))
        out.append(np.c_[300 + 1.4 * r * np.cos(t), 200 + r * np.sin(t)])
    return out


def test_area_and_perimeter_equal_shapelys():
    for pts in _lesions():
        ring = shapely.Polygon(pts)
        assert abs(abs(geo.signed_area(pts)) - ring.area) <= 1e-12 * ring.area
        assert abs(geo.perimeter(pts) - ring.exterior.length) <= 1e-12 * ring.exterior.length


def test_self_crossings_agree_with_shapelys_validity():
    for pts in _lesions():
        assert not geo.edge_crossings(pts) and shapely.Polygon(pts).is_valid
        bow = pts.copy()
        half = len(bow) // 2
        bow[[1, half]] = bow[[half, 1]]  # swap two vertices: the outline crosses itself
        assert geo.edge_crossings(bow) and not shapely.Polygon(bow).is_valid
