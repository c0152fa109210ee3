"""The protocol's Federation over Flower's legacy gRPC transport (TLS, site authentication).

Why Flower's transport without Flower's round loop: the coordinator (coordinator.py) owns the plan
and asks the sites imperatively; Flower only carries bytes. Each ask sends one FitIns to every
authenticated site in parallel and turns each FitRes into a protocol Reply that must pass
`check_reply`; whatever fails (rejected, timed out, failed, disconnected) drops that site from this
ask with one logged line. Flower is an optional extra and phones home unless told not to: telemetry is
switched off here, before anything of ours imports flwr.
"""

from __future__ import annotations

import os

os.environ["FLWR_TELEMETRY_ENABLED"] = "0"  # offline product: Flower must never phone home

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.extras import require
from dlrs_desktop.training.federated import auth
from dlrs_desktop.training.federated.protocol import (
    MAX_ARRAYS,
    Expect,
    FederationError,
    RejectedReply,
    Reply,
    Request,
    SiteHandler,
    check_reply,
    enough,
)
from dlrs_desktop.training.federated.tls import read_pem

_LOG = logging.getLogger("dlrs_desktop.training.federated")
MAX_MESSAGE_BYTES = 512 * 1024 * 1024
Record = Callable[[str, str, list[np.ndarray], dict[str, Any]], None]


def _require_flower() -> None:
    """One line naming the extra when flwr is missing; keeps Flower's chatter out of our logs."""
    require("federated", "federated training", ("flwr",))
    _quiet_flower()


class _Quiet(logging.Filter):
    """Flower's INFO chatter ("Received: train message"), its deprecation banners (we use the legacy
    transport on purpose) and the INFO lines of the alembic it imports are dropped; so is the traceback
    gRPC logs each time an idle site disconnects (Flower's Join stream ends by raising
    GrpcBridgeClosed: that is the disconnect, not an error). Every other warning and error passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if type(exc).__name__ == "GrpcBridgeClosed":
            return False
        if record.name.startswith(("flwr", "alembic")):
            banner = str(record.msg).startswith(("DEPRECATED FEATURE", "FEATURE UPDATE"))
            return record.levelno >= logging.WARNING and not banner
        return True


def _quiet_flower() -> None:
    for name in ("flwr", "grpc._server", "alembic"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Quiet) for f in logger.filters):
            logger.addFilter(_Quiet())


# ----------------------------------------------------------------------------------------------- server


@dataclass(frozen=True)
class ServerSettings:
    """How the coordinator listens. `certificates` = (CA, server certificate, server key) PEM paths;
    TLS is required unless `insecure` (explicit local testing only). `site_secrets` is the JSON file
    of auth.load_site_secrets. The first ask waits up to `wait_s` for `expected_sites`; later asks
    give missing sites `rejoin_s` to come back. `record(site, task, arrays, metrics)` sees every
    message a site sends (audits and tests: only arrays and scalars ever arrive)."""

    address: str
    site_secrets: Path
    certificates: tuple[Path, Path, Path] | None = None
    min_sites: int = 1
    expected_sites: int = 1
    wait_s: float = 600.0
    rejoin_s: float = 10.0
    ask_timeout_s: float = 3600.0
    auth_timeout_s: float = 30.0
    insecure: bool = False
    max_message_bytes: int = MAX_MESSAGE_BYTES
    record: Record | None = None


class FlowerFederation:
    """`protocol.Federation` over Flower's gRPC transport; starts listening when constructed."""

    def __init__(self, settings: ServerSettings) -> None:
        _require_flower()
        if settings.insecure:
            _LOG.warning("federated server on %s WITHOUT TLS: local testing only", settings.address)
        elif settings.certificates is None:
            raise FederationError("the federated server needs TLS certificates (CA, certificate, key)")
        self.settings = settings
        known = auth.load_site_secrets(settings.site_secrets)
        self.sites = auth.SiteRegistry(known, settings.auth_timeout_s, settings.record)
        self.round = 0
        self.busy: set[str] = set()
        self.server = self._start()
        _LOG.info("federated server listening on %s (%s)", settings.address, self.protocol)

    @property
    def protocol(self) -> str:
        return "no TLS" if self.settings.insecure else "TLS"

    def _start(self) -> Any:
        # lazy: flwr (and its grpc) is the optional [federated] extra
        from flwr.server.superlink.fleet.grpc_bidi.grpc_server import start_grpc_server

        s = self.settings
        certs = None if s.insecure else tuple(read_pem(p) for p in s.certificates)  # type: ignore[union-attr]
        try:
            return start_grpc_server(
                client_manager=self.sites,  # type: ignore[arg-type]  # duck-typed ClientManager
                server_address=s.address,
                max_message_length=s.max_message_bytes,
                certificates=certs,  # type: ignore[arg-type]
            )
        except SystemExit as exc:  # Flower exits on a busy port or bad certificates
            raise FederationError(
                f"cannot listen on {s.address}: {exc.code or 'invalid certificates'}"
            ) from None
        except RuntimeError as exc:
            raise FederationError(f"cannot listen on {s.address}: {exc}") from None

    def connected_sites(self) -> list[str]:
        return sorted(self.sites.all())

    def _wait_for_sites(self) -> dict[str, Any]:
        s = self.settings
        timeout = s.wait_s if self.round == 0 else s.rejoin_s
        present = self.sites.all()
        if len(present) < s.expected_sites:
            _LOG.info(
                "waiting up to %.0f s for %d site(s) (%d connected)", timeout, s.expected_sites, len(present)
            )
            present = self.sites.wait_for(s.expected_sites, timeout)
        if len(present) < s.min_sites:
            raise FederationError(
                f"only {len(present)} site(s) connected to {s.address} (at least {s.min_sites} needed)"
            )
        return present

    def ask(self, request: Request, expect: Expect) -> list[Reply]:
        """Every authenticated site's valid reply to `request` (FederationError under min_sites)."""
        sites = self._wait_for_sites()
        self.round += 1
        started = time.monotonic()
        ins = _fit_ins(request)
        for name in sorted(set(sites) & self.busy):  # an abandoned request still holds its stream
            _LOG.warning("site %s: not asked '%s': still busy with an earlier request", name, request.task)
            del sites[name]
        pool = ThreadPoolExecutor(max_workers=max(1, len(sites)), thread_name_prefix="federated-ask")
        futures = {
            pool.submit(self._ask_one, n, p, ins, request, expect): n for n, p in sorted(sites.items())
        }
        done, _ = wait(futures, timeout=self.settings.ask_timeout_s + 30.0)
        pool.shutdown(wait=False, cancel_futures=True)
        replies = []
        for future, name in futures.items():
            if future not in done:
                _LOG.warning(
                    "site %s: no reply to '%s' within %.0f s", name, request.task, self.settings.ask_timeout_s
                )
            elif (reply := future.result()) is not None:
                replies.append(reply)
        elapsed = time.monotonic() - started
        _LOG.info(
            "ask '%s' round %d: %d/%d sites answered in %.1f s",
            request.task, self.round, len(replies), len(sites), elapsed,
        )  # fmt: skip
        return enough(replies, self.settings.min_sites, request.task)

    def _ask_one(self, name: str, proxy: Any, ins: Any, request: Request, expect: Expect) -> Reply | None:
        """One site's checked reply, or None after logging the one line that says why not."""
        self.busy.add(name)
        started = time.monotonic()
        try:
            res = proxy.fit(ins, timeout=self.settings.ask_timeout_s, group_id=self.round)
            return check_reply(self._reply(name, request.task, res), expect)
        except RejectedReply as exc:
            _LOG.warning("site %s: reply to '%s' rejected: %s", name, request.task, exc)
        except Exception as exc:  # the stream ended: the site left, or the deadline aborted it
            late = time.monotonic() - started >= self.settings.ask_timeout_s
            why = f"no answer within {self.settings.ask_timeout_s:.0f} s" if late else _lost(exc)
            _LOG.warning("site %s: no reply to '%s': %s", name, request.task, why)
        finally:
            self.busy.discard(name)
        return None

    def _reply(self, name: str, task: str, res: Any) -> Reply:
        """FitRes -> Reply under the authenticated name; `record` sees it before any check."""
        # lazy: flwr (and its grpc) is the optional [federated] extra
        from flwr.common import Code, parameters_to_ndarrays

        if len(res.parameters.tensors) > MAX_ARRAYS:
            raise RejectedReply(f"{len(res.parameters.tensors)} arrays: over the limits")
        try:
            arrays = parameters_to_ndarrays(res.parameters)
        except (ValueError, OSError, EOFError) as exc:
            raise RejectedReply(f"arrays not readable as .npy ({type(exc).__name__})") from None
        metrics = dict(res.metrics)
        if self.settings.record:
            self.settings.record(name, task, arrays, metrics)
        if res.status.code != Code.OK:
            raise RejectedReply(f"the site failed: {str(res.status.message)[:200]}")
        return Reply(site=name, arrays=tuple(arrays), n=res.num_examples, metrics=metrics)

    def close(self, finished: bool = False) -> None:
        """Stop listening. `finished` first tells every site the federation is over (they exit);
        otherwise sites keep retrying, so a restarted server (resume from a checkpoint) finds them."""
        if finished:
            threads = [
                threading.Thread(target=auth.send_notice, args=(p, "done", 0, auth.FINISHED), daemon=True)
                for p in self.sites.all().values()
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=15.0)
        self.server.stop(grace=None).wait(timeout=10.0)
        _LOG.info("federated server on %s stopped", self.settings.address)


def _fit_ins(request: Request) -> Any:
    # lazy: flwr (and its grpc) is the optional [federated] extra
    from flwr.common import FitIns, ndarrays_to_parameters

    if "task" in request.config:
        raise FederationError("'task' is reserved in a request's config")
    config = {**request.config, "task": request.task}
    return FitIns(parameters=ndarrays_to_parameters(list(request.arrays)), config=config)


def _lost(exc: BaseException) -> str:
    name = type(exc).__name__
    return "disconnected" if name == "GrpcBridgeClosed" else f"transport failure ({name})"


# ------------------------------------------------------------------------------------------------- site


@dataclass(frozen=True)
class SiteSettings:
    """How a site reaches the coordinator. `secret` is the site's key (bytes, read by the caller from
    its file). TLS with `ca_certificate` is required unless `insecure` (local testing only). The
    site retries a server that is not up yet or restarts: at most `max_retries` failed attempts in a
    row and `max_wait_s` without a connection."""

    server: str
    site: str
    secret: bytes
    ca_certificate: Path | None = None
    insecure: bool = False
    max_retries: int = 60
    max_wait_s: float = 900.0
    max_delay_s: float = 10.0
    max_message_bytes: int = MAX_MESSAGE_BYTES


def _fit(handler: SiteHandler, session: auth.SiteSession, ins: Any) -> Any:
    """FitIns -> Request -> handler -> FitRes; a failing handler sends a short status, no traceback."""
    # lazy: flwr (and its grpc) is the optional [federated] extra
    from flwr.common import Code, FitRes, Parameters, Status, ndarrays_to_parameters, parameters_to_ndarrays

    started = time.monotonic()
    config = dict(ins.config)
    task = str(config.pop("task", ""))
    try:
        request = Request(task=task, arrays=tuple(parameters_to_ndarrays(ins.parameters)), config=config)
        reply = handler.handle(request)
    except Exception as exc:
        _LOG.exception("site %s: '%s' failed", session.site, task)
        status = Status(code=Code.FIT_NOT_IMPLEMENTED, message=f"{type(exc).__name__}: {exc}"[:200])
        return FitRes(
            status=status, parameters=Parameters(tensors=[], tensor_type=""), num_examples=0, metrics={}
        )
    _LOG.info("site %s: '%s' done in %.1f s", session.site, task, time.monotonic() - started)
    return FitRes(
        status=Status(code=Code.OK, message="ok"),
        parameters=ndarrays_to_parameters(list(reply.arrays)),
        num_examples=int(reply.n),
        metrics=dict(reply.metrics),
    )


def _site_client(handler: SiteHandler, session: auth.SiteSession) -> Any:
    """A flwr Client bound to `handler` (defined here so that flwr is imported only when used)."""
    # lazy: flwr (and its grpc) is the optional [federated] extra
    from flwr.client import Client
    from flwr.common import Code, GetPropertiesRes, Status

    class _SiteClient(Client):
        def get_properties(self, ins: Any) -> Any:
            props = session.answer(dict(ins.config))
            return GetPropertiesRes(status=Status(code=Code.OK, message="ok"), properties=props)

        def fit(self, ins: Any) -> Any:
            return _fit(handler, session, ins)

    return _SiteClient()


def _connect_once(client: Any, session: auth.SiteSession, s: SiteSettings, root: bytes | None) -> str | None:
    """One connection until it ends: None when the server ended it on purpose, else the reason."""
    # lazy: flwr (and its grpc) is the optional [federated] extra
    import grpc
    from flwr.client import start_client

    session.connected = False
    try:
        start_client(
            server_address=s.server,
            client=client,
            root_certificates=root,
            insecure=s.insecure,
            grpc_max_message_length=s.max_message_bytes,
        )
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        return f"{getattr(code, 'name', 'error')}: {exc.details() if hasattr(exc, 'details') else exc}"
    except StopIteration:
        return "the server closed the stream"
    return None


def run_site(handler: SiteHandler, settings: SiteSettings) -> None:
    """Serve `handler` to the coordinator until it says the federation is finished; retry (within the
    limits) while the server is not up or restarts; FederationError when refused or out of retries."""
    _require_flower()
    if settings.insecure:
        _LOG.warning("site %s: connecting WITHOUT TLS: local testing only", settings.site)
        root = None
    elif settings.ca_certificate is None:
        raise FederationError("a site needs the server's CA certificate (TLS)")
    else:
        root = read_pem(settings.ca_certificate)
    mode = "no TLS" if settings.insecure else "TLS"
    session = auth.SiteSession(settings.site, settings.secret, settings.server, mode)
    client = _site_client(handler, session)
    failures, since = 0, time.monotonic()
    while True:
        why = _connect_once(client, session, settings, root)
        if session.refused:
            raise FederationError(f"site {settings.site}: the server refused this site ({session.refused})")
        if session.finished or why is None:
            _LOG.info("site %s: the server finished the federation", settings.site)
            return
        if session.connected:
            failures, since = 0, time.monotonic()
        failures += 1
        if failures > settings.max_retries or time.monotonic() - since > settings.max_wait_s:
            raise FederationError(
                f"site {settings.site}: cannot reach {settings.server} after {failures} tries "
                f"in {time.monotonic() - since:.0f} s (last: {why})"
            )
        delay = min(settings.max_delay_s, 0.25 * 2 ** min(failures, 10))
        lost = "connection lost" if session.connected else "unreachable"
        _LOG.warning("site %s: %s %s (%s); retry %d in %.1f s",
                     settings.site, settings.server, lost, why, failures, delay)  # fmt: skip
        time.sleep(delay)
