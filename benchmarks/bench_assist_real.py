"""Contour assist on real breast ultrasound: the held-out test split of BUS-BRA + BUSI, or a whole
dataset the bundle never saw (leave-one-dataset-out, issue 28).

    python benchmarks/bench_assist_real.py DATA_DIR [--bundle DIR] [--limit N] [--seed 0]
    python benchmarks/bench_assist_real.py HELD_OUT_DIR --held-out --bundle DIR

DATA_DIR is the folder `dlrs train-assist --data` read. The test cases are those the bundle's
training-set manifest (training_set.json) puts in the patient-level test split — never used for
training, early stopping or model selection; their sha256 are checked against the manifest.
With `--held-out`, every usable case under HELD_OUT_DIR (the same exclusions as training: several
lesions, empty or mis-sized masks, near-duplicates) is a test case, and the run stops if any of its
files is in the bundle's training-set manifest (in any split): a leave-one-dataset-out bundle is
trained with `dlrs train-assist --data` on the other datasets only.
Images are loaded by the application's own loader (scan area detected, no calibration: PNG).

Rows (each: mean Dice and median HD95 in px against the expert mask, per benign / malignant):
* tight box (the mask's bounding box), box padded 10 % per side, box sides jittered ±5 % (seeded);
  for the learned model, the classical assist, the inscribed ellipse and Otsu-in-box;
* centroid click (learned, classical): refusals counted;
* diameter (learned, bundles trained with diameter prompts): two clicks at the ends of the expert
  mask's longest diameter;
* tight box + 1, 2, 3 corrective clicks (learned, bundles that take them, 2.1.0 on), placed as the
  interactive-segmentation benchmarks place them (NoC protocol): each at the point of the current
  outline's error farthest from that error's edge, "include" where the outline misses lesion,
  "exclude" where it takes in background; how many clicks end on the side they asked for;
* snap of the expert contour grown or shrunk by 5 px: % of cases where Dice and HD95 are both no
  worse than before (tolerance 0.005 Dice, 0.5 px HD95: resampling alone moves them that much);
* CPU latency of the learned proposals (median, in this process, pre- and post-processing
  included) and model load time (median of 3 fresh processes), with the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from dlrs_desktop.bundle_signature import TrustPolicy
from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.assist import propose_from_box, propose_from_click
from dlrs_desktop.roi.assist_bundle import default_bundle_dir, load_assist_bundle
from dlrs_desktop.roi.assist_eval import hd95_px, mask_dice
from dlrs_desktop.roi.assist_finish import finish_contour
from dlrs_desktop.roi.assist_learned import get_learned, learned_box, learned_click, learned_diameter
from dlrs_desktop.roi.snap import snap_to_edges
from dlrs_desktop.training.assist_augment import centroid_click, lesion_box, longest_diameter
from dlrs_desktop.training.assist_data import lesion_mask

BOXES = ("tight", "pad10", "jitter5")
CACHE_VERSION = "snap-0.3-1.5"  # change when the classical assist or snap changes


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, load average {load:.1f}, {platform.system()} {platform.release()}"


def make_box(kind: str, mask: np.ndarray, rng: np.random.Generator) -> tuple[float, ...]:
    x0, y0, x1, y1 = lesion_box(mask)
    w, h = x1 - x0, y1 - y0
    if kind == "pad10":
        return x0 - 0.1 * w, y0 - 0.1 * h, x1 + 0.1 * w, y1 + 0.1 * h
    if kind == "jitter5":
        d = rng.uniform(-0.05, 0.05, 4) * np.array([w, h, w, h])
        return x0 + d[0], y0 + d[1], x1 + d[2], y1 + d[3]
    return x0, y0, x1, y1


def ellipse_mask(shape: tuple[int, int], box) -> np.ndarray:  # type: ignore[no-untyped-def]
    m = np.zeros(shape, np.uint8)
    c = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    ax = ((box[2] - box[0]) / 2, (box[3] - box[1]) / 2)
    cv2.ellipse(
        m,
        (round(c[0] * 16), round(c[1] * 16)),
        (round(ax[0] * 16), round(ax[1] * 16)),
        0,
        0,
        360,
        1,
        -1,
        cv2.LINE_8,
        4,
    )
    return m > 0


def otsu_mask(grey: np.ndarray, box) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The darker Otsu class inside the box, the component nearest the box centre, holes filled."""
    h, w = grey.shape
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    sub = cv2.GaussianBlur(grey[y0:y1, x0:x1], (0, 0), 2.0)
    _, th = cv2.threshold(sub, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, lab = cv2.connectedComponents(th.astype(np.uint8))
    out = np.zeros(grey.shape, bool)
    if n <= 1:
        return out
    yy, xx = np.mgrid[0 : th.shape[0], 0 : th.shape[1]]
    cy, cx = th.shape[0] / 2, th.shape[1] / 2
    near = np.exp(-((xx - cx) ** 2 / (0.3 * th.shape[1]) ** 2 + (yy - cy) ** 2 / (0.3 * th.shape[0]) ** 2))
    best = 1 + int(np.argmax(np.bincount(lab.ravel(), weights=near.ravel(), minlength=n)[1:]))
    comp = (lab == best).astype(np.uint8)
    cs, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(comp, cs, -1, 1, cv2.FILLED)
    out[y0:y1, x0:x1] = comp > 0
    return out


def contour_of_mask(image, mask: np.ndarray):  # type: ignore[no-untyped-def]
    pts = geo.mask_to_polygon(mask, upsample=2, smooth_px=1.0, tolerance=0.05)
    return finish_contour(image, pts)


def classical_scores(image, truth, *, box=None, click=None) -> list:  # type: ignore[no-untyped-def]
    """[Dice, HD95 px] of the classical assist (HD95 None when it refused)."""
    try:
        if box is not None:
            pred = propose_from_box(image, box, engine="classical").to_mask(image.shape)
        else:
            pred = propose_from_click(image, click, engine="classical").to_mask(image.shape)
    except ContourError:
        return [0.0, None]
    return [mask_dice(pred, truth), hd95_px(pred, truth)]


def snap_scores(image, truth: np.ndarray, moved: np.ndarray) -> list[float]:  # type: ignore[no-untyped-def]
    """[Dice before, Dice after, HD95 before, HD95 after] of snapping the outline of `moved`."""
    start = contour_of_mask(image, moved)
    before = start.to_mask(image.shape)
    try:
        after = snap_to_edges(image, start).to_mask(image.shape)
    except ContourError:
        after = before
    return [mask_dice(before, truth), mask_dice(after, truth), hd95_px(before, truth), hd95_px(after, truth)]


def held_out_cases(data: Path, training_set: dict) -> list[dict]:
    """Every usable case under `data`, as the manifest lists cases; none may be a training-set file."""
    from dlrs_desktop.training.assist_data import load_cases

    seen = {sha for c in training_set["cases"] for sha in c["files"].values()}
    stored, excluded = load_cases(data, seed=0)
    cases = [
        {"files": s.case.files, "pathology": s.case.pathology, "dataset": s.case.dataset} for s in stored
    ]
    clash = sum(sha in seen for c in cases for sha in c["files"].values())
    if clash:
        raise SystemExit(f"{clash} files under {data} are in the bundle's training set: not held out")
    counts = {k: len(v) for k, v in excluded.items()}
    print(f"held out: {len(cases)} cases; excluded {counts}", file=sys.stderr)
    return cases


def next_correction(truth: np.ndarray, pred: np.ndarray) -> tuple[str, tuple[float, float]] | None:
    """The NoC protocol's next click: the error pixel farthest from the error's edge, and its kind."""
    error = (truth ^ pred).astype(np.uint8)
    if not error.any():
        return None
    dist = cv2.distanceTransform(np.pad(error, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return ("include" if truth[y, x] else "exclude"), (float(x) + 0.5, float(y) + 0.5)


def corrected_scores(image, truth: np.ndarray, model, box, start: np.ndarray | None, clicks: int = 3):  # type: ignore[no-untyped-def]
    """[(Dice, HD95) after 1..clicks corrective clicks], clicks honoured, clicks given, seconds each."""
    pred = start if start is not None else np.zeros(truth.shape, bool)
    points: dict[str, list] = {"include": [], "exclude": []}
    out, honoured, given, secs = [], 0, 0, []
    for _ in range(clicks):
        nxt = next_correction(truth, pred)
        if nxt is None:  # nothing left to correct: the outline stays
            out.append((mask_dice(pred, truth), hd95_px(pred, truth)))
            continue
        kind, xy = nxt
        points[kind].append(xy)
        t0 = time.perf_counter()
        with contextlib.suppress(ContourError):  # refused: the outline stays as it was
            pred = learned_box(image, box, model, points["include"], points["exclude"]).to_mask(truth.shape)
        secs.append(time.perf_counter() - t0)
        given += 1
        honoured += bool(pred[int(xy[1]), int(xy[0])]) == (kind == "include")
        out.append((mask_dice(pred, truth), hd95_px(pred, truth)))
    return out, honoured, given, secs


def model_load_seconds(bundle: str, allow: bool = False) -> float:
    root = str(Path(__file__).resolve().parent.parent)
    code = (
        f"import sys,time; sys.path.insert(0, {root!r}); "
        "from dlrs_desktop.roi.assist_learned import get_learned; "
        "from dlrs_desktop.bundle_signature import TrustPolicy; "
        f"t=time.perf_counter(); get_learned({bundle!r}, TrustPolicy(allow_unsigned={allow!r})); "
        "print(time.perf_counter()-t)"
    )
    times = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True).strip()) for _ in range(3)
    ]
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--bundle", default=str(default_bundle_dir()))
    ap.add_argument("--limit", type=int, default=0, help="first N test cases only (quick look)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the ±5 % jitter")
    ap.add_argument("--no-classical", action="store_true", help="skip the (slow) classical assist rows")
    ap.add_argument("--allow-unsigned", action="store_true", help="use a bundle no trusted key signed")
    ap.add_argument(
        "--held-out", action="store_true",
        help="test on every usable case under DATA_DIR, a dataset the bundle was not trained on",
    )  # fmt: skip
    ap.add_argument(
        "--cache",
        type=Path,
        help="JSON file keeping the model-independent results (classical assist, snap) per case, image "
        "sha256 and prompt: a rerun for a new model recomputes only the learned rows",
    )
    args = ap.parse_args()
    cache: dict[str, list] = {}
    if args.cache and args.cache.is_file():
        cache = json.loads(args.cache.read_text(encoding="utf-8"))

    def cached(key: str, fn):  # type: ignore[no-untyped-def]
        if key not in cache:
            cache[key] = fn()
        return cache[key]

    bundle = load_assist_bundle(args.bundle)
    # a leave-one-dataset-out bundle is a research build, not signed by the release key
    model = get_learned(args.bundle, TrustPolicy(allow_unsigned=args.allow_unsigned))
    ts = bundle.training_set()
    if args.held_out:
        tests = held_out_cases(args.data, ts)
    else:
        tests = [c for c in ts["cases"] if c["split"] == "test"]
    if args.limit:
        tests = tests[: args.limit]
    rng = np.random.default_rng(args.seed)
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    refusals: dict[str, int] = {"learned": 0, "classical": 0}
    snap_ok: list[bool] = []
    snap_gain: list[tuple[float, float, float, float]] = []
    lat: dict[str, list[float]] = {"box": [], "click": [], "corrected": []}
    corrections = [0, 0]  # corrective clicks that ended on the side they asked for, clicks given

    def add(key: tuple[str, str], path: str, truth: np.ndarray, pred: np.ndarray | None) -> None:
        val = (0.0, float("inf")) if pred is None else (mask_dice(pred, truth), hd95_px(pred, truth))
        rows.setdefault(key, []).append(val)
        rows.setdefault((key[0], "all"), []).append(val)

    t_start = time.perf_counter()
    for n, case in enumerate(tests):
        files = {rel: sha for rel, sha in case["files"].items()}
        img_rel = next(r for r in files if "mask" not in Path(r).name.lower())
        mask_rel = next(r for r in files if r != img_rel)
        for rel, sha in files.items():
            if hashlib.sha256((args.data / rel).read_bytes()).hexdigest() != sha:
                raise SystemExit(f"{rel}: sha256 differs from the bundle's training-set manifest")
        img_sha = files[img_rel][:16]
        image = load_image(args.data / img_rel)
        truth = lesion_mask(args.data / mask_rel)
        path = case["pathology"]
        shape = image.shape
        for kind in BOXES:
            box = make_box(kind, truth, rng)
            t0 = time.perf_counter()
            try:
                c = learned_box(image, box, model)
                pred = c.to_mask(shape)
            except ContourError:
                pred = None
            lat["box"].append(time.perf_counter() - t0)
            add((f"{kind} box: learned", path), path, truth, pred)
            if kind == "tight" and model.supports_corrections:
                scores, ok, given, secs = corrected_scores(image, truth, model, box, pred)
                for k, val in enumerate(scores, start=1):
                    rows.setdefault((f"tight box + {k} corrective clicks: learned", path), []).append(val)
                    rows.setdefault((f"tight box + {k} corrective clicks: learned", "all"), []).append(val)
                corrections[0] += ok
                corrections[1] += given
                lat["corrected"] += secs
            add((f"{kind} box: ellipse", path), path, truth, ellipse_mask(shape, box))
            add((f"{kind} box: Otsu in box", path), path, truth, otsu_mask(image.gray, box))
            if not args.no_classical:
                key = f"{CACHE_VERSION}|{img_sha}|{kind}|{','.join(f'{v:.3f}' for v in box)}|classical"
                d, h = cached(key, partial(classical_scores, image, truth, box=box))
                for row in (
                    (f"{kind} box: classical assist", path),
                    (f"{kind} box: classical assist", "all"),
                ):
                    rows.setdefault(row, []).append((d, h if h is not None else float("inf")))
        xy = centroid_click(truth)
        t0 = time.perf_counter()
        try:
            pred = learned_click(image, xy, model).to_mask(shape)
        except ContourError:
            pred = None
            refusals["learned"] += 1
        lat["click"].append(time.perf_counter() - t0)
        add(("centroid click: learned", path), path, truth, pred)
        if model.supports_diameter:
            try:
                pred = learned_diameter(image, longest_diameter(truth), model).to_mask(shape)
            except ContourError:
                pred = None
            add(("diameter: learned", path), path, truth, pred)
        if not args.no_classical:
            key = f"{CACHE_VERSION}|{img_sha}|click|{xy[0]:.2f},{xy[1]:.2f}|classical"
            d, h = cached(key, partial(classical_scores, image, truth, click=xy))
            refusals["classical"] += h is None
            for key in (("centroid click: classical", path), ("centroid click: classical", "all")):
                rows.setdefault(key, []).append((d, h if h is not None else float("inf")))
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
        for op_name, op in (("grow", cv2.dilate), ("shrink", cv2.erode)):
            moved = op(truth.astype(np.uint8), k) > 0
            if moved.sum() < 30:
                continue
            d0, d1, h0, h1 = cached(
                f"{CACHE_VERSION}|{img_sha}|snap-{op_name}", partial(snap_scores, image, truth, moved)
            )
            snap_ok.append(d1 >= d0 - 0.005 and h1 <= h0 + 0.5)
            snap_gain.append((d0, d1, h0, h1))
        if (n + 1) % 25 == 0:
            if args.cache:
                args.cache.write_text(json.dumps(cache), encoding="utf-8")
            print(f"  {n + 1}/{len(tests)} cases, {time.perf_counter() - t_start:.0f} s", file=sys.stderr)

    if args.cache:
        args.cache.write_text(json.dumps(cache), encoding="utf-8")
    what = f"the whole held-out dataset {args.data.name}" if args.held_out else "the held-out test split"
    print(
        f"# Contour assist on {what} ({len(tests)} cases: "
        f"{sum(c['pathology'] == 'benign' for c in tests)} benign, "
        f"{sum(c['pathology'] == 'malignant' for c in tests)} malignant; "
        f"BUS-BRA {sum(c['dataset'] == 'BUS-BRA' for c in tests)}, "
        f"BUSI {sum(c['dataset'] == 'BUSI' for c in tests)})"
    )
    print(
        f"model: {bundle.label} (manifest sha256 {bundle.manifest_sha256[:12]}…)  date: "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print(f"machine: {machine()}")
    print()
    print(
        "| prompt: method | Dice all | HD95 px all | Dice benign | HD95 benign "
        "| Dice malignant | HD95 malignant |"
    )
    print("|---|---|---|---|---|---|---|")
    names = sorted({k[0] for k in rows}, key=lambda s: (s.split(":")[0], s))
    for name in names:
        cells = []
        for p in ("all", "benign", "malignant"):
            v = rows.get((name, p), [])
            if v:
                d = np.mean([x[0] for x in v])
                h = np.median([x[1] for x in v])
                cells += [f"{d:.3f}", f"{h:.1f}"]
            else:
                cells += ["–", "–"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print(
        f"centroid-click refusals: learned {refusals['learned']}/{len(tests)}"
        + ("" if args.no_classical else f", classical {refusals['classical']}/{len(tests)}")
    )
    if snap_ok:
        g = np.array(snap_gain)
        print(
            f"snap of the expert contour grown/shrunk by 5 px: Dice and HD95 both no worse in "
            f"{100 * np.mean(snap_ok):.1f} % of {len(snap_ok)} cases; mean Dice {g[:, 0].mean():.3f} → "
            f"{g[:, 1].mean():.3f}, median HD95 {np.median(g[:, 2]):.1f} → {np.median(g[:, 3]):.1f} px"
        )
    if corrections[1]:
        print(
            f"corrective clicks (NoC protocol from the tight box): {corrections[0]}/{corrections[1]} "
            f"({100 * corrections[0] / corrections[1]:.1f} %) end on the side they asked for; "
            f"median {1000 * np.median(lat['corrected']):.0f} ms per corrected proposal"
        )
    print(
        "learned latency (CPU, ONNX Runtime, pre+post-processing): "
        f"box median {1000 * np.median(lat['box']):.0f} ms, "
        f"click median {1000 * np.median(lat['click']):.0f} ms; "
        f"model load {model_load_seconds(args.bundle, args.allow_unsigned):.2f} s "
        "(median of 3 fresh processes)"
    )
    print()
    checks = []
    floor = 0.88 if args.held_out else 0.90  # issue 28's leave-one-dataset-out bar; the pooled split's
    for p in ("benign", "malignant"):
        d = np.mean([x[0] for x in rows[("tight box: learned", p)]])
        e = np.mean([x[0] for x in rows[("tight box: ellipse", p)]])
        checks.append(
            (
                f"tight box {p}: Dice {d:.3f} ≥ {floor:.2f} and ≥ ellipse {e:.3f} + 0.03",
                d >= floor and d >= e + 0.03,
            )
        )
    if args.held_out:
        tight, pad = (np.mean([x[0] for x in rows[(f"{k} box: learned", "all")]]) for k in ("tight", "pad10"))
        checks.append((f"tight box {tight:.3f} no worse than the box padded 10 % {pad:.3f}", tight >= pad))
    for kind in ("pad10", "jitter5"):
        d = np.mean([x[0] for x in rows[(f"{kind} box: learned", "all")]])
        checks.append((f"{kind} box: Dice {d:.3f} ≥ 0.88", d >= 0.88))
    d = np.mean([x[0] for x in rows[("centroid click: learned", "all")]])
    checks.append(
        (
            f"centroid click: {refusals['learned']} refusals, Dice {d:.3f} ≥ 0.85",
            refusals["learned"] == 0 and d >= 0.85,
        )
    )
    if snap_ok:
        checks.append((f"snap no worse in {100 * np.mean(snap_ok):.1f} % ≥ 80 %", np.mean(snap_ok) >= 0.8))
    checks.append(
        (f"box latency {1000 * np.median(lat['box']):.0f} ms ≤ 100 ms", np.median(lat["box"]) <= 0.1)
    )
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(json.dumps({"elapsed_s": round(time.perf_counter() - t_start, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
