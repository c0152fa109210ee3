"""Query/retrieve from a PACS: C-FIND at study level, C-GET of a whole study into a local folder.

C-GET (not C-MOVE) because the PACS sends the objects back on our own association: no AE title of
ours has to be registered in the PACS and no port has to be opened on the workstation.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop.exchange import net_text as T
from dlrs_desktop.exchange.listener import ListenerPolicy, start_listener
from dlrs_desktop.exchange.net import RETRIEVE_SOP_CLASSES, NetworkError, Node, _ae, _associate
from dlrs_desktop.exchange.receive import store_event_to

_STUDY_KEYS = (
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedInstances",
)


@dataclass(frozen=True)
class StudyMatch:
    study_uid: str
    fields: dict[str, str]

    def label(self) -> str:
        f = self.fields
        return " · ".join(
            v
            for v in (f.get("PatientID"), f.get("PatientName"), f.get("StudyDate"), f.get("StudyDescription"))
            if v
        )


def find_studies(
    node: Node, *, patient_id: str = "", patient_name: str = "", study_date: str = "", limit: int = 500
) -> list[StudyMatch]:
    """Studies matching the keys (empty = any; `*` wildcards and date ranges as DICOM defines)."""
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.dataset import Dataset

    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = ""
    for key in _STUDY_KEYS:
        setattr(query, key, "")
    query.PatientID = patient_id.strip()
    query.PatientName = patient_name.strip()
    query.StudyDate = study_date.strip()
    ae = _ae(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    assoc = _associate(ae, node)
    found: list[StudyMatch] = []
    try:
        for status, ident in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
            code = int(getattr(status, "Status", -1)) if status else -1
            if code in (0xFF00, 0xFF01) and ident is not None and "StudyInstanceUID" in ident:
                fields = {k: str(ident.get(k, "") or "") for k in _STUDY_KEYS}
                found.append(StudyMatch(str(ident.StudyInstanceUID), fields))
                if len(found) >= limit:
                    assoc.send_c_cancel(1, query_model=StudyRootQueryRetrieveInformationModelFind)
                    break
            elif code == -1:
                raise NetworkError.of(T.QUERY_STOPPED, node=node.label())
            elif code not in (0x0000, 0xFE00, 0xFF00, 0xFF01):
                raise NetworkError.of(T.QUERY_REFUSED, node=node.label(), code=code)
    finally:
        if assoc.is_established:
            assoc.release()
    return found


def get_study(node: Node, study_uid: str, out_dir: str | os.PathLike[str]) -> list[Path]:
    """C-GET every instance of one study into `out_dir`; the files written."""
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom import uid

    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom import _config, build_role, evt

    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    _config.STORE_RECV_CHUNKED_DATASET = True  # the PACS's objects stream to disk, never whole in RAM
    written: list[Path] = []
    handler = store_event_to(Path(out_dir), written.append)
    ae = _ae(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    roles: list[Any] = []
    syntaxes = [
        uid.ExplicitVRLittleEndian,
        uid.ImplicitVRLittleEndian,
        uid.JPEGBaseline8Bit,
        uid.JPEGLosslessSV1,
        uid.JPEG2000Lossless,
        uid.RLELossless,
    ]
    for sop_class in RETRIEVE_SOP_CLASSES:
        ae.add_requested_context(sop_class, syntaxes)
        roles.append(build_role(sop_class, scp_role=True))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    assoc = _associate(ae, node, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, handler)])
    final = _final_status(
        assoc, assoc.send_c_get(_study_query(study_uid), StudyRootQueryRetrieveInformationModelGet)
    )
    if final == -1:
        raise NetworkError.of(T.RETRIEVE_STOPPED, node=node.label(), kept=len(written))
    if final not in (0x0000, 0xB000) and not written:
        raise NetworkError.of(T.NOT_SENT, node=node.label(), code=final)
    return written


def move_study(
    node: Node,
    study_uid: str,
    out_dir: str | os.PathLike[str],
    *,
    listen_port: int,
    bind: str = "127.0.0.1",
) -> list[Path]:
    """C-MOVE one study to ourselves, for a PACS without C-GET.

    The PACS must know our AE title (`node.calling_aet`) with this host and `listen_port`; a C-STORE
    SCP listens there only for the duration of the move, on `bind` (the PACS must reach that address),
    and accepts only the PACS's own AE title as caller.
    """

    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove

    written: list[Path] = []
    lock = threading.Lock()

    def got(p: Path) -> None:
        with lock:
            written.append(p)

    policy = ListenerPolicy(bind=bind, allow_aets=(node.aet,), timeout_s=max(float(node.timeout_s), 30.0))
    server = start_listener(listen_port, node.calling_aet, out_dir, policy=policy, on_file=got)
    try:
        ae = _ae(node)
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
        assoc = _associate(ae, node)
        final = _final_status(
            assoc,
            assoc.send_c_move(
                _study_query(study_uid), node.calling_aet, StudyRootQueryRetrieveInformationModelMove
            ),
        )
    finally:
        server.shutdown()
    if final == -1 and written:
        raise NetworkError.of(T.MOVE_STOPPED, node=node.label(), kept=len(written))
    if final in (-1, 0xA801):  # Orthanc, dcm4chee: unknown destination → abort or 0xA801
        raise NetworkError.of(T.MOVE_REFUSED, node=node.label(), aet=node.calling_aet, port=listen_port)
    if final not in (0x0000, 0xB000) and not written:
        raise NetworkError.of(T.NOT_SENT, node=node.label(), code=final)
    return list(written)


def _study_query(study_uid: str) -> Any:
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom import Dataset

    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    return query


def _final_status(assoc: Any, responses: Any) -> int:
    """The last status of a C-GET/C-MOVE (-1: the peer stopped answering); the association is released."""
    final = -1
    try:
        for status, _ in responses:
            final = int(getattr(status, "Status", -1)) if status else -1
            if final == -1:
                break
    finally:
        if assoc.is_established:
            assoc.release()
    return final
