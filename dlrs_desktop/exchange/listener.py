"""C-STORE SCP ("Receive from scanner"): files every incoming object into a folder the worklist watches.

Each object is written atomically as `<Modality>_<series>_<instance>_<8 hex of its UID's sha1>.dcm`:
short enough for a worklist column, sorted like the scanner's series, free of patient identifiers,
and the same name for the same object, so a resend replaces, never duplicates; a worklist scanning
the folder never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlrs_desktop.exchange.net import NetworkError, check_aet
from dlrs_desktop.fileio import atomic_write_bytes


def file_name(uid: str, dataset: Any = None) -> str:
    """A short, stable, identifier-free file name for one received object."""

    def number(keyword: str) -> int:
        try:
            return max(0, min(int(getattr(dataset, keyword, 0) or 0), 9999))
        except (TypeError, ValueError):
            return 0

    modality = re.sub(r"[^A-Z0-9]", "", str(getattr(dataset, "Modality", "") or "").upper())[:8] or "OT"
    tail = hashlib.sha1(uid.encode("ascii", "replace")).hexdigest()[:8]
    return f"{modality}_{number('SeriesNumber'):03d}_{number('InstanceNumber'):04d}_{tail}.dcm"


#: Objects that are not images to contour (SEG, SR, PDF, KO, PR) go to DERIVED_FOLDER under the target,
#: so the worklist (which lists the folder's *.dcm) shows only images.
DERIVED_FOLDER = "derived"
_DERIVED_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.66",
    "1.2.840.10008.5.1.4.1.1.88",
    "1.2.840.10008.5.1.4.1.1.104",
    "1.2.840.10008.5.1.4.1.1.11",
)


def is_derived(sop_class_uid: str) -> bool:
    return str(sop_class_uid).startswith(_DERIVED_PREFIXES)


def _header(event: Any) -> Any:
    """The few attributes the file name uses, without decoding pixel data; None if unreadable."""
    try:
        return event.dataset
    except Exception:
        return None


def store_event_to(folder: Path, on_file: Callable[[Path], None] | None) -> Callable[[Any], int]:
    """An EVT_C_STORE handler writing into `folder` (derived objects into its `derived/`)."""

    def handle(event: Any) -> int:
        try:
            uid = str(event.request.AffectedSOPInstanceUID)
            target = folder / DERIVED_FOLDER if is_derived(event.request.AffectedSOPClassUID) else folder
            header = _header(event)
            path = atomic_write_bytes(target / file_name(uid, header), event.encoded_dataset())
        except OSError:
            return 0xA700  # out of resources: the sender reports the failure
        except Exception:
            return 0xC210  # cannot understand
        if on_file is not None:
            on_file(path)
        return 0x0000

    return handle


def start_listener(
    port: int,
    aet: str,
    out_dir: str | os.PathLike[str],
    *,
    bind: str = "0.0.0.0",
    on_file: Callable[[Path], None] | None = None,
) -> Any:
    """Start a C-STORE SCP (and C-ECHO) in background threads; `.shutdown()` the returned server."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification

    check_aet(aet, "AE title")
    if not 0 < int(port) < 65536:
        raise NetworkError(f"Port {port} is not a TCP port (1-65535).")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ae = AE(ae_title=aet)
    for ctx in AllStoragePresentationContexts:
        ae.add_supported_context(ctx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    handlers = [(evt.EVT_C_STORE, store_event_to(folder, on_file))]
    try:
        return ae.start_server((bind, int(port)), block=False, evt_handlers=handlers)
    except OSError as exc:
        raise NetworkError(f"Cannot listen on {bind}:{port} ({exc.strerror or exc}).") from exc
