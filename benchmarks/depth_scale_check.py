"""How well `read_depth_scale` reads mm/pixel, and how often it refuses (issue 25, item 2).

    python benchmarks/depth_scale_check.py [--synthetic 40] [--busbra-every 5] [--busi-every 1] \
        [--busbra DIR] [--busi DIR] [--breast DIR] > benchmarks/results/depth_scale.txt

Sets:
  (a) real ultrasound DICOM whose ultrasound region gives the true spacing: the fixtures in tests/data/real
      and every US file shipped with pydicom; `examples_palette.dcm` is OBXXXX1A's top 350 rows (checked
      pixel by pixel here), so OBXXXX1A's region spacing is its truth too;
  (b) synthetic scanner screens from `training/synth_render.render_case` (known spacing; 70 % draw a ruler
      of 5 mm ticks with longer centimetre ticks);
  (c) the BUS-BRA fixture with a ruler on a black strip (no recorded pixel size: plausibility only);
  (d) images without a legible scale: BUSI benign, BUS-BRA (every Nth), BrEaST-Lesions_USG (recorded
      pixel size: any reading is compared with it).
Per image: the reading (mm/px, ticks) or the refusal, and the relative error where the truth is known.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _machine import machine_line  # noqa: E402

from dlrs_desktop.imaging import image_from_array, load_image  # noqa: E402
from dlrs_desktop.imaging.depth_scale import DepthScaleRefusal, read_depth_scale  # noqa: E402

rows: list[dict] = []


def record(group: str, name: str, image, truth: float | None, note: str = "") -> None:
    t0 = time.perf_counter()
    r = read_depth_scale(image)
    ms = 1000 * (time.perf_counter() - t0)
    if isinstance(r, DepthScaleRefusal):
        row = {"group": group, "name": name, "read": None, "truth": truth, "text": r.reason, "ms": ms}
    else:
        err = None if truth is None else r.mm_per_px / truth - 1
        text = (
            f"{r.mm_per_px:.4f} mm/px, {r.tick_count} ticks {r.period_px:.2f} px = {r.tick_mm:g} mm, {r.side}"
        )
        row = {
            "group": group,
            "name": name,
            "read": r.mm_per_px,
            "truth": truth,
            "err": err,
            "text": text,
            "ms": ms,
        }
    row["note"] = note
    rows.append(row)
    truth_s = "-" if truth is None else f"{truth:.4f}"
    err_s = f"{100 * row['err']:+.2f} %" if row.get("err") is not None else ""
    print(f"{group:<10} {name:<28} truth {truth_s:>7}  {row['text'][:150]}  {err_s} {note}".rstrip())


def region_truth(image) -> float | None:
    tissue = [r for r in image.regions if r.usable_for_mm]
    return tissue[0].calibration().mm_per_px_y if tissue else None


def real_dicom() -> None:
    import pydicom

    files = sorted(glob.glob(str(ROOT / "tests/data/real/scan_*.dcm")))
    pyd = Path(pydicom.__file__).parent / "data" / "test_files"
    for f in sorted(pyd.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:  # a damaged test file is not ours to judge
            continue
        if ds.get("Modality") == "US" and int(ds.get("Rows", 0)) >= 200:
            files.append(str(f))
    ob = load_image(ROOT / "tests/data/real/scan_OBXXXX1A.dcm")
    for f in files:
        image = load_image(f)
        truth, note = region_truth(image), ""
        if Path(f).name == "examples_palette.dcm" and np.array_equal(
            image.display, ob.display[: image.height, : image.width]
        ):
            truth, note = ob.calibration.mm_per_px_y, "(crop of OBXXXX1A: its region's spacing)"
        elif truth is None and image.regions:
            note = "(region does not fit the pixels: resized, no truth)"
        record("dicom", Path(f).name, image, truth, note)


def synthetic(n: int) -> None:
    from dlrs_desktop.training.synth import CENTRES
    from dlrs_desktop.training.synth_render import Latents, render_case

    for i in range(n):
        rng = np.random.default_rng(7000 + i)
        lat = Latents(*(float(v) for v in rng.standard_normal(6)))
        r = render_case(rng, lat, CENTRES[1 + i % 2])
        image = image_from_array(r.gray)
        record("synthetic", f"seed {7000 + i}", image, r.mm_per_px if r.has_ruler else None,
               "" if r.has_ruler else "(no ruler drawn)")  # fmt: skip


def without_scale(busbra_every: int, busi_every: int, folders: dict[str, Path | None]) -> None:
    from dlrs_desktop.training.cohort_import import find_breast

    fixture = ROOT / "tests/data/real/scan_busbra_0930-l.png"
    record(
        "busbra-fix",
        fixture.name,
        load_image(fixture),
        None,
        "(ruler on a black strip; no recorded pixel size)",
    )
    busi = sorted((folders["busi"] / "benign/images").glob("*.png")) if folders["busi"] else []
    for p in busi[::busi_every]:
        record("busi", p.name, load_image(p), None)
    busbra = sorted((folders["busbra"] / "Images").glob("*.png")) if folders["busbra"] else []
    for p in busbra[::busbra_every]:
        record("busbra", p.name, load_image(p), None)
    cases, mmpp, _, _ = find_breast(folders["breast"]) if folders["breast"] else ([], {}, [], [])
    for c in cases:
        record("breast", c.image_path.name, load_image(c.image_path), mmpp.get(c.id), "(recorded Pixel_size)")


def summary() -> None:
    known = [r for r in rows if r["truth"] is not None and r["group"] in ("dicom", "synthetic")]
    read = [r for r in known if r["read"] is not None]
    errs = [abs(r["err"]) for r in read]
    print("\n== summary ==")
    for group in ("dicom", "synthetic"):
        g = [r for r in known if r["group"] == group]
        gr = [abs(r["err"]) for r in g if r["read"] is not None]
        if g:
            stats = (
                f"median |error| {100 * statistics.median(gr):.2f} %, max {100 * max(gr):.2f} %" if gr else ""
            )
            print(
                f"{group:<10} truth known {len(g):>3}, read {len(gr):>3}, "
                f"refused {len(g) - len(gr):>3}; {stats}"
            )
    if errs:
        med, worst = 100 * statistics.median(errs), 100 * max(errs)
        over = sum(e > 0.10 for e in errs)
        print(
            f"all known  read {len(errs)}/{len(known)}: median |error| {med:.2f} %, "
            f"max {worst:.2f} %, over 10 %: {over}"
        )
    for group in ("synthetic", "busi", "busbra", "breast", "dicom", "busbra-fix"):
        g = [r for r in rows if r["group"] == group and (group != "synthetic" or r["truth"] is None)]
        g = [r for r in g if not (group == "dicom" and r["truth"] is not None)]
        if g:
            refused = sum(r["read"] is None for r in g)
            label = "no ruler" if group == "synthetic" else "no truth" if group == "dicom" else "images"
            share = 100 * refused / len(g)
            print(
                f"{group:<10} {label}: {len(g):>4}, refused {refused} ({share:.1f} %), "
                f"read {len(g) - refused}"
            )
    bad = [r for r in rows if r["group"] == "breast" and r["read"] is not None]
    for r in bad:
        print(f"  BrEaST read: {r['name']} {r['read']:.4f} vs recorded {r['truth']}: {100 * r['err']:+.1f} %")
    ms = [r["ms"] for r in rows]
    print(f"time per image: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, default=40)
    ap.add_argument("--busbra-every", type=int, default=5)
    ap.add_argument("--busi-every", type=int, default=1)
    ap.add_argument("--busbra", type=Path, help="local BUS-BRA folder (Images/, Masks/, bus_data.csv)")
    ap.add_argument("--busi", type=Path, help="local BUSI folder (benign/images/, malignant/images/)")
    ap.add_argument("--breast", type=Path, help="folder holding BrEaST's images folder and clinical sheet")
    args = ap.parse_args()
    print(machine_line())
    print(f"git {os.popen(f'git -C {ROOT} rev-parse --short HEAD').read().strip()}\n")
    real_dicom()
    synthetic(args.synthetic)
    without_scale(args.busbra_every, args.busi_every, {"busbra": args.busbra, "busi": args.busi,
                                                       "breast": args.breast})  # fmt: skip
    summary()


if __name__ == "__main__":
    main()
