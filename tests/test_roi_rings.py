"""Peritumoral rings: true millimetres (isotropic and anisotropic), clipping, outlines, flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.imaging.types import Calibration, UltrasoundRegion
from dlrs_desktop.roi import Contour, compute_rois, validate_contour
from dlrs_desktop.roi.rings import anisotropic_distance
from tests.roi_factory import brute_force_distance_mm, circle_mm, make_image


def _ring_area(r_tumour: float, r: float) -> float:
    return math.pi * ((r_tumour + r) ** 2 - r_tumour**2)


@pytest.mark.parametrize(
    ("spacing", "tolerance"),
    [((0.1, 0.1), 0.01), ((0.08, 0.12), 0.02), ((0.12, 0.08), 0.02)],
)
def test_circle_annuli_have_true_mm_areas(spacing, tolerance):
    sx, sy = spacing
    image = make_image(mm_per_px=spacing)
    contour = Contour(circle_mm(511.3, 383.7, 10.0, sx, sy), Calibration.manual(sx, sy))
    rois = compute_rois(contour, image)
    assert rois.names == ["intratumoral", "ring_3mm", "ring_5mm", "ring_10mm"]
    assert rois.tumour.area_mm2 == pytest.approx(math.pi * 100, rel=tolerance)
    for r in (3.0, 5.0, 10.0):
        roi = rois[f"ring_{r:g}mm"]
        assert roi.radius_mm == r
        assert roi.area_mm2 == pytest.approx(_ring_area(10.0, r), rel=tolerance)
        assert roi.expanded_area_mm2 == pytest.approx(math.pi * (10 + r) ** 2, rel=tolerance)
        assert roi.clipped_fraction == 0.0 and not roi.flagged
        # A ring is a true annulus: its extent in mm is the same along x and y.
        ys, xs = np.nonzero(roi.full("expanded"))
        width_mm = (xs.max() - xs.min() + 1) * sx
        height_mm = (ys.max() - ys.min() + 1) * sy
        assert width_mm == pytest.approx(2 * (10 + r), abs=2 * max(sx, sy))
        assert height_mm == pytest.approx(2 * (10 + r), abs=2 * max(sx, sy))


def test_rings_are_distance_bands_not_dilations():
    """Every annulus pixel is within (0, r] mm of the tumour, and every pixel that is, is in it."""
    sx, sy = 0.08, 0.12
    image = make_image((300, 400), mm_per_px=(sx, sy))
    pts = np.array([[150, 100], [260, 120], [230, 190], [170, 160], [140, 200]], float)  # concave
    rois = compute_rois(Contour(pts), image, radii_mm=(3.0,))
    ring = rois["ring_3mm"].full("annulus")
    tumour = rois.tumour.full()
    yy, xx = np.mgrid[60:240, 90:310]  # the tumour ± 3 mm lies well inside this window
    # brute force: distance from each pixel to the nearest tumour pixel, in mm (for pixels outside the
    # tumour the nearest tumour pixel is always on its border, so only border pixels are tried)
    interior = tumour.copy()
    interior[1:-1, 1:-1] = tumour[1:-1, 1:-1] & tumour[:-2, 1:-1] & tumour[2:, 1:-1]
    interior[1:-1, 1:-1] &= tumour[1:-1, :-2] & tumour[1:-1, 2:]
    ti, tj = np.nonzero(tumour & ~interior)
    best = np.full(xx.shape, np.inf)
    for k in range(0, len(tj), 256):
        dx = (xx[..., None] - tj[k : k + 256]) * sx
        dy = (yy[..., None] - ti[k : k + 256]) * sy
        best = np.minimum(best, np.sqrt(dx * dx + dy * dy).min(axis=2))
    expected = np.zeros_like(ring)
    expected[60:240, 90:310] = ~tumour[60:240, 90:310] & (best <= 3.0 + 1e-9)
    assert np.array_equal(ring, expected)


def test_numpy_fallback_distance_matches_scipy():
    from scipy import ndimage

    rng = np.random.default_rng(3)
    feature = rng.random((120, 150)) > 0.995
    feature[60, 70] = True
    for sx, sy in [(0.08, 0.12), (0.12, 0.05)]:
        mine = anisotropic_distance(feature, sx, sy, rmax=4.0)
        ref = ndimage.distance_transform_edt(~feature, sampling=(sy, sx))
        within = ref <= 4.0
        assert np.allclose(mine[within], ref[within], atol=1e-4)
        assert np.all(mine[~within] > 4.0 - 1e-4)


def test_clipped_fraction_near_image_edge_matches_independent_computation():
    sx = sy = 0.1
    h, w = 400, 500
    scan = np.zeros((h, w), bool)
    scan[20:, :460] = True  # a scan area that ends before the right edge and below the top
    image = make_image((h, w), mm_per_px=0.1, scan_mask=scan)
    pts = circle_mm(80.4, 120.2, 4.0, sx, sy, n=360)  # 4 mm tumour 8 mm from the left edge
    rois = compute_rois(Contour(pts), image)

    # Independent: distance from every pixel centre of a window around the tumour, reaching past the
    # image edge, to the polygon's edges (no distance transform), and an independent inside test.
    x0, x1, y0, y1 = -60, 240, -40, 280  # image px; the 10 mm ring reaches 2 mm past the left edge
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(float)
    cx, cy = xx + 0.5, yy + 0.5
    dist = brute_force_distance_mm(pts, cx, cy, sx, sy)
    inside = MplPath(pts).contains_points(np.column_stack([cx.ravel(), cy.ravel()])).reshape(cx.shape)
    in_image = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
    valid = np.zeros_like(inside)
    valid[in_image] = scan[yy[in_image].astype(int), xx[in_image].astype(int)]
    for r in (3.0, 5.0, 10.0):
        annulus = ~inside & (dist <= r)
        expected = 1.0 - (annulus & valid).sum() / annulus.sum()
        roi = rois[f"ring_{r:g}mm"]
        assert roi.clipped_fraction == pytest.approx(expected, abs=0.01)
        assert roi.unclipped_area_mm2 == pytest.approx(annulus.sum() * sx * sy, rel=0.02)
        assert roi.flagged == (roi.clipped_fraction > 0.2)
    assert rois["ring_10mm"].clipped_fraction > 0.2 and rois["ring_10mm"].flagged
    assert rois.flagged == ["ring_10mm"]
    assert rois["ring_3mm"].clipped_fraction == 0.0
    # Clipped masks never leave the scan area or the image.
    for roi in rois.rings:
        assert not (roi.full("annulus") & ~scan).any()
        assert not (roi.full("expanded") & ~scan).any()


def test_shells_are_the_bands_between_consecutive_rings():
    """Shell r = ring r minus the next smaller ring (0-3, 3-5, 5-10 mm): disjoint, together the 10 mm ring."""
    sx, sy = 0.08, 0.12
    image = make_image(mm_per_px=(sx, sy))
    contour = Contour(circle_mm(511.3, 383.7, 8.0, sx, sy), Calibration.manual(sx, sy))
    rois = compute_rois(contour, image, radii_mm=(10.0, 3.0, 5.0))  # order given is not order of size
    shells = {roi.radius_mm: roi.full("shell") for roi in rois.rings}
    assert np.array_equal(shells[3.0], rois["ring_3mm"].full("annulus"))
    assert np.array_equal(shells[5.0], rois["ring_5mm"].full("annulus") & ~rois["ring_3mm"].full("expanded"))
    assert not (shells[3.0] & shells[5.0]).any() and not (shells[5.0] & shells[10.0]).any()
    assert np.array_equal(shells[3.0] | shells[5.0] | shells[10.0], rois["ring_10mm"].full("annulus"))
    area = {r: m.sum() * sx * sy for r, m in shells.items()}
    assert area[5.0] == pytest.approx(math.pi * (13**2 - 11**2), rel=0.02)
    assert area[10.0] == pytest.approx(math.pi * (18**2 - 13**2), rel=0.02)
    assert np.array_equal(rois.tumour.shell, rois.tumour.annulus)
    assert not rois["ring_10mm"].shell.flags.writeable
    with pytest.raises(ValueError, match="kind"):
        rois["ring_5mm"].full("dilated")


def test_masks_bboxes_outlines_and_threshold():
    image = make_image((300, 400), mm_per_px=0.2)
    contour = Contour(circle_mm(200, 150, 5.0, 0.2, 0.2, n=64))
    rois = compute_rois(contour, image, radii_mm=(2.5, 6.0), clip_threshold=0.5)
    assert rois.names == ["intratumoral", "ring_2.5mm", "ring_6mm"]
    assert "ring_6mm" in rois and len(rois) == 3
    tumour = rois.tumour
    assert np.array_equal(tumour.full("annulus"), contour.to_mask((300, 400)))
    assert np.array_equal(tumour.annulus, tumour.expanded)
    np.testing.assert_array_equal(tumour.outlines[0], contour.points)
    for roi in rois.rings:
        x0, y0, x1, y1 = roi.bbox
        assert roi.annulus.shape == (y1 - y0, x1 - x0) == roi.expanded.shape
        full_exp = roi.full("expanded")
        assert full_exp.sum() == roi.expanded.sum()  # nothing outside the bbox was lost
        assert np.array_equal(full_exp, roi.full("annulus") | tumour.full())
        assert not roi.annulus.flags.writeable
        (outline,) = roi.outlines
        radius_px = np.hypot(outline[:, 0] - 200, outline[:, 1] - 150)
        expected_px = (5.0 + roi.radius_mm) / 0.2
        # through the centres of the ring's border pixels: up to about one pixel inside the true edge
        assert np.all(np.abs(radius_px - expected_px) < 1.5)
        assert np.abs(radius_px - expected_px).mean() < 0.8
    assert rois.clip_threshold == 0.5
    assert rois.contour_hash == contour.content_hash()
    summary = rois.to_dict()
    assert [r["name"] for r in summary["rois"]] == rois.names
    with pytest.raises(KeyError):
        rois["ring_4mm"]


def test_rings_stay_in_the_contours_ultrasound_region():
    """Dual view: rings of a tumour near the middle must not spill into the other view."""
    h, w = 300, 600
    left = UltrasoundRegion(0, 0, 0, 299, 299, 1, 1, 3, 3, 0.01, 0.01)
    right = UltrasoundRegion(1, 300, 0, 599, 299, 1, 1, 3, 3, 0.01, 0.01)
    image = make_image((h, w), mm_per_px=None, regions=(left, right))
    contour = validate_contour(Contour(circle_mm(270, 150, 2.0, 0.1, 0.1, n=64)), image)
    assert contour.region_index == 0
    assert contour.calibration is not None and contour.calibration.mm_per_px_x == pytest.approx(0.1)
    rois = compute_rois(contour, image)
    assert not rois["ring_10mm"].full("expanded")[:, 300:].any()
    assert rois["ring_10mm"].clipped_fraction > 0.2


def test_no_calibration_and_bad_radii_are_refused():
    image = make_image((200, 200), mm_per_px=None)
    contour = Contour(circle_mm(100, 100, 3.0, 0.1, 0.1, n=32))
    with pytest.raises(CalibrationError, match="calibrat"):
        compute_rois(contour, image)
    with pytest.raises(ContourError):
        compute_rois(contour, make_image((200, 200)), radii_mm=(3.0, -1.0))
    with pytest.raises(ContourError, match="3 points"):
        compute_rois(Contour([[1, 1], [5, 5]]), make_image((200, 200)))


def test_compute_rois_on_image_from_loader():
    """The loader's image (its own scan mask) works the same as the hand-built one."""
    from dlrs_desktop.imaging import image_from_array

    pixels = np.zeros((256, 320), np.uint8)
    pixels[20:240, 30:300] = 120
    image = image_from_array(pixels, Calibration.manual(0.1))
    contour = validate_contour(Contour(circle_mm(160, 128, 4.0, 0.1, 0.1, n=90)), image)
    rois = compute_rois(contour, image)
    assert rois["ring_3mm"].area_mm2 == pytest.approx(_ring_area(4.0, 3.0), rel=0.02)
    assert rois["ring_10mm"].clipped_fraction > 0.0


def test_anisotropic_rings_never_import_scipy(monkeypatch):
    """SciPy is not a runtime dependency: anisotropic rings come from the exact numpy transform."""
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)  # any `import scipy` now raises ImportError
    image = make_image((400, 500), mm_per_px=(0.08, 0.12))
    contour = Contour(circle_mm(250.2, 200.6, 4.0, 0.08, 0.12, n=180))
    rois = compute_rois(contour, image)
    assert rois["ring_3mm"].area_mm2 == pytest.approx(_ring_area(4.0, 3.0), rel=0.02)
    assert rois["ring_5mm"].area_mm2 == pytest.approx(_ring_area(4.0, 5.0), rel=0.02)
