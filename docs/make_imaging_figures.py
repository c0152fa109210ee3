"""Draw the pictures of docs/IMAGING.md from the real-scan test corpus (tests/data/real/scan_*).

    python docs/make_imaging_figures.py        # writes docs/imaging/*.png

Everything drawn is computed by the application's own code (load_image, compute_rois); nothing is
hand-placed except the example contours, which are the ones the tests use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlrs_desktop.imaging import Calibration, effective_calibration, load_image  # noqa: E402
from dlrs_desktop.roi import Contour, compute_rois  # noqa: E402

REAL = ROOT / "tests" / "data" / "real"
OUT = ROOT / "docs" / "imaging"
VIEW_COLOURS = [(60, 220, 60), (230, 80, 230), (60, 200, 255)]  # BGR
RING_COLOURS = {"intratumoral": (0, 0, 255), "ring_3mm": (0, 200, 255), "ring_5mm": (255, 200, 0)}


def _circle(cx: float, cy: float, r: float, n: int = 180) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]


def _base(image) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(image.display), cv2.COLOR_RGB2BGR).copy()


def _views(canvas: np.ndarray, image) -> None:
    labels = image.views if image.views is not None else image.scan_mask.astype(np.uint8)
    for label in range(1, int(labels.max()) + 1):
        one = (labels == label).astype(np.uint8)
        cnts, _ = cv2.findContours(one, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(canvas, cnts, -1, VIEW_COLOURS[(label - 1) % 3], 2)


def _regions(canvas: np.ndarray, image) -> None:
    for r in image.regions:
        for x in range(r.x0, r.x1, 12):  # dashed: the rectangle the scanner declared
            cv2.line(canvas, (x, r.y0), (min(x + 6, r.x1), r.y0), (200, 200, 200), 1)
            cv2.line(canvas, (x, r.y1), (min(x + 6, r.x1), r.y1), (200, 200, 200), 1)
        for y in range(r.y0, r.y1, 12):
            cv2.line(canvas, (r.x0, y), (r.x0, min(y + 6, r.y1)), (200, 200, 200), 1)
            cv2.line(canvas, (r.x1, y), (r.x1, min(y + 6, r.y1)), (200, 200, 200), 1)


def _rois(canvas: np.ndarray, rois) -> None:
    for roi in rois:
        colour = RING_COLOURS.get(roi.name, (255, 255, 255))
        for outline in roi.outlines:
            cv2.polylines(canvas, [np.round(outline - 0.5).astype(np.int32)], True, colour, 1, cv2.LINE_AA)


def _save(name: str, canvas: np.ndarray, scale: float = 1.0) -> None:
    if scale != 1.0:
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    OUT.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(OUT / name), canvas, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print("wrote", OUT / name)


def fan() -> None:
    image = load_image(REAL / "scan_OBXXXX1A.dcm")
    contour = Contour(_circle(480, 300, 10.0 / 0.2622878766196998))
    rois = compute_rois(contour, image)
    canvas = _base(image)
    _regions(canvas, image)
    _views(canvas, image)
    _rois(canvas, rois)
    print("OB 10 mm circle, outside the scan:", ", ".join(f"{r.name} {r.clipped_fraction:.1%}" for r in rois))
    _save(
        "scan_area_fan.png",
        canvas,
        0.8,
    )


def split() -> None:
    image = load_image(REAL / "scan_US1_UNCR.dcm")
    t = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    points = np.c_[205 + 100 * np.cos(t), 222.5 + 62.5 * np.sin(t)]
    eff = effective_calibration(image, points, override=Calibration.manual(0.1))
    rois = compute_rois(Contour(points), eff.image)
    canvas = _base(image)
    _views(canvas, image)
    _rois(canvas, rois)
    outside = rois["ring_10mm"].clipped_fraction
    print(f"US1 lymph node: 10 mm ring {outside:.1%} outside (the right view and the image edge)")
    _save(
        "scan_area_split.png",
        canvas,
        0.9,
    )


def dual_regions() -> None:
    image = load_image(REAL / "scan_ALOKA_dual.dcm")
    rois = compute_rois(Contour(_circle(250, 300, 40)), image)
    canvas = _base(image)
    _regions(canvas, image)
    _views(canvas, image)
    _rois(canvas, rois)
    _save("scan_area_dual_regions.png", canvas, 0.9)


def crop() -> None:
    cal = Calibration.manual(0.1)
    image = load_image(REAL / "scan_busbra_0864-l.png").with_calibration(cal)
    lesion = cv2.imread(str(REAL / "scan_busbra_0864-l_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    rois = compute_rois(Contour.from_mask(lesion, cal), image)
    canvas = _base(image)
    _views(canvas, image)
    _rois(canvas, rois)
    _save(
        "scan_area_crop.png",
        canvas,
        1.0,
    )


if __name__ == "__main__":
    fan()
    split()
    dual_regions()
    crop()
