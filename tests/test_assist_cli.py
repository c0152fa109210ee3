"""`dlrs outline`: proposals, snapping and their files from the shell; plain one-line errors, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dlrs_desktop.cli import main
from dlrs_desktop.roi import Contour
from dlrs_desktop.roi.assist_eval import dice
from tests.assist_factory import make_cases


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return make_cases(tmp_path_factory.mktemp("assist_cli"))[2]


def _box_args(case) -> list[str]:
    return ["--box", *(f"{v:.1f}" for v in case.box())]


def test_outline_box_writes_contour_json_and_mask(case, tmp_path, capsys):
    out, mask = tmp_path / "a" / "annotation.json", tmp_path / "tumour.png"
    rc = main(["outline", str(case.dicom), *_box_args(case), "--out", str(out), "--mask-out", str(mask)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "points from box" in text and "mm²" in text
    contour = Contour.load(out)
    data = json.loads(out.read_text())
    assert data["schema"] == "dlrs-contour" and data["calibration"]["source"] == "dicom-us-region"
    assert 16 <= len(contour) <= 80
    assert dice(contour, case.truth, case.image.shape) >= 0.8
    m = np.asarray(Image.open(mask)) > 0
    assert m.shape == case.image.shape
    assert np.array_equal(m, contour.to_mask(case.image.shape))
    # what the CLI wrote is what `dlrs roi` reads
    assert main(["roi", str(case.dicom), "--contour", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contour"]["points"] == len(contour)


def test_outline_png_needs_spacing_for_mm_but_still_proposes(case, tmp_path, capsys):
    rc = main(["outline", str(case.png), *_box_args(case), "--json"])
    res = json.loads(capsys.readouterr().out)
    assert rc == 0 and res["calibration"] is None and res["area_mm2"] is None
    rc = main(["outline", str(case.png), *_box_args(case), "--spacing", f"{case.mm_per_px}", "--json"])
    res = json.loads(capsys.readouterr().out)
    assert rc == 0 and res["calibration"]["source"] == "manual" and res["area_mm2"] > 20


def test_outline_click_and_snap(case, tmp_path, capsys):
    cx, cy = case.truth.points.mean(axis=0)
    out = tmp_path / "click.json"
    assert main(["outline", str(case.dicom), "--click", f"{cx:.1f}", f"{cy:.1f}", "--out", str(out)]) == 0
    assert dice(Contour.load(out), case.truth, case.image.shape) >= 0.8
    start = tmp_path / "start.json"
    case.truth.offset(1.0).save(start)
    snapped = tmp_path / "snapped.json"
    rc = main(
        ["outline", str(case.dicom), "--snap", str(start), "--max-distance", "1.5", "--out", str(snapped)]
    )
    assert rc == 0
    assert "snapped start.json" in capsys.readouterr().out
    before = dice(Contour.load(start), case.truth, case.image.shape)
    assert dice(Contour.load(snapped), case.truth, case.image.shape) > before


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--box", "5000", "10", "6000", "100"], "lies outside the"),
        (["--box", "100", "100", "100", "300"], "at least 8 pixels"),
        (["--click", "-3", "4"], "outside the"),
        ([], "exactly one of"),
        (["--box", "1", "2", "300", "400", "--click", "5", "5"], "exactly one of"),
        (["--click", "5", "5", "--diameter", "1", "2", "30", "40"], "exactly one of"),
        (["--diameter", "1", "2", "nan", "40"], "finite numbers"),
        (["--diameter", "100", "100", "103", "102"], "closer than 8 pixels"),
        (["--diameter", "-50", "100", "200", "100"], "outside the"),
        (["--snap", "missing.json"], "not found"),
        (["--box", "100", "100", "300", "300", "--spacing", "abc"], "--spacing"),
    ],
)
def test_outline_bad_input_exits_2_with_one_line(case, capsys, extra, words):
    rc = main(["outline", str(case.dicom), *extra])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("error:") and words in err and "\n" not in err


def test_outline_unreadable_image_exits_2(tmp_path, capsys):
    bad = tmp_path / "not_an_image.dcm"
    bad.write_bytes(b"hello")
    assert main(["outline", str(bad), "--box", "1", "2", "30", "40"]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_outline_unwritable_output_exits_2(case, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["outline", str(case.dicom), *_box_args(case), "--out", str(blocker / "a.json")])
    assert rc == 2
    assert "Cannot write the outline" in capsys.readouterr().err
