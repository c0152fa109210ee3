"""Fuzz families for the network-facing surfaces of issue 27: DICOM SEG import and the C-STORE receiver.

seg-crafted: the SEGs of the issue (another image's, a deflate bomb, too many frames, a fractional
halo, ...) through `roi`, `predict`, `outline --snap`. seg-mutated: byte-level mutations of a valid
SEG of the demo image through `roi`. receiver: `dlrs dicom listen` started in a fresh process while
a peer thread plays one hostile stream against it (garbage, mutated association requests, a PDU
declaring 4 GB, a stranger's AE title, mutated datasets, an oversized dataset, a same-UID resend),
then stores a valid image as a legitimate scanner and stops the listener with Ctrl-C: the case is
clean when the listener stayed responsive and ended with its one "interrupted" line (exit 130).
"""

from __future__ import annotations

import random
import signal
import socket
import struct
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from tests.fuzz_images import DEMO_DCM, _small_dicom, mutate
from tests.pacs_factory import free_port
from tests.seg_factory import deflated_seg_bomb, fractional_seg

SEG_FAMILIES = ("seg-crafted", "seg-mutated", "receiver")


def _truth_mask() -> np.ndarray:
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.roi import Contour, validate_contour
    from tests.fuzz_images import DEMO_CONTOUR

    image = load_image(DEMO_DCM)
    return validate_contour(Contour.load(DEMO_CONTOUR), image).to_mask(image.shape)


def _binary_seg(path: Path, mask: np.ndarray, source: Path = DEMO_DCM) -> Path:
    from tests.seg_factory import highdicom_single_segment_seg

    highdicom_single_segment_seg(source, mask).save_as(path)
    return path


def _edited(src: Path, dst: Path, edit: Callable[[Any], None]) -> Path:
    ds = pydicom.dcmread(src)
    edit(ds)
    ds.save_as(dst)
    return dst


def seg_crafted(d: Path) -> list[tuple[str, Path, str, str]]:
    """(name, SEG file, command, expect) for the hostile SEGs; the command is roi/predict/outline."""
    from dlrs_desktop.imaging.dicom_writer import write_ultrasound_dicom

    truth = _truth_mask()
    other = write_ultrasound_dicom(d / "other.dcm", np.zeros(truth.shape, np.uint8), mm_per_px=0.1)
    good = _binary_seg(d / "good.seg.dcm", truth)
    halo = np.where(truth, 1.0, 0.0)
    halo[(halo == 0) & np.roll(truth, 20, axis=0)] = 0.02
    fractional_seg(d / "halo.seg.dcm", halo)
    fractional_seg(d / "zero-max.seg.dcm", halo)
    _edited(
        d / "zero-max.seg.dcm", d / "zero-max.seg.dcm", lambda ds: setattr(ds, "MaximumFractionalValue", 0)
    )
    deflated_seg_bomb(d / "bomb.seg.dcm", 512)

    def drop_refs(ds: Any) -> None:
        del ds.ReferencedSeriesSequence

    def many_frames(ds: Any) -> None:
        ds.NumberOfFrames = 100000

    def huge_size(ds: Any) -> None:
        ds.Rows, ds.Columns = 60000, 60000

    cases = [
        ("SEG of another patient's image", _binary_seg(d / "other.seg.dcm", truth, other), "roi", "refuse"),
        ("SEG of another patient's image", d / "other.seg.dcm", "predict", "refuse"),
        ("SEG of another patient's image", d / "other.seg.dcm", "outline", "refuse"),
        ("deflate bomb SEG (512 MB inflated)", d / "bomb.seg.dcm", "roi", "refuse"),
        ("deflate bomb SEG (512 MB inflated)", d / "bomb.seg.dcm", "outline", "refuse"),
        ("SEG without referenced series", _edited(good, d / "norefs.seg.dcm", drop_refs), "roi", "refuse"),
        ("SEG declaring 100000 frames", _edited(good, d / "frames.seg.dcm", many_frames), "roi", "refuse"),
        ("SEG declaring 60000x60000 pixels", _edited(good, d / "huge.seg.dcm", huge_size), "roi", "refuse"),
        ("fractional SEG with a 2 % halo", d / "halo.seg.dcm", "roi", "any"),
        ("fractional SEG, Maximum Fractional Value 0", d / "zero-max.seg.dcm", "roi", "refuse"),
        ("valid SEG of this image", good, "predict", "any"),
    ]
    return [(f"{name} ({cmd})", p, cmd, expect) for name, p, cmd, expect in cases]


def seg_argv(cmd: str, seg: Path) -> list[str]:
    if cmd == "outline":
        return ["outline", str(DEMO_DCM), "--snap", str(seg), "--json"]
    if cmd == "predict":
        return ["predict", str(DEMO_DCM), "--contour", str(seg), "--no-sensitivity", "--json"]
    return ["roi", str(DEMO_DCM), "--contour", str(seg), "--json"]


def seg_mutations(d: Path, rng: random.Random, n: int) -> list[tuple[str, Path]]:
    good = d / "good.seg.dcm"
    if not good.exists():
        _binary_seg(good, _truth_mask())
    data = good.read_bytes()
    out = []
    for k in range(n):
        p = d / f"mut-{k}.seg.dcm"
        p.write_bytes(mutate(data, rng, header_bias=6000))
        out.append((f"SEG mutation {k}", p))
    return out


# ------------------------------------------------------------------------------------------ receiver
def _associate_rq() -> bytes:
    """The A-ASSOCIATE-RQ pynetdicom sends to DLRS as SCANNER (captured from a local socket)."""
    import threading

    from pynetdicom import AE
    from pynetdicom.sop_class import UltrasoundImageStorage

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got: list[bytes] = []

    def grab() -> None:
        conn, _ = srv.accept()
        conn.settimeout(5)
        head = conn.recv(6)
        got.append(head + conn.recv(struct.unpack(">I", head[2:6])[0], socket.MSG_WAITALL))
        conn.close()

    t = threading.Thread(target=grab, daemon=True)
    t.start()
    ae = AE(ae_title="SCANNER")
    ae.acse_timeout = ae.network_timeout = 2
    ae.add_requested_context(UltrasoundImageStorage)
    ae.associate("127.0.0.1", srv.getsockname()[1], ae_title="DLRS")
    t.join(5)
    srv.close()
    return got[0]


def _raw(port: int = 0, *, data: bytes, linger: float = 0.3) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(data)
            time.sleep(linger)
    except OSError:
        pass


def _stores(*paths: Path, calling: str = "SCANNER", port: int = 0) -> None:
    for path in paths:
        _store(port, path, calling)


def _store(port: int, path: Path, calling: str = "SCANNER") -> int:
    """C-STORE one file as a scanner would (streamed from the file); the status, or -1."""
    from pynetdicom import AE, _config

    _config.STORE_SEND_CHUNKED_DATASET = True
    meta = pydicom.filereader.read_file_meta_info(path)
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    ae.add_requested_context(str(meta.MediaStorageSOPClassUID), [str(meta.TransferSyntaxUID)])
    assoc = ae.associate("127.0.0.1", port, ae_title="DLRS")
    if not assoc.is_established:
        return -1
    try:
        status = assoc.send_c_store(path)
    except Exception:
        return -1
    finally:
        if assoc.is_established:
            assoc.release()
    return int(getattr(status, "Status", -1)) if status else -1


def _wait_ready(port: int, deadline_s: float = 8.0) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _peer(port: int, stream: Callable[[int], None], legit: Path) -> Callable[[Any], str | None]:
    """What the peer thread does: the hostile stream, a legitimate store, then Ctrl-C."""

    def run(proc: Any) -> str | None:
        try:
            if not _wait_ready(port):
                return "the listener never listened"
            stream(port=port)
            time.sleep(0.2)
            code = _store(port, legit)
            return None if code == 0 else f"a legitimate store after the stream got status {code}"
        finally:
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)

    return run


def receiver_cases(d: Path, rng: random.Random, n_mutated: int) -> list[tuple[str, list[str], Any]]:
    """(name, listen argv, peer) for each hostile stream."""
    d.mkdir(parents=True, exist_ok=True)
    legit = _small_dicom(d / "legit.dcm")
    rq = _associate_rq()
    big = _small_dicom(d / "big.dcm", h=1200, w=1200)  # ~1.4 MB: over a 1 MB cap
    resend = d / "resend.dcm"
    ds = pydicom.dcmread(legit)
    ds.PatientID = "SOMEONE-ELSE"
    ds.save_as(resend)
    streams: list[tuple[str, Callable[[int], Any], list[str]]] = [
        ("idle connection", partial(_raw, data=b"", linger=1.0), []),
        ("PDU declaring 4 GB", partial(_raw, data=b"\x04\x00\xff\xff\xff\xff" + bytes(64)), []),
        ("random garbage", partial(_raw, data=rng.randbytes(2048)), []),
        ("stranger's AE title", partial(_stores, legit, calling="EVILHACKER"), []),
        ("dataset over a 1 MB cap", partial(_stores, big), ["--max-size", "1"]),
        ("same UID, other content", partial(_stores, legit, resend), []),
    ]
    for k in range(n_mutated):
        streams.append((f"mutated A-ASSOCIATE-RQ {k}", partial(_raw, data=mutate(rq, rng, 200)), []))
        mutated = d / f"mut-{k}.dcm"
        data = legit.read_bytes()
        mutated.write_bytes(data[:400] + mutate(data[400:], rng, header_bias=1200))
        streams.append((f"mutated dataset {k}", partial(_stores, mutated), []))
    cases = []
    for k, (name, stream, extra) in enumerate(streams):
        port = free_port()
        out = d / f"in-{k}"
        argv = ["dicom", "listen", "--port", str(port), "--out", str(out), "--allow-aet", "SCANNER", *extra]
        cases.append((name, argv, _peer(port, stream, legit)))
    return cases


def peer_verdict(code: int | None, lines: list[str], peer_result: list[str | None]) -> str:
    """Clean: the peer's legitimate store worked and the listener ended on Ctrl-C with one line."""
    if not peer_result:
        return "other: the peer did not finish"
    if peer_result[0] is not None:
        return f"other: {peer_result[0]}"
    if code == 130 and len(lines) == 1 and lines[0].strip() == "interrupted":
        return "clean"
    return f"other: listener ended with exit {code} and {len(lines)} stderr lines"


def net_cases(work: Path, rng: random.Random, mutated: int) -> list[tuple[str, str, list[str], str]]:
    """(family, name, argv, expect[, extra]) rows for fuzz_factory.Case: SEG families, then receiver."""
    d = work / "seg"
    d.mkdir(parents=True)
    rows: list[Any] = [("seg-crafted", n, seg_argv(cmd, p), e) for n, p, cmd, e in seg_crafted(d)]
    rows += [("seg-mutated", n, seg_argv("roi", p), "any") for n, p in seg_mutations(d, rng, mutated)]
    for name, argv, peer in receiver_cases(work / "receiver", rng, max(2, mutated // 10)):
        rows.append(("receiver", name, argv, "any", False, {"peer": peer}))
    return rows
