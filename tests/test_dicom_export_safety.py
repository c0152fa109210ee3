"""Export and send for a hospital in another script and with hostile sources: Chinese names through a
real Orthanc and back, 5,000-character header values, an --out that already holds files, a deflate
bomb in a send folder and a PACS that never answers a C-STORE."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.exchange.net import Node
from dlrs_desktop.exchange.query import find_studies, get_study
from tests.pacs_factory import PACS_AET, dciodvfy_errors, silent_node, start_orthanc, stop_orthanc
from tests.seg_factory import deflate_bomb

SAMPLES = paths.samples_dir()
DEMO = SAMPLES / "demo.dcm"
CONTOUR = SAMPLES / "demo.contour.json"
NAME = "张^伟"


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    yield server
    stop_orthanc(server)


def _export(image: Path, out: Path, *extra: str) -> int:
    return main(
        ["dicom", "export", str(image), "--contour", str(CONTOUR), "--no-predict", "--out", str(out), *extra]
    )


def test_a_chinese_name_round_trips_through_export_orthanc_and_retrieve(orthanc, tmp_path, capsys):
    png = tmp_path / "scan.png"
    Image.fromarray(np.asarray(pydicom.dcmread(DEMO).pixel_array)).convert("RGB").save(png)
    out = tmp_path / "out"
    assert _export(png, out, "--patient-id", "P-ZH-1", "--patient-name", NAME, "--spacing", "0.1") == 0
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 4  # SC, SEG, SR, PDF
    for f in files:
        ds = pydicom.dcmread(f)
        assert ds.SpecificCharacterSet == "ISO_IR 192" and str(ds.PatientName) == NAME, f.name
        assert dciodvfy_errors(f) == [], f.name
    capsys.readouterr()
    node_args = ["--host", "127.0.0.1", "--port", str(orthanc.dicom_port), "--called-aet", PACS_AET]
    assert main(["dicom", "send", str(out), *node_args]) == 0
    node = Node(PACS_AET, "127.0.0.1", orthanc.dicom_port, "DLRS", 10)
    (study,) = find_studies(node, patient_id="P-ZH-1")
    back = get_study(node, study.study_uid, tmp_path / "back")
    assert len(back) == 4
    assert {str(pydicom.dcmread(f).PatientName) for f in back} == {NAME}


def _hostile_source(path: Path) -> None:
    """The demo image with 5,000-character values and control characters in its patient/study modules."""
    ds = pydicom.dcmread(DEMO)
    long = "x" * 5000
    ds.PatientName = ("Family" * 900)[:5000] + "^" + "G" * 100
    ds.PatientID = long
    ds.StudyDescription = "a\tb\x01c" + long
    ds.InstitutionName = long
    ds.ReferringPhysicianName = "R" * 5000
    ds.AccessionNumber = "A" * 5000
    ds.StudyID = "S" * 5000
    ds.SeriesDescription = "line\nbreak" + long
    ds.save_as(path, enforce_file_format=True)


def test_objects_from_a_source_with_5000_character_values_are_dciodvfy_clean(tmp_path, capsys):
    src = tmp_path / "long.dcm"
    _hostile_source(src)
    out = tmp_path / "out"
    assert _export(src, out) == 0
    text = capsys.readouterr().out
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 3
    for f in files:
        assert dciodvfy_errors(f) == [], f.name
        ds = pydicom.dcmread(f)
        assert len(str(ds.PatientID)) == 64 and len(str(ds.StudyID)) == 16
        assert "\t" not in str(ds.get("StudyDescription", ""))
    assert "PatientID (LO): value cut" in text and "x" * 100 not in text  # notes name no values


def test_out_never_overwrites_an_existing_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert _export(DEMO, out) == 0
    first = {p.name: p.read_bytes() for p in out.glob("*.dcm")}
    capsys.readouterr()
    assert _export(DEMO, out) == 0
    text = capsys.readouterr().out
    assert {n: (out / n).read_bytes() for n in first} == first  # untouched
    assert sorted(p.name for p in out.glob("*-2.dcm")) == [
        "demo.pdf-2.dcm",
        "demo.seg-2.dcm",
        "demo.sr-2.dcm",
    ]
    assert text.count("exists and was left alone") == 3


_PEAK = (
    "import sys\nfrom dlrs_desktop.cli import main\ntry:\n    rc = main(sys.argv[1:])\nfinally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print(f'PEAK_KB {hwm}', flush=True)\nsys.exit(rc)\n"
)


def test_send_refuses_a_deflate_bomb_without_reading_it_whole(tmp_path):
    folder = tmp_path / "send"
    folder.mkdir()
    deflate_bomb(folder / "bomb.dcm", 2.5)
    argv = ["dicom", "send", str(folder), *silent_node()]
    done = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, timeout=120)
    peak_mb = int(next(ln for ln in done.stdout.splitlines() if ln.startswith("PEAK_KB")).split()[1]) / 1024
    print(f"send of a 2.5 GB deflate bomb: exit {done.returncode}, peak {peak_mb:.0f} MB")
    assert done.returncode == 2 and "inflates to more than 2 GB" in done.stdout
    assert peak_mb < 300


def test_a_pacs_that_never_answers_a_c_store_is_one_line_and_exit_2(tmp_path, capsys):
    from pynetdicom import AE, AllStoragePresentationContexts, evt

    release = threading.Event()

    def never_answer(event):
        release.wait(30)
        return 0x0000

    ae = AE(ae_title="SILENT")
    ae.supported_contexts = AllStoragePresentationContexts
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, never_answer)])
    port = server.server_address[1]
    t0 = time.monotonic()
    try:
        node = ["--host", "127.0.0.1", "--port", str(port), "--called-aet", "SILENT", "--timeout", "2"]
        rc = main(["dicom", "send", str(DEMO), *node])
    finally:
        release.set()
        server.shutdown()
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "DIMSE timeout" in err, err
    assert took < 10
