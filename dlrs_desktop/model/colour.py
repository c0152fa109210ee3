"""Coloured content near the tumour: caliper marks (removed by inpainting) and Doppler-like colour.

The model was trained on grayscale B-mode pixels. Coloured caliper crosses and dotted measurement
lines burnt into the image are small thin components: they are inpainted in the gray image before
analysis (and the result says so). Colour-flow (Doppler) boxes are large filled colour areas over
tissue: they cannot be removed honestly, so the result is computed but flagged.

numpy + cv2 only (no torch): used by `prepare_inputs`, hence identically in training and prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ColourReport:
    """What coloured content was found inside the regions of interest, and what was done about it."""

    mark_components: int  # coloured caliper/annotation marks touching an ROI
    marks_inpainted_px: int  # gray pixels replaced by inpainting (0 if inpainting is off)
    doppler_area_mm2: float  # area of large filled colour (Doppler-like) inside the ROIs
    doppler_fraction: float  # ... as a fraction of the ROIs' area

    def to_dict(self) -> dict[str, float | int]:
        return {
            "mark_components": self.mark_components,
            "marks_inpainted_px": self.marks_inpainted_px,
            "doppler_area_mm2": round(self.doppler_area_mm2, 3),
            "doppler_fraction": round(self.doppler_fraction, 4),
        }


NO_COLOUR = ColourReport(0, 0, 0.0, 0.0)

#: A coloured component is Doppler-like if at least this large (mm²) and this compact (area/bbox area).
DOPPLER_MIN_AREA_MM2 = 2.0
DOPPLER_MIN_FILL = 0.3


def chroma(rgb: np.ndarray) -> np.ndarray:
    """max(R,G,B) − min(R,G,B) (uint8): 0 for gray pixels, large for saturated colour (cv2: fast)."""
    r, g, b = (np.ascontiguousarray(rgb[..., i]) for i in range(3))
    return cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))


def clean_colour(
    gray: np.ndarray,
    display: np.ndarray,
    roi_union: np.ndarray,
    bbox: tuple[int, int, int, int],
    pixel_area_mm2: float,
    chroma_min: int,
    inpaint: bool,
) -> tuple[np.ndarray, ColourReport]:
    """Inspect the patch `bbox` (x0, y0, x1, y1 exclusive) where `roi_union` (patch-sized bool) is True.

    Returns the gray image (a copy with marks inpainted if any were, else `gray` itself) and a report.
    """
    if display.ndim != 3:
        return gray, NO_COLOUR
    h, w = gray.shape
    pad = 6
    x0, y0 = max(bbox[0] - pad, 0), max(bbox[1] - pad, 0)
    x1, y1 = min(bbox[2] + pad, w), min(bbox[3] + pad, h)
    coloured = chroma(display[y0:y1, x0:x1]) >= chroma_min
    if not coloured.any():
        return gray, NO_COLOUR
    union = np.zeros_like(coloured)
    uy0, ux0 = bbox[1] - y0, bbox[0] - x0
    union[uy0 : uy0 + roi_union.shape[0], ux0 : ux0 + roi_union.shape[1]] = roi_union
    n, labels, stats, _ = cv2.connectedComponentsWithStats(coloured.astype(np.uint8), connectivity=8)
    marks = np.zeros_like(coloured)
    n_marks, doppler_px = 0, 0
    for i in range(1, n):
        comp = labels == i
        inside = comp & union
        if not inside.any():
            continue
        area_px = int(stats[i, cv2.CC_STAT_AREA])
        fill = area_px / float(stats[i, cv2.CC_STAT_WIDTH] * stats[i, cv2.CC_STAT_HEIGHT])
        if area_px * pixel_area_mm2 >= DOPPLER_MIN_AREA_MM2 and fill >= DOPPLER_MIN_FILL:
            doppler_px += int(inside.sum())
        else:
            n_marks += 1
            marks |= comp
    union_px = max(int(union.sum()), 1)
    report_doppler = (doppler_px * pixel_area_mm2, doppler_px / union_px)
    if n_marks == 0 or not inpaint:
        return gray, ColourReport(n_marks, 0, *report_doppler)
    # Anti-aliased mark edges are tinted too: grow the mask by one pixel before inpainting.
    mask = cv2.dilate(marks.astype(np.uint8), np.ones((3, 3), np.uint8))
    patch = np.ascontiguousarray(gray[y0:y1, x0:x1])
    repaired = cv2.inpaint(patch, mask, 3, cv2.INPAINT_TELEA)
    out = np.array(gray, copy=True)
    out[y0:y1, x0:x1] = repaired
    return out, ColourReport(n_marks, int(mask.sum()), *report_doppler)
