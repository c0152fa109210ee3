"""The C-STORE receiver against hostile peers: dcmtk's echoscu/storescu, pynetdicom and raw sockets.

Every listener here is the real `dlrs dicom listen` in its own process (or `start_listener` where the
test needs the server object), on 127.0.0.1 with a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.exchange.listener import ListenerPolicy, start_listener
from dlrs_desktop.exchange.net import NetworkError
from tests.pacs_factory import free_port, need
from tests.ui_factory import dialog_log, make_window  # noqa: F401  (fixture)

SAMPLES = paths.samples_dir()
DEMO = SAMPLES / "demo.dcm"


class Listener:
    """`dlrs dicom listen` in a subprocess; its stdout lines are collected in a thread."""

    def __init__(self, out: Path, *extra: str, tmpdir: Path | None = None) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "dlrs_desktop.cli", "dicom", "listen", "--port", str(self.port)]
        env = dict(os.environ, TMPDIR=str(tmpdir)) if tmpdir is not None else None  # pynetdicom's stream
        self.proc = subprocess.Popen(
            [*cmd, "--out", str(out), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        first = self.proc.stdout.readline()
        self.lines.append(first)
        threading.Thread(target=self._read, daemon=True).start()
        assert "listening" in first, first

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def dcmtk(tool: str) -> str:
    """dcmtk's tool, not pynetdicom's app of the same name that a virtual environment may put first."""
    need(tool, "dcmtk")
    return shutil.which(tool, path="/usr/bin:/usr/local/bin") or pytest.skip(f"dcmtk's {tool} not found")


def storescu(port: int, *files: Path, calling: str = "SCANNER", called: str = "DLRS", timeout: float = 60):
    tool = dcmtk("storescu")
    cmd = [tool, "-aet", calling, "-aec", called, "127.0.0.1", str(port), *map(str, files)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_default_bind_is_loopback_and_an_open_bind_needs_an_allow_list(tmp_path, capsys):
    server = start_listener(free_port(), "DLRS", tmp_path)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
    with pytest.raises(NetworkError, match="allow-list"):
        start_listener(free_port(), "DLRS", tmp_path, policy=ListenerPolicy(bind="0.0.0.0"))
    rc = main(["dicom", "listen", "--port", str(free_port()), "--out", str(tmp_path), "--bind", "0.0.0.0"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--allow-aet" in err


def test_unknown_calling_or_called_ae_title_is_rejected_at_association(tmp_path):
    from pynetdicom import AE
    from pynetdicom.sop_class import UltrasoundImageStorage

    echoscu = dcmtk("echoscu")
    out = tmp_path / "in"
    li = Listener(out, "--allow-aet", "SCANNER", "--allow-aet", "MODALITY2")
    try:
        evil = subprocess.run(
            [echoscu, "-aet", "EVILHACKER", "-aec", "DLRS", "127.0.0.1", str(li.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert evil.returncode != 0 and "calling ae title not recognized" in evil.stderr.lower()
        wrong_called = storescu(li.port, DEMO, calling="SCANNER", called="WHATEVER")
        assert (
            wrong_called.returncode != 0 and "called ae title not recognized" in wrong_called.stderr.lower()
        )
        ae = AE(ae_title="EVILHACKER")
        ae.add_requested_context(UltrasoundImageStorage)
        assoc = ae.associate("127.0.0.1", li.port, ae_title="DLRS")
        assert assoc.is_rejected
        assert not list(out.rglob("*.dcm"))  # nothing filed from a stranger
        ok = storescu(li.port, DEMO, calling="MODALITY2")
        assert ok.returncode == 0, ok.stderr
        time.sleep(0.5)
        assert len(list(out.glob("*.dcm"))) == 1
        assert li.text().count("rejected an association") == 3
    finally:
        li.stop()


def _changed_copy(tmp_path: Path, name: str, **values: str) -> Path:
    ds = pydicom.dcmread(DEMO)
    for key, value in values.items():
        setattr(ds, key, value)
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


def test_same_uid_with_other_content_is_kept_beside_never_over(tmp_path):
    out = tmp_path / "in"
    other_patient = _changed_copy(tmp_path, "b.dcm", PatientID="OTHER", PatientName="Other^Patient")
    truncated = tmp_path / "short.dcm"
    ds = pydicom.dcmread(DEMO)
    ds.PixelData = ds.PixelData[:2048]  # the 2 kB resend of the issue: declared size no longer matches
    ds.Rows, ds.Columns = 1, 2048 // (ds.BitsAllocated // 8 * ds.SamplesPerPixel)
    ds.save_as(truncated, enforce_file_format=True)
    li = Listener(out, "--allow-aet", "SCANNER")
    try:
        for f in (DEMO, DEMO, other_patient, truncated):
            sent = storescu(li.port, f)
            assert sent.returncode == 0, sent.stderr
        time.sleep(0.5)
    finally:
        li.stop()
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 3  # the identical resend is kept once
    contents = sorted(p.read_bytes() for p in files)
    first = min(files, key=lambda p: len(p.name))
    assert pydicom.dcmread(first).PatientID == pydicom.dcmread(DEMO).PatientID  # the first is untouched
    assert pydicom.dcmread(first).PixelData == pydicom.dcmread(DEMO).PixelData
    assert sorted(str(pydicom.dcmread(p).PatientID) for p in files).count("OTHER") == 1
    assert len(set(contents)) == 3
    assert li.text().count("kept beside it") == 2


def test_a_non_image_sop_class_is_refused_and_a_seg_is_filed_apart(tmp_path):
    from pynetdicom import AE

    ecg, seg = "1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.840.10008.5.1.4.1.1.66.4"  # 12-lead ECG, SEG
    out = tmp_path / "in"
    server = start_listener(free_port(), "DLRS", out)
    try:
        ae = AE(ae_title="SCANNER")
        for sop_class in (ecg, seg):
            ae.add_requested_context(sop_class, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", server.server_address[1], ae_title="DLRS")
        assert assoc.is_established
        assert [cx.abstract_syntax for cx in assoc.accepted_contexts] == [seg]  # ECG negotiated away
        ds = pydicom.dcmread(DEMO)
        ds.SOPClassUID, ds.Modality = seg, "SEG"
        assert assoc.send_c_store(ds).Status == 0
        ds.SOPClassUID = ecg
        with pytest.raises(ValueError):  # no accepted context: it cannot even be sent
            assoc.send_c_store(ds)
        assoc.release()
    finally:
        server.shutdown()
    assert [p.relative_to(out).parts[0] for p in out.rglob("*.dcm")] == ["derived"]


def _raw_peer(port: int, trickle: bool, stop: threading.Event, opened: list[socket.socket]) -> None:
    """An idle or trickling connection from another address (127.0.0.2) than the legitimate peer."""
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        return
    opened.append(s)
    pdu = b"\x01\x00\x00\x00\x10\x00"  # the start of an A-ASSOCIATE-RQ, then a byte now and then
    i = 0
    while trickle and not stop.is_set():
        try:
            s.send(pdu[i % len(pdu) : i % len(pdu) + 1])
        except OSError:
            return
        i += 1
        stop.wait(0.5)


def test_idle_and_trickling_connections_do_not_lock_out_a_scanner(tmp_path):
    out = tmp_path / "in"
    li = Listener(out, "--allow-aet", "SCANNER")
    stop, opened = threading.Event(), []
    peers = [
        threading.Thread(target=_raw_peer, args=(li.port, i >= 10, stop, opened), daemon=True)
        for i in range(20)
    ]
    try:
        for t in peers:
            t.start()
        time.sleep(1.0)  # all 20 connected (or were turned away) and are holding on
        t0 = time.monotonic()
        sent = storescu(li.port, DEMO, timeout=30)
        took = time.monotonic() - t0
        print(f"10 idle + 10 trickling connections open: the scanner stored in {took:.2f} s")
        assert sent.returncode == 0, sent.stderr
        assert took < 5, f"the scanner waited {took:.1f} s"
        time.sleep(0.3)
        assert len(list(out.glob("*.dcm"))) == 1
    finally:
        stop.set()
        for s in opened:
            s.close()
        li.stop()


def test_an_idle_connection_is_closed_after_the_acse_timeout(tmp_path):
    policy = ListenerPolicy(acse_timeout_s=1.5)
    server = start_listener(free_port(), "DLRS", tmp_path, policy=policy)
    try:
        s = socket.create_connection(server.server_address[:2], timeout=10)
        t0 = time.monotonic()
        assert s.recv(1024) is not None  # an A-ABORT or the close, not a hang
        closed_after = time.monotonic() - t0
        s.close()
    finally:
        server.shutdown()
    assert 1.0 <= closed_after < 5


def _big_us_file(path: Path, megabytes: int) -> int:
    """A multi-frame US image of about `megabytes` MB, written in pieces (never whole in memory)."""
    rows, cols = 500, 400
    frames = megabytes * (1 << 20) // (rows * cols * 3)
    ds = pydicom.dcmread(DEMO, stop_before_pixels=True)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.save_as(path, enforce_file_format=True)
    size = rows * cols * 3 * frames
    frame = (bytes(range(256)) * (rows * cols * 3 // 256 + 1))[: rows * cols * 3]
    with open(path, "ab") as fh:
        fh.write(b"\xe0\x7f\x10\x00OB\x00\x00" + size.to_bytes(4, "little"))
        for _ in range(frames):
            fh.write(frame)
    return path.stat().st_size


@pytest.mark.slow
def test_a_600_mb_dataset_streams_to_disk_with_the_listener_under_400_mb_rss(tmp_path):
    src = tmp_path / "big.dcm"
    size = _big_us_file(src, 600)
    out = tmp_path / "in"
    li = Listener(out, "--allow-aet", "SCANNER", "--min-free", "100")
    try:
        sent = storescu(li.port, src, timeout=300)
        assert sent.returncode == 0, sent.stderr
        time.sleep(0.5)
        # VmHWM: the listener's own peak (its memory map is new since exec; rusage of a child would
        # also count the pages it inherited when forked from this test process).
        status = Path(f"/proc/{li.proc.pid}/status").read_text()
        hwm_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
        assert "received" in li.text()
    finally:
        li.stop()
    peak_mb = hwm_kb / 1024
    print(f"600 MB dataset ({size / 1e6:.0f} MB file): listener peak RSS {peak_mb:.0f} MB")
    (got,) = out.glob("*.dcm")
    assert abs(got.stat().st_size - size) < 256  # our File Meta differs by a few bytes, the dataset not
    with open(got, "rb") as a, open(src, "rb") as b:
        a.seek(-(1 << 20), 2), b.seek(-(1 << 20), 2)
        assert a.read() == b.read()
    assert peak_mb <= 400
    assert not list(out.glob(".recv-*"))


def test_a_dataset_over_the_cap_is_refused_and_leaves_nothing(tmp_path):
    src = tmp_path / "big.dcm"
    _big_us_file(src, 6)
    out = tmp_path / "in"
    stream_tmp = tmp_path / "tmp"
    stream_tmp.mkdir()
    li = Listener(out, "--allow-aet", "SCANNER", "--max-size", "2", "--min-free", "100", tmpdir=stream_tmp)
    try:
        sent = storescu(li.port, src, timeout=60)
        assert sent.returncode != 0 or "Failed" in sent.stderr or "Abort" in sent.stderr
        ok = storescu(li.port, DEMO)  # the listener carries on
        assert ok.returncode == 0, ok.stderr
        time.sleep(0.5)
    finally:
        li.stop()
    assert [p.name.startswith("US_") for p in out.iterdir()] == [True]
    assert "over the cap of 2 MB" in li.text()
    assert not list(stream_tmp.iterdir())  # the aborted dataset's partial file is gone too


def test_a_dataset_that_would_cross_the_free_disk_floor_is_refused(tmp_path):
    import shutil as sh

    free_mb = sh.disk_usage(tmp_path).free >> 20
    out = tmp_path / "in"
    li = Listener(out, "--allow-aet", "SCANNER", "--min-free", str(free_mb + 1024))
    try:
        sent = storescu(li.port, DEMO)
        time.sleep(0.5)
    finally:
        li.stop()
    assert "0xa700" in (sent.stdout + sent.stderr).lower() or sent.returncode != 0, sent.stderr
    assert not list(out.rglob("*.dcm")) and not list(out.glob(".recv-*"))
    assert "free disk space below" in li.text()


def test_the_gui_receiver_uses_the_address_and_allow_list_of_preferences(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = tmp_path / "worklist"
    folder.mkdir()
    win = make_window(qtbot)
    assert win.open_path(folder) is not None
    port = free_port()
    win.prefs.qs.setValue("pacs/listen_port", str(port))
    win.prefs.qs.setValue("pacs/allow_aets", "SCANNER, MODALITY2")
    win.actions_by_name["dicom_receive"].setChecked(True)
    try:
        assert win.dicom.listener.server_address[0] == "127.0.0.1" and not dialog_log.texts("error")
        assert storescu(port, DEMO, calling="EVILHACKER").returncode != 0
        qtbot.waitUntil(lambda: "rejected an association" in win.statusBar().currentMessage(), timeout=5000)
        assert storescu(port, DEMO, calling="MODALITY2").returncode == 0
        qtbot.waitUntil(lambda: len(list(folder.glob("*.dcm"))) == 1, timeout=5000)
    finally:
        win.actions_by_name["dicom_receive"].setChecked(False)
    win.prefs.qs.setValue("pacs/listen_bind", "0.0.0.0")
    win.prefs.qs.setValue("pacs/allow_aets", "")
    win.actions_by_name["dicom_receive"].setChecked(True)  # an open address without an allow-list
    assert win.dicom.listener is None
    assert any("allow-list" in t for t in dialog_log.texts("error"))
