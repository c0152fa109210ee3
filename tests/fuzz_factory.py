"""Hostile and damaged inputs for the `dlrs` exit contract (tests/test_fuzz_inputs.py and
benchmarks/fuzz_inputs.py): the cases, and `run_case`, which runs one in a fresh process and judges it.

Every case is a real file (or argument) handed to a real `dlrs` command in a fresh process. Crafted
cases reproduce what an adversarial run found (docs/RELIABILITY.md); mutated cases flip, cut and
duplicate bytes of small valid files with a seeded generator, so a run is reproducible.
`expect="refuse"` marks inputs that must never give exit 0 (a confident answer from garbage).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.fuzz_bundles import _bundle_crafted, _bundle_mutations
from tests.fuzz_images import (
    DEMO_CONTOUR,
    DEMO_DCM,
    REPO,
    _dicom_crafted,
    _png,
    _raster,
    _raster_crafted,
    _small_dicom,
    mutate,
)
from tests.fuzz_net import SEG_FAMILIES, net_cases, peer_verdict

FAMILIES = (
    "dicom-crafted", "dicom-mutated", "raster-crafted", "raster-mutated", "contour-crafted",
    "contour-mutated", "arguments", "bundle-crafted", "bundle-mutated", "folder", "bundle-signing",
    "training-folder", *SEG_FAMILIES,
)  # fmt: skip
__all__ = ["DEMO_CONTOUR", "DEMO_DCM", "REPO", "Case", "Outcome", "build_cases", "run_case"]


@dataclass
class Case:
    family: str
    name: str
    argv: list[str]
    expect: str = "any"  # "refuse": exit 0 is a failure; "any": exit 0 or a clean refusal
    stdin_fifo: bool = False
    extra: dict = field(default_factory=dict)


# -------------------------------------------------------------------------------------- contours
def _contour_texts() -> list[tuple[str, str, str]]:
    good = json.loads(DEMO_CONTOUR.read_text())
    pts = good["points"] if "points" in good else good["contour"]["points"]
    ptxt = json.dumps(pts)

    def circle(n, r=60.0):
        return [
            [350 + r * np.cos(t), 300 + r * np.sin(t)] for t in np.linspace(0, 2 * np.pi, n, endpoint=False)
        ]

    star = []
    for k in range(1500):
        t = 2 * np.pi * k / 1500
        star += [
            [350 + 50 * np.cos(t), 300 + 50 * np.sin(t)],
            [350 + 90 * np.cos(t), 300 + 90 * np.sin(t)],
            [350 + 50 * np.cos(t), 300 + 50 * np.sin(t)],
        ]
    rng = np.random.default_rng(1)
    zig = [
        [float(x), float(y)]
        for x, y in zip(rng.uniform(300, 400, 5000), rng.uniform(250, 350, 5000), strict=True)
    ]
    out = [
        ("frame Infinity", f'{{"points": {ptxt}, "frame": Infinity}}', "refuse"),
        ("frame 1e400", f'{{"points": {ptxt}, "frame": 1e400}}', "refuse"),
        ("frame -1", f'{{"points": {ptxt}, "frame": -1}}', "refuse"),
        ("frame string", f'{{"points": {ptxt}, "frame": "one"}}', "refuse"),
        ("frame huge int", '{{"points": {}, "frame": {}}}'.format(ptxt, "9" * 5000), "refuse"),
        ("points NaN", '{"points": [[NaN, 1], [2, 3], [4, 5]]}', "refuse"),
        ("nesting 100000", "[" * 100000 + "]" * 100000, "refuse"),
        ("points nesting 100000", '{"points": ' + "[" * 100000 + "]" * 100000 + "}", "refuse"),
        ("5000-digit number", '{"points": [[%s, 1], [2, 3], [4, 5]]}' % ("1" * 5000), "refuse"),
        ("point 1e308", '{"points": [[1e308, 300], [360, 310], [350, 330]]}', "refuse"),
        ("points string", '{"points": "abc"}', "refuse"),
        ("points null", '{"points": null}', "refuse"),
        ("points ragged", '{"points": [[1, 2], [3], [4, 5, 6]]}', "refuse"),
        ("points dict", '{"points": {"x": 1}}', "refuse"),
        ("points bools", '{"points": [[true, false], [true, true], [false, true]]}', "refuse"),
        ("calibration garbage", f'{{"points": {ptxt}, "calibration": {{"mm_per_px_x": "a"}}}}', "refuse"),
        ("calibration list", f'{{"points": {ptxt}, "calibration": [1, 2]}}', "refuse"),
        ("region_index huge", f'{{"points": {ptxt}, "region_index": 1e300}}', "any"),
        ("schema_version float", f'{{"points": {ptxt}, "schema_version": 1.5}}', "refuse"),
        ("labelme points string", '{"shapes": [{"points": "abc", "shape_type": "polygon"}]}', "refuse"),
        (
            "labelme points ragged",
            '{"shapes": [{"points": [[1, 2], [3], [4, 5]], "shape_type": "polygon"}]}',
            "refuse",
        ),
        ("labelme points null", '{"shapes": [{"points": null}]}', "refuse"),
        ("labelme shapes 5", '{"shapes": 5}', "refuse"),
        ("labelme shapes list of ints", '{"shapes": [5, 6]}', "refuse"),
        ("sidecar contour not object", '{"contour": 5}', "refuse"),
        ("top-level list", "[1, 2, 3]", "refuse"),
        ("not utf-8", "\udcff", "refuse"),
        ("empty", "", "refuse"),
        ("100000-point circle", json.dumps({"points": circle(100000)}), "any"),
        ("300000-point circle", json.dumps({"points": circle(300000)}), "refuse"),
        ("1500 spikes", json.dumps({"points": star}), "any"),
        ("5000-point random zigzag", json.dumps({"points": zig}), "refuse"),
        (
            "20000-point figure eight",
            json.dumps(
                {
                    "points": [
                        [350 + 80 * np.sin(t), 300 + 40 * np.sin(2 * t)]
                        for t in np.linspace(0, 2 * np.pi, 20000, endpoint=False)
                    ]
                }
            ),
            "refuse",
        ),
    ]
    return out


def _contour_mutations(rng: random.Random, n: int) -> list[tuple[str, str]]:
    base = json.loads(DEMO_CONTOUR.read_text())
    values = [None, True, -1, 0, 1e308, -1e308, "x", [], {}, [1], [[1, 2]], 2**63, 1e-320, "NaN"]
    out = []
    for k in range(n):
        doc = json.loads(json.dumps(base))
        target = doc.get("contour", doc)
        kind = rng.randrange(5)
        if kind == 0 and target.get("points"):
            i = rng.randrange(len(target["points"]))
            target["points"][i][rng.randrange(2)] = rng.choice(values)
        elif kind == 1:
            target[
                rng.choice(["frame", "calibration", "region_index", "schema", "schema_version", "points"])
            ] = rng.choice(values)
        elif kind == 2 and target.get("points"):
            pts = target["points"]
            i, j = sorted(rng.sample(range(len(pts)), 2))
            pts[i], pts[j] = pts[j], pts[i]
        elif kind == 3 and isinstance(target.get("calibration"), dict):
            target["calibration"][rng.choice(["mm_per_px_x", "mm_per_px_y", "source", "region_index"])] = (
                rng.choice(values)
            )
        text = json.dumps(doc)
        if kind == 4 or rng.random() < 0.3:
            text = mutate(text.encode(), rng, header_bias=len(text)).decode("utf-8", "replace")
        out.append((f"contour mutation {k}", text))
    return out


# ------------------------------------------------------------------------------------ all cases
def build_cases(
    work: Path, *, seed: int = 0, mutated_per_family: int = 100, small: bool = False
) -> list[Case]:
    """Every case, with its files written under `work`. `small` skips the slow-to-build bundles
    (rewritten ONNX graphs, the 1.5 GB zip) and runs crafted bundles through `model verify` only."""
    rng = random.Random(seed)
    cases: list[Case] = []
    dd = work / "dicom"
    dd.mkdir(parents=True)
    for name, p, expect in _dicom_crafted(dd):
        cases.append(Case("dicom-crafted", name, ["info", str(p)], expect))
    syntaxes = (
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.91",
    )
    bases = [_small_dicom(dd / f"b-{k}.dcm", ts) for k, ts in enumerate(syntaxes)]
    demo = DEMO_DCM.read_bytes()
    for k in range(mutated_per_family):
        p = dd / f"mut-{k}.dcm"
        if k % 4 == 3:  # the scanner-like sample with its regions, through the ring computation
            p.write_bytes(mutate(demo, rng, header_bias=4096))
            argv = ["roi", str(p), "--contour", str(DEMO_CONTOUR), "--json"]
            cases.append(Case("dicom-mutated", f"demo.dcm mutation {k} (roi)", argv))
            continue
        src = bases[k % len(bases)]
        p.write_bytes(mutate(src.read_bytes(), rng, header_bias=1400))
        cases.append(Case("dicom-mutated", f"{src.stem} mutation {k}", ["info", str(p)]))
    rd = work / "raster"
    rd.mkdir()
    for name, p, expect in _raster_crafted(rd):
        cases.append(Case("raster-crafted", name, ["info", str(p)], expect))
    rbases = [_raster(rd / f"b.{e}", f".{e}") for e in ("png", "jpg", "bmp", "tif")]
    demo_png = _demo_png(rd / "demo.png")
    for k in range(mutated_per_family):
        if k % 4 == 3:  # a full-size frame through the rings, calibrated by hand
            p = rd / f"mut-{k}.png"
            p.write_bytes(mutate(demo_png, rng, header_bias=300))
            argv = ["roi", str(p), "--contour", str(DEMO_CONTOUR), "--spacing", "0.1", "--json"]
            cases.append(Case("raster-mutated", f"demo.png mutation {k} (roi)", argv))
            continue
        src = rbases[k % len(rbases)]
        p = rd / f"mut-{k}{src.suffix}"
        p.write_bytes(mutate(src.read_bytes(), rng, header_bias=200))
        cases.append(Case("raster-mutated", f"{src.suffix[1:]} mutation {k}", ["info", str(p)]))
    cd = work / "contour"
    cd.mkdir()
    roi = ["roi", str(DEMO_DCM), "--json", "--contour"]
    for k, (name, text, expect) in enumerate(_contour_texts()):
        p = cd / f"c{k}.json"
        p.write_bytes(text.encode("utf-8", "surrogateescape"))
        cases.append(Case("contour-crafted", name, [*roi, str(p)], expect))
    snap = cd / "snap-1e308.json"
    snap.write_text('{"points": [[300, 300], [1e308, 310], [350, 330], [320, 350]]}')
    cases.append(
        Case(
            "contour-crafted",
            "snap with a 1e308 point",
            ["outline", str(DEMO_DCM), "--snap", str(snap)],
            "refuse",
        )
    )
    for k, (name, text) in enumerate(_contour_mutations(rng, mutated_per_family)):
        p = cd / f"m{k}.json"
        p.write_text(text, encoding="utf-8")
        cases.append(Case("contour-mutated", name, [*roi, str(p)]))
    cases += _argument_cases(work / "args")
    bd = work / "bundle"
    bd.mkdir()
    for name, p, expect in _bundle_crafted(bd, small):
        # --allow-unsigned: past the signature (these copies are unsigned) to the checks behind it
        verify = ["model", "verify", str(p), "--allow-unsigned"]
        cases.append(Case("bundle-crafted", f"{name} (verify)", verify, expect))
        if not small:
            cases.append(
                Case(
                    "bundle-crafted",
                    f"{name} (predict)",
                    ["predict", str(DEMO_DCM), "--allow-unsigned", "--model", str(p)],
                    expect,
                )
            )
    for name, p, _ in _bundle_mutations(bd, rng, max((small and 2) or 10, mutated_per_family // 2)):
        cases.append(
            Case(
                "bundle-mutated",
                name,
                ["predict", str(DEMO_DCM), "--no-sensitivity", "--allow-unsigned", "--model", str(p)],
            )
        )
    cases += _folder_cases(work / "folder")
    cases += [Case(*c) for c in net_cases(work / "net", rng, mutated_per_family)]
    from tests.fuzz_trust import signing_cases, training_cases  # issue 27 items 4-5

    cases += signing_cases(work / "signing", rng, max(2, mutated_per_family // 10), Case)
    cases += training_cases(work / "training", Case)
    return cases


def _demo_png(path: Path) -> bytes:
    """The sample scan's pixels as a PNG (a screen capture of a real-size frame)."""
    import cv2
    import pydicom

    ok, buf = cv2.imencode(".png", pydicom.dcmread(DEMO_DCM).pixel_array)
    assert ok
    path.write_bytes(buf.tobytes())
    return buf.tobytes()


def _argument_cases(d: Path) -> list[Case]:
    d.mkdir()
    fifo = d / "pipe.dcm"
    os.mkfifo(fifo)
    fifo_c = d / "pipe.json"
    os.mkfifo(fifo_c)
    forged = d / "x\nerror: forged line\x1b[2J\x1b]0;title\x07.dcm"
    forged.write_bytes(b"not a dicom" * 20)
    big_mask = d / "big_mask.png"
    big_mask.write_bytes(_png(20000, 20000, idat=zlib.compress(b"\x00" * 20001 * 64)))
    roi = ["roi", str(DEMO_DCM), "--contour", str(DEMO_CONTOUR)]
    out = [
        ("named pipe as image", ["info", str(fifo)], "refuse"),
        ("named pipe as contour", ["roi", str(DEMO_DCM), "--contour", str(fifo_c)], "refuse"),
        ("device as image", ["info", "/dev/zero"], "refuse"),
        ("folder as image", ["info", str(d)], "refuse"),
        ("path longer than PATH_MAX", ["info", "/" + "a" * 5000 + ".dcm"], "refuse"),
        ("name component over 255", ["info", str(d / ("b" * 300))], "refuse"),
        ("escape codes in the file name", ["info", str(forged)], "refuse"),
        ("20000x20000 --mask", ["roi", str(DEMO_DCM), "--mask", str(big_mask)], "refuse"),
        ("--radii 1e308", [*roi, "--radii", "1e308"], "refuse"),
        ("--radii 2000", [*roi, "--radii", "2000"], "refuse"),
        ("--radii nan", [*roi, "--radii", "nan"], "refuse"),
        ("--radii 1,1,1,...(100)", [*roi, "--radii", ",".join(["1"] * 100)], "refuse"),
        ("--clip-threshold nan", [*roi, "--clip-threshold", "nan"], "refuse"),
        ("--clip-threshold -1", [*roi, "--clip-threshold", "-1"], "refuse"),
        ("--min-area nan", [*roi, "--min-area", "nan"], "refuse"),
        ("--min-area -5", [*roi, "--min-area", "-5"], "refuse"),
        ("--spacing nan", [*roi, "--spacing", "nan"], "refuse"),
        ("--spacing 1e308", [*roi, "--spacing", "1e308"], "refuse"),
        ("--frame 10^20", ["info", str(DEMO_DCM), "--frame", "1" + "0" * 20], "refuse"),
        ("--frame -1", ["info", str(DEMO_DCM), "--frame", "-1"], "refuse"),
        (
            "predict --spacing inf",
            ["predict", str(DEMO_DCM), "--no-sensitivity", "--spacing", "inf"],
            "refuse",
        ),
        (
            "outline --max-distance nan",
            ["outline", str(DEMO_DCM), "--snap", str(DEMO_CONTOUR), "--max-distance", "nan"],
            "refuse",
        ),
        ("outline --box nan", ["outline", str(DEMO_DCM), "--box", "nan", "0", "10", "10"], "refuse"),
        ("outline --click 1e308", ["outline", str(DEMO_DCM), "--click", "1e308", "5"], "refuse"),
        ("unknown option", ["info", str(DEMO_DCM), "--bogus"], "refuse"),
        ("model verify on a DICOM", ["model", "verify", str(DEMO_DCM)], "refuse"),
        (
            "evaluate: ground truth with wrong columns",
            [
                "evaluate",
                "--cohort",
                str(_cohort(d)),
                "--out",
                str(d / "ev"),
                "--ground-truth",
                str(_bad_gt(d)),
            ],
            "refuse",
        ),
        (
            "train --out a non-empty folder",
            ["train", "--cohort", str(_cohort(d)), "--out", str(_nonempty(d)), "--epochs", "1"],
            "refuse",
        ),
    ]
    return [Case("arguments", n, a, e) for n, a, e in out]


def _cohort(d: Path) -> Path:
    p = d / "cohort.csv"
    if not p.exists():
        p.write_text(
            "case_id,image,contour,label,centre,split\n"
            f"c1,{DEMO_DCM},{DEMO_CONTOUR},1,1,external\nc2,{DEMO_DCM},{DEMO_CONTOUR},0,1,external\n"
        )
    return p


def _bad_gt(d: Path) -> Path:
    p = d / "gt.csv"
    p.write_text("foo,bar\n1,2\n")
    return p


def _nonempty(d: Path) -> Path:
    p = d / "precious"
    p.mkdir(exist_ok=True)
    (p / "thesis.docx").write_text("years of work")
    return p


def _folder_cases(d: Path) -> list[Case]:
    """A folder where some images are fine and some are hostile: the table must still be written."""
    d.mkdir()
    good = d / "good.dcm"
    good.write_bytes(DEMO_DCM.read_bytes())
    (d / "good.contour.json").write_text(DEMO_CONTOUR.read_text())
    for name, data in (
        ("=cmd|' -C calc'!A0.dcm", DEMO_DCM.read_bytes()),
        ("bad.dcm", b"DICM" * 40),
        ("trunc.dcm", DEMO_DCM.read_bytes()[:5000]),
    ):
        (d / name).write_bytes(data)
        (d / (Path(name).stem + ".contour.json")).write_text(DEMO_CONTOUR.read_text())
    (d / "deep.dcm").write_bytes(DEMO_DCM.read_bytes())
    (d / "deep.contour.json").write_text("[" * 100000)
    os.mkfifo(d / "pipe.dcm")
    (d / "pipe.contour.json").write_text(DEMO_CONTOUR.read_text())
    csv_out = d.parent / "folder.csv"
    return [
        Case(
            "folder",
            "folder with hostile files",
            ["predict", str(d), "--no-sensitivity", "--csv", str(csv_out)],
            "refuse",
            extra={"csv": str(csv_out), "rows": 5},
        )
    ]


# ---------------------------------------------------------------------------------------- running
@dataclass
class Outcome:
    case: Case
    code: int | None
    stderr: str
    seconds: float
    max_rss_mb: float
    verdict: str  # "accepted", "clean" (exit 2/3, one line), or "other: <why>"


def _interruptible() -> None:
    """In the child before exec: Ctrl-C (SIGINT) at its default, as in a terminal. A test run started
    in the background by a non-interactive shell (`cmd &`, nohup) inherits SIGINT *ignored*, and the
    receiver cases stop the listener with SIGINT: it went on listening until killed at 30 s."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_case(
    case: Case, *, timeout: float = 10.0, address_limit: str | None = "4G", nice: int = 10
) -> Outcome:
    """Run `dlrs ARGV` in a fresh process (under prlimit and nice) and judge the exit contract."""
    import signal
    import subprocess
    import sys
    import tempfile
    import threading
    import time

    cmd = [sys.executable, "-m", "dlrs_desktop.cli", *case.argv]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    if address_limit:
        cmd = ["prlimit", f"--as={_bytes(address_limit)}", *cmd]
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_interruptible,
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        peer_result: list[str | None] = []
        if "peer" in case.extra:  # a receiver case: the hostile peer runs against this process
            threading.Thread(target=lambda: peer_result.append(case.extra["peer"](proc)), daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read(1 << 20).decode("utf-8", "replace")
    rss = usage.ru_maxrss / 1024.0
    code = proc.returncode
    lines = stderr.splitlines()
    raw_control = any(ord(c) < 32 and c not in "\n\t" for c in stderr) or "\x1b" in stderr
    if timed_out.is_set():
        verdict = f"other: killed after {timeout:g} s"
    elif "peer" in case.extra:
        time.sleep(0.1)  # the peer records its result just before its Ctrl-C lands
        verdict = peer_verdict(code, lines, peer_result)
    elif code == 0:
        verdict = (
            "accepted"
            if case.expect == "any" and len(lines) <= 1
            else (
                "other: exit 0 for an input that must be refused"
                if case.expect == "refuse"
                else "other: extra stderr"
            )
        )
    elif code in (2, 3):
        if len(lines) != 1:
            verdict = f"other: {len(lines)} stderr lines"
        elif raw_control:
            verdict = "other: raw control character on stderr"
        elif lines[0].startswith("internal error"):
            verdict = "other: internal error"
        else:
            verdict = "clean"
    else:
        verdict = f"other: exit {code}"
    if verdict in ("clean", "accepted") and "csv" in case.extra:
        verdict = _check_csv(case, verdict)
    return Outcome(case, code, stderr, seconds, rss, verdict)


def _check_csv(case: Case, verdict: str) -> str:
    import csv

    p = Path(case.extra["csv"])
    if not p.exists():
        return "other: folder mode wrote no table"
    rows = list(csv.DictReader(p.open(encoding="utf-8")))
    if len(rows) != case.extra["rows"]:
        return f"other: table has {len(rows)} rows, expected {case.extra['rows']}"
    if any(r["image"].startswith(("=", "+", "-", "@")) for r in rows):
        return "other: formula cell in the table"
    return verdict


def _bytes(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)
