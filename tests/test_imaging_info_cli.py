"""`dlrs info`: human text, one JSON object, and one plain line + exit 2 for broken files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.imaging import dicom_writer as dw
from tests.dicom_factory import doppler_regions, smooth_gray, smooth_rgb, write_bmode_dicom

FORMATS = [
    dw.EXPLICIT_VR_LITTLE_ENDIAN,
    dw.IMPLICIT_VR_LITTLE_ENDIAN,
    dw.EXPLICIT_VR_BIG_ENDIAN,
    dw.JPEG_BASELINE,
    dw.JPEG_LOSSLESS_SV1,
    dw.JPEG_2000_LOSSLESS,
    dw.JPEG_2000,
    dw.RLE_LOSSLESS,
]


@pytest.mark.parametrize("ts", FORMATS)
def test_info_json_every_format(tmp_path, capsys, ts):
    path = dw.write_ultrasound_dicom(
        tmp_path / "c.dcm", smooth_rgb(), mm_per_px=(0.11, 0.09), transfer_syntax=ts
    )
    assert main(["info", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["width"], d["height"], d["frames"], d["frame"]) == (96, 64, 1, 0)
    assert d["calibration"]["source"] == "dicom-us-region"
    assert (d["calibration"]["mm_per_px_x"], d["calibration"]["mm_per_px_y"]) == pytest.approx((0.11, 0.09))
    assert d["regions"][0]["usable_for_mm"] is True
    assert d["photometric_interpretation"] == ("YBR_FULL_422" if ts == dw.JPEG_BASELINE else "RGB")
    assert d["metadata"]["transfer_syntax_uid"] == ts


def test_info_text_cine_and_regions(tmp_path, capsys):
    path, _, _ = write_bmode_dicom(tmp_path / "cine.dcm", frames=3, transfer_syntax=dw.JPEG_BASELINE)
    assert main(["info", str(path), "--frame", "2"]) == 0
    out = capsys.readouterr().out
    assert "640 x 480 px" in out and "3 (showing frame 2)" in out
    assert "0.100 mm/px · DICOM region" in out and "2D tissue" in out and "MONOCHROME2" in out


def test_info_doppler_and_no_patient_identifiers(tmp_path, capsys):
    path = dw.write_ultrasound_dicom(
        tmp_path / "d.dcm", smooth_gray(100, 200), mm_per_px=None, regions=doppler_regions(200, 100, 0.07)
    )
    import pydicom

    ds = pydicom.dcmread(path)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", "MRN-99812", "19700101"
    ds.save_as(path)
    assert main(["info", str(path), "--json"]) == 0
    raw = capsys.readouterr().out
    d = json.loads(raw)
    assert d["calibration"]["region_index"] == 1
    assert d["regions"][0]["spatial_format_name"] == "spectral" and d["regions"][0]["usable_for_mm"] is False
    for secret in ("Doe", "Jane", "MRN-99812", "19700101"):
        assert secret not in raw


def test_info_png_uncalibrated(tmp_path, capsys):
    import cv2

    path = tmp_path / "g.png"
    cv2.imwrite(str(path), smooth_gray())
    assert main(["info", str(path)]) == 0
    assert "Calibration:  none" in capsys.readouterr().out


def test_info_broken_file_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "broken.dcm"
    path.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x40\x00")
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Cannot open 'broken.dcm'")


def test_info_subprocess_no_traceback(tmp_path):
    path = tmp_path / "half.dcm"
    good = dw.write_ultrasound_dicom(tmp_path / "g.dcm", np.zeros((50, 60), np.uint8), mm_per_px=0.1)
    path.write_bytes(good.read_bytes()[:-1000])
    proc = subprocess.run(
        [sys.executable, "-m", "dlrs_desktop.cli", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "incomplete" in proc.stderr
