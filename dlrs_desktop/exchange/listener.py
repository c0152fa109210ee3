"""C-STORE SCP ("Receive from scanner", C-MOVE destination, `dlrs dicom listen`): safe on a hospital net.

What a hostile or careless peer cannot do (docs/DICOM.md, conformance statement):
- reach it from another machine unless the user chose an address (default bind 127.0.0.1);
- associate under a calling AE title not on the allow-list, or call another AE title than ours;
- fill memory: datasets stream to disk (pynetdicom's STORE_RECV_CHUNKED_DATASET) and an association
  sending more than the per-dataset cap is aborted, as is one that would push free disk below the floor;
- replace a stored file (see `exchange.receive`);
- lock others out: idle or trickling connections time out (ACSE/DIMSE/network timeouts) and one
  address holds at most `per_peer` connections, under a total of `max_associations`;
- file non-image objects among images: SEG/SR/PDF/KO/PR go to `derived/`, other classes are refused
  at negotiation.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop.exchange import net_text as T
from dlrs_desktop.exchange.net import NetworkError, check_aet
from dlrs_desktop.exchange.receive import (  # noqa: F401 - re-exported for callers of the old names
    DERIVED_FOLDER,
    clean_stages,
    file_name,
    is_derived,
    is_image_class,
    store_event_to,
)

MB = 1 << 20
DEFAULT_BIND = "127.0.0.1"


@dataclass(frozen=True)
class ListenerPolicy:
    """Who may store, how much, and for how long; the defaults suit one scanner on one workstation."""

    bind: str = DEFAULT_BIND
    allow_aets: tuple[str, ...] = ()  # empty: any calling AE title, allowed only on a loopback bind
    max_dataset_bytes: int = 2048 * MB
    min_free_bytes: int = 1024 * MB
    per_peer: int = 4
    max_associations: int = 32
    acse_timeout_s: float = 10.0
    timeout_s: float = 30.0  # DIMSE and network (no data at all for this long ends the association)

    def check(self) -> None:
        for aet in self.allow_aets:
            check_aet(aet, T.ALLOWED_AET)
        try:
            loopback = ipaddress.ip_address(self.bind).is_loopback
        except ValueError as exc:
            raise NetworkError.of(T.NOT_AN_ADDRESS, bind=repr(self.bind)) from exc
        if not loopback and not self.allow_aets:
            raise NetworkError.of(T.NEEDS_ALLOW_LIST, bind=self.bind)
        if self.max_dataset_bytes < 1 or self.min_free_bytes < 0 or not 1 <= self.per_peer <= 64:
            raise NetworkError.of(T.LIMITS_POSITIVE)


def parse_aets(text: str) -> tuple[str, ...]:
    """An allow-list typed as 'A, B C' (comma or space separated)."""
    return tuple(t for t in text.replace(",", " ").split() if t)


class _Guard:
    """Counts each association's bytes since its last C-STORE and watches free disk."""

    def __init__(self, policy: ListenerPolicy, folder: Path, on_note: Callable[[str], None] | None) -> None:
        self.policy, self.folder, self.on_note = policy, folder, on_note
        self.lock = threading.Lock()
        self.bytes: dict[int, int] = {}
        self.checked: dict[int, int] = {}
        self.aborting: set[int] = set()

    def note(self, text: str) -> None:
        if self.on_note is not None:
            self.on_note(text)

    def low_disk(self) -> str | None:
        for where in {self.folder, Path(tempfile.gettempdir())}:
            try:
                free = shutil.disk_usage(where).free
            except OSError:
                continue
            if free < self.policy.min_free_bytes:
                return f"free disk space below {self.policy.min_free_bytes // MB} MB"
        return None

    def on_data(self, event: Any) -> None:
        key = id(event.assoc)
        with self.lock:
            n = self.bytes[key] = self.bytes.get(key, 0) + len(event.data)
            due = n - self.checked.get(key, 0) >= 8 * MB
            if due:
                self.checked[key] = n
        why = None
        if n > self.policy.max_dataset_bytes + MB:  # the command set and PDU headers: small change
            why = f"a dataset over the cap of {self.policy.max_dataset_bytes // MB} MB"
        elif due:
            why = self.low_disk()
        if why is not None and key not in self.aborting:
            self.aborting.add(key)
            self.note(f"aborted an association from {event.assoc.requestor.address}: {why}")
            event.assoc.abort()

    def stored(self, assoc: Any, closed: bool = False) -> None:
        with self.lock:
            self.bytes.pop(id(assoc), None)
            self.checked.pop(id(assoc), None)
            if closed:
                self.aborting.discard(id(assoc))

    def accept(self, event: Any, staged: Path) -> str | None:
        """Called with the staged file; the reason to refuse it, or None."""
        self.stored(event.assoc)
        if staged.stat().st_size > self.policy.max_dataset_bytes:
            return f"refused a dataset over the cap of {self.policy.max_dataset_bytes // MB} MB"
        low = self.low_disk()
        return f"refused a dataset: {low}" if low else None

    def on_close(self, event: Any) -> None:
        """A dataset cut off mid-stream leaves pynetdicom's temporary file: remove it."""
        self.stored(event.assoc, closed=True)
        message = getattr(getattr(event.assoc, "dimse", None), "message", None)
        partial = getattr(message, "_data_set_file", None)  # pynetdicom's NamedTemporaryFile, if any
        if partial is not None:
            try:
                partial.close()
                os.unlink(partial.name)
            except OSError:
                pass

    def on_rejected(self, event: Any) -> None:
        who = event.assoc.requestor
        called = getattr(getattr(who, "primitive", None), "called_ae_title", "?")
        self.note(
            f"rejected an association from {who.address} (calling AE title {who.ae_title!r}, "
            f"called AE title {str(called).strip()!r}): not on the allow-list or not our AE title"
        )


def _server_class(per_peer: int) -> type:
    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom.transport import ThreadedAssociationServer

    class PerPeerServer(ThreadedAssociationServer):  # type: ignore[misc, valid-type]
        """Closes a new connection at once when its address already holds `per_peer` open ones."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._open: dict[str, list[Any]] = {}
            super().__init__(*args, **kwargs)

        def verify_request(self, request: Any, client_address: Any) -> bool:
            host = str(client_address[0])
            for key in list(self._open):  # a socket pynetdicom closed reports fileno -1
                self._open[key] = [s for s in self._open[key] if s.fileno() != -1]
                if not self._open[key]:
                    del self._open[key]
            held = self._open.setdefault(host, [])
            if len(held) >= per_peer:
                return False
            held.append(request)
            return True

    return PerPeerServer


def _ae(aet: str, policy: ListenerPolicy) -> Any:
    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, _config

    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom.sop_class import Verification

    _config.STORE_RECV_CHUNKED_DATASET = True  # stream every received dataset to a file, never to RAM
    ae = AE(ae_title=aet)
    for ctx in AllStoragePresentationContexts:
        if is_image_class(ctx.abstract_syntax) or is_derived(ctx.abstract_syntax):
            ae.add_supported_context(ctx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    ae.require_called_aet = True
    ae.require_calling_aet = list(policy.allow_aets)
    ae.maximum_associations = policy.max_associations
    ae.acse_timeout = policy.acse_timeout_s
    ae.dimse_timeout = policy.timeout_s
    ae.network_timeout = policy.timeout_s
    return ae


def start_listener(
    port: int,
    aet: str,
    out_dir: str | os.PathLike[str],
    *,
    policy: ListenerPolicy | None = None,
    on_file: Callable[[Path], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Any:
    """Start a C-STORE SCP (and C-ECHO) in background threads; `.shutdown()` the returned server.

    `on_note` hears refusals, aborts and duplicates (one sentence each, no patient identifiers).
    """
    # lazy: pynetdicom (~0.3 s) only when this runs, not at start-up
    from pynetdicom import evt

    policy = policy or ListenerPolicy()
    check_aet(aet, T.AE_TITLE)
    policy.check()
    if not 0 < int(port) < 65536:
        raise NetworkError.of(T.NOT_A_PORT, port=port)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    clean_stages(folder)
    clean_stages(folder / DERIVED_FOLDER)
    guard = _Guard(policy, folder, on_note)
    handlers = [
        (evt.EVT_C_STORE, store_event_to(folder, on_file, on_note, guard.accept)),
        (evt.EVT_DATA_RECV, guard.on_data),
        (evt.EVT_CONN_CLOSE, guard.on_close),
        (evt.EVT_REJECTED, guard.on_rejected),
    ]
    ae = _ae(aet, policy)
    try:
        server = ae.make_server(
            (policy.bind, int(port)), evt_handlers=handlers, server_class=_server_class(policy.per_peer)
        )
    except OSError as exc:
        raise NetworkError.of(T.CANNOT_LISTEN, bind=policy.bind, port=port, why=T.os_reason(exc)) from exc
    ae._servers.append(server)  # so server.shutdown() detaches it from the AE, as start_server does
    threading.Thread(target=server.serve_forever, name="dlrs-listener", daemon=True).start()
    return server
