"""Sites as real processes for the federated transport tests (tests/test_federated_transport.py).

`python -m tests.federated_factory NAME SECRET_HEX ADDRESS CA|- [--poison] [--exit-after N]` runs one
site whose handler answers task "add" with its arrays plus the site's constant (A: 1, B: 2, ...);
with `--cohort CSV` the site is a real hospital (`CohortSite`), and `--poison` makes its network
updates NaN (tests/test_federated_e2e.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ((3,), (2, 2))


def constant(name: str) -> float:
    return float(ord(name[0]) - ord("A") + 1)


@dataclass
class AddSite:
    """Answers "add": arrays + constant, n = 10, metric "sum"; other tasks raise. Poisons with NaN,
    exits before its answer number `exit_after` or sleeps before its first answer when told."""

    name: str
    poison: bool = False
    exit_after: int | None = None
    slow_first: float = 0.0
    answered: int = 0

    def handle(self, request):
        from dlrs_desktop.training.federated.protocol import Reply

        if self.exit_after is not None and self.answered >= self.exit_after:
            os._exit(0)  # the process vanishes mid-federation, as a crashed site would
        if request.task != "add":
            raise ValueError(f"unknown task {request.task}")
        if self.answered == 0:
            time.sleep(self.slow_first)
        self.answered += 1
        out = [a.astype(np.float64) + constant(self.name) for a in request.arrays]
        if self.poison:
            out[-1][...] = np.nan
        return Reply(
            site=self.name, arrays=tuple(out), n=10, metrics={"sum": float(sum(a.sum() for a in out))}
        )


@dataclass
class Sites:
    """Site processes started by a test; `stop()` kills whatever is left (also on failure)."""

    folder: Path
    address: str
    ca: Path | None
    procs: dict[str, subprocess.Popen]

    def start(self, name: str, secret: str, *extra: str) -> subprocess.Popen:
        log = open(self.folder / f"site-{name}.log", "ab")  # noqa: SIM115 (the process owns it)
        cmd = [
            sys.executable,
            "-m",
            "tests.federated_factory",
            name,
            secret,
            self.address,
            str(self.ca or "-"),
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        key = name if name not in self.procs else f"{name}-{len(self.procs)}"
        self.procs[key] = subprocess.Popen([*cmd, *extra], cwd=ROOT, stdout=log, stderr=log, env=env)
        return self.procs[key]

    def log(self, name: str) -> str:
        return (self.folder / f"site-{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@dataclass
class PoisonedSite:
    """A real site whose "train" replies carry NaN weights (a broken or malicious hospital)."""

    site: Any

    @property
    def name(self) -> str:
        return self.site.name

    def handle(self, request):
        reply = self.site.handle(request)
        if request.task != "train":
            return reply
        arrays = tuple(np.full_like(a, np.nan) if a.dtype.kind == "f" else a for a in reply.arrays)
        return replace(reply, arrays=arrays)


def write_secrets(folder: Path, names: list[str]) -> tuple[Path, dict[str, str]]:
    table = {n: secrets.token_hex(32) for n in names}
    path = folder / "sites.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    return path, table


def wait_exit(proc: subprocess.Popen, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return proc.poll() if proc.poll() is not None else -999


def main(argv: list[str] | None = None) -> int:
    from dlrs_desktop.errors import DlrsError
    from dlrs_desktop.training.federated.transport import SiteSettings, run_site

    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("secret")
    p.add_argument("address")
    p.add_argument("ca")
    p.add_argument("--poison", action="store_true")
    p.add_argument("--exit-after", type=int)
    p.add_argument("--slow-first", type=float, default=0.0)
    p.add_argument("--retries", type=int, default=40)
    p.add_argument("--cohort", help="a real site on this cohort.csv instead of the 'add' handler")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ca = None if a.ca == "-" else Path(a.ca)
    settings = SiteSettings(
        server=a.address, site=a.name, secret=bytes.fromhex(a.secret), ca_certificate=ca,
        insecure=ca is None, max_retries=a.retries, max_wait_s=40.0, max_delay_s=1.0,
    )  # fmt: skip
    handler: Any = AddSite(a.name, a.poison, a.exit_after, a.slow_first)
    if a.cohort:
        from dlrs_desktop.training.federated.site import CohortSite

        site = CohortSite(a.cohort, a.name, None, "cpu")
        handler = PoisonedSite(site) if a.poison else site
    try:
        run_site(handler, settings)
    except DlrsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())


def abc_sites(root: Path, folder: str, patients: int, seed: int) -> tuple[Path, dict[str, Path]]:
    """A tiny synthetic cohort under root/cohort split by patient into sites A, B and C (their own
    cohort.csv under root/folder/<site>/): (the whole cohort's CSV, site → its CSV)."""
    from dlrs_desktop.commands.federated import SiteSplit, split_sites, write_site_cohorts
    from dlrs_desktop.training.cohort import read_cohort
    from tests.training_factory import tiny_cohort

    cohort = tiny_cohort(root / "cohort", patients=patients, seed=seed, dicom=False)
    parts = split_sites(read_cohort(cohort), SiteSplit(by_centre=False, k=3, seed=0))
    return cohort, write_site_cohorts(dict(zip("ABC", parts.values(), strict=True)), root / folder)
