"""A real Orthanc on 127.0.0.1 (temporary configuration and storage, free ports) and dicom3tools checks.

Orthanc, dcmtk and dicom3tools come from Debian packages (.ci/run installs them); where they are
missing the tests that need them skip, saying which package to install — except where
`DLRS_REQUIRE_TEST_TOOLS=1` (set by .ci/run): there a missing tool fails the run instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PACS_AET = "ORTHANC"
# SOP classes the tests look for in Orthanc: our three exports and the source ultrasound image
SEG, SR, PDF, US = (
    "1.2.840.10008.5.1.4.1.1.66.4",
    "1.2.840.10008.5.1.4.1.1.88.33",
    "1.2.840.10008.5.1.4.1.1.104.1",
    "1.2.840.10008.5.1.4.1.1.6.1",
)
OUR_AET = "DLRS"


REQUIRE_TOOLS = "DLRS_REQUIRE_TEST_TOOLS"


def need(tool: str, package: str) -> str:
    """The tool's path; a skip naming the package when it is missing, a failure where CI requires it."""
    # The Debian package's binary first: the venv's PATH holds pynetdicom's own `storescu`/`echoscu`
    # apps, which exit 0 even when the store fails. Orthanc lives in /usr/sbin.
    path = shutil.which(tool, path="/usr/bin:/usr/sbin") or shutil.which(tool)
    if path is None:
        why = f"{tool} not installed (apt-get install -y {package}; .ci/run does this)"
        if os.environ.get(REQUIRE_TOOLS) == "1":
            pytest.fail(f"{why}; {REQUIRE_TOOLS}=1 requires it", pytrace=False)
        pytest.skip(why)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dciodvfy_errors(path: Path) -> list[str]:
    """The "Error" lines dicom3tools' IOD checker prints for a file (empty = valid)."""
    tool = need("dciodvfy", "dicom3tools")
    out = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    lines = (out.stdout + out.stderr).splitlines()
    # "Abort" = it could not even read the file; the first line names the IOD it checked against.
    return [line for line in lines if line.startswith(("Error", "Abort"))] or (
        [] if lines else ["dciodvfy printed nothing"]
    )


@dataclass
class Orthanc:
    dicom_port: int
    http_port: int
    process: subprocess.Popen[bytes]

    def rest(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def sop_classes(self) -> list[str]:
        out = []
        for iid in self.rest("/instances"):
            tags = self.rest(f"/instances/{iid}/simplified-tags")
            out.append(tags["SOPClassUID"])
        return sorted(out)

    def clear(self) -> None:
        for pid in self.rest("/patients"):
            req = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/patients/{pid}", method="DELETE")
            urllib.request.urlopen(req, timeout=10).close()


def start_orthanc(folder: Path, our_port: int = 1) -> Orthanc:
    """`our_port`: where Orthanc sends C-MOVE results for our AE title (DLRS on 127.0.0.1).

    Test files run in parallel (pytest-xdist): a port another process took between `free_port` and
    Orthanc's bind makes this Orthanc exit, so it is started again on other ports (three tries)."""
    for attempt in range(3):
        try:
            return _start_orthanc(folder / f"try{attempt}", our_port)
        except _PortTaken:
            continue
    raise RuntimeError("Orthanc found no free ports in three tries")


class _PortTaken(RuntimeError):
    pass


def _start_orthanc(folder: Path, our_port: int) -> Orthanc:
    exe = need("Orthanc", "orthanc")
    dicom_port, http_port = free_port(), free_port()
    storage = folder / "storage"
    storage.mkdir(parents=True)
    name = f"dlrs-test-{dicom_port}-{http_port}"  # /system answers with it: this Orthanc, not another's
    config = {
        "Name": name,
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "DicomAet": PACS_AET,
        "DicomPort": dicom_port,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "Plugins": [],
        "DicomModalities": {"dlrs": {"AET": OUR_AET, "Host": "127.0.0.1", "Port": our_port}},
    }
    cfg = folder / "orthanc.json"
    cfg.write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([exe, str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    server = Orthanc(dicom_port, http_port, proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = (folder / "orthanc.log").read_text()[-2000:]
            if "already in use" in said:  # "The TCP port of the HTTP server is privileged or already in use"
                raise _PortTaken(said)
            raise RuntimeError(f"Orthanc exited: {said}")
        try:
            if server.rest("/system").get("Name") != name:  # another process's Orthanc holds the port
                proc.kill()
                proc.wait(timeout=30)
                raise _PortTaken(f"another Orthanc answers on {http_port}")
            with socket.create_connection(("127.0.0.1", dicom_port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("Orthanc did not start within 30 s")


#: Where Orthanc sends C-MOVE results for our AE title (one per test process)
MOVE_PORT = free_port()


def store_scan(server: Orthanc, path: Path) -> None:
    """The scanner's part: dcmtk's storescu stores `path` in Orthanc (fails the test if it is refused)."""
    storescu = need("storescu", "dcmtk")
    cmd = [storescu, "-aec", PACS_AET, "127.0.0.1", str(server.dicom_port), str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


def silent_node() -> list[str]:
    """`dicom` command arguments for a node nothing listens on (a free port)."""
    return ["--host", "127.0.0.1", "--port", str(free_port()), "--called-aet", "X"]


def export_demo(out: Path, *extra: str) -> int:
    """`dlrs dicom export` of the bundled demo image and contour into `out` (exit code)."""
    from dlrs_desktop import paths
    from dlrs_desktop.cli import main

    demo = paths.samples_dir()
    return main(["dicom", "export", str(demo / "demo.dcm"), "--contour", str(demo / "demo.contour.json"),
                 *extra, "--out", str(out)])  # fmt: skip


def stop_orthanc(server: Orthanc) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)
