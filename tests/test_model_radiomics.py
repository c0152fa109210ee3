"""Radiomics signatures: features that measure the ROIs, fitted out of fold; hostile manifests refused."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.radiomics import (
    REGION_FEATURES,
    FeatureSettings,
    Radiomics,
    case_features,
    feature_names,
)
from dlrs_desktop.roi import compute_rois
from tests.model_factory import bmode_case, make_image

REGIONS = ("intratumoral", "ring_3mm", "ring_5mm", "ring_10mm")


def _features(image, contour):
    rois = compute_rois(contour, image, (3.0, 5.0, 10.0))
    return case_features(image.gray, image.scan_mask, rois, np.asarray(contour.points))


def _col(name: str) -> int:
    return feature_names(REGIONS).index(name)


def test_features_measure_the_regions_and_ignore_scanner_gain():
    image, contour = bmode_case(shape=(400, 480), mm_per_px=0.1, radius_mm=6.0, seed=1)
    f = _features(image, contour)
    assert f.shape == (len(feature_names(REGIONS)),) and np.all(np.isfinite(f))
    # the tumour is drawn at 35 % of the tissue's brightness: darker than every ring, in scan-area SDs
    assert f[_col("intratumoral.mean")] < -1.0 < f[_col("ring_10mm.mean")]
    assert f[_col("ring_3mm.mean")] > f[_col("intratumoral.mean")] + 1.0
    # an ellipse: solidity ≈ 1, compactness ≥ 4π (a circle's)
    assert (
        f[_col("shape.solidity")] == pytest.approx(1.0, abs=0.02)
        and f[_col("shape.compactness")] >= 4 * np.pi
    )
    # a flatter, brighter scanner (gain 0.6, offset +50 on the grey levels) moves nothing that matters
    g = image.gray.astype(np.float64)
    dim = np.where(image.scan_mask, np.round(g * 0.6 + 50), 0).clip(0, 255).astype(np.uint8)
    other = make_image(dim, np.repeat(dim[:, :, None], 3, axis=2), image.scan_mask, image.calibration)
    f2 = _features(other, contour)
    keep = [i for i, n in enumerate(feature_names(REGIONS)) if not n.endswith(("entropy", "kurtosis"))]
    assert np.allclose(f[keep], f2[keep], atol=0.06), np.abs(f - f2).max()


def test_a_ring_outside_the_scan_area_gives_neutral_features_not_garbage():
    image, contour = bmode_case(shape=(300, 300), mm_per_px=0.1, radius_mm=4.0, centre=(150, 150), margin=95)
    f = _features(image, contour)  # the scan area ends ~1 mm outside the tumour: 5/10 mm rings mostly gone
    assert np.all(np.isfinite(f))
    rois = compute_rois(contour, image, (3.0, 5.0, 10.0))
    assert rois["ring_10mm"].clipped_fraction > 0.5


@functools.cache
def _manifest_part():
    """Signatures fitted on a planted signal (once per session: the fit cross-validates 4 × 4 times)."""
    from dlrs_desktop.training.radiomics_fit import fit_signatures

    rng = np.random.default_rng(0)
    n = 80
    x = rng.standard_normal((n, len(feature_names(REGIONS))))
    y = (x[:, _col("ring_5mm.mean")] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    folds = np.arange(n) % 3
    rad, oof = fit_signatures(x, y, np.arange(n), folds, REGIONS)
    return rad, oof, x, y


def test_signatures_are_fitted_out_of_fold_and_stored_as_numbers():
    rad, oof, x, y = _manifest_part()
    assert rad.names == ("radiomics_ring_3mm", "radiomics_ring_5mm", "radiomics_ring_10mm", "radiomics_all")
    width = len(REGION_FEATURES)
    sig5 = rad.signatures[1]
    assert sig5.regions == ("intratumoral", "ring_5mm") and len(sig5.columns) == 2 * width + 2
    # the signature of the rows that see the 5 mm ring finds the planted signal; the 3 mm one cannot
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, oof[:, 1]) > 0.8 and roc_auc_score(y, oof[:, 0]) < 0.7
    # out-of-fold logits are not the shipped signature's in-sample logits
    assert not np.allclose(oof[:, 1], sig5.logit(x))
    # the manifest round trip reproduces the logits exactly
    again = Radiomics.from_dict(rad.to_dict(), REGIONS)
    assert np.array_equal(again.logits(x), rad.logits(x))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["signatures"][0]["coefficients"].__setitem__(0, float("nan")), "coefficients"),
        (lambda d: d["signatures"][2]["coefficients"].__setitem__(5, 1e9), "coefficients"),
        (lambda d: d["signatures"][0].__setitem__("intercept", "1"), "intercept"),
        (lambda d: d["signatures"][0]["scale"].__setitem__(3, 0.0), "positive scales"),
        (lambda d: d["signatures"][0]["mean"].pop(), "mean"),
        (lambda d: d["signatures"][0].__setitem__("regions", ["ring_99mm"]), "regions"),
        (lambda d: d["signatures"][1].__setitem__("name", d["signatures"][0]["name"]), "same name"),
        (lambda d: d["features"].reverse(), "features"),
        (lambda d: d.__setitem__("signatures", []), "signatures"),
        (lambda d: d.__setitem__("intratumoral_core_mm", float("nan")), "intratumoral_core_mm"),
        (lambda d: d.__setitem__("intratumoral_core_mm", -1.0), "intratumoral_core_mm"),
        (lambda d: d.__setitem__("intratumoral_core_mm", 11.0), "intratumoral_core_mm"),
        (lambda d: d.__setitem__("intratumoral_core_mm", True), "intratumoral_core_mm"),
        (lambda d: d.__setitem__("shape_features", "triangle"), "shape_features"),
        (lambda d: d.__setitem__("shape_features", 2), "shape_features"),
        (lambda d: d.__setitem__("shape_features", "concavity"), "features"),  # names say outline
    ],
)
def test_a_broken_radiomics_manifest_is_refused_by_name(edit, field):
    rad, *_ = _manifest_part()
    d = copy.deepcopy(rad.to_dict())
    edit(d)
    with pytest.raises(ModelError, match="radiomics") as info:
        Radiomics.from_dict(d, REGIONS)
    assert field in str(info.value)


def test_a_core_keeps_the_intratumoral_features_still_when_the_outline_moves_by_a_millimetre():
    """A dark lesion in brighter tissue: its outline moved out by 1 mm takes bright tissue into the
    whole-tumour statistics; the core (eroded 1.5 mm) does not see it. The setting survives the
    manifest, and a manifest without it reads the whole tumour (older bundles)."""
    image, contour = bmode_case(shape=(400, 480), mm_per_px=0.1, radius_mm=6.0, seed=2)
    cols = [_col(f"intratumoral.{f}") for f in ("mean", "sd", "p90")]

    def features(c, core_mm: float) -> np.ndarray:
        rois = compute_rois(c, image, (3.0, 5.0, 10.0))
        return case_features(
            image.gray, image.scan_mask, rois, np.asarray(c.points), settings=FeatureSettings(core_mm)
        )

    def moved(core_mm: float) -> np.ndarray:
        return np.abs(features(contour.offset(1.0), core_mm)[cols] - features(contour, core_mm)[cols])

    whole, core = moved(0.0), moved(1.5)
    assert np.all(core < 0.5 * whole) and whole[1] > 0.05  # sd: the rim widens the whole tumour's spread
    rings = [_col("ring_3mm.mean"), _col("shape.compactness")]
    f0, f1 = features(contour, 0.0), features(contour, 1.5)
    assert np.array_equal(f0[rings], f1[rings])  # only the intratumoral features change
    rad, *_ = _manifest_part()
    d = rad.to_dict()
    assert "intratumoral_core_mm" not in d and Radiomics.from_dict(d, REGIONS).core_mm == 0.0
    d["intratumoral_core_mm"] = 1.5
    assert Radiomics.from_dict(d, REGIONS).core_mm == 1.5
    assert Radiomics.from_dict(d, REGIONS).to_dict()["intratumoral_core_mm"] == 1.5


def test_a_small_lesion_keeps_a_core():
    from dlrs_desktop.model.radiomics import tumour_core

    image, contour = bmode_case(shape=(400, 480), mm_per_px=0.1, radius_mm=1.2, seed=3)
    rois = compute_rois(contour, image, (3.0, 5.0, 10.0))
    core = tumour_core(rois.tumour, rois.calibration, 1.5)  # deeper than the lesion's radius
    assert 0 < core.annulus.sum() < rois.tumour.annulus.sum()


def test_fusion_rows_stack_their_own_signature_and_singles_none():
    from dlrs_desktop.training.stacking import fit_row_models

    rad, oof_sig, _x, y = _manifest_part()
    rng = np.random.default_rng(1)
    nets = y[:, None] * 0.5 + rng.standard_normal((len(y), 4))
    rows = fit_row_models(np.c_[nets, oof_sig], y, REGIONS, signatures=rad.names)
    by = {r.key: r for r in rows}
    for key in REGIONS:
        assert by[key].coefficients[4:] == (0.0, 0.0, 0.0, 0.0) and "radiomics" not in by[key].label
    assert by["fusion_ring_5mm"].label.endswith("+ radiomics")
    c = by["fusion_ring_5mm"].coefficients
    assert c[5] > 0 and c[4] == c[6] == c[7] == 0.0 and c[1] == c[3] == 0.0  # its regions, its signature
    assert all(v >= 0 for r in rows for v in r.coefficients)


def test_a_bundle_whose_radiomics_were_tampered_with_is_refused_and_an_intact_one_predicts(tmp_path):
    import json

    from dlrs_desktop.model import Predictor, load_bundle
    from tests.model_factory import cached_bundle, copy_bundle

    good = load_bundle(cached_bundle(radiomics=True))
    assert good.input_names[4:] == good.radiomics.names and good.stacking.n_signatures == 4
    image, contour = bmode_case(shape=(400, 480), mm_per_px=0.1, radius_mm=6.0, seed=2)
    pred = Predictor(good, device="cpu").predict(image, contour, sensitivity=True)
    assert [s.name for s in pred.signatures] == list(good.radiomics.names)
    assert all(p is not None for p in pred.sensitivity.probabilities)  # offsets carry their own signatures
    for edit in (
        lambda m: m["radiomics"]["signatures"][0]["mean"].__setitem__(0, 1e300),
        lambda m: m["stacking"]["coefficients"].pop(),  # one weight per region and signature, or nothing
        lambda m: m.pop("radiomics"),  # signature weights without signatures
        lambda m: m["stacking"].__setitem__("inputs", "region_logits"),
    ):
        bad = copy_bundle(cached_bundle(radiomics=True), tmp_path / f"b{len(list(tmp_path.iterdir()))}")
        m = json.loads((bad / "manifest.json").read_text())
        edit(m)
        (bad / "manifest.json").write_text(json.dumps(m))
        with pytest.raises(ModelError, match=r"radiomics|stacking"):
            load_bundle(bad)


REAL = Path(__file__).parent / "data" / "real"  # sources: tests/data/real/scan_ATTRIBUTION.md


@pytest.mark.parametrize("case", ["0930-l", "0666-l", "0272-l", "0864-l"])
def test_real_breast_scans_give_finite_features_that_see_the_lesion(case):
    """BUS-BRA scans with the expert's lesion mask: every feature finite, the (hypoechoic) lesion darker
    than its 3 mm ring in scan-area SDs, a real outline's shape ratios in range."""
    import cv2

    from dlrs_desktop.imaging import Calibration, load_image
    from dlrs_desktop.roi import Contour

    cal = Calibration.manual(0.1)  # BUS-BRA records no spacing: nominal, as in test_imaging_real_scans
    image = load_image(REAL / f"scan_busbra_{case}.png").with_calibration(cal)
    lesion = cv2.imread(str(REAL / f"scan_busbra_{case}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    f = _features(image, Contour.from_mask(lesion, cal))
    assert np.all(np.isfinite(f))
    assert f[_col("intratumoral.mean")] < 0 < f[_col("ring_3mm.mean")]
    assert f[_col("shape.compactness")] >= 4 * np.pi and 0.8 < f[_col("shape.solidity")] <= 1.0


def test_a_real_scanner_dicom_predicts_with_signatures_in_its_own_calibration():
    """Philips OB DICOM (calibration from its ultrasound region): the anechoic cyst as the contour; the
    whole path — ROIs in true mm, features, signatures, fusion — runs and the evidence adds up."""
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.model import Predictor, load_bundle
    from dlrs_desktop.roi import Contour
    from tests.model_factory import cached_bundle
    from tests.roi_factory import circle

    image = load_image(REAL / "scan_OBXXXX1A.dcm")
    contour = Contour(circle(480, 300, 10.0 / 0.2622878766196998, 180))
    bundle = load_bundle(cached_bundle(radiomics=True))
    pred = Predictor(bundle, device="cpu").predict(image, contour, sensitivity=False)
    assert pred.calibration["source"] == "dicom-us-region" and len(pred.signatures) == 4
    z = pred.intercept + sum(r.contribution for r in (*pred.regions, *pred.signatures))
    assert 1 / (1 + np.exp(-z)) == pytest.approx(pred.probability, abs=1e-9)


def _reference_features(image, rois, points, names) -> np.ndarray:
    """The features as first written (np.percentile, boolean masks, whole-box gradients): the fast
    path in model/radiomics.py must give the same numbers, or every trained signature would move."""
    import math

    import cv2

    g = image.gray.astype(np.float32)
    scan = image.scan_mask.astype(bool)
    mu, sd = float(g[scan].mean()), float(g[scan].std())
    ty, tx = np.nonzero(rois.tumour.annulus)
    cy, cx = float(ty.mean() + rois.tumour.bbox[1]), float(tx.mean() + rois.tumour.bbox[0])
    out: list[float] = []
    for name in names:
        roi = rois.tumour if name == names[0] else rois[name]
        x0, y0, x1, y1 = roi.bbox
        sub = np.zeros((y1 - y0, x1 - x0), np.float32)
        ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, g.shape[1]), min(y1, g.shape[0])
        sub[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = g[iy0:iy1, ix0:ix1]
        z = (sub - mu) / sd
        grad = np.hypot(cv2.Sobel(z, cv2.CV_32F, 1, 0), cv2.Sobel(z, cv2.CV_32F, 0, 1))
        m = np.asarray(roi.annulus, bool)
        v = z[m]
        if v.size < 5:
            out += [0.0] * len(REGION_FEATURES)
            continue
        yy, xx = np.nonzero(m)
        angle = np.arctan2(yy + y0 - cy, xx + x0 - cx)
        mean, s = float(v.mean()), float(v.std())
        c = v - mean
        hist, _ = np.histogram(v, bins=16, range=(-3.0, 3.0))
        p = hist[hist > 0] / hist.sum()
        sector = np.floor((angle + math.pi) / (2 * math.pi) * 12).astype(int) % 12
        counts = np.bincount(sector, minlength=12)
        means = np.bincount(sector, weights=v, minlength=12)[counts > 3] / counts[counts > 3]
        out += [mean, s, *np.percentile(v, [10, 50, 90]), float(np.mean(c**3) / s**3),
                float(np.mean(c**4) / s**4 - 3), float(-(p * np.log(p)).sum()), float(grad[m].mean()),
                float(means.std()), float(np.ptp(means))]  # fmt: skip
    pts = np.asarray(points, np.float32)
    area = float(cv2.contourArea(pts))
    return np.array([*out, cv2.arcLength(pts, True) ** 2 / area, area / cv2.contourArea(cv2.convexHull(pts))])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fast_features_equal_the_plain_numpy_ones(seed):
    image, contour = bmode_case(shape=(420, 500), mm_per_px=0.1, radius_mm=5.0 + seed, seed=seed)
    for d in (0.0, -1.0, 1.0):  # the sensitivity stage's offset contours too
        c = contour.offset(d) if d else contour
        rois = compute_rois(c, image, (3.0, 5.0, 10.0))
        fast = case_features(image.gray, image.scan_mask, rois, np.asarray(c.points))
        plain = _reference_features(image, rois, np.asarray(c.points), REGIONS)
        # the plain code raises float32 values to powers: its moments carry ~1e-5 relative rounding
        np.testing.assert_allclose(fast, plain, rtol=1e-4, atol=1e-5)


def test_concavity_depth_is_the_depth_of_a_notch_below_the_hull_in_millimetres():
    from dlrs_desktop.model.radiomics import concavity_depths_mm

    notch = np.array([[0, 0], [10, 0], [10, 10], [6, 10], [5, 5], [4, 10], [0, 10]], float)  # 5 px deep
    deepest, mean = concavity_depths_mm(notch, (1.0, 1.0))
    assert deepest == pytest.approx(5.0) and 0 < mean < 1.0
    # anisotropic pixels: the notch's 5 px in y are 0.5 mm (its sides, 5 px in x, are 1.5 mm away)
    assert concavity_depths_mm(notch, (0.3, 0.1))[0] == pytest.approx(0.5)
    circle = np.c_[
        np.cos(np.linspace(0, 6.28, 90, endpoint=False)), np.sin(np.linspace(0, 6.28, 90, endpoint=False))
    ]
    assert concavity_depths_mm(40 * circle, (0.1, 0.1))[0] < 1e-6  # convex: no depth


def test_concavity_shape_stays_when_the_outline_moves_by_a_millimetre_where_solidity_does_not():
    """A lobulated lesion: its outline moved by ±1 mm fills or deepens the notches between its lobes, so
    solidity moves; the deepest point below the hull moves with the hull and keeps its depth. The
    setting survives the manifest; a manifest without it reads the outline ratios (older bundles)."""
    from dlrs_desktop.roi import Contour

    image, contour = bmode_case(shape=(400, 480), mm_per_px=0.1, radius_mm=6.0, seed=2)
    t = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    r = 60 * (1 + 0.18 * np.cos(5 * t))
    lobes = Contour(np.c_[240 + r * np.cos(t), 200 + r * np.sin(t)], calibration=contour.calibration)

    def features(c, kind: str) -> np.ndarray:
        rois = compute_rois(c, image, (3.0, 5.0, 10.0))
        return case_features(
            image.gray, image.scan_mask, rois, np.asarray(c.points), settings=FeatureSettings(shape=kind)
        )

    solid, solid_out, solid_in = (features(lobes.offset(d), "outline")[-1] for d in (0, 1, -1))
    assert solid_out - solid > 0.02 and solid - solid_in > 0.02  # the ratio follows the drawing
    deep, deep_out, deep_in = (features(lobes.offset(d), "concavity")[-2] for d in (0, 1, -1))
    assert deep > 0.8 and abs(deep_out - deep) < 0.05 and abs(deep_in - deep) < 0.05
    # only the two shape columns differ between the sets
    assert np.array_equal(features(lobes, "concavity")[:-2], features(lobes, "outline")[:-2])
    rad, *_ = _manifest_part()
    d = rad.to_dict()
    assert "shape_features" not in d and Radiomics.from_dict(d, REGIONS).shape == "outline"
    d["shape_features"] = "concavity"
    outline_names = feature_names(REGIONS)
    d["features"] = concave = feature_names(REGIONS, "concavity")
    for sig in d["signatures"]:
        sig["features"] = [concave[outline_names.index(f)] for f in sig["features"]]
    back = Radiomics.from_dict(d, REGIONS)
    assert back.shape == "concavity" and back.to_dict()["shape_features"] == "concavity"
    assert "below its convex hull" in back.to_dict()["method"]


@pytest.mark.parametrize(
    "core_mm, shape", [(-1.0, "outline"), (11.0, "outline"), (float("nan"), "outline"), (0.0, "spikes")]
)
def test_feature_settings_refuse_what_no_bundle_can_mean(core_mm, shape):
    """The one settings object the trainer, the manifest and the predictor share cannot hold a core
    outside 0–10 mm or unknown shape measures (case_features would otherwise fall back silently)."""
    with pytest.raises(ModelError, match="Radiomics settings"):
        FeatureSettings(core_mm, shape)
