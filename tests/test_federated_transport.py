"""Federated transport over real sockets: a Flower gRPC server in this process, sites as processes,
TLS with a test CA, the HMAC site challenge (tests/federated_factory.py runs the sites)."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from dlrs_desktop.extras import MissingExtraError
from dlrs_desktop.training.federated.protocol import Expect, FederationError, Request
from dlrs_desktop.training.federated.tls import make_test_certificates
from dlrs_desktop.training.federated.transport import FlowerFederation, ServerSettings
from tests.federated_factory import ROOT, SHAPES, Sites, constant, wait_exit, write_secrets
from tests.pacs_factory import free_port

pytest.importorskip("flwr")
EXPECT = Expect(shapes=SHAPES, metrics=("sum",))


def request(k: float = 0.0) -> Request:
    return Request(task="add", arrays=(np.full(3, k), np.full((2, 2), -k)), config={"lr": 0.1})


@dataclass
class Rig:
    """One server (replaceable, same port) and its site processes; `records` = what `record` saw."""

    settings: ServerSettings
    table: dict[str, str]
    sites: Sites
    records: list[tuple] = field(default_factory=list)
    fed: FlowerFederation | None = None

    def serve(self, **changes) -> FlowerFederation:
        self.settings = dataclasses.replace(self.settings, record=self.note, **changes)
        self.fed = FlowerFederation(self.settings)
        return self.fed

    def note(self, site, task, arrays, metrics) -> None:
        self.records.append((site, task, arrays, metrics))

    def site(self, name: str, *extra: str, secret: str | None = None):
        return self.sites.start(name, secret or self.table[name], *extra)

    def ask(self, k: float = 0.0) -> dict[str, object]:
        return {r.site: r for r in self.fed.ask(request(k), EXPECT)}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_test_certificates(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def rig(tmp_path, certs, caplog):
    caplog.set_level(logging.INFO, logger="dlrs_desktop.training.federated")
    path, table = write_secrets(tmp_path, ["A", "B", "C"])
    address = f"127.0.0.1:{free_port()}"
    settings = ServerSettings(
        address=address, site_secrets=path, certificates=certs, expected_sites=2,
        wait_s=30.0, rejoin_s=1.0, ask_timeout_s=20.0,
    )  # fmt: skip
    made = Rig(settings, table, Sites(tmp_path, address, certs[0], {}))
    yield made
    if made.fed is not None:
        made.fed.close()
    made.sites.stop()


def lines(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def until(condition, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_test_certificates_keep_the_key_private(certs):
    assert stat.S_IMODE(certs[2].stat().st_mode) == 0o600
    assert all(p.read_bytes().startswith(b"-----BEGIN") for p in certs)


def test_two_sites_over_tls_answer_three_asks_and_only_arrays_and_scalars_arrive(rig, caplog):
    rig.serve()
    rig.site("A"), rig.site("B")
    for k in (0.0, 1.5, -2.0):
        replies = rig.ask(k)
        assert sorted(replies) == ["A", "B"]
        for name, reply in replies.items():
            np.testing.assert_allclose(reply.arrays[0], np.full(3, k) + constant(name))
            np.testing.assert_allclose(reply.arrays[1], np.full((2, 2), -k) + constant(name))
            assert reply.n == 10 and set(reply.metrics) == {"sum"}
    fits = [r for r in rig.records if r[1] == "add"]
    assert len(fits) == 6
    for _site, _task, arrays, metrics in fits:
        assert [a.shape for a in arrays] == list(SHAPES) and all(a.dtype.kind == "f" for a in arrays)
        assert all(isinstance(v, int | float) for v in metrics.values())
    challenges = [r for r in rig.records if r[1] == "authenticate"]
    assert sorted(r[0] for r in challenges) == ["A", "B"] and all(r[2] == [] for r in challenges)
    assert all(set(r[3]) == {"dlrs.site", "dlrs.mac"} for r in challenges)
    assert len(lines(caplog, "round 3: 2/2 sites answered")) == 1
    assert not any(s in r.getMessage() for r in caplog.records for s in rig.table.values())
    rig.fed.close(finished=True)
    rig.fed = None
    assert [wait_exit(p) for p in rig.sites.procs.values()] == [0, 0]
    assert "site A: connected to 127.0.0.1" in rig.sites.log("A") and "(TLS)" in rig.sites.log("A")


def test_wrong_secret_unknown_site_and_a_second_a_are_never_asked(rig, caplog):
    rig.serve(expected_sites=1)
    rig.site("A"), rig.site("B", secret=secrets.token_hex(32))
    rig.site("D", secret=secrets.token_hex(32)), rig.site("A")
    refusals = ("wrong secret for site 'B'", "unknown site 'D'", "site 'A' is already connected")
    until(lambda: all(lines(caplog, text) for text in refusals))
    assert list(rig.ask()) == ["A"]
    assert len(lines(caplog, "wrong secret for site 'B'")) == 1
    assert len(lines(caplog, "unknown site 'D'")) == 1
    assert {r[0] for r in rig.records if r[1] == "add"} == {"A"}
    assert wait_exit(rig.sites.procs["B"]) == 2 and "refused this site" in rig.sites.log("B")


def test_a_poisoned_site_is_dropped_with_its_reason(rig, caplog):
    rig.serve()
    rig.site("A"), rig.site("B", "--poison")
    assert list(rig.ask()) == ["A"]
    assert lines(caplog, "site B: reply to 'add' rejected") == [
        "site B: reply to 'add' rejected: array 1 holds NaN or Inf"
    ]
    with pytest.raises(FederationError):
        rig.fed.ask(Request(task="other"), Expect(shapes=()))
    assert lines(caplog, "site A: reply to 'other'") == [
        "site A: reply to 'other' rejected: the site failed: ValueError: unknown task other"
    ]
    rig.fed.settings = dataclasses.replace(rig.fed.settings, min_sites=2)
    with pytest.raises(FederationError, match=r"only 1 site\(s\) gave a valid answer to 'add'") as err:
        rig.ask()
    assert "\n" not in str(err.value)


def test_a_client_without_tls_never_reaches_the_tls_server(rig, caplog):
    rig.serve(expected_sites=1, wait_s=1.0)
    rig.sites.ca = None
    proc = rig.site("A", "--retries", "2")
    assert wait_exit(proc, 30.0) == 2 and "cannot reach" in rig.sites.log("A")
    assert rig.records == [] and rig.fed.connected_sites() == []
    with pytest.raises(FederationError, match="only 0 site"):
        rig.ask()


def test_a_site_killed_between_asks_and_one_that_dies_mid_ask(rig, caplog):
    rig.serve(expected_sites=3)
    rig.site("A"), rig.site("B"), rig.site("C", "--exit-after", "1")
    assert sorted(rig.ask()) == ["A", "B", "C"]
    rig.sites.procs["B"].kill()
    assert list(rig.ask()) == ["A"]
    assert len(lines(caplog, "site C: no reply to 'add'")) == 1
    assert list(rig.ask()) == ["A"]


def test_sites_reconnect_to_a_restarted_server(rig, caplog):
    rig.serve()
    rig.site("A"), rig.site("B")
    assert sorted(rig.ask()) == ["A", "B"]
    rig.fed.close()
    rig.serve()
    assert sorted(rig.ask(3.0)) == ["A", "B"]
    assert "connection lost" in rig.sites.log("A")


def test_a_site_past_the_deadline_is_dropped_then_answers_again(rig, caplog):
    rig.serve(ask_timeout_s=3.0, rejoin_s=20.0)
    rig.site("A"), rig.site("B", "--slow-first", "6")
    assert list(rig.ask()) == ["A"]
    assert lines(caplog, "site B: no reply") == ["site B: no reply to 'add': no answer within 3 s"]
    assert sorted(rig.ask()) == ["A", "B"]  # Flower ended B's stream at the deadline; B came back


def test_without_flower_one_line_names_the_extra(rig, monkeypatch):
    code = "import sys, dlrs_desktop.training.federated.transport; assert 'flwr' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    monkeypatch.setitem(sys.modules, "flwr", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'dlrs-desktop\[federated\]'"):
        rig.serve()
