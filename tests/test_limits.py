"""Unit checks of the stated limits and the bounded algorithms behind the fuzz suite."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dlrs_desktop.errors import ContourError, DlrsError, ModelError
from dlrs_desktop.limits import MAX_RING_RADIUS_MM, LimitError, check_regular_file, parse_json
from dlrs_desktop.roi import geometry as geo
from tests.fuzz_images import DEMO_BUNDLE


def _brute_crossings(pts: np.ndarray) -> set[tuple[int, int]]:
    """Reference: every pair of non-adjacent edges that touch or cross (O(n²), exact enough here)."""
    n = len(pts)
    out = set()
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            a, b, c, d = pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]

            def o(p, q, r):
                return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

            if (
                max(min(a[0], b[0]), min(c[0], d[0])) <= min(max(a[0], b[0]), max(c[0], d[0]))
                and max(min(a[1], b[1]), min(c[1], d[1])) <= min(max(a[1], b[1]), max(c[1], d[1]))
                and o(a, b, c) * o(a, b, d) <= 0
                and o(c, d, a) * o(c, d, b) <= 0
            ):
                out.add((i, j))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_sweep_finds_exactly_the_brute_force_crossings(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    if seed % 2:  # a star-ish polygon with a few random crossings
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(20, 60, n)
        pts = np.column_stack([100 + r * np.cos(t), 100 + r * np.sin(t)])
        k = rng.integers(0, n - 1)
        pts[[k, (k + 2) % n]] = pts[[(k + 2) % n, k]]
    else:
        pts = rng.uniform(0, 100, (n, 2)).round(0)  # integer grid: touching and collinear cases too
    found = {(i, j) for i, j, _ in geo.edge_crossings(pts) if abs(i - j) != 1 and {i, j} != {0, n - 1}}
    assert found == _brute_crossings(pts)


def test_crossing_check_is_bounded_and_refuses_past_its_pair_budget(monkeypatch):
    t = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    circle = np.column_stack([500 + 300 * np.cos(t), 500 + 300 * np.sin(t)])
    assert geo.edge_crossings(circle) == []
    monkeypatch.setattr(geo, "MAX_CROSSING_PAIRS", 1000)
    rng = np.random.default_rng(0)
    with pytest.raises(ContourError, match="limit of 1,000"):
        geo.edge_crossings(rng.uniform(0, 100, (2000, 2)))


def test_named_pipe_and_device_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DlrsError, match="not a regular file"):
        check_regular_file(fifo)
    with pytest.raises(DlrsError, match="not a regular file"):
        check_regular_file("/dev/zero")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    with pytest.raises(LimitError, match="limit of 10 bytes"):
        check_regular_file(big, "file", 10)


def test_strict_json_refuses_constants_nesting_and_huge_integers():
    for text in ('{"a": NaN}', '{"a": Infinity}', "[" * 100000 + "]" * 100000, '{"a": ' + "9" * 5000 + "}"):
        with pytest.raises(DlrsError):
            parse_json(text, "test file")
    assert parse_json('{"a": [1, 2.5]}', "test file") == {"a": [1, 2.5]}


def test_ring_radius_limit_is_stated(tmp_path):
    from dlrs_desktop.roi import Contour, compute_rois
    from tests.roi_factory import circle, make_image

    image = make_image((400, 400), mm_per_px=0.1)
    contour = Contour(circle(200, 200, 40, 64))
    with pytest.raises(LimitError, match=f"{MAX_RING_RADIUS_MM:g} mm"):
        compute_rois(contour, image, radii_mm=(3.0, 2000.0))
    with pytest.raises(ContourError):
        compute_rois(contour, image, clip_threshold=float("nan"))


def test_contour_over_the_vertex_limit_is_simplified_or_refused():
    from dlrs_desktop.roi import Contour
    from dlrs_desktop.roi.contour import MAX_CONTOUR_VERTICES_READ

    t = np.linspace(0, 2 * np.pi, 50000, endpoint=False)
    dense = Contour(np.column_stack([300 + 80 * np.cos(t), 300 + 80 * np.sin(t)]))
    assert 16 <= len(dense) <= 200  # the same circle within a quarter pixel
    t = np.linspace(0, 2 * np.pi, MAX_CONTOUR_VERTICES_READ + 1, endpoint=False)
    with pytest.raises(LimitError, match="over the limit"):
        Contour(np.column_stack([300 + 80 * np.cos(t), 300 + 80 * np.sin(t)]))


def test_real_bundle_files_pass_the_format_checks():
    from dlrs_desktop.bundle_files import check_onnx, check_safetensors

    check_onnx((DEMO_BUNDLE / "model.onnx").read_bytes())
    for name in ("backbone.safetensors", "heads.safetensors"):
        check_safetensors(name, (DEMO_BUNDLE / name).read_bytes())
    with pytest.raises(ModelError):
        check_onnx(b"\x0a\xff\xff\xff\xff\x0f")  # a length past the end


def test_codec_headers_are_read_without_decoding():
    import cv2

    from dlrs_desktop.imaging.header_limits import jpeg_size

    ok, buf = cv2.imencode(".jpg", np.zeros((48, 80), np.uint8))
    assert ok and jpeg_size(bytes(buf)) == (80, 48, 1)
    assert jpeg_size(b"not a jpeg") is None
