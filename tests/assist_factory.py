"""Synthetic cases with known true outlines for the contour-assist tests (the training issue's generator)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlrs_desktop.imaging import UltrasoundImage, load_image
from dlrs_desktop.roi import Contour
from dlrs_desktop.training.synth import generate_case

SEED = 3
# (index, centre): two cases from each centre's scanner (different mm/px, PSF, dynamic range)
CASES = ((0, 1), (1, 1), (2, 2), (3, 2))


@dataclass(frozen=True)
class AssistCase:
    case_id: str
    centre: int
    image: UltrasoundImage  # loaded from the DICOM: ultrasound-region calibration
    png: Path
    dicom: Path
    truth: Contour
    drawn: Contour  # the generator's sonographer-like contour
    mm_per_px: float

    def box(self, grow: float = 0.10) -> tuple[float, float, float, float]:
        """The true outline's bounding box grown by `grow` of its size on each side."""
        (x0, y0), (x1, y1) = self.truth.points.min(axis=0), self.truth.points.max(axis=0)
        w, h = x1 - x0, y1 - y0
        return (x0 - grow * w, y0 - grow * h, x1 + grow * w, y1 + grow * h)


def make_cases(out: Path) -> list[AssistCase]:
    cases = []
    for index, centre in CASES:
        truth_info = generate_case(out, index, SEED, centre, "test", dicom=True)
        cid = truth_info.case_id
        dicom = out / "dicom" / f"{cid}.dcm"
        image = load_image(dicom)
        cases.append(
            AssistCase(
                cid,
                centre,
                image,
                out / "images" / f"{cid}.png",
                dicom,
                Contour.load(out / "contours" / f"{cid}.true.contour.json"),
                Contour.load(out / "contours" / f"{cid}.contour.json"),
                float(truth_info.mm_per_px),
            )
        )
    return cases


def mask_dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)
