"""Regenerate the figures of docs/CONTOUR_ASSIST.md: box proposals on real scanner DICOM test files.

    python docs/assist/make_figures.py

Uses the ultrasound DICOM files that pydicom ships as test data (real scanner output, anonymised):
Philips (palette colour, US-region calibrated), SonoSite (JPEG YBR cine, US-region calibrated) and GE
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


def main() -> int:
    for case in CASES:
        print(figure(*case))
    return 0


if __name__ == "__main__":
    sys.exit(main())
