"""Federated training over the network as hospitals would run it (issue 32's acceptance).

One `dlrs federated server` process and three site processes on 127.0.0.1, TLS and site secrets:
hospitals A and B run `dlrs federated client` on their own folders; hospital C sends NaN network
updates. The server runs in its own mount namespace where the hospitals' folders are an empty
tmpfs, so it cannot read a single site file. It is killed (SIGKILL) after its first round and
started again: it resumes from its checkpoint, rejects C with the reason, and writes a bundle
that verifies and predicts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlrs_desktop.cli import main
from tests.federated_factory import ROOT, abc_sites, wait_exit, write_secrets
from tests.pacs_factory import free_port
from tests.training_factory import rewrite, tiny_federated_args

pytest.importorskip("torch")
pytest.importorskip("flwr")

HIDE = 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"'  # sh -c HIDE FOLDER CMD...


def hidden(folder: Path, cmd: list[str]) -> list[str]:
    """`cmd` in a private mount namespace where `folder` is an empty tmpfs (root; util-linux unshare)."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", HIDE, str(folder), *cmd]


def own_folder(csv_path: Path) -> Path:
    """Copy the images and contours a site's cohort.csv names into its folder; paths made relative."""
    folder = csv_path.parent

    def local(rows):
        for row in rows:
            for col in ("image", "contour"):
                src = Path(row[col])
                shutil.copy2(src, folder / src.name)
                row[col] = src.name
        return rows

    return rewrite(csv_path, csv_path, local)


@pytest.fixture(scope="module")
def hospitals(tmp_path_factory):
    root = tmp_path_factory.mktemp("fed-e2e")
    # 56 patients: 27 training and 12 internal cases over the three sites, enough for a domain reference
    _, paths = abc_sites(root, "hospitals", patients=56, seed=3)
    for path in paths.values():
        own_folder(path)
    shutil.rmtree(root / "cohort")  # from now on only the hospitals hold the images
    server = root / "server"
    server.mkdir()
    from dlrs_desktop.training.federated.tls import make_test_certificates

    certs = make_test_certificates(server)
    secrets_json, table = write_secrets(server, ["A", "B", "C"])
    for name, path in paths.items():
        (path.parent / "secret").write_text(table[name], encoding="utf-8")
    return root, paths, certs, secrets_json


def require_namespaces(folder: Path) -> None:
    probe = subprocess.run(hidden(folder, ["true"]), capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        msg = f"cannot hide the sites' folders from the server ({probe.stderr.strip()})"
        if os.environ.get("DLRS_REQUIRE_TEST_TOOLS"):
            pytest.fail(msg + ": this test needs root and util-linux unshare")
        pytest.skip(msg)


def test_the_server_process_cannot_read_the_sites_folders(hospitals):
    root, paths, _, _ = hospitals
    require_namespaces(root / "hospitals")
    read = [sys.executable, "-c", f"open({str(paths['A'])!r}).read()"]
    assert subprocess.run(read, capture_output=True, timeout=30).returncode == 0
    proc = subprocess.run(hidden(root / "hospitals", read), capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "No such file" in proc.stderr


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    fh = open(log, "ab")  # noqa: SIM115 (the process owns it)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        assert proc.poll() is None, path.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"'{text}' not in {path.name} after {timeout} s:\n" + path.read_text()[-3000:])


def test_two_hospitals_and_a_poisoned_one_over_tls_with_a_server_restart(hospitals):
    root, paths, (ca, cert, key), secrets_json = hospitals
    require_namespaces(root / "hospitals")
    address = f"127.0.0.1:{free_port()}"
    out = root / "server" / "model"
    server_cmd = hidden(root / "hospitals", [
        sys.executable, "-m", "dlrs_desktop", "federated", "server", "--out", str(out), "--sites", "3",
        "--min-sites", "2", "--address", address, "--certificates", str(ca), str(cert), str(key),
        "--site-secrets", str(secrets_json), *tiny_federated_args(rounds=2),
    ])  # fmt: skip
    procs: list[subprocess.Popen] = []
    try:
        procs.append(server := start(server_cmd, root / "server-1.log"))
        for name in ("A", "B"):
            procs.append(start([
                sys.executable, "-m", "dlrs_desktop", "federated", "client", "--cohort", str(paths[name]),
                "--name", name, "--secret-file", str(paths[name].parent / "secret"), "--server", address,
                "--ca", str(ca), "--threads", "1",
            ], root / f"site-{name}.log"))  # fmt: skip
        procs.append(start([
            sys.executable, "-m", "tests.federated_factory", "C", (paths["C"].parent / "secret").read_text(),
            address, str(ca), "--cohort", str(paths["C"]), "--poison", "--retries", "200",
        ], root / "site-C.log"))  # fmt: skip
        wait_for(root / "server-1.log", "fold0 round 1/2", server)
        os.killpg(server.pid, signal.SIGKILL)  # power cut: no goodbye to the sites
        server.wait(timeout=10)
        procs.append(server := start(server_cmd, root / "server-2.log"))
        assert wait_exit(server, timeout=300) == 0, (root / "server-2.log").read_text()[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
    second = (root / "server-2.log").read_text()
    assert "resuming" in second
    assert "fold0 round 1/2" not in second  # the round done before the kill is not asked again
    both = (root / "server-1.log").read_text() + second
    assert "site C: reply to 'train' rejected: array 0 holds NaN or Inf" in both
    assert "site A: the federation finished" in (root / "site-A.log").read_text()
    assert main(["model", "verify", str(out), "--allow-unsigned"]) == 0
    # the domain guard crossed the network too: the bundle went to the sites, sums came back
    assert "domain reference from 3 sites (27 training, 12 internal cases)" in second
    assert json.loads((out / "manifest.json").read_text())["domain_reference"]["n_internal"] == 12
    report = json.loads((root / "server" / "model.report" / "metrics.json").read_text())
    assert report["domain_guard"]["available"] and report["domain_guard"]["splits"]["external"]["n"] == 17
    sample = str(ROOT / "resources" / "samples" / "demo.dcm")
    assert main(["predict", sample, "--model", str(out), "--allow-unsigned", "--no-sensitivity"]) == 0
