"""DICOM networking with pynetdicom: C-ECHO, C-STORE (send and listen), C-FIND and C-GET.

Every call has a timeout (connection, association, DIMSE and network) and raises `NetworkError` with
one plain sentence, so the CLI exits 2 and the GUI (which calls these from a worker thread) shows a
message instead of freezing. Nothing here runs unless the user configured a node or ran a command.
"""

from __future__ import annotations

import os
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.exchange import net_text as T
from dlrs_desktop.exchange.source import is_dicom_file
from dlrs_desktop.wording import marked

DEFAULT_AET = "DLRS"
DEFAULT_TIMEOUT_S = 10.0
_AET_RE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # printable ASCII without backslash, 16 chars

# Storage SOP classes we request when retrieving with C-GET (a PACS sends back only what we accept):
# the ultrasound images, what we export, and what other breast-imaging tools attach to a study.
RETRIEVE_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.6.1",  # US Image
    "1.2.840.10008.5.1.4.1.1.3.1",  # US Multi-frame Image
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
    "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography (for presentation)
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image
)


class NetworkError(DlrsError):
    """The remote node cannot be reached or refused the request."""


@dataclass(frozen=True)
class Node:
    """A remote DICOM application entity (a PACS or a workstation)."""

    aet: str
    host: str
    port: int
    calling_aet: str = DEFAULT_AET
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        check_aet(self.aet, T.CALLED_AET)
        check_aet(self.calling_aet, T.CALLING_AET)
        if not 0 < int(self.port) < 65536:
            raise NetworkError.of(T.NOT_A_PORT, port=self.port)
        if not str(self.host).strip():
            raise NetworkError.of(T.NO_HOST)
        if not 0 < float(self.timeout_s) <= 600:
            raise NetworkError.of(T.TIMEOUT_RANGE)

    def label(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


def check_aet(aet: str, what: str = T.AE_TITLE) -> str:
    """`aet` if DICOM allows it as an AE title; `what` names the field (a marked word where it is one)."""
    if not isinstance(aet, str) or not _AET_RE.match(aet) or not aet.strip():
        raise NetworkError.of(T.BAD_AET, what=marked(what, T.NAMED_AETS), aet=repr(aet))
    return aet


def _ae(node: Node) -> Any:
    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom import AE

    ae = AE(ae_title=node.calling_aet)
    for attr in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, attr, float(node.timeout_s))
    return ae


def _reachable(node: Node) -> None:
    """A plain TCP connect first, so "nothing listens there" reads as such, not as an abort."""
    try:
        with socket.create_connection((node.host, int(node.port)), timeout=float(node.timeout_s)):
            pass
    except TimeoutError as exc:
        raise NetworkError.of(T.NO_ANSWER, node=node.label(), s=node.timeout_s) from exc
    except OSError as exc:
        raise NetworkError.of(T.REFUSED, node=node.label(), why=T.os_reason(exc)) from exc


def _associate(ae: Any, node: Node, **kwargs: Any) -> Any:
    _reachable(node)
    started = time.monotonic()
    assoc = ae.associate(node.host, int(node.port), ae_title=node.aet, **kwargs)
    if assoc.is_established:
        return assoc
    if assoc.is_aborted and time.monotonic() - started >= 0.9 * float(node.timeout_s):
        raise NetworkError.of(T.NOT_DICOM_PORT, node=node.label(), s=node.timeout_s)
    if assoc.is_rejected:
        raise NetworkError.of(T.REJECTED, node=node.label())
    if assoc.is_aborted:
        raise NetworkError.of(T.ABORTED, node=node.label())
    raise NetworkError.of(T.NOT_WITHIN, node=node.label(), s=node.timeout_s)


def echo(node: Node) -> None:
    """C-ECHO (verification); raises NetworkError unless the node answers with Success."""
    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom.sop_class import Verification

    ae = _ae(node)
    ae.add_requested_context(Verification)
    assoc = _associate(ae, node)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or int(getattr(status, "Status", -1)) != 0:
        raise NetworkError.of(T.NO_ECHO, node=node.label())


def dicom_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files to send: each file given, and every DICOM file (by its DICM magic) inside folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and is_dicom_file(f))
        elif p.is_file():
            out.append(p)
        else:
            raise NetworkError.of(T.NO_SUCH_FILE, path=str(p))
    return out


#: Largest object `send` streams (files are never read whole; a deflated one is inflated only to count).
MAX_SEND_BYTES = 2 << 30
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass(frozen=True)
class SendOutcome:
    """One file's fate: stored (`ok`, perhaps with a warning in `message`) or why not."""

    path: Path
    ok: bool
    message: str


def _inflated_size_within(path: Path, offset: int, limit: int) -> bool:
    """Whether the deflated dataset after `offset` inflates to at most `limit` bytes (nothing kept)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    with open(path, "rb") as fh:
        fh.seek(offset)
        while chunk := fh.read(1 << 16):
            while chunk:
                total += len(inflater.decompress(chunk, 1 << 20))
                if total > limit:
                    return False
                chunk = inflater.unconsumed_tail
    return True


def send_plan(path: Path) -> tuple[str, str]:
    """(SOP class, transfer syntax) of a file to send, from its File Meta only; ValueError if unfit.

    Sizes are checked before anything else is read: the file itself, and for a deflated file what
    it inflates to (counted in a stream, never held), so a deflate bomb is refused, not read whole.
    """
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    import pydicom

    size = path.stat().st_size
    if size > MAX_SEND_BYTES:
        raise ValueError(f"larger than {MAX_SEND_BYTES >> 30} GB")
    with open(path, "rb") as fh:
        head = fh.read(144)
    if head[128:132] != b"DICM" or head[132:136] != b"\x02\x00\x00\x00" or head[136:138] != b"UL":
        raise ValueError("not a DICOM Part 10 file")
    offset = 144 + int.from_bytes(head[140:144], "little")
    meta = pydicom.filereader.read_file_meta_info(path)
    sop_class, ts = str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID)
    if not str(getattr(meta, "MediaStorageSOPInstanceUID", "")):
        raise ValueError("no SOP Instance UID in its File Meta")
    if ts == _DEFLATED and not _inflated_size_within(path, offset, MAX_SEND_BYTES):
        raise ValueError(f"inflates to more than {MAX_SEND_BYTES >> 30} GB")
    return sop_class, ts


def _store_one(assoc: Any, f: Path) -> SendOutcome:
    try:
        status = assoc.send_c_store(f)  # a path: streamed from the file (STORE_SEND_CHUNKED_DATASET)
    except (ValueError, RuntimeError, OSError) as exc:
        return SendOutcome(f, False, str(exc))
    code = int(getattr(status, "Status", -1)) if status else -1
    if code == 0:
        return SendOutcome(f, True, "stored")
    if code in (0xB000, 0xB007, 0xB006):
        return SendOutcome(f, True, f"stored with warning 0x{code:04X}")
    if code == -1:
        return SendOutcome(f, False, "no answer (timeout or connection lost)")
    return SendOutcome(f, False, f"refused with status 0x{code:04X}")


def send(
    node: Node, files: Sequence[str | os.PathLike[str]], progress: Callable[[SendOutcome], None] | None = None
) -> list[SendOutcome]:
    """C-STORE each file in one association; per-file outcome (a bad file does not stop the rest).

    Files are streamed from disk in their own transfer syntax. A peer that stops answering (DIMSE
    timeout) raises NetworkError after the outcomes so far were reported.
    """
    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom import _config

    _config.STORE_SEND_CHUNKED_DATASET = True
    planned: list[Path] = []
    outcomes: list[SendOutcome] = []

    def report(o: SendOutcome) -> None:
        outcomes.append(o)
        if progress is not None:
            progress(o)

    contexts: set[tuple[str, str]] = set()
    for f in map(Path, files):
        try:
            contexts.add(send_plan(f))
            planned.append(f)
        except Exception as exc:
            why = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
            report(SendOutcome(f, False, f"not sent: {why}"))
    if not planned:
        return outcomes
    if len(contexts) > 120:
        raise NetworkError.of(T.TOO_MANY_KINDS)
    ae = _ae(node)
    for sop_class, ts in sorted(contexts):
        ae.add_requested_context(sop_class, [ts])
    assoc = _associate(ae, node)
    silent = False
    try:
        for f in planned:
            outcome = _store_one(assoc, f)
            report(outcome)
            if not assoc.is_established:
                silent = outcome.message.startswith("no answer")
                break
    finally:
        if assoc.is_established:
            assoc.release()
    sent = {o.path for o in outcomes}
    for f in planned:
        if f not in sent:
            report(SendOutcome(f, False, "not sent: the association ended"))
    if silent:
        stored = sum(o.ok for o in outcomes)
        raise NetworkError.of(
            T.STORE_TIMEOUT, node=node.label(), s=node.timeout_s, stored=stored, total=len(outcomes)
        )
    return outcomes
