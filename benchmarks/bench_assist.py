"""Contour assist on the synthetic dual-centre cohort: box/click proposals, snap-to-edge, time per proposal.

    python benchmarks/bench_assist.py [--patients 48] [--seed 2026] [--compare]

Generates a cohort (DICOM, ultrasound-region calibration) into a temp folder, then per centre:
* box proposals: box = the true outline's bounding box grown by a random 5-15 % per side (seeded);
  mean Dice and mean symmetric boundary distance (mm) against the true outline;
* click proposals: a click within ±2 mm of the lesion centroid;
* snap-to-edge: the true outline perturbed by ±1 mm (a smooth random radial field of at most 1 mm,
  and a uniform 1 mm grow or shrink), snapped (max 1.5 mm): fraction of cases where Dice improves;
  also the generator's sonographer-like drawn contours;
* median time per proposal on 1024×768 images (cases resampled to that size: anisotropic pixels).
`--compare` adds the method × speckle-filter table of docs/CONTOUR_ASSIST.md.
Targets: Dice ≥ 0.85, boundary ≤ 1 mm on both centres, snap improves ≥ 80 %, ≤ 300 ms per proposal.
Timings are noisy on a shared machine; rerun when it is quiet.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np
from _machine import machine_line

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.imaging import Calibration, image_from_array, load_image
from dlrs_desktop.roi import Contour
from dlrs_desktop.roi.assist import FILTERS, METHODS, propose_from_box, propose_from_click
from dlrs_desktop.roi.assist_eval import boundary_distance_mm, dice, radial_perturbation
from dlrs_desktop.roi.snap import snap_to_edges
from dlrs_desktop.training.synth import generate_cohort


def jittered_box(truth: Contour, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """The true outline's bounding box grown by 5-15 % of its size on each side."""
    (x0, y0), (x1, y1) = truth.points.min(axis=0), truth.points.max(axis=0)
    w, h = x1 - x0, y1 - y0
    m = rng.uniform(0.05, 0.15, 4)
    return (x0 - m[0] * w, y0 - m[1] * h, x1 + m[2] * w, y1 + m[3] * h)


def load_cases(root: Path) -> list[dict]:
    cases = []
    for row in csv.DictReader((root / "ground_truth.csv").open()):
        image = load_image(root / "dicom" / f"{row['case_id']}.dcm")
        truth = Contour.load(root / row["true_contour"])
        drawn = Contour.load(root / "contours" / f"{row['case_id']}.contour.json")
        rng = np.random.default_rng([int(row["case_id"][1:]), 5])
        cases.append(
            {
                "id": row["case_id"],
                "centre": int(row["centre"]),
                "image": image,
                "truth": truth,
                "drawn": drawn,
                "box": jittered_box(truth, rng),
                "mm": (image.calibration.mm_per_px_x, image.calibration.mm_per_px_y),
            }
        )
    return cases


def score(contour: Contour | None, case: dict) -> tuple[float, float]:
    if contour is None:
        return 0.0, float("nan")
    return dice(contour, case["truth"], case["image"].shape), boundary_distance_mm(
        contour, case["truth"], case["mm"]
    )


def run_boxes(cases: list[dict], method: str, speckle: str) -> dict[int, np.ndarray]:
    out: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for c in cases:
        try:
            p = propose_from_box(c["image"], c["box"], method=method, speckle=speckle, engine="classical")
        except DlrsError:
            p = None
        out[c["centre"]].append(score(p, c))
    return {k: np.array(v) for k, v in out.items() if v}


def run_clicks(cases: list[dict]) -> dict[int, np.ndarray]:
    out: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for c in cases:
        rng = np.random.default_rng([int(c["id"][1:]), 11])
        xy = c["truth"].points.mean(axis=0) + rng.uniform(-2, 2, 2) / np.array(c["mm"])
        try:
            p = propose_from_click(c["image"], xy, engine="classical")
        except DlrsError:
            p = None
        out[c["centre"]].append(score(p, c))
    return {k: np.array(v) for k, v in out.items() if v}


def run_snap(cases: list[dict]) -> dict[str, list[tuple[float, float, float, float]]]:
    res: dict[str, list[tuple[float, float, float, float]]] = {
        "radial ±1 mm": [],
        "offset ±1 mm": [],
        "drawn": [],
    }
    for c in cases:
        rng = np.random.default_rng([int(c["id"][1:]), 9])
        truth = c["truth"]
        starts = {
            "radial ±1 mm": radial_perturbation(truth, 1.0, rng),
            "offset ±1 mm": truth.offset(float(rng.choice([-1.0, 1.0]))),
            "drawn": c["drawn"],
        }
        for name, start in starts.items():
            snapped = snap_to_edges(c["image"], start, 1.5)
            d0, b0 = score(start, c)
            d1, b1 = score(snapped, c)
            res[name].append((d0, d1, b0, b1))
    return res


def time_1024(cases: list[dict], n: int = 12) -> tuple[float, float, float]:
    """Median ms of a box proposal, a click proposal and a snap on 1024×768 images (anisotropic pixels)."""
    tb, tc, ts = [], [], []
    for c in cases[:n]:
        img = c["image"]
        h, w = img.shape
        fx, fy = 1024 / w, 768 / h
        cal = Calibration.manual(c["mm"][0] / fx, c["mm"][1] / fy)
        big = image_from_array(
            cv2.resize(np.asarray(img.gray), (1024, 768), interpolation=cv2.INTER_LINEAR), cal
        )
        box = np.array(c["box"]) * np.array([fx, fy, fx, fy])
        for _ in range(2):  # the first call pays for imports and caches
            t0 = time.perf_counter()
            p = propose_from_box(big, box, engine="classical")
            tb.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        snap_to_edges(big, p)
        ts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with contextlib.suppress(DlrsError):
            propose_from_click(big, c["truth"].points.mean(axis=0) * [fx, fy], engine="classical")
        tc.append(time.perf_counter() - t0)
    return tuple(1000 * float(np.median(t)) for t in (tb[1::2], tc, ts))  # type: ignore[return-value]


def main() -> int:
    print(machine_line(), flush=True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=48)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--compare", action="store_true", help="also the method × speckle filter table")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlrs-assist-") as tmp:
        t0 = time.perf_counter()
        generate_cohort(tmp, patients=args.patients, seed=args.seed, dicom=True)
        cases = load_cases(Path(tmp))
        n1 = sum(c["centre"] == 1 for c in cases)
        print(f"cohort: {len(cases)} cases (centre 1: {n1}, centre 2: {len(cases) - n1}), seed {args.seed}, "
              f"generated in {time.perf_counter() - t0:.0f} s")  # fmt: skip

        print("\nbox proposals (default method)   Dice mean (min)   boundary mm   Dice<0.8")
        for k, a in run_boxes(cases, METHODS[0], FILTERS[0]).items():
            print(f"  centre {k}  n={len(a):<3}               {a[:, 0].mean():.3f} ({a[:, 0].min():.2f})"
                  f"      {np.nanmean(a[:, 1]):.2f} (mean)   {(a[:, 0] < 0.8).sum()}")  # fmt: skip
        print("click proposals (±2 mm from the centroid)")
        for k, a in run_clicks(cases).items():
            print(f"  centre {k}  n={len(a):<3}               {a[:, 0].mean():.3f} ({a[:, 0].min():.2f})"
                  f"      {np.nanmedian(a[:, 1]):.2f} (median) {(a[:, 0] < 0.8).sum()}")  # fmt: skip
        print("\nsnap to edges (max 1.5 mm)     improved   Dice before → after   boundary mm before → after")
        allimp = []
        for name, rows in run_snap(cases).items():
            r = np.array(rows)
            imp = r[:, 1] > r[:, 0]
            if name != "drawn":
                allimp.extend(imp.tolist())
            d0, d1, b0, b1 = r.mean(axis=0)
            print(f"  {name:<14}  n={len(r):<3}   {100 * imp.mean():5.1f} %    "
                  f"{d0:.3f} → {d1:.3f}         {b0:.2f} → {b1:.2f}")  # fmt: skip
        print(f"  perturbed by ±1 mm (both kinds): improved on {100 * np.mean(allimp):.1f} % of cases")
        tb, tc, ts = time_1024(cases)
        print(f"\ntime on 1024×768 (median): box proposal {tb:.0f} ms, click proposal {tc:.0f} ms, "
              f"snap {ts:.0f} ms (2-core machine shared with other jobs: noisy)")  # fmt: skip

        if args.compare:
            print("\nmethod × speckle filter (box proposals)   C1 Dice  C1 mm   C2 Dice  C2 mm   ms/case")
            for method in METHODS:
                for speckle in FILTERS:
                    t1 = time.perf_counter()
                    res = run_boxes(cases, method, speckle)
                    ms = 1000 * (time.perf_counter() - t1) / len(cases)
                    print(f"  {method:<18} {speckle:<10}             {res[1][:, 0].mean():.3f}   "
                          f"{np.nanmean(res[1][:, 1]):.2f}    {res[2][:, 0].mean():.3f}   "
                          f"{np.nanmean(res[2][:, 1]):.2f}   {ms:.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
