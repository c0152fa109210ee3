"""`dlrs compare`: a baseline 20.0 mm lesion and a 13.0 mm follow-up on synthetic scanner DICOMs with a
known mm/px give -35 % "partial response (size criteria)" in the JSON, the PDF and the SR; the two exams'
SRs share the lesion's tracking UID and pass dciodvfy; both probabilities are the Predictor's."""

from __future__ import annotations

import json
import math

import pydicom
import pytest

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.exchange.sr import lesion_tracking_uid
from dlrs_desktop.roi import Contour
from tests.dicom_factory import write_bmode_dicom
from tests.pacs_factory import dciodvfy_errors
from tests.roi_factory import circle, ellipse, manual_calibration

SAMPLES = paths.samples_dir()
PR = "partial response (size criteria)"
MM = 0.1  # mm per pixel, written in the files' ultrasound region


def _exam(folder, name, seed, date, patient="P-0042"):
    path, _, _ = write_bmode_dicom(folder / f"{name}.dcm", mm_per_px=MM, seed=seed, case_id=patient)
    ds = pydicom.dcmread(path)
    ds.StudyDate = date
    ds.save_as(path)
    return path


def _contour(folder, name, pts):
    return Contour(pts, manual_calibration(MM)).save(folder / f"{name}.contour.json")


@pytest.fixture(scope="module")
def exams(tmp_path_factory):
    d = tmp_path_factory.mktemp("exams")
    base = _exam(d, "base", 1, "20260105")
    fu = _exam(d, "fu", 2, "20260302")
    # 128 vertices: opposite vertices lie exactly one diameter apart (20.0 mm and 13.0 mm at 0.1 mm/px)
    return (
        d,
        base,
        _contour(d, "base", circle(256, 216, 100, 128)),
        fu,
        _contour(d, "fu", circle(256, 216, 65, 128)),
    )


def _compare(capsys, *argv):
    try:
        rc = main(["compare", *map(str, argv)])
    except SystemExit as exc:  # a usage error: argparse's exit, one line on stderr
        rc = exc.code
    out = capsys.readouterr()
    return rc, out


def _walk(items):
    for it in items:
        yield it
        yield from _walk(getattr(it, "ContentSequence", []))


def _tracking_uids(sr):
    return {
        it.UID
        for it in _walk(sr.ContentSequence)
        if it.ValueType == "UIDREF"
        and it.ConceptNameCodeSequence[0].CodeMeaning == "Tracking Unique Identifier"
    }


@pytest.fixture(scope="module")
def compared(exams, tmp_path_factory):
    _, base, bc, fu, fc = exams
    out = tmp_path_factory.mktemp("out")
    argv = ["compare", base, "--contour", bc, fu, "--contour", fc, "--json", "--no-predict"]
    argv += ["--pdf", out / "report.pdf", "--export", out / "dicom", "--followup-label", "after cycle 2"]
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main([str(a) for a in argv]) == 0
    return json.loads(buf.getvalue()), out


def test_json_says_minus_35_percent_partial_response(compared):
    result, _ = compared
    c = result["change"]
    assert (result["baseline"]["longest_mm"], result["followup"]["longest_mm"]) == (20.0, 13.0)
    assert (c["change_percent"], c["change_mm"], c["category"]) == (-35.0, -7.0, PR)
    assert (result["baseline"]["exam_date"], result["followup"]["exam_date"]) == ("20260105", "20260302")
    assert result["followup"]["label"] == "after cycle 2"
    assert "not a diagnosis" in result["notice"]


def test_pdf_carries_the_timeline(compared):
    import pypdf

    _, out = compared
    reader = pypdf.PdfReader(out / "report.pdf")
    assert len(reader.pages) == 1
    subject = reader.metadata.subject
    assert "2026-01-05 | baseline | 20.0 mm | baseline" in subject
    assert "2026-03-02 | after cycle 2 | 13.0 mm | -35.0 % (-7.0 mm) | " + PR in subject


def test_sr_holds_the_change_and_passes_dciodvfy(compared):
    _, out = compared
    sr_path = out / "dicom" / "fu.sr.dcm"
    assert dciodvfy_errors(sr_path) == []
    sr = pydicom.dcmread(sr_path)
    items = list(_walk(sr.ContentSequence))
    texts = {
        it.ConceptNameCodeSequence[0].CodeMeaning: it.TextValue for it in items if it.ValueType == "TEXT"
    }
    nums = {
        it.ConceptNameCodeSequence[0].CodeMeaning: float(it.MeasuredValueSequence[0].NumericValue)
        for it in items
        if it.ValueType == "NUM"
    }
    assert texts["Size category (RECIST 1.1 size criteria)"] == PR
    assert nums["Percent change in longest diameter from baseline"] == pytest.approx(-35.0, abs=1e-6)
    assert nums["Change in longest diameter from baseline"] == pytest.approx(-7.0, abs=1e-6)
    assert nums["Baseline longest diameter"] == pytest.approx(20.0, abs=1e-6)


def test_two_exams_share_the_lesion_tracking_uid(exams, compared, tmp_path):
    _, base, bc, _, _ = exams
    _, out = compared
    assert (
        main(["dicom", "export", str(base), "--contour", str(bc), "--no-predict", "--out", str(tmp_path)])
        == 0
    )
    base_sr = tmp_path / "base.sr.dcm"
    assert dciodvfy_errors(base_sr) == []
    uid = lesion_tracking_uid("P-0042", "", "lesion 1")
    assert uid is not None and uid.startswith("2.25.")
    follow = _tracking_uids(pydicom.dcmread(out / "dicom" / "fu.sr.dcm"))
    assert uid in _tracking_uids(pydicom.dcmread(base_sr)) and uid in follow
    # another patient's "lesion 1", or another lesion of this patient, is another finding
    assert lesion_tracking_uid("P-0043", "", "lesion 1") != uid
    assert lesion_tracking_uid("P-0042", "", "lesion 2") != uid
    assert lesion_tracking_uid("ANONYMOUS", "", "lesion 1") is None


def test_anonymous_patient_gets_no_linking_uid_and_a_note(tmp_path, capsys):
    img = _exam(tmp_path, "anon", 3, "20260105", patient="ANONYMOUS")
    c = _contour(tmp_path, "anon", circle(256, 216, 100, 128))
    assert (
        main(["dicom", "export", str(img), "--contour", str(c), "--no-predict", "--out", str(tmp_path / "o")])
        == 0
    )
    assert "tracking UID will not link" in capsys.readouterr().out


def test_two_views_give_the_ellipsoid_volume(exams, capsys):
    d, base, _, fu, _ = exams
    # radial 24 x 12 mm and antiradial 16 x 12 mm at baseline; half of each at follow-up
    rb = _contour(d, "rb", ellipse(256, 216, 120, 60, 256))
    ab = _contour(d, "ab", ellipse(256, 216, 80, 60, 256))
    rf = _contour(d, "rf", ellipse(256, 216, 60, 30, 256))
    af = _contour(d, "af", ellipse(256, 216, 40, 30, 256))
    rc, out = _compare(
        capsys, base, "--contour", rb, "--baseline-view2", base, "--contour", ab,
        fu, "--contour", rf, "--followup-view2", fu, "--contour", af, "--json", "--no-predict",
    )  # fmt: skip
    assert rc == 0, out.err
    r = json.loads(out.out)
    assert r["baseline"]["volume_mm3"] == pytest.approx(4 / 3 * math.pi * 12 * 8 * 6, rel=0.05)
    assert r["change"]["volume_change_percent"] == pytest.approx(-87.5, abs=1.0)
    assert r["change"]["category"] == PR


def test_both_probabilities_are_the_predictors(capsys):
    demo, c1 = SAMPLES / "demo.dcm", SAMPLES / "sample-centre1.dcm"
    dc, cc = SAMPLES / "demo.contour.json", SAMPLES / "sample-centre1.contour.json"
    rc, out = _compare(capsys, demo, "--contour", dc, c1, "--contour", cc, "--json")
    assert rc == 0, out.err
    r = json.loads(out.out)
    for key, img in (("baseline", demo), ("followup", c1)):
        assert main(["predict", str(img), "--json"]) == 0
        expected = json.loads(capsys.readouterr().out)
        assert r[key]["probability"] == pytest.approx(expected["probability"], abs=1e-9)
        assert r[key]["category"] == expected["category"]
    assert r["warnings"]  # the samples are two different patients: said, not hidden


@pytest.mark.parametrize(
    ("make_argv", "words"),
    [
        (lambda d: [d / "missing.dcm", d / "fu.dcm"], "does not exist"),
        (
            lambda d: ["--contour", d / "fu.contour.json", d / "base.dcm", d / "fu.dcm"],
            "must follow the image",
        ),
        (lambda d: [d / "base.png", "--contour", d / "nocal.contour.json", d / "fu.dcm"], "calibration"),
        (lambda d: [d / "base.dcm", "--contour", d / "nope.json", d / "fu.dcm"], "not found"),
    ],
)
def test_bad_input_is_one_line_exit_2(exams, capsys, make_argv, words):
    import cv2
    import numpy as np

    d = exams[0]
    cv2.imwrite(str(d / "base.png"), np.full((480, 640), 90, np.uint8))  # no mm/px anywhere
    Contour(circle(256, 216, 100, 128)).save(d / "nocal.contour.json")  # nor in the contour file
    rc, out = _compare(capsys, *make_argv(d), "--no-predict")
    assert rc == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in out.err


def test_not_measurable_follow_up_is_complete_response_only_when_said(exams, capsys):
    _, base, bc, fu, _ = exams
    rc, out = _compare(capsys, base, "--contour", bc, fu, "--not-measurable", "--no-predict", "--json")
    assert rc == 0, out.err
    r = json.loads(out.out)
    assert r["change"]["category"] == "complete response (size criteria)"
    assert (r["followup"]["longest_mm"], r["followup"]["exam_date"]) == (None, "20260302")
    rc, out = _compare(capsys, base, "--contour", bc, fu, "--contour", bc, "--not-measurable", "--no-predict")
    assert rc == 2 and "no contour" in out.err


def test_spacing_belongs_to_the_image_before_it(exams, capsys):
    import cv2
    import numpy as np

    d, _, _, fu, fc = exams
    cv2.imwrite(str(d / "plain.png"), np.full((480, 640), 90, np.uint8))
    Contour(circle(256, 216, 100, 128)).save(d / "plain.contour.json")  # no mm/px in the file
    argv = [d / "plain.png", "--contour", d / "plain.contour.json", "--spacing", "0.1", fu, "--contour", fc]
    rc, out = _compare(capsys, *argv, "--no-predict", "--json")
    assert rc == 0, out.err
    r = json.loads(out.out)
    assert r["baseline"]["views"][0]["mm_per_px"] == [0.1, 0.1] and r["baseline"]["longest_mm"] == 20.0
    assert r["change"]["change_percent"] == -35.0
    rc, out = _compare(capsys, d / "plain.png", "--spacing", "0.1", "--spacing", "0.2", fu, "--no-predict")
    assert rc == 2 and "two --spacing" in out.err


def test_png_follow_up_links_to_the_lesion_through_patient_id(exams, capsys, tmp_path):
    import cv2

    from dlrs_desktop.imaging import load_image

    _, base, bc, fu, fc = exams
    png = tmp_path / "fu_scan.png"
    cv2.imwrite(str(png), cv2.cvtColor(load_image(fu).display, cv2.COLOR_RGB2BGR))
    argv = [base, "--contour", bc, png, "--contour", fc, "--spacing", "0.1", "--no-predict"]
    rc, out = _compare(capsys, *argv, "--export", tmp_path / "o", "--patient-id", "P-0042")
    assert rc == 0, out.err
    sr = tmp_path / "o" / "fu_scan.sr.dcm"
    assert dciodvfy_errors(sr) == []
    assert lesion_tracking_uid("P-0042", "", "lesion 1") in _tracking_uids(pydicom.dcmread(sr))
