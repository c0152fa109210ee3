"""Real scanner DICOMs and real breast scans with expert masks (tests/data/real/scan_*, see its
scan_ATTRIBUTION.md): the scan area from the scanner's geometry, split views, colour Doppler refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.imaging import Calibration, load_image
from dlrs_desktop.roi import Contour, compute_rois
from tests.model_factory import cached_bundle
from tests.roi_factory import circle, ellipse

REAL = Path(__file__).parent / "data" / "real"
OB = REAL / "scan_OBXXXX1A.dcm"
US1 = REAL / "scan_US1_UNCR.dcm"
ALOKA = REAL / "scan_ALOKA_dual.dcm"
BUSBRA = ["0930-l", "0666-l", "0272-l", "0864-l"]
OB_MM = 0.2622878766196998  # region 0's PhysicalDeltaX × 10


def _contour_file(tmp_path: Path, points: np.ndarray, name: str = "c.json") -> Path:
    path = tmp_path / name
    Contour(points).save(path)
    return path


def _roi_json(capsys, *args: str) -> dict:
    assert main(["roi", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _one_line_exit_2(capsys, argv: list[str]) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ----------------------------------------------------------------------------- Philips OB (fan, cyst)
def test_ob_scan_area_is_the_fan_with_its_dark_tissue():
    im = load_image(OB)
    assert im.provenance.metadata["scan_mask"] == "regions-geometry" and im.view_count == 1
    m = im.scan_mask
    assert m[300, 480] and m[300, 300] and m[450, 460]  # the anechoic cyst and the dark deep fan
    assert im.gray[200:400, 400:560].mean() < 12  # (it really is dark: no echo there)
    assert not m[70, 320] and not m[100, 200] and not m[300, 130]  # "P" marker, text, beside the fan
    r = im.regions[0]
    assert not m[: r.y0].any() and not m[r.y1 + 1 :].any()  # inside the scanner's region


def test_ob_10mm_circle_on_the_cyst_is_accepted_and_no_ring_is_clipped(tmp_path, capsys):
    c = _contour_file(tmp_path, circle(480, 300, 10.0 / OB_MM, 180))
    out = _roi_json(capsys, str(OB), "--contour", str(c))
    assert out["calibration"]["source"] == "dicom-us-region" and out["calibration"]["origin"] == "file"
    fractions = {r["name"]: r["clipped_fraction"] for r in out["rois"]}
    assert set(fractions) == {"intratumoral", "ring_3mm", "ring_5mm", "ring_10mm"}
    assert all(0.0 <= f <= 0.02 for f in fractions.values()), fractions


# ----------------------------------------------------------------------------- GE dual view, power Doppler
LYMPH_NODE = ellipse(205, 222.5, 100, 62.5, 180)  # the left view's node: x 105–305, y 160–285


def test_us1_is_two_views_side_by_side():
    im = load_image(US1)
    assert im.view_count == 2 and im.views is not None
    left, right = im.views[220, 200], im.views[220, 450]
    assert left and right and left != right
    seam = [x for x in range(300, 340) if im.views[220, x] != im.views[220, x + 1]]
    assert len(seam) == 1 and 314 <= seam[0] <= 320  # the seam at x 317/318
    assert not im.scan_mask[:100].any() and not im.scan_mask[360:].any()  # text above, labels below


def test_us1_rings_stay_in_the_left_view(tmp_path, capsys):
    c = _contour_file(tmp_path, LYMPH_NODE)
    out = _roi_json(capsys, str(US1), "--spacing", "0.1", "--contour", str(c), "--out", str(tmp_path / "r"))
    ring10 = next(r for r in out["rois"] if r["name"] == "ring_10mm")
    assert ring10["clipped_fraction"] >= 0.30 and ring10["flagged"]
    assert next(r for r in out["rois"] if r["name"] == "intratumoral")["clipped_fraction"] == 0.0
    mask = cv2.imread(str(tmp_path / "r" / "ring_10mm.png"), cv2.IMREAD_GRAYSCALE) > 0
    assert mask[:, :300].any() and not mask[:, 319:].any()  # nothing in the right view


def test_us1_contour_crossing_the_views_is_refused(tmp_path, capsys):
    c = _contour_file(tmp_path, ellipse(317, 222, 60, 40, 120))
    err = _one_line_exit_2(capsys, ["roi", str(US1), "--spacing", "0.1", "--contour", str(c)])
    assert "crosses from one view" in err and "inside one view" in err


def test_us1_predict_refuses_colour_doppler_in_one_line(tmp_path, capsys):
    c = _contour_file(tmp_path, LYMPH_NODE)
    argv = [
        "predict",
        str(US1),
        "--spacing",
        "0.1",
        "--contour",
        str(c),
        "--allow-unsigned",
        "--model",
        str(cached_bundle()),
    ]
    err = _one_line_exit_2(capsys, [*argv, "--device", "cpu", "--no-sensitivity"])
    assert "colour Doppler" in err and "B-mode" in err and "limit is 2%" in err


# ----------------------------------------------------------------------------- Aloka dual view (regions)
def test_aloka_dual_view_regions_keep_the_anechoic_bladder():
    im = load_image(ALOKA)
    assert im.view_count == 2 and im.views[150, 180] != im.views[150, 500]
    assert im.gray[150, 180] <= 2 and im.scan_mask[150, 180] and im.scan_mask[130, 500]  # the bladder
    assert not im.scan_mask[60, 45]  # the grey bar the scanner declared as its own region
    assert not im.scan_mask[430:].any()  # the parameter text under the images


def test_aloka_rings_stay_in_their_view_and_crossing_is_refused(tmp_path, capsys):
    c = _contour_file(tmp_path, circle(250, 300, 40, 120))
    out = _roi_json(capsys, str(ALOKA), "--contour", str(c), "--out", str(tmp_path / "r"))
    assert out["contour"]["region_index"] == 0
    mask = cv2.imread(str(tmp_path / "r" / "ring_10mm.png"), cv2.IMREAD_GRAYSCALE) > 0
    assert mask.any() and not mask[:, 336:].any()
    across = _contour_file(tmp_path, circle(336, 300, 40, 120), "x.json")
    err = _one_line_exit_2(capsys, ["roi", str(ALOKA), "--contour", str(across)])
    assert "crosses two ultrasound regions" in err and "inside one" in err


# ----------------------------------------------------------------------------- BUS-BRA breast scans
@pytest.mark.parametrize("case", BUSBRA)
def test_breast_lesion_is_never_outside_and_rings_lose_only_margin(case):
    """The expert's lesion is inside the scan; a ring loses only pixels outside the image or on the
    black margin beside the scan (a depth ruler strip), never tissue."""
    cal = Calibration.manual(0.1)  # BUS-BRA records no spacing: nominal (see scan_ATTRIBUTION.md)
    im = load_image(REAL / f"scan_busbra_{case}.png").with_calibration(cal)
    lesion = cv2.imread(str(REAL / f"scan_busbra_{case}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    assert im.scan_mask[lesion].all()
    contour = Contour.from_mask(lesion, cal)
    rois = compute_rois(contour, im)
    whole = compute_rois(contour, replace(im, scan_mask=np.ones(im.shape, bool), views=None))
    assert rois.tumour.clipped_fraction == 0.0
    for ring, ring_whole in zip(rois.rings, whole.rings, strict=True):
        lost = ring_whole.full("annulus") & ~ring.full("annulus")  # lost inside the image
        if lost.any():
            # Black margin (the depth ruler's tick labels on it are bright, hence the median).
            assert np.median(im.gray[lost]) <= 12, ring.name
        assert ring.clipped_fraction >= ring_whole.clipped_fraction  # (outside the image counts too)


# ----------------------------------------------------------------------------- BUSI: a cyst is not a gap
def test_an_anechoic_cyst_across_the_scan_is_not_a_gap_between_views():
    """BUSI benign (188): a flat-black cyst runs across almost the whole width, so the echoes above and
    below it are separate components; dim tissue bounds it at the edge, so it is not the padding
    between two views (docs/IMAGING.md) and the expert's lesion is wholly inside one scan."""
    im = load_image(REAL / "scan_busi_benign188.png")
    lesion = cv2.imread(str(REAL / "scan_busi_benign188_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    assert lesion.sum() > 30_000  # the cyst band, y 230-400
    assert im.view_count == 1
    assert np.asarray(im.scan_mask)[lesion].all()
