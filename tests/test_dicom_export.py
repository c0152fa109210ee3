"""DICOM export (SEG, TID 1500 SR, Encapsulated PDF, Secondary Capture) checked by dicom3tools' dciodvfy,
and DICOM SEG accepted as a contour source (ours and one built with highdicom like another tool's)."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.dicom_seg import ImageRef
from dlrs_desktop.imaging.dicom_writer import write_ultrasound_dicom
from dlrs_desktop.roi import Contour, validate_contour
from tests.pacs_factory import dciodvfy_errors, export_demo
from tests.seg_factory import highdicom_single_segment_seg

SAMPLES = paths.samples_dir()
SEG, SR, PDF = (
    "1.2.840.10008.5.1.4.1.1.66.4",
    "1.2.840.10008.5.1.4.1.1.88.33",
    "1.2.840.10008.5.1.4.1.1.104.1",
)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    assert export_demo(out) == 0
    return out


def test_export_writes_seg_sr_pdf_that_dciodvfy_accepts(exported):
    files = sorted(exported.glob("*.dcm"))
    classes = sorted(str(pydicom.dcmread(f, stop_before_pixels=True).SOPClassUID) for f in files)
    assert classes == sorted([SEG, SR, PDF])
    for f in files:
        assert dciodvfy_errors(f) == [], f.name


def test_exported_objects_reference_the_source_and_hold_the_numbers(exported, capsys):
    src = pydicom.dcmread(SAMPLES / "demo.dcm", stop_before_pixels=True)
    seg = pydicom.dcmread(exported / "demo.seg.dcm")
    sr = pydicom.dcmread(exported / "demo.sr.dcm")
    pdf = pydicom.dcmread(exported / "demo.pdf.dcm")
    for ds in (seg, sr, pdf):
        assert ds.StudyInstanceUID == src.StudyInstanceUID
        assert ds.PatientID == src.PatientID
    assert (
        seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        == src.SOPInstanceUID
    )
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["Tumour", "Ring 3 mm", "Ring 5 mm", "Ring 10 mm"]
    assert bytes(pdf.EncapsulatedDocument).startswith(b"%PDF")
    # TID 1500: the tumour group holds the area the CLI measures, the model group the probability.
    image = load_image(SAMPLES / "demo.dcm")
    contour = validate_contour(Contour.load(SAMPLES / "demo.contour.json"), image)
    nums = {}

    def walk(items):
        for it in items:
            if it.ValueType == "NUM":
                nums.setdefault(it.ConceptNameCodeSequence[0].CodeMeaning, []).append(
                    float(it.MeasuredValueSequence[0].NumericValue)
                )
            walk(getattr(it, "ContentSequence", []))

    walk(sr.ContentSequence)
    assert nums["Area"][0] == pytest.approx(contour.measurements().area_mm2, rel=1e-3)
    assert nums["Long axis"][0] == pytest.approx(contour.measurements().max_diameter_mm, rel=1e-3)
    assert len(nums["Area"]) == 4
    # The SR's number is the probability `dlrs predict` gives for the same image and contour (any
    # sigmoid lies in (0, 1): only the equality tells a wrong number, e.g. one region's, from the fused one).
    argv = ["predict", str(SAMPLES / "demo.dcm"), "--contour", str(SAMPLES / "demo.contour.json")]
    capsys.readouterr()
    assert main([*argv, "--json", "--no-sensitivity"]) == 0
    predicted = json.loads(capsys.readouterr().out)["probability"]
    assert nums["Probability of early response to neoadjuvant chemotherapy"] == [
        pytest.approx(predicted, abs=1e-6)
    ]


def test_our_seg_imports_as_the_same_contour(exported, tmp_path):
    image = load_image(SAMPLES / "demo.dcm")
    original = validate_contour(Contour.load(SAMPLES / "demo.contour.json"), image)
    back = Contour.load_any(
        exported / "demo.seg.dcm", image.shape, image_ref=ImageRef.of(SAMPLES / "demo.dcm")
    )
    assert dice(original.to_mask(image.shape), back.to_mask(image.shape)) >= 0.99
    m0, m1 = original.measurements(image.calibration), back.measurements(image.calibration)
    assert m1.area_mm2 == pytest.approx(m0.area_mm2, rel=0.01)
    assert m1.max_diameter_mm == pytest.approx(m0.max_diameter_mm, abs=0.5)


def test_png_source_gets_a_secondary_capture(tmp_path):
    image = load_image(SAMPLES / "demo.dcm")
    import cv2

    png = tmp_path / "scan.png"
    cv2.imwrite(str(png), cv2.cvtColor(image.display, cv2.COLOR_RGB2BGR))
    out = tmp_path / "out"
    rc = main(
        [
            "dicom",
            "export",
            str(png),
            "--contour",
            str(SAMPLES / "demo.contour.json"),
            "--spacing",
            str(image.calibration.mm_per_px_x),
            "--no-predict",
            "--patient-id",
            "P42",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 4
    sc = pydicom.dcmread(out / "scan.sc.dcm")
    assert sc.PatientID == "P42" and sc.PatientName == "Anonymous^Patient"
    for f in files:
        assert pydicom.dcmread(f).StudyInstanceUID == sc.StudyInstanceUID
        assert dciodvfy_errors(f) == [], f.name


def test_dlrs_writer_and_bundled_samples_pass_dciodvfy(tmp_path):
    for sample in sorted(SAMPLES.glob("*.dcm")):
        assert dciodvfy_errors(sample) == [], sample.name
    rng = np.random.default_rng(0)
    write_ultrasound_dicom(tmp_path / "g.dcm", rng.integers(0, 255, (60, 80), np.uint8), mm_per_px=0.1)
    write_ultrasound_dicom(tmp_path / "c.dcm", rng.integers(0, 255, (3, 60, 80, 3), np.uint8), mm_per_px=0.1)
    assert (
        main(["synth", "--out", str(tmp_path / "synth"), "--patients", "4", "--scale", "0.25", "--quiet"])
        == 0
    )
    synth = sorted((tmp_path / "synth").rglob("*.dcm"))
    assert len(synth) >= 4
    for f in [tmp_path / "g.dcm", tmp_path / "c.dcm", *synth]:
        assert dciodvfy_errors(f) == [], f.name


def test_seg_from_another_tool_is_a_contour_in_roi_predict_and_outline(tmp_path, capsys):
    """The SEG made from the demo contour gives what the contour itself gives: the same area, the same
    probability (measured: 0.6277 against 0.6256; the SEG's outline is retraced from its pixels) and a
    snapped outline on the same lesion (measured Dice 0.98)."""
    image = load_image(SAMPLES / "demo.dcm")
    drawn = validate_contour(Contour.load(SAMPLES / "demo.contour.json"), image)
    truth = drawn.to_mask(image.shape)
    seg_path = tmp_path / "other.seg.dcm"
    highdicom_single_segment_seg(SAMPLES / "demo.dcm", truth).save_as(seg_path)
    capsys.readouterr()
    assert main(["roi", str(SAMPLES / "demo.dcm"), "--contour", str(seg_path), "--json"]) == 0
    roi = json.loads(capsys.readouterr().out)
    assert roi["measurements"]["area_mm2"] == pytest.approx(drawn.measurements().area_mm2, rel=0.01)
    back = Contour.load_any(seg_path, image.shape, image_ref=ImageRef.of(SAMPLES / "demo.dcm"))
    assert dice(truth, back.to_mask(image.shape)) >= 0.99
    probability = {}
    for name, contour in (("seg", seg_path), ("json", SAMPLES / "demo.contour.json")):
        argv = ["predict", str(SAMPLES / "demo.dcm"), "--contour", str(contour), "--json", "--no-sensitivity"]
        assert main(argv) == 0
        probability[name] = json.loads(capsys.readouterr().out)["probability"]
    assert probability["seg"] == pytest.approx(probability["json"], abs=0.005)
    snapped = tmp_path / "snapped.json"
    assert main(["outline", str(SAMPLES / "demo.dcm"), "--snap", str(seg_path), "--out", str(snapped)]) == 0
    assert dice(truth, Contour.load(snapped).to_mask(image.shape)) >= 0.95


def test_seg_for_another_size_is_refused_in_one_line(tmp_path, capsys):
    small = tmp_path / "small.dcm"
    write_ultrasound_dicom(small, np.zeros((40, 50), np.uint8), mm_per_px=0.1)
    mask = np.zeros((40, 50), bool)
    mask[10:30, 10:40] = True
    seg_path = tmp_path / "small.seg.dcm"
    highdicom_single_segment_seg(small, mask).save_as(seg_path)
    assert main(["roi", str(SAMPLES / "demo.dcm"), "--contour", str(seg_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "50×40" in err


def test_cine_loop_seg_names_its_frame_and_reimports_there(tmp_path, capsys):
    from tests.dicom_factory import write_bmode_dicom
    from tests.ui_factory import LESION_POLYGON

    cine, _, _ = write_bmode_dicom(tmp_path / "cine.dcm", mm_per_px=0.1, frames=4, seed=1)
    image = load_image(cine, 2)
    Contour(LESION_POLYGON, image.calibration, 2).save(tmp_path / "cine.contour.json")
    out = tmp_path / "out"
    assert main(["dicom", "export", str(cine), "--frame", "2", "--no-predict", "--out", str(out)]) == 0
    for f in sorted(out.glob("*.dcm")):
        assert dciodvfy_errors(f) == [], f.name
    capsys.readouterr()
    assert main(["roi", str(cine), "--contour", str(out / "cine.seg.dcm"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["image"]["frame"] == 2
    back = Contour.load_any(out / "cine.seg.dcm", image.shape, image_ref=ImageRef.of(cine))
    assert back.frame == 2
    truth = Contour(LESION_POLYGON, image.calibration, 2).to_mask(image.shape)
    assert dice(truth, back.to_mask(image.shape)) >= 0.99


def test_broken_segs_are_one_line_exit_2(exported, tmp_path, capsys):
    seg = pydicom.dcmread(exported / "demo.seg.dcm")
    del seg.SegmentSequence[0].SegmentNumber
    seg.save_as(tmp_path / "no_number.seg.dcm")
    data = (exported / "demo.seg.dcm").read_bytes()
    (tmp_path / "truncated.seg.dcm").write_bytes(data[: len(data) // 2])
    for name in ("no_number.seg.dcm", "truncated.seg.dcm"):
        capsys.readouterr()
        assert main(["roi", str(SAMPLES / "demo.dcm"), "--contour", str(tmp_path / name)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: setattr(d, "PatientSex", "Q"),
        lambda d: d.__setitem__(0x00080020, pydicom.DataElement(0x00080020, "DA", "notadate")),
        lambda d: setattr(d, "SpecificCharacterSet", "ISO_IR 999"),
        lambda d: delattr(d, "SeriesInstanceUID"),
    ],
    ids=["sex", "date", "charset", "no-series-uid"],
)
def test_a_malformed_source_header_is_one_line_exit_2(spoil, tmp_path, capsys):
    ds = pydicom.dcmread(SAMPLES / "demo.dcm")
    spoil(ds)
    ds.save_as(tmp_path / "bad.dcm", enforce_file_format=False)
    rc = main(
        [
            "dicom",
            "export",
            str(tmp_path / "bad.dcm"),
            "--contour",
            str(SAMPLES / "demo.contour.json"),
            "--no-predict",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not list(tmp_path.glob("out/*.dcm"))  # nothing half-written


def test_a_named_pipe_as_contour_or_image_never_blocks_export(tmp_path):
    import os
    import subprocess
    import sys

    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    for argv in (
        ["dicom", "export", str(SAMPLES / "demo.dcm"), "--contour", str(fifo), "--out", str(tmp_path / "o")],
        [
            "dicom",
            "export",
            str(fifo),
            "--contour",
            str(SAMPLES / "demo.contour.json"),
            "--out",
            str(tmp_path),
        ],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "dlrs_desktop.cli", *argv], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
