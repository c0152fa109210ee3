"""The synthetic cohort: deterministic, calibrated DICOM, contours that fit, hidden ground truth."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np

from dlrs_desktop.training.synth import generate_cohort


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if (p.is_file() and p.suffix in (".png", ".csv")) or p.name.endswith(".contour.json"):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_cohort_whatever_the_workers(tmp_path):
    generate_cohort(tmp_path / "a", patients=6, seed=11, size_scale=0.5, dicom=False)
    generate_cohort(tmp_path / "b", patients=6, seed=11, size_scale=0.5, dicom=False, workers=2)
    generate_cohort(tmp_path / "c", patients=6, seed=12, size_scale=0.5, dicom=False)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_cohort_files_are_usable_by_the_app(tmp_path):
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.roi import Contour, compute_rois

    summary = generate_cohort(tmp_path, patients=10, seed=5, size_scale=0.5)
    rows = list(csv.DictReader((tmp_path / "cohort.csv").open()))
    assert [r["case_id"] for r in rows] == [f"P{i:04d}" for i in range(1, 11)]
    assert {r["split"] for r in rows} == {"train", "internal", "external"}
    for r in rows:  # centre 1 → train/internal, centre 2 → external
        assert (r["centre"] == "2") == (r["split"] == "external")
        assert r["label"] in ("0", "1")
    r = rows[0]
    image = load_image(tmp_path / r["image"])
    assert image.calibration is not None and image.calibration.source == "dicom-us-region"
    assert abs(image.calibration.mm_per_px_x - float(r["mm_per_px"])) < 1e-5
    assert not image.scan_mask[0, 0] and image.scan_mask[image.height // 2, image.width // 2]
    contour = Contour.load(tmp_path / r["contour"])
    rois = compute_rois(contour, image)
    assert rois.tumour.area_mm2 > 30  # lesions are 11-24 mm across
    assert {"ring_3mm", "ring_5mm", "ring_10mm"} <= {m.name for m in rois.rings}
    true = json.loads((tmp_path / "contours" / f"{r['case_id']}.true.contour.json").read_text())
    assert len(true["points"]) > len(contour.points)  # the drawn contour is simpler than the truth
    png = load_image(tmp_path / "images" / f"{r['case_id']}.png")
    np.testing.assert_array_equal(png.gray, image.gray)
    gt = list(csv.DictReader((tmp_path / "ground_truth.csv").open()))
    assert all(0 < float(g["true_probability"]) < 1 for g in gt)
    assert set(summary["ground_truth_auc"]) == {"train", "internal", "external"}
    assert json.loads((tmp_path / "synth.json").read_text())["generator_version"] == "1.1"
    assert "true_probability" not in (tmp_path / "cohort.csv").read_text()


def test_peritumoral_changes_sit_at_their_distances():
    """Halo brightens 0-2.5 mm, oedema darkens 3-5 mm, distortion 5-10 mm: what the tumour does not show."""
    from dlrs_desktop.training.synth import CENTRES
    from dlrs_desktop.training.synth_render import Latents, render_case

    def band_means(lat, far: bool = False):
        import cv2

        r = render_case(np.random.default_rng(1), lat, CENTRES[1], screen=False)
        mask = np.zeros(r.gray.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(r.true_contour).astype(np.int32)], 1)
        d = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 5) * r.mm_per_px
        g = r.gray.astype(float)
        if far:
            return g[(d > 5.5) & (d < 9.5)].mean(), g[(d > 0.3) & (d < 2.0)].mean()
        return g[(d > 0.3) & (d < 2.0)].mean(), g[(d > 3.3) & (d < 4.7)].mean()

    halo_hi, _ = band_means(Latents(0, 0, 2.5, 0, 0, 0))
    halo_lo, _ = band_means(Latents(0, 0, -2.5, 0, 0, 0))
    _, oed_hi = band_means(Latents(0, 0, 0, 2.5, 0, 0))
    _, oed_lo = band_means(Latents(0, 0, 0, -2.5, 0, 0))
    assert halo_hi > halo_lo + 20
    assert oed_hi < oed_lo - 20
    # architectural distortion darkens 5-10 mm (radiating strands) and leaves the halo band alone
    dist_hi, near_hi = band_means(Latents(0, 0, 0, 0, 2.5, 0), far=True)
    dist_lo, near_lo = band_means(Latents(0, 0, 0, 0, -2.5, 0), far=True)
    assert dist_hi < dist_lo - 20
    assert abs(near_hi - near_lo) < 5
