"""C-STORE SCP ("Receive from scanner"): files every incoming object into a folder the worklist watches.

Each object is written atomically as `<SOPInstanceUID>.dcm` (the UID cleaned to a file name), so a
worklist scanning the folder never sees a half-written file and a resend replaces, never duplicates.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlrs_desktop.exchange.net import NetworkError, check_aet
from dlrs_desktop.fileio import atomic_write_bytes


def _file_name(uid: str) -> str:
    return (re.sub(r"[^0-9.]", "", uid)[:64] or "unnamed") + ".dcm"


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


def store_event_to(folder: Path, on_file: Callable[[Path], None] | None) -> Callable[[Any], int]:
    """An EVT_C_STORE handler writing into `folder` (derived objects into its `derived/`)."""

    def handle(event: Any) -> int:
        try:
            uid = str(event.request.AffectedSOPInstanceUID)
            target = folder / DERIVED_FOLDER if is_derived(event.request.AffectedSOPClassUID) else folder
            path = atomic_write_bytes(target / _file_name(uid), event.encoded_dataset())
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
