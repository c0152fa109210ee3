"""Regenerate the figures of docs/CONTOUR_ASSIST.md: box proposals on real scanner DICOM test files.

    python docs/assist/make_figures.py

Uses the ultrasound DICOM files that pydicom ships as test data (real scanner output, anonymised):
Philips (palette colour) and SonoSite (JPEG YBR cine), whose US regions reach past the stored pixels
(so they load uncalibrated), and GE
(JPEG 2000, no regions: a manual calibration is assumed, as a user would make one). Each figure shows
the box (cyan) and the proposal (yellow), or the error the user would see.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2
import numpy as np
import pydicom.data

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.imaging import Calibration, load_image
from dlrs_desktop.roi.assist import propose_from_box
from dlrs_desktop.roi.snap import snap_to_edges

OUT = Path(__file__).resolve().parent
TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"

# (figure, file, frame, manual calibration or None, box x0 y0 x1 y1, figure crop x0 y0 x1 y1, zoom)
CASES = [
    ("sonosite_chamber", "examples_ybr_color.dcm", 0, None, (150, 58, 205, 128), (80, 20, 260, 200), 2),
    ("sonosite_lower", "examples_ybr_color.dcm", 0, None, (100, 112, 155, 168), (80, 20, 260, 200), 2),
    ("ge_node_whole", "examples_jpeg2k.dcm", 0, 0.13, (80, 140, 545, 290), (40, 100, 600, 330), 1),
    ("ge_node_right", "examples_jpeg2k.dcm", 0, 0.13, (310, 150, 540, 285), (40, 100, 600, 330), 1),
    ("philips_dark_field", "examples_palette.dcm", 0, None, (380, 160, 560, 300), (300, 60, 640, 340), 1),
]


def figure(name: str, file: str, frame: int, manual: float | None, box, view, scale: int) -> str:
    image = load_image(TEST_FILES / file, frame=frame)
    if manual is not None:
        image = image.with_calibration(Calibration.manual(manual))
    rgb = cv2.cvtColor(np.asarray(image.display), cv2.COLOR_RGB2BGR).copy()
    x0, y0, x1, y1 = view
    t0 = time.perf_counter()
    try:
        contour = propose_from_box(image, box)
        note = f"{len(contour.points)} vertices, {1000 * (time.perf_counter() - t0):.0f} ms"
        if contour.calibration is not None:
            note += f", {contour.measurements().area_mm2:.0f} mm2"
    except DlrsError as exc:
        contour = None
        note = f"refused: {exc}"
    big = cv2.resize(rgb[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)

    def to_view(p: np.ndarray) -> np.ndarray:
        return np.round((np.asarray(p) - [x0, y0]) * scale * 4).astype(np.int32)

    b = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]], float)
    cv2.polylines(big, [to_view(b)], True, (255, 255, 0), 1, cv2.LINE_AA, shift=2)
    if contour is not None:
        cv2.polylines(big, [to_view(contour.points)], True, (0, 255, 255), 2, cv2.LINE_AA, shift=2)
        for p in to_view(contour.points):
            cv2.circle(big, tuple(int(v) for v in p), 2 * 4, (0, 200, 255), -1, cv2.LINE_AA, shift=2)
    cv2.imwrite(str(OUT / f"{name}.png"), big, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return f"{name}: {file} box {box} -> {note}"


def synthetic_figure(path: Path) -> str:
    """Three synthetic cases (both centres): truth (green), box (cyan), proposal (yellow), and a snap
    of the truth grown by 1 mm (magenta) to the edges (red)."""
    import tempfile

    from dlrs_desktop.roi import Contour
    from dlrs_desktop.roi.assist_eval import dice
    from dlrs_desktop.training.synth import generate_case

    tiles, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index, centre in ((5, 1), (8, 1), (6, 2)):
            info = generate_case(Path(tmp), index, 2027, centre, "figure", dicom=True)
            image = load_image(Path(tmp) / "dicom" / f"{info.case_id}.dcm")
            truth = Contour.load(Path(tmp) / "contours" / f"{info.case_id}.true.contour.json")
            (x0, y0), (x1, y1) = truth.points.min(axis=0), truth.points.max(axis=0)
            w, h = x1 - x0, y1 - y0
            box = (x0 - 0.1 * w, y0 - 0.1 * h, x1 + 0.1 * w, y1 + 0.1 * h)
            proposal = propose_from_box(image, box)
            start = truth.offset(1.0)
            snapped = snap_to_edges(image, start)
            vx0, vy0 = int(max(x0 - 0.35 * w, 0)), int(max(y0 - 0.35 * h, 0))
            vx1, vy1 = int(min(x1 + 0.35 * w, image.width)), int(min(y1 + 0.35 * h, image.height))
            rgb = cv2.cvtColor(np.asarray(image.display[vy0:vy1, vx0:vx1]), cv2.COLOR_RGB2BGR).copy()
            k = 230 / rgb.shape[1]
            rgb = cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
            pair = [rgb, rgb.copy()]

            b = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
            for img, pts, colour in (
                (pair[0], b, (255, 255, 0)),
                (pair[0], truth.points, (0, 255, 0)),
                (pair[0], proposal.points, (0, 255, 255)),
                (pair[1], truth.points, (0, 255, 0)),
                (pair[1], start.points, (255, 0, 255)),
                (pair[1], snapped.points, (0, 0, 255)),
            ):
                q = np.round((np.asarray(pts) - [vx0, vy0]) * k * 4).astype(np.int32)
                cv2.polylines(img, [q], True, colour, 1, cv2.LINE_AA, shift=2)
            tiles.append(np.hstack([pair[0], np.zeros((rgb.shape[0], 4, 3), np.uint8), pair[1]]))
            notes.append(
                f"{info.case_id} (centre {centre}): box Dice {dice(proposal, truth, image.shape):.2f}, "
                f"snap Dice {dice(start, truth, image.shape):.2f} -> {dice(snapped, truth, image.shape):.2f}"
            )
    width = max(t.shape[1] for t in tiles)
    rows = [np.pad(t, ((0, 4), (0, width - t.shape[1]), (0, 0))) for t in tiles]
    cv2.imwrite(str(path), np.vstack(rows), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return "synthetic: " + "; ".join(notes)


def main() -> int:
    for case in CASES:
        print(figure(*case))
    print(synthetic_figure(OUT / "synthetic_box_and_snap.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
