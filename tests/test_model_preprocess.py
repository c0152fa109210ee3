"""The declared preprocessing: JSON round trip, physical scale, fill, normalisation, CAM back-mapping."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from dlrs_desktop.errors import ModelError
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.model.cams import crop_to_image
from dlrs_desktop.model.preprocess import PreprocessSpec, RegionSpec, prepare_inputs
from dlrs_desktop.roi import Contour
from tests.model_factory import ellipse_points, make_image


def physical_case(mm_per_px: tuple[float, float], size_mm: tuple[float, float] = (44.0, 36.0)):
    """A smooth pattern defined in millimetres, so any calibration images the same tissue."""
    sx, sy = mm_per_px
    h, w = round(size_mm[1] / sy), round(size_mm[0] / sx)
    ym, xm = np.mgrid[0:h, 0:w].astype(float)
    xm, ym = (xm + 0.5) * sx, (ym + 0.5) * sy  # pixel centres, in mm
    cx, cy = size_mm[0] / 2, size_mm[1] / 2
    tissue = 120 + 50 * np.sin(xm / 1.7) * np.cos(ym / 2.3) + 30 * np.sin((xm + ym) / 4.1)
    inside = ((xm - cx) / 6.0) ** 2 + ((ym - cy) / 4.5) ** 2 <= 1
    gray = np.clip(np.where(inside, tissue * 0.4, tissue), 0, 255).astype(np.uint8)
    scan = np.ones_like(gray, bool)
    cal = Calibration.manual(sx, sy)
    image = make_image(gray, np.repeat(gray[:, :, None], 3, axis=2), scan, cal)
    contour = Contour(ellipse_points(cx / sx, cy / sy, 6.0 / sx, 4.5 / sy, 128), calibration=cal)
    return image, contour


def test_spec_json_round_trip_and_validation() -> None:
    spec = PreprocessSpec(input_size=96, fill="mean", normalisation="roi_zscore", channels=3, crop="fit")
    d = json.loads(json.dumps(spec.to_dict()))
    regions = [r.to_dict() for r in spec.regions]
    assert PreprocessSpec.from_dict(d, regions) == spec
    # a field added later is written only when used, so older readers can still open the bundle
    assert "distance_channel" not in d
    with_distance = PreprocessSpec(distance_channel=True)
    assert PreprocessSpec.from_dict(json.loads(json.dumps(with_distance.to_dict()))) == with_distance
    assert spec.ring_radii == (3.0, 5.0, 10.0)
    for bad, field in [
        ({"fill": "blur"}, "fill"),
        ({"input_size": 4}, "input_size"),
        ({"channels": 2}, "channels"),
    ]:
        with pytest.raises(ModelError, match=field):
            PreprocessSpec(**bad)
    with pytest.raises(ModelError, match=r"preprocessing\.mm_per_px.*float"):
        PreprocessSpec.from_dict({"mm_per_px": "0.2"})
    with pytest.raises(ModelError, match="radius"):
        PreprocessSpec(regions=(RegionSpec("ring_3mm", 0.0, "annulus"),))


def test_same_tissue_at_any_calibration_gives_the_same_input() -> None:
    """The network sees the same physical scale whatever the scanner's mm/pixel (anisotropic included)."""
    spec = PreprocessSpec(input_size=64, mm_per_px=0.5)
    ref, ref_info = prepare_inputs(*physical_case((0.1, 0.1)), spec)
    assert ref.shape == (4, 1, 64, 64) and ref.dtype == np.float32
    for cal in [(0.15, 0.15), (0.08, 0.12)]:
        x, info = prepare_inputs(*physical_case(cal), spec)
        for r in range(4):
            a, b = ref[r, 0], x[r, 0]
            assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.97, (cal, r)
            assert (
                abs(info.crops[r].roi_pixels - ref_info.crops[r].roi_pixels)
                <= 0.06 * ref_info.crops[r].roi_pixels
            )
        assert info.crops[0].out_mm_per_px == pytest.approx(0.5)


def test_fixed_field_of_view_grows_only_when_needed() -> None:
    image, contour = physical_case((0.1, 0.1))
    _, info = prepare_inputs(image, contour, PreprocessSpec(input_size=64, mm_per_px=0.25))  # 16 mm view
    tumour, ring10 = info.crops[0], info.crops[3]
    assert not tumour.grown and tumour.side_mm == pytest.approx(16.0)
    assert ring10.grown and ring10.side_mm > 16.0  # 12 mm tumour + 2 × 10 mm ring + margins
    _, fit = prepare_inputs(image, contour, PreprocessSpec(input_size=64, crop="fit", margin_mm=1.0))
    assert fit.crops[0].side_mm == pytest.approx(12.0 + 2.0, abs=0.3)


def test_fill_and_normalisation() -> None:
    image, contour = physical_case((0.1, 0.1))
    spec = PreprocessSpec(input_size=64, mm_per_px=0.4, fill="zero", mean=0.5, std=0.25)
    x, info = prepare_inputs(image, contour, spec)
    for r, crop in enumerate(info.crops):
        outside = x[r, 0][~crop.mask]
        assert np.all(outside == np.float32((0.0 - 0.5) / 0.25))
        assert crop.mask.sum() == crop.roi_pixels > 50
    # Ring crops keep only the ring: the tumour inside them is filled too ("annulus").
    assert not info.crops[1].mask[32, 32]
    # "shell": the 5 mm crop keeps the 5 mm ring minus the 3 mm ring (3-5 mm from the outline).
    shells = (RegionSpec("intratumoral", 0.0, "tumour"), RegionSpec("ring_3mm", 3.0, "shell"),
              RegionSpec("ring_5mm", 5.0, "shell"))  # fmt: skip
    annuli = (shells[0], *(RegionSpec(r.name, r.radius_mm, "annulus") for r in shells[1:]))
    _, annulus_info = prepare_inputs(image, contour, PreprocessSpec(input_size=64, regions=annuli))
    _, shell_info = prepare_inputs(image, contour, PreprocessSpec(input_size=64, regions=shells))
    assert np.array_equal(shell_info.crops[1].mask, annulus_info.crops[1].mask)  # smallest ring: its annulus
    five = shell_info.crops[2]
    i, j = np.nonzero(five.mask)
    x_img, y_img = five.matrix @ np.stack([j, i, np.ones_like(j)]).astype(float)  # crop → image pixels
    three_mm = shell_info.roiset["ring_3mm"].full("expanded")
    inside_three = three_mm[np.round(y_img).astype(int), np.round(x_img).astype(int)]
    assert len(i) > 50 and inside_three.mean() < 0.03  # only boundary pixels round onto the 3 mm ring
    assert np.count_nonzero(five.mask) < 0.8 * np.count_nonzero(annulus_info.crops[2].mask)
    x, info = prepare_inputs(
        image, contour, PreprocessSpec(input_size=64, fill="mean", normalisation="roi_zscore")
    )
    for r, crop in enumerate(info.crops):
        inside, outside = x[r, 0][crop.mask], x[r, 0][~crop.mask]
        assert abs(inside.mean()) < 1e-3 and abs(inside.std() - 1) < 1e-3
        assert np.allclose(outside, 0.0, atol=1e-5)  # the region mean, z-scored
    x, info = prepare_inputs(image, contour, PreprocessSpec(input_size=64, fill="none", channels=3))
    assert x.shape == (4, 3, 64, 64) and np.array_equal(x[:, 0], x[:, 2])
    assert np.unique(x[1, 0][~info.crops[1].mask]).size > 100  # surrounding tissue kept


def test_crop_maps_back_onto_the_image() -> None:
    image, contour = physical_case((0.08, 0.12))
    _, info = prepare_inputs(image, contour, PreprocessSpec(input_size=64, mm_per_px=0.4))
    for r, roi_name in enumerate(["intratumoral", "ring_3mm"]):
        crop = info.crops[r]
        back, (x0, y0, x1, y1) = crop_to_image(crop.mask.astype(np.float32), crop, image.shape)
        roi = info.roiset[roi_name]
        truth = roi.full("annulus", image.shape)[y0:y1, x0:x1]
        got = np.nan_to_num(back) > 0.5
        iou = (got & truth).sum() / (got | truth).sum()
        assert iou > 0.85, (roi_name, iou)
    # Coarse maps (e.g. a 2×2 CAM) are resized first: a left/right split stays left/right.
    half = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)
    back, (x0, _, x1, _) = crop_to_image(half, info.crops[0], image.shape)
    quarter = (x1 - x0) // 4
    assert np.nanmean(back[:, : quarter - 2]) > 0.95 and np.nanmean(back[:, -quarter + 2 :]) < 0.05


def _regraded(image, contour, gain: float, offset: float):
    """The same case as a scanner with another gain and contrast would show it (no clipping)."""
    gray = np.clip(image.gray.astype(float) * gain + offset, 0, 255).round().astype(np.uint8)
    return make_image(gray, np.repeat(gray[:, :, None], 3, axis=2), image.scan_mask, contour.calibration)


def test_tissue_zscore_cancels_scanner_gain_and_keeps_relative_echogenicity() -> None:
    """Why "tissue_zscore" exists: another scanner's gain and dynamic range must not move the input."""
    image, contour = physical_case((0.1, 0.1))
    spec = PreprocessSpec(input_size=64, mm_per_px=0.5, fill="mean", normalisation="tissue_zscore")
    ref, info = prepare_inputs(image, contour, spec)
    brighter, _ = prepare_inputs(_regraded(image, contour, 0.8, 40.0), contour, spec)
    assert np.abs(brighter - ref).max() < 0.05  # grey-level rounding only
    fixed = PreprocessSpec(input_size=64, mm_per_px=0.5, fill="mean")
    a, _ = prepare_inputs(image, contour, fixed)
    b, _ = prepare_inputs(_regraded(image, contour, 0.8, 40.0), contour, fixed)
    assert np.abs(b - a).max() > 0.5  # the fixed scale does move
    # the hypoechoic tumour stays darker than the tissue around it (its mean is below the view's)
    assert ref[0, 0][info.crops[0].mask].mean() < -0.5
    # a view without contrast is never divided by ~0
    plain = np.full_like(image.gray, 90)
    flat = make_image(plain, np.repeat(plain[:, :, None], 3, axis=2), image.scan_mask, contour.calibration)
    x, _ = prepare_inputs(flat, contour, spec)
    assert np.isfinite(x).all() and np.abs(x).max() < 1e-3


def test_image_zscore_cancels_scanner_gain_and_ignores_what_the_rings_show() -> None:
    """ "image_zscore": gain/dynamic range cancel as with tissue_zscore, but the reference is the
    scan area outside every region, so darkening the 5–10 mm ring (what the label depends on)
    changes that ring's input and leaves the reference — and the other regions — alone."""
    image, contour = physical_case((0.1, 0.1))
    spec = PreprocessSpec(input_size=64, mm_per_px=0.5, fill="mean", normalisation="image_zscore")
    ref, info = prepare_inputs(image, contour, spec)
    brighter, _ = prepare_inputs(_regraded(image, contour, 0.8, 40.0), contour, spec)
    assert np.abs(brighter - ref).max() < 0.05  # grey-level rounding only
    assert ref[0, 0][info.crops[0].mask].mean() < -0.5  # the hypoechoic tumour stays darker
    assert [c.name for c in info.crops][-1] == "ring_10mm"
    ring = info.roiset.rings[-1].full()  # darken only the pixels of the 10 mm ring (margin to 10 mm)
    gray = image.gray.copy()
    gray[ring] = (gray[ring] * 0.6).astype(np.uint8)
    darker = make_image(gray, np.repeat(gray[:, :, None], 3, axis=2), image.scan_mask, contour.calibration)
    x, _ = prepare_inputs(darker, contour, spec)
    core = cv2.erode(info.crops[0].mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert core.sum() > 100  # the tumour's interior (its edge pixels blend with the ring's)
    assert np.abs(x[0, 0][core] - ref[0, 0][core]).max() < 1e-5  # so the reference did not move
    assert x[3, 0][info.crops[3].mask].mean() < ref[3, 0][info.crops[3].mask].mean() - 0.5
    tissue = PreprocessSpec(input_size=64, mm_per_px=0.5, fill="mean", normalisation="tissue_zscore")
    a, _ = prepare_inputs(image, contour, tissue)
    b, _ = prepare_inputs(darker, contour, tissue)
    assert np.abs(b[0] - a[0]).max() > 0.05  # the field-of-view reference does: the tumour crop moves
    plain = np.full_like(image.gray, 90)
    flat = make_image(plain, np.repeat(plain[:, :, None], 3, axis=2), image.scan_mask, contour.calibration)
    x, _ = prepare_inputs(flat, contour, spec)
    assert np.isfinite(x).all() and np.abs(x).max() < 1e-3


def test_the_gui_reads_ring_radii_through_the_validated_spec():
    """model.reading.ring_radii is PreprocessSpec.ring_radii: the same rings, the same refusals."""
    import json

    from dlrs_desktop.errors import ModelError
    from dlrs_desktop.model.reading import ring_radii
    from dlrs_desktop.paths import bundled_model_dir
    from dlrs_desktop.regions import ring_name

    manifest = json.loads((bundled_model_dir() / "manifest.json").read_text())
    spec = PreprocessSpec.from_dict(manifest["preprocessing"], manifest["regions"])
    assert ring_radii(manifest) == spec.ring_radii and spec.ring_radii
    assert {ring_name(r) for r in spec.ring_radii} <= {r.name for r in spec.regions}
    bad = {**manifest, "regions": [*manifest["regions"], {"name": "x", "radius_mm": -2.0, "kind": "annulus"}]}
    with pytest.raises(ModelError):
        ring_radii(bad)
