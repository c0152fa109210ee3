"""`dlrs roi`: measurements and ring masks from files, with contour JSON or a mask PNG."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from dlrs_desktop.cli import main
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.roi import Contour
from tests.dicom_factory import write_bmode_dicom
from tests.roi_factory import circle, ellipse


@pytest.fixture()
def png_case(tmp_path):
    """A 1024×768 PNG with a tissue area, a 10 mm-radius contour (at 0.1 mm/px) and its mask."""
    rng = np.random.default_rng(0)
    pixels = np.zeros((768, 1024), np.uint8)
    pixels[40:740, 60:980] = rng.integers(40, 200, (700, 920))
    Image.fromarray(pixels).save(tmp_path / "us.png")
    contour = Contour(circle(500, 380, 100, 180), Calibration.manual(0.1))
    contour.save(tmp_path / "contour.json")
    Image.fromarray(contour.to_mask((768, 1024)).astype(np.uint8) * 255).save(tmp_path / "tumour.png")
    return tmp_path


def test_roi_text_output_and_masks(png_case, capsys):
    out = png_case / "rois"
    rc = main(["roi", str(png_case / "us.png"), "--contour", str(png_case / "contour.json"),
               "--spacing", "0.1", "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert rc == 0
    assert "0.100 mm/px · manual" in text
    assert "314." in text  # area of a 10 mm-radius disc
    for name in ("intratumoral", "ring_3mm", "ring_5mm", "ring_10mm"):
        assert name in text
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(
        ["contour.json", "intratumoral.png", "ring_3mm.png", "ring_3mm_expanded.png", "ring_5mm.png",
         "ring_5mm_expanded.png", "ring_10mm.png", "ring_10mm_expanded.png"]
    )  # fmt: skip
    ring = np.asarray(Image.open(out / "ring_5mm.png"))
    assert ring.shape == (768, 1024) and set(np.unique(ring)) == {0, 255}
    assert (ring > 0).sum() * 0.01 == pytest.approx(math.pi * (15**2 - 10**2), rel=0.01)
    assert Contour.load(out / "contour.json").calibration == Calibration.manual(0.1)


def test_roi_json_from_mask_png_matches_contour(png_case, capsys):
    args = ["roi", str(png_case / "us.png"), "--spacing", "0.1", "--json"]
    assert main([*args, "--mask", str(png_case / "tumour.png")]) == 0
    from_mask = json.loads(capsys.readouterr().out)
    assert main([*args, "--contour", str(png_case / "contour.json")]) == 0
    from_json = json.loads(capsys.readouterr().out)
    assert from_mask["calibration"]["mm_per_px_x"] == 0.1
    assert from_mask["measurements"]["area_mm2"] == pytest.approx(math.pi * 100, rel=0.01)
    assert from_mask["measurements"]["max_diameter_mm"] == pytest.approx(20.0, rel=0.01)
    for a, b in zip(from_mask["rois"], from_json["rois"], strict=True):
        assert a["name"] == b["name"]
        assert a["area_mm2"] == pytest.approx(b["area_mm2"], rel=0.01)
        assert a["clipped_fraction"] == pytest.approx(b["clipped_fraction"], abs=0.01)
    assert [r["name"] for r in from_json["rois"]] == ["intratumoral", "ring_3mm", "ring_5mm", "ring_10mm"]
    assert from_json["rois"][2]["area_mm2"] == pytest.approx(math.pi * (15**2 - 10**2), rel=0.01)
    # the mask is accepted through --contour too
    assert main([*args, "--contour", str(png_case / "tumour.png")]) == 0
    assert json.loads(capsys.readouterr().out)["rois"][1]["area_mm2"] == from_mask["rois"][1]["area_mm2"]


def test_roi_flags_clipped_rings_and_custom_radii(tmp_path, capsys):
    pixels = np.zeros((300, 400), np.uint8)
    pixels[:, 40:] = 128
    Image.fromarray(pixels).save(tmp_path / "edge.png")
    Contour(circle(90, 150, 30, 90)).save(tmp_path / "c.json")
    rc = main(["roi", str(tmp_path / "edge.png"), "--contour", str(tmp_path / "c.json"), "--spacing", "0.1",
               "--radii", "2,8", "--json"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert [r["name"] for r in data["rois"]] == ["intratumoral", "ring_2mm", "ring_8mm"]
    assert data["flagged"] == ["ring_8mm"] and data["rois"][2]["clipped_fraction"] > 0.2
    assert main(["roi", str(tmp_path / "edge.png"), "--contour", str(tmp_path / "c.json"),
                 "--spacing", "0.1"]) == 0  # fmt: skip
    assert "FLAGGED" in capsys.readouterr().out


def test_roi_without_calibration_is_one_line_exit_2(png_case, capsys):
    bare = png_case / "bare.json"
    Contour(circle(500, 380, 100, 180)).save(bare)
    rc = main(["roi", str(png_case / "us.png"), "--contour", str(bare)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "--spacing" in err and "no millimetre scale" in err


def test_roi_uses_the_contour_files_calibration_as_the_last_resort(png_case, capsys):
    """effective_calibration's 4th rule, the same in `roi` and `predict` (it differed before)."""
    rc = main(["roi", str(png_case / "us.png"), "--contour", str(png_case / "contour.json"), "--json"])
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert rc == 0 and cal["mm_per_px_x"] == 0.1 and cal["origin"] == "fallback"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--spacing", "abc"], "--spacing"),
        (["--spacing", "50"], "not plausible"),
        (["--radii", "3,-5"], "--radii"),
    ],
)
def test_roi_bad_arguments_exit_2(png_case, capsys, extra, message):
    rc = main(["roi", str(png_case / "us.png"), "--contour", str(png_case / "contour.json"), *extra])
    assert rc == 2 and message in capsys.readouterr().err


def test_roi_bad_contour_and_mask_files_exit_2(png_case, tmp_path, capsys):
    Contour([[10, 10], [20, 10], [20, 20]]).save(tmp_path / "tiny.json")
    rc = main(["roi", str(png_case / "us.png"), "--contour", str(tmp_path / "tiny.json"), "--spacing", "0.1"])
    assert rc == 2 and "minimum" in capsys.readouterr().err
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(tmp_path / "small.png")
    rc = main(["roi", str(png_case / "us.png"), "--mask", str(tmp_path / "small.png"), "--spacing", "0.1"])
    assert rc == 2 and "must match" in capsys.readouterr().err
    rc = main(["roi", str(tmp_path / "nope.png"), "--mask", str(tmp_path / "small.png"), "--spacing", "0.1"])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_roi_on_dicom_uses_the_ultrasound_region_calibration(tmp_path, capsys):
    path, _, _ = write_bmode_dicom(tmp_path / "us.dcm", mm_per_px=0.1)
    Contour(ellipse(256, 216, 50, 35, 120)).save(tmp_path / "lesion.json")
    rc = main(["roi", str(path), "--contour", str(tmp_path / "lesion.json"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data["calibration"]["source"] == "dicom-us-region"
    assert data["calibration"]["mm_per_px_x"] == pytest.approx(0.1)
    assert data["contour"]["region_index"] == 0
    assert data["measurements"]["max_diameter_mm"] == pytest.approx(10.0, rel=0.01)
    assert data["measurements"]["perpendicular_diameter_mm"] == pytest.approx(7.0, rel=0.01)
