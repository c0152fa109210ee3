"""Corrective clicks on an outline the user has already edited by hand: kept edits or a fresh proposal?

    python benchmarks/bench_assist_edited.py DATA_DIR [--split val|test] [--limit N] [--bundle DIR]
        [--start ellipse|proposal] [--clicked] [--reach R]

DATA_DIR is the folder `dlrs train-assist --data` read; the cases are the bundle's validation split
(`--split val`, the default: these runs chose the local rule, `--reach`) or its test split. Per case:
1. a simulated hand-drawn outline: left of the lesion's centroid the expert's line (drawn with care),
   right of it a quick ellipse (the ellipse with the expert mask's moments) or, with `--start
   proposal`, the tight box's proposal (a proposal whose left half the user redrew); with `--clicked`
   drawn as a polygon clicked vertex by vertex (long straight edges) instead of traced;
2. three corrective clicks placed by the NoC protocol of `bench_assist_real.py` (each at the error
   pixel farthest from the error's edge), answered two ways:
   - **re-proposed** (the application before the local rule): the edited outline's padded bounding box
     re-run with every click so far, as `propose_corrected` does for an outline with no recorded box;
   - **local** (`propose_local_correction`): each click changes the outline near it only.
Printed: mean Dice against the expert mask after 0-3 clicks, and how much of the hand edit survives
(Dice between the outline and the edited outline inside the left half, where the user drew), per
benign / malignant; clicks that ended on the side they asked for; median time per click. The machine
is printed first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line
from bench_assist_real import make_box, next_correction

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.roi import Contour, assist_local
from dlrs_desktop.roi.assist_bundle import default_bundle_dir, load_assist_bundle
from dlrs_desktop.roi.assist_eval import mask_dice
from dlrs_desktop.roi.assist_learned import (
    get_learned,
    keep_and_fill,
    learned_box,
    outline_from_mask,
    refine_box,
)
from dlrs_desktop.roi.assist_local import correct_edited
from dlrs_desktop.roi.geometry import douglas_peucker_closed
from dlrs_desktop.training.assist_data import lesion_mask

CLICKS = 3


def hand_drawn(image, truth: np.ndarray, right: np.ndarray | None = None, clicked: bool = False):  # type: ignore[no-untyped-def]
    """An outline drawn by hand: the expert's line left of the lesion's centroid, drawn with care, and
    right of it `right` (default: a quick ellipse, the one with the expert mask's moments). `clicked`:
    drawn as a polygon clicked vertex by vertex (the traced outline's Douglas–Peucker vertices at 1 px),
    whose long straight edges a correction can meet between two vertices."""
    cx = round(float(np.nonzero(truth)[1].mean()))
    if right is None:
        pts = np.column_stack(np.nonzero(truth)[::-1]).astype(np.float32)
        ellipse = np.zeros(truth.shape, np.uint8)
        cv2.ellipse(ellipse, cv2.fitEllipse(pts), 1, -1)
        right = ellipse > 0
    drawn = right.copy()
    drawn[:, :cx] = truth[:, :cx]
    kept = keep_and_fill(drawn, drawn.astype(np.float32))
    outline = outline_from_mask(image, kept, (0, 0))
    if clicked:
        pts = np.asarray(outline.points)
        outline = Contour(pts[douglas_peucker_closed(pts, 1.0)], outline.calibration, outline.frame)
    return outline, cx


def _reproposed(image, model, box, points):  # type: ignore[no-untyped-def]
    return learned_box(image, box, model, points["include"], points["exclude"])


def run_case(
    image, truth: np.ndarray, model, rule: str, start
) -> tuple[list[float], list[float], int, list[float], float]:  # type: ignore[no-untyped-def]
    """Dice after 0..CLICKS clicks, the edit's survival after each, clicks obeyed, seconds per click, and
    the share of the hand-drawn half's vertices still exactly where they were drawn after the clicks."""
    contour, cx = start
    drawn_left = {tuple(p) for p in np.asarray(contour.points) if p[0] < cx}
    shape = truth.shape
    edit = contour.to_mask(shape).astype(bool)
    pts = np.asarray(contour.points)
    box = refine_box(*pts.min(axis=0), *pts.max(axis=0))
    points: dict[str, list] = {"include": [], "exclude": []}
    pred, dice, kept, obeyed, secs = edit, [mask_dice(edit, truth)], [1.0], 0, []
    for _ in range(CLICKS):
        nxt = next_correction(truth, pred)
        if nxt is None:
            dice.append(dice[-1])
            kept.append(kept[-1])
            continue
        kind, xy = nxt
        points[kind].append(xy)
        t0 = time.perf_counter()
        try:
            if rule == "local":
                contour = correct_edited(image, contour, xy, kind == "include", model)
            else:
                contour = _reproposed(image, model, box, points)
            pred = contour.to_mask(shape).astype(bool)
        except ContourError:
            pass  # refused: the outline stays
        secs.append(time.perf_counter() - t0)
        obeyed += bool(pred[int(xy[1]), int(xy[0])]) == (kind == "include")
        dice.append(mask_dice(pred, truth))
        kept.append(mask_dice(pred[:, :cx], edit[:, :cx]) if edit[:, :cx].any() else 1.0)
    final = {tuple(p) for p in np.asarray(contour.points)}
    vertices = len(drawn_left & final) / len(drawn_left) if drawn_left else 1.0
    return dice, kept, obeyed, secs, vertices


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--bundle", default=str(default_bundle_dir()))
    ap.add_argument("--split", default="val", choices=("val", "test"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument(
        "--start",
        default="ellipse",
        choices=("ellipse", "proposal"),
        help="right half of the hand-drawn outline: a quick ellipse, or the tight box's proposal",
    )
    ap.add_argument("--clicked", action="store_true", help="the outline drawn as a clicked polygon")
    ap.add_argument(
        "--reach",
        type=float,
        default=None,
        help="assist_local.REACH for this run (default: the shipped value; 0: the whole connected "
        "stretch of disagreement)",
    )
    args = ap.parse_args()
    print(machine_line())
    if args.reach is not None:
        assist_local.REACH = args.reach or None
    reach = assist_local.REACH or "connected stretch"
    drawn = "a clicked polygon" if args.clicked else "traced"
    print(f"start: expert line left, {args.start} right, {drawn}; local rule reach: {reach}")
    model = get_learned(args.bundle)
    bundle = load_assist_bundle(args.bundle)
    cases = [c for c in bundle.training_set()["cases"] if c["split"] == args.split]
    cases = cases[: args.limit] if args.limit else cases
    rng = np.random.default_rng(0)
    table: dict[tuple[str, str], list] = {}
    obeyed = {"re-proposed": [0, 0], "local": [0, 0]}
    secs: dict[str, list[float]] = {"re-proposed": [], "local": []}
    vertices: dict[str, list[float]] = {"re-proposed": [], "local": []}
    for case in cases:
        img_rel = next(r for r in case["files"] if "mask" not in Path(r).name.lower())
        mask_rel = next(r for r in case["files"] if r != img_rel)
        image, truth = load_image(args.data / img_rel), lesion_mask(args.data / mask_rel)
        try:
            right = None
            if args.start == "proposal":
                box = make_box("tight", truth, rng)
                right = learned_box(image, box, model).to_mask(truth.shape).astype(bool)
            start = hand_drawn(image, truth, right, args.clicked)
        except ContourError:
            continue
        for rule in ("re-proposed", "local"):
            dice, kept, ok, s, v = run_case(image, truth, model, rule, start)
            vertices[rule].append(v)
            for group in (case["pathology"], "all"):
                table.setdefault((rule, group), []).append((dice, kept))
            obeyed[rule][0] += ok
            obeyed[rule][1] += len(s)
            secs[rule] += s
    n = len(table.get(("local", "all"), []))
    print(f"{args.split} split of {bundle.label}: {n} of {len(cases)} cases")
    print("| rule | cases | Dice after 0 / 1 / 2 / 3 clicks | hand edit kept (Dice in its half) after 3 |")
    print("|---|---|---|---|")
    for (rule, group), rows in sorted(table.items()):
        dice = np.mean([r[0] for r in rows], axis=0)
        kept = np.mean([r[1][-1] for r in rows])
        print(f"| {rule}, {group} | {len(rows)} | {' / '.join(f'{d:.3f}' for d in dice)} | {kept:.3f} |")
    for rule, (ok, given) in obeyed.items():
        med = statistics.median(secs[rule]) * 1000 if secs[rule] else float("nan")
        print(
            f"{rule}: {ok} of {given} clicks ended on the side they asked for; median {med:.0f} ms per "
            f"click; hand-drawn half's vertices kept exactly: {np.mean(vertices[rule]):.1%}, all of them in "
            f"{np.mean(np.asarray(vertices[rule]) == 1.0):.1%} of cases"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
