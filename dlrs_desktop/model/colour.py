"""Coloured content near the tumour: caliper marks (removed by inpainting) and Doppler-like colour.

The model was trained on grayscale B-mode pixels. Coloured caliper crosses, dotted measurement
lines and labels burnt into the image are thin components (nothing of them survives an opening
with a 5-pixel disc): they are inpainted in the gray image before analysis (and the result says
so). Colour-flow/power Doppler and elastography overlays are thick colour areas over tissue: they
cannot be removed honestly, so when they cover more than `quality.COLOUR_OVERLAY_LIMIT` (2 %) of any
analysed region the prediction is refused (`quality.check_refusals`).

numpy + cv2 only (no torch): used by `prepare_inputs`, hence identically in training and prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.imaging.pixels import chroma


@dataclass(frozen=True)
class ColourReport:
    """What coloured content was found inside the regions of interest, and what was done about it."""

    mark_components: int  # coloured caliper/annotation marks touching an ROI
    marks_inpainted_px: int  # gray pixels replaced by inpainting (0 if inpainting is off)
    doppler_area_mm2: float  # area of thick colour (Doppler/elastography overlay) inside the ROIs
    doppler_fraction: float  # ... as a fraction of the ROIs' union
    # (region name, fraction of that region covered by the overlay), for every analysed region
    region_fractions: tuple[tuple[str, float], ...] = ()

    @property
    def worst_region(self) -> tuple[str, float]:
        """The analysed region the overlay covers most, and by how much."""
        return max(self.region_fractions, key=lambda t: t[1], default=("", self.doppler_fraction))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mark_components": self.mark_components,
            "marks_inpainted_px": self.marks_inpainted_px,
            "doppler_area_mm2": round(self.doppler_area_mm2, 3),
            "doppler_fraction": round(self.doppler_fraction, 4),
            "region_fractions": {name: round(f, 4) for name, f in self.region_fractions},
        }


NO_COLOUR = ColourReport(0, 0, 0.0, 0.0)

#: Thick colour: a component keeps pixels after an opening with a disc this wide (pixels).
OVERLAY_CORE_PX = 5


def clean_colour(
    gray: np.ndarray,
    display: np.ndarray,
    roi_union: np.ndarray,
    bbox: tuple[int, int, int, int],
    pixel_area_mm2: float,
    chroma_min: int,
    inpaint: bool,
    regions: Sequence[tuple[str, np.ndarray, tuple[int, int, int, int]]] = (),
) -> tuple[np.ndarray, ColourReport]:
    """Inspect the patch `bbox` (x0, y0, x1, y1 exclusive) where `roi_union` (patch-sized bool) is True.

    `regions`: (name, mask, mask bbox in image pixels) of each analysed region, for the per-region
    overlay fractions. Returns the gray image (a copy with marks inpainted if any were, else `gray`
    itself) and a report.
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
    c8 = coloured.astype(np.uint8)
    n, labels = cv2.connectedComponents(c8, connectivity=8)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (OVERLAY_CORE_PX, OVERLAY_CORE_PX))
    core = cv2.morphologyEx(c8, cv2.MORPH_OPEN, disc) > 0
    thick = np.zeros(n, bool)
    thick[np.unique(labels[core])] = True
    thick[0] = False
    touching = np.zeros(n, bool)
    touching[np.unique(labels[union])] = True
    touching[0] = False
    overlay = thick[labels] & union
    mark_ids = touching & ~thick
    marks = mark_ids[labels]
    n_marks = int(mark_ids.sum())
    doppler_px = int(overlay.sum())
    fractions = []
    for name, mask, (rx0, ry0, _, _) in regions:
        ys, xs = np.nonzero(mask)
        py, px = ys + ry0 - y0, xs + rx0 - x0
        ok = (py >= 0) & (py < overlay.shape[0]) & (px >= 0) & (px < overlay.shape[1])
        covered = int(thick[labels[py[ok], px[ok]]].sum())
        fractions.append((name, covered / max(len(ys), 1)))
    union_px = max(int(union.sum()), 1)
    report_doppler = (doppler_px * pixel_area_mm2, doppler_px / union_px)
    if n_marks == 0 or not inpaint:
        return gray, ColourReport(n_marks, 0, *report_doppler, tuple(fractions))
    # Anti-aliased mark edges are tinted too: grow the mask by one pixel before inpainting.
    mask = cv2.dilate(marks.astype(np.uint8), np.ones((3, 3), np.uint8))
    patch = np.ascontiguousarray(gray[y0:y1, x0:x1])
    repaired = cv2.inpaint(patch, mask, 3, cv2.INPAINT_TELEA)
    out = np.array(gray, copy=True)
    out[y0:y1, x0:x1] = repaired
    return out, ColourReport(n_marks, int(mask.sum()), *report_doppler, tuple(fractions))
