"""Which connection is which site: an HMAC challenge-response over the TLS channel (both ends).

Why not TLS client certificates: hospitals rarely run a PKI that issues client certificates, but any
site can keep a random secret that the coordinator hands over out of band (on paper, by phone). TLS
already proves the server to the site; the challenge proves the site to the server. A fresh nonce per
connection makes a recorded answer worthless, and the MAC covers the site name so one site's answer
cannot be replayed under another name. Secrets are never logged or sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop.errors import DlrsError

#: The secret file is tiny; anything larger is not ours (read with a bound, never whole).
MAX_SECRETS_FILE = 64 * 1024
MIN_SECRET_BYTES = 16
SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
# Keys of the get_properties exchange (config from the server, properties from the site).
CHALLENGE = "dlrs.challenge"
REFUSED = "dlrs.refused"
FINISHED = "dlrs.finished"
SITE = "dlrs.site"
MAC = "dlrs.mac"
RETRY_DUPLICATE_S = 10
_LOG = logging.getLogger("dlrs_desktop.training.federated")


def load_site_secrets(path: Path) -> dict[str, bytes]:
    """{site name: secret} from a JSON file `{"site": "hex secret"}`; DlrsError (one line) if unusable."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SECRETS_FILE + 1)
    except OSError as exc:
        raise DlrsError(f"cannot read the site secrets {path}: {exc.strerror}") from None
    if len(raw) > MAX_SECRETS_FILE:
        raise DlrsError(f"the site secrets file {path} is larger than {MAX_SECRETS_FILE} bytes")
    try:
        table = json.loads(raw.decode("utf-8"))
        assert isinstance(table, dict) and table
        found = {str(k): bytes.fromhex(v) for k, v in table.items()}
    except (ValueError, TypeError, AttributeError, AssertionError):
        raise DlrsError(f'{path} is not a JSON object {{"site name": "hex secret"}}') from None
    for name, secret in found.items():
        if not SITE_NAME.fullmatch(name):
            raise DlrsError(f"{path}: site name {name[:64]!r} is not 1-64 letters, digits, ' ._-'")
        if len(secret) < MIN_SECRET_BYTES:
            raise DlrsError(f"{path}: the secret of site {name} is shorter than {MIN_SECRET_BYTES} bytes")
    return found


def new_secret() -> str:
    """A fresh site secret as hex (32 random bytes), for the coordinator to hand to a site."""
    return secrets.token_hex(32)


def new_nonce() -> bytes:
    return secrets.token_bytes(32)


def site_mac(secret: bytes, nonce: bytes, site: str) -> str:
    """HMAC-SHA256(secret, nonce || site name) as hex: what a site answers to the challenge."""
    return hmac.new(secret, nonce + site.encode("utf-8"), hashlib.sha256).hexdigest()


def check_answer(known: dict[str, bytes], nonce: bytes, site: object, mac: object) -> str | None:
    """None if `site` is a known site and `mac` its answer to `nonce`; else the reason (for the log)."""
    if not isinstance(site, str) or not SITE_NAME.fullmatch(site):
        return "no valid site name in the answer"
    secret = known.get(site)
    if secret is None:
        return f"unknown site {site!r}"
    if not isinstance(mac, str) or not hmac.compare_digest(
        mac.encode(), site_mac(secret, nonce, site).encode()
    ):
        return f"wrong secret for site {site!r}"
    return None


class SiteRegistry:
    """Flower's ClientManager role (register/unregister), keeping only authenticated sites.

    Flower calls `register` from the gRPC handler before it starts streaming, so the challenge runs in
    its own thread; a proxy is asked for training only once it is in `live`."""

    def __init__(self, known: dict[str, bytes], timeout_s: float, record: Callable[..., None] | None) -> None:
        self.known, self.timeout_s, self.record = known, timeout_s, record
        self.cv = threading.Condition()
        self.live: dict[str, Any] = {}  # site name -> GrpcClientProxy
        self.connected: set[str] = set()  # cids whose stream is open

    def register(self, proxy: Any) -> bool:
        with self.cv:
            self.connected.add(proxy.cid)
        threading.Thread(target=self._authenticate, args=(proxy,), daemon=True).start()
        return True

    def unregister(self, proxy: Any) -> None:
        with self.cv:
            self.connected.discard(proxy.cid)
            names = [n for n, p in self.live.items() if p is proxy]
            for name in names:
                del self.live[name]
            self.cv.notify_all()
        for name in names:
            _LOG.info("site %s: disconnected", name)

    def _authenticate(self, proxy: Any) -> None:
        # lazy: flwr (and its grpc) is the optional [federated] extra
        from flwr.common import GetPropertiesIns

        nonce = new_nonce()
        try:
            ins = GetPropertiesIns(config={CHALLENGE: nonce.hex()})
            res = proxy.get_properties(ins, timeout=self.timeout_s, group_id=None)
        except Exception as exc:  # a peer that connects and never answers, or drops
            _LOG.warning("connection refused: no answer to the site challenge (%s)", type(exc).__name__)
            return
        props = dict(res.properties)
        claimed = props.get(SITE)
        if self.record:
            self.record(str(claimed)[:64], "authenticate", [], props)
        reason = check_answer(self.known, nonce, claimed, props.get(MAC))
        if reason:  # for good: the site stops retrying and says so
            _LOG.warning("connection refused: %s", reason)
            send_notice(proxy, "unknown site or wrong secret")
        elif reason := self._admit(claimed, proxy):  # maybe a stale connection not yet noticed: later
            _LOG.warning("connection refused: %s; told to retry in %d s", reason, RETRY_DUPLICATE_S)
            send_notice(proxy, None, RETRY_DUPLICATE_S)
        else:
            _LOG.info("site %s: authenticated", claimed)

    def _admit(self, name: str, proxy: Any) -> str | None:
        with self.cv:
            if proxy.cid not in self.connected:
                return f"site {name!r} disconnected during the challenge"
            if name in self.live:
                return f"site {name!r} is already connected (a second connection is refused)"
            self.live[name] = proxy
            self.cv.notify_all()
        return None

    def wait_for(self, count: int, timeout: float) -> dict[str, Any]:
        """The live sites once `count` are connected or `timeout` s have passed."""
        with self.cv:
            self.cv.wait_for(lambda: len(self.live) >= count, timeout=timeout)
            return dict(self.live)

    def all(self) -> dict[str, Any]:
        with self.cv:
            return dict(self.live)


def send_notice(proxy: Any, refused: str | None, retry_s: int = 0, key: str = REFUSED) -> None:
    """Tell a site (`key`: refused or finished) why it is sent away, then disconnect it: for good
    (ReconnectIns 0: Flower's start_client returns) or to come back in `retry_s` seconds."""
    # lazy: flwr (and its grpc) is the optional [federated] extra
    from flwr.common import GetPropertiesIns, ReconnectIns

    try:
        if refused is not None:
            proxy.get_properties(GetPropertiesIns(config={key: refused}), timeout=10.0, group_id=None)
        proxy.reconnect(ReconnectIns(seconds=retry_s), timeout=10.0, group_id=None)
    except Exception:  # already gone: nothing to tell
        return


@dataclass
class SiteSession:
    """The site's side of the exchange over one `run_site`: answers each connection's challenge and
    remembers the server's notices (refused, finished) so that the site stops retrying."""

    site: str
    secret: bytes
    server: str
    mode: str = "TLS"
    connected: bool = False
    refused: str | None = None
    finished: bool = False

    def answer(self, config: dict[str, Any]) -> dict[str, str]:
        if CHALLENGE in config:
            try:
                nonce = bytes.fromhex(str(config[CHALLENGE])[:128])
            except ValueError:  # not our server's challenge: say nothing
                return {}
            self.connected = True
            _LOG.info("site %s: connected to %s (%s)", self.site, self.server, self.mode)
            return {SITE: self.site, MAC: site_mac(self.secret, nonce, self.site)}
        if REFUSED in config:
            self.refused = str(config[REFUSED])[:200]
        if FINISHED in config:
            self.finished = True
        return {}
