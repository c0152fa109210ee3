"""DICOM networking against a real Orthanc (Debian package) on 127.0.0.1, and dcmtk's storescu as the
scanner: C-ECHO, C-STORE of our exported objects, the C-STORE listener, C-FIND + C-GET and the round
trip export → send → retrieve → import (same contour, same measurements)."""

from __future__ import annotations

import subprocess
import sys
import time

import pydicom
import pytest

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.exchange.net import NetworkError, Node, echo
from dlrs_desktop.exchange.query import find_studies, get_study, move_study
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.dicom_seg import ImageRef
from dlrs_desktop.roi import Contour, validate_contour
from tests.pacs_factory import (
    MOVE_PORT,
    PACS_AET,
    PDF,
    SEG,
    SR,
    US,
    export_demo,
    free_port,
    need,
    silent_node,
    store_scan,
)

SAMPLES = paths.samples_dir()


@pytest.fixture
def pacs(orthanc):
    orthanc.clear()
    return orthanc


def node_args(server) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(server.dicom_port), "--called-aet", PACS_AET]


def test_echo_and_a_clear_line_when_nothing_listens(pacs, capsys):
    assert main(["dicom", "echo", *node_args(pacs)]) == 0
    assert "answered the echo" in capsys.readouterr().out
    t0 = time.monotonic()
    rc = main(["dicom", "echo", *silent_node(), "--timeout", "3"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Cannot connect" in err
    assert time.monotonic() - t0 < 5


def test_export_then_send_stores_seg_sr_and_pdf(pacs, tmp_path, capsys):
    out = tmp_path / "OUT"
    assert export_demo(out) == 0
    capsys.readouterr()
    assert main(["dicom", "send", str(out), *node_args(pacs)]) == 0
    text = capsys.readouterr().out
    assert "3 of 3 files stored" in text
    assert pacs.sop_classes() == sorted([SEG, SR, PDF])


def test_send_reports_a_bad_file_and_exits_2(pacs, tmp_path, capsys):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"garbage")
    assert main(["dicom", "send", str(bad), str(SAMPLES / "demo.dcm"), *node_args(pacs)]) == 2
    text = capsys.readouterr().out
    assert "FAIL" in text and "1 of 2 files stored" in text
    assert pacs.sop_classes() == [US]


def test_listen_receives_a_file_sent_by_storescu(tmp_path):
    storescu = need("storescu", "dcmtk")
    port, out = free_port(), tmp_path / "incoming"
    listener = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dlrs_desktop.cli",
            "dicom",
            "listen",
            "--port",
            str(port),
            "--aet",
            "DLRS",
            "--out",
            str(out),
            "--bind",
            "127.0.0.1",
            "--count",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "listening" in listener.stdout.readline()
        sent = subprocess.run(
            [storescu, "-aec", "DLRS", "-aet", "SCANNER", "127.0.0.1", str(port), str(SAMPLES / "demo.dcm")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sent.returncode == 0, sent.stderr
        listener.wait(timeout=30)
    finally:
        if listener.poll() is None:
            listener.kill()
    assert listener.returncode == 0
    files = list(out.glob("*.dcm"))
    assert len(files) == 1
    got, sent_ds = pydicom.dcmread(files[0]), pydicom.dcmread(SAMPLES / "demo.dcm")
    assert got.SOPInstanceUID == sent_ds.SOPInstanceUID and got.PixelData == sent_ds.PixelData


def test_round_trip_export_send_retrieve_import(pacs, tmp_path, capsys):
    store_scan(pacs, SAMPLES / "demo.dcm")
    out = tmp_path / "OUT"
    assert export_demo(out, "--no-predict") == 0
    assert main(["dicom", "send", str(out), *node_args(pacs)]) == 0
    node = Node(PACS_AET, "127.0.0.1", pacs.dicom_port, "DLRS", 10)
    studies = find_studies(node, patient_id=pydicom.dcmread(SAMPLES / "demo.dcm").PatientID)
    assert len(studies) == 1
    files = get_study(node, studies[0].study_uid, tmp_path / "retrieved")
    by_class = {str(pydicom.dcmread(f, stop_before_pixels=True).SOPClassUID): f for f in files}
    assert sorted(by_class) == sorted([US, SEG, SR, PDF])
    image = load_image(by_class[US])
    original = validate_contour(Contour.load(SAMPLES / "demo.contour.json"), image)
    back = Contour.load_any(by_class[SEG], image.shape, image_ref=ImageRef.of(by_class[US]))
    a, b = original.to_mask(image.shape), back.to_mask(image.shape)
    assert 2 * (a & b).sum() / (a.sum() + b.sum()) >= 0.99
    m0, m1 = original.measurements(image.calibration), back.measurements(image.calibration)
    assert m1.area_mm2 == pytest.approx(m0.area_mm2, rel=0.01)
    assert m1.max_diameter_mm == pytest.approx(m0.max_diameter_mm, abs=0.5)
    assert m1.perpendicular_diameter_mm == pytest.approx(m0.perpendicular_diameter_mm, abs=0.5)
    capsys.readouterr()
    assert main(["roi", str(by_class[US]), "--contour", str(by_class[SEG]), "--json"]) == 0


def test_find_on_an_empty_pacs_and_wrong_port(pacs):
    node = Node(PACS_AET, "127.0.0.1", pacs.dicom_port, "DLRS", 5)
    assert find_studies(node, patient_id="NOBODY") == []
    with pytest.raises(NetworkError, match="Cannot connect"):
        echo(Node(PACS_AET, "127.0.0.1", free_port(), "DLRS", 2))


def test_a_silent_server_is_one_clear_message_within_the_timeout(tmp_path):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    t0 = time.monotonic()
    try:
        with pytest.raises(NetworkError, match="gave no DICOM answer within 2 s"):
            echo(Node(PACS_AET, "127.0.0.1", server.getsockname()[1], "DLRS", 2))
    finally:
        server.close()
        for conn, _ in held:
            conn.close()
    assert time.monotonic() - t0 < 6


def test_move_retrieves_the_study_for_a_pacs_without_c_get(pacs, tmp_path):
    for sample in ("demo.dcm", "sample-centre1.dcm"):
        store_scan(pacs, SAMPLES / sample)
    node = Node(PACS_AET, "127.0.0.1", pacs.dicom_port, "DLRS", 10)
    study = find_studies(node, patient_id=str(pydicom.dcmread(SAMPLES / "demo.dcm").PatientID))[0]
    files = move_study(node, study.study_uid, tmp_path / "moved", listen_port=MOVE_PORT, bind="127.0.0.1")
    assert len(files) == 1
    assert pydicom.dcmread(files[0]).SOPInstanceUID == pydicom.dcmread(SAMPLES / "demo.dcm").SOPInstanceUID
    stranger = Node(PACS_AET, "127.0.0.1", pacs.dicom_port, "STRANGER", 10)
    with pytest.raises(NetworkError, match="register this workstation"):
        move_study(stranger, study.study_uid, tmp_path / "no", listen_port=free_port(), bind="127.0.0.1")
