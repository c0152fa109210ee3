"""Does a small network on the whole scan area tell another organ's scan from a breast scan it never saw?

    python benchmarks/organ_gate_probe.py --cohort docs/evaluation/real-bus/data/cohort.csv \
        --data DATA --nonbreast NONBREAST [--cache DIR] [--all-sets-fit]

The measurement registered in docs/DOMAIN_GUARD.md ("An organ check", before any number of it existed)
for the organ check (benchmarks/_organ_gate.py; first committed as model/organ_view.py and
training/organ_gate.py, moved here when the study found the check not worth offering). Breast scans: the
cohort's **train and internal splits only** (its external rows are skipped before their paths are read);
DATA holds the datasets' repository folders (owner+name/…) as the cohort's paths name them. Other
organs: NONBREAST holds one folder per set and its `sources.json` (name, organ, repository, commit,
licence, files); the organ of a set is the first word of its folder name, and every set of an organ is
held out together.

Printed, each fit with its threshold at the 99th percentile of the logits of the internal images of
the breast centres it was fitted on:
- each breast centre left out: the share of its images (train and internal) gated;
- each organ left out: the share of its images gated, and the internal split's;
- the full fit: the internal split with its images shown as a screen capture (a black margin with
  text round them), and with gamma 0.8 / 1.25.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

PERCENTILE = 99.0


def breast_rows(cohort: Path, data: Path) -> list[dict[str, str]]:
    """The cohort's train and internal rows with their image's path under DATA (external rows never)."""
    rows = []
    for r in csv.DictReader(cohort.open(newline="")):
        if r["split"] not in ("train", "internal"):
            continue
        rel = r["image"].split("../data/", 1)[-1]
        rows.append({**r, "path": str(data / rel)})
    return rows


def view_of(path: str, gamma: float = 1.0, screen: bool = False) -> np.ndarray:
    """The organ view of one image file, optionally with its grey levels changed or framed as a screen."""
    from _organ_gate import whole_scan_view

    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.imaging.loader import image_from_array
    from dlrs_desktop.imaging.types import Calibration

    image = load_image(path)
    gray = image.gray
    if gamma != 1.0 or screen:
        g = (255.0 * (gray / 255.0) ** gamma).astype(np.uint8)
        if screen:
            g = _as_screen(g)
        image = image_from_array(g, Calibration.manual(0.1), path=path)
        gray = image.gray
    return whole_scan_view(gray, image.scan_mask)


def _as_screen(g: np.ndarray) -> np.ndarray:
    """The image inside a black margin (40 % wider, 30 % taller) with white text above and beside it."""
    import cv2

    h, w = g.shape
    canvas = np.zeros((int(h * 1.3), int(w * 1.4)), np.uint8)
    top, left = int(h * 0.2), int(w * 0.25)
    canvas[top : top + h, left : left + w] = g
    cv2.putText(canvas, "L12-5 BREAST 12MHz", (4, max(12, top // 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    for k in range(4):
        cv2.putText(
            canvas, f"G{60 + k} D3.{k}", (2, top + 20 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1
        )
    return canvas


def cached_views(name: str, paths: list[str], cache: Path, **kw) -> np.ndarray:
    f = cache / f"{name}.npy"
    if f.exists():
        return np.load(f)
    v = np.stack([view_of(p, **kw) for p in paths])
    np.save(f, v)
    return v


def organ_sets(folder: Path, all_fit: bool) -> list[tuple[str, str, list[str], bool]]:
    """(set name, organ, image paths, may fit) per set of NONBREAST/sources.json; only a set whose
    `licence_class` is "shippable" may be a negative of a fit, the others are only measured (unless
    `all_fit`: a study of the method whose networks are thrown away)."""
    sets = []
    for s in json.loads((folder / "sources.json").read_text()):
        files = [str(folder / f["file"]) for f in s["files"]]
        fits = all_fit or s.get("licence_class") == "shippable"
        sets.append((s["name"], s["name"].split("-")[0], files, fits))
    return sets


def fit_and_threshold(pos, neg, neg_groups, internal):
    """(network, threshold) from the positives, the negatives and the fitted centres' internal views."""
    from _organ_gate import fit_gate, gate_logits

    x = np.r_[pos, neg]
    y = np.r_[np.zeros(len(pos)), np.ones(len(neg))]
    net = fit_gate(x, y, ["breast"] * len(pos) + list(neg_groups))
    return net, float(np.percentile(gate_logits(net, internal), PERCENTILE))


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def share(net, views, thr) -> float:
    from _organ_gate import gate_logits

    return float((gate_logits(net, views) > thr).mean()) if len(views) else float("nan")


@dataclass(frozen=True)
class Others:
    """The other organs' views per set, each set's organ, and the sets that may fit."""

    views: dict[str, np.ndarray]
    organ_of: dict[str, str]
    fits: frozenset[str]

    def negatives(self, without: str = "") -> tuple[np.ndarray, list[str]]:
        """Views of every set that may fit, except `without`'s, with each view's organ."""
        keep = [n for n in sorted(self.fits) if self.organ_of[n] != without]
        groups = [self.organ_of[n] for n in keep for _ in self.views[n]]
        return np.concatenate([self.views[n] for n in keep]), groups

    def held(self, organ: str) -> np.ndarray:
        """Views of every set of `organ`."""
        return np.concatenate([v for n, v in self.views.items() if self.organ_of[n] == organ])


def leave_centres_out(views, centre, split, others: Others, clock) -> dict[str, float]:
    """Each breast centre left out: the share of its images gated by a fit on the other centre."""
    out = {}
    all_neg, all_groups = others.negatives()
    for c in sorted(set(centre)):
        fit = centre != c
        net, thr = fit_and_threshold(
            views[fit & (split == "train")], all_neg, all_groups, views[fit & (split == "internal")]
        )
        out[c] = share(net, views[centre == c], thr)
        n_c = int((centre == c).sum())
        print(
            f"breast centre {c} left out: {pct(out[c])} of its {n_c} gated (threshold {thr:.3f}); {clock()}"
        )
    return out


def leave_organs_out(views, split, others: Others, clock) -> tuple[dict[str, float], object, float]:
    """Each organ left out (a measure-only one by the full fit); returns the shares and the full fit."""
    out = {}
    train, internal = views[split == "train"], views[split == "internal"]
    for o in sorted({others.organ_of[n] for n in others.fits}):
        net, thr = fit_and_threshold(train, *others.negatives(without=o), internal)
        held = others.held(o)
        out[o] = share(net, held, thr)
        inside = pct(share(net, internal, thr))
        print(
            f"organ {o} left out: {pct(out[o])} of its {len(held)} gated; internal split {inside}; {clock()}"
        )
    net, thr = fit_and_threshold(train, *others.negatives(), internal)
    print(f"full fit: internal split {pct(share(net, internal, thr))} gated (threshold {thr:.3f})")
    for o in sorted(set(others.organ_of.values()) - set(out)):
        held = others.held(o)
        out[o] = share(net, held, thr)
        print(f"organ {o} never fitted: {pct(out[o])} of its {len(held)} gated by the full fit")
    return out, net, thr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--nonbreast", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=Path("organ-gate-cache"))
    ap.add_argument(
        "--all-sets-fit", action="store_true",
        help="let measure-only sets be negatives too: a study of the method, nothing of it may ship",
    )  # fmt: skip
    a = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    a.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    def clock() -> str:
        return f"{time.time() - t0:.0f} s"

    print(machine_line())
    rows = breast_rows(a.cohort, a.data)
    views = cached_views("breast", [r["path"] for r in rows], a.cache)
    centre = np.array([r["centre"] for r in rows])
    split = np.array([r["split"] for r in rows])
    sets = organ_sets(a.nonbreast, a.all_sets_fit)
    others = Others(
        {n: cached_views(f"set-{n}", files, a.cache) for n, _, files, _ in sets},
        {n: o for n, o, _, _ in sets},
        frozenset(n for n, _, _, ok in sets if ok),
    )
    counts = dict(zip(*np.unique(centre + ":" + split, return_counts=True), strict=True))
    print(f"breast: {len(rows)} ({counts})")
    for n, o, files, ok in sets:
        print(f"other: {n} ({o}) {len(files)}{'' if ok else ' (measure-only: never fitted)'}")
    loco = leave_centres_out(views, centre, split, others, clock)
    looo, net, thr = leave_organs_out(views, split, others, clock)
    paths = [r["path"] for r, s in zip(rows, split, strict=True) if s == "internal"]
    for label, kw in (
        ("screen capture", {"screen": True}),
        ("gamma 0.8", {"gamma": 0.8}),
        ("gamma 1.25", {"gamma": 1.25}),
    ):
        v = cached_views("internal-" + label.replace(" ", "-"), paths, a.cache, **kw)
        print(f"full fit, internal split as {label}: {pct(share(net, v, thr))} gated")
    mean_organ = float(np.mean(list(looo.values())))
    print(f"mean share of a left-out organ gated: {100 * mean_organ:.1f} %; worst breast centre left out: "
          f"{100 * max(loco.values()):.1f} %; {clock()} in all")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
