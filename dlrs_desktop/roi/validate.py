"""Is this contour usable on this image? Plain-words refusals, and one unambiguous repair.

Repair rule (self-intersection): a contour that crosses itself exactly once is two loops joined at the
crossing. When one loop is tiny (at most `TINY_LOOP_FRACTION` of the other's area) — the overshoot of a
freehand stroke past its start, or the twist left by dragging a vertex across a neighbouring edge — it is
cut off at the crossing and the large loop is kept. A spike (an edge folding back on the previous one)
is removed. Anything else (two or more crossings, or a figure-of-eight of comparable loops) is refused,
because any repair would be a guess about what the user meant.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging.types import UltrasoundImage, UltrasoundRegion, select_region
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.roi.contour_text import TOO_FEW_POINTS
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

TINY_LOOP_FRACTION = 0.05
MAX_OUTSIDE_SCAN_FRACTION = 0.02  # tolerance for the scan mask's own edge uncertainty
MIN_AREA_PX = 9.0  # used only when there is no calibration to express the minimum in mm²


def validate_contour(contour: Contour, image: UltrasoundImage, min_area_mm2: float = 4.0) -> Contour:
    """The contour ready for this image (possibly repaired, carrying the calibration the rings will use).

    Raises ContourError with a message for the user. The returned contour's calibration is the one valid
    for its points (the containing ultrasound region's, or the image's); without any calibration it keeps
    the contour's own and the minimum area is checked in pixels only.
    """
    pts = np.asarray(contour.points, dtype=np.float64)
    if len(pts) < 3:
        raise ContourError.of(TOO_FEW_POINTS, count=len(pts))
    h, w = image.shape
    outside = (pts[:, 0] < 0) | (pts[:, 0] > w) | (pts[:, 1] < 0) | (pts[:, 1] > h)
    if outside.any():
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "{off} of the contour's {count} points lie outside the image ({w}×{h} pixels); "
                "move them back onto the image.",
            ),
            off=int(outside.sum()),
            count=len(pts),
            w=w,
            h=h,
        )
    if contour.frame != image.frame_index:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "The contour belongs to frame {frame} (index {index}) but the image shows frame {shown} "
                "(index {shown_index}).",
            ),
            frame=contour.frame + 1,
            index=contour.frame,
            shown=image.frame_index + 1,
            shown_index=image.frame_index,
        )
    pts = geo.drop_repeated(pts)
    if len(pts) < 3:
        raise ContourError.of(QT_TRANSLATE_NOOP("core", "The contour needs at least 3 distinct points."))
    pts = _repair_self_intersection(pts)
    if abs(geo.signed_area(pts)) < 1e-6:
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "The contour encloses no area (its points lie on one line).")
        )

    region = _check_regions(image, pts)
    calibration = image.calibration_for(pts) or contour.calibration
    region_index = region.index if region is not None else None

    area_px = abs(geo.signed_area(pts))
    if calibration is not None:
        area_mm2 = area_px * calibration.pixel_area_mm2
        if area_mm2 < min_area_mm2:
            raise ContourError.of(
                QT_TRANSLATE_NOOP(
                    "core",
                    "The contour encloses only {area:.2g} mm², below the {minimum:g} mm² minimum; "
                    "draw around the whole tumour.",
                ),
                area=area_mm2,
                minimum=min_area_mm2,
            )
    elif area_px < MIN_AREA_PX:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "The contour encloses only {area:.2g} pixels; draw around the whole tumour."
            ),
            area=area_px,
        )

    _check_scan_area(image, pts)
    return replace(contour, points=pts, calibration=calibration, region_index=region_index)


def _remove_spikes(pts: np.ndarray) -> np.ndarray:
    """Drop the tip of every edge that folds straight back (non-neighbouring tips at once, then again)."""
    for _ in range(len(pts)):
        spikes = geo.spike_vertices(pts)
        if not len(spikes):
            return pts
        tips = (spikes + 1) % len(pts)
        chosen = [int(tips[0])]
        for t in tips[1:]:
            if int(t) - chosen[-1] > 1:
                chosen.append(int(t))
        if len(chosen) > 1 and chosen[0] == 0 and chosen[-1] == len(pts) - 1:
            chosen.pop()
        pts = geo.drop_repeated(np.delete(pts, chosen, axis=0))
        if len(pts) < 3:
            raise ContourError.of(
                QT_TRANSLATE_NOOP("core", "The contour folds back on itself and encloses no area.")
            )
    return pts


def _repair_self_intersection(pts: np.ndarray) -> np.ndarray:
    pts = _remove_spikes(pts)
    crossings = geo.edge_crossings(pts, stop_after=2)
    if not crossings:
        return pts
    where = crossings[0][2]
    distinct = {tuple(np.round(c[2], 6)) for c in crossings}
    if len(distinct) == 1:
        i, j, p = crossings[0]
        a, b = geo.split_at_crossing(pts, i, j, p)
        small, large = sorted((a, b), key=lambda q: abs(geo.signed_area(q)) if len(q) >= 3 else 0.0)
        area_small = abs(geo.signed_area(small)) if len(small) >= 3 else 0.0
        area_large = abs(geo.signed_area(large)) if len(large) >= 3 else 0.0
        if (
            len(large) >= 3
            and area_large > 0
            and area_small <= TINY_LOOP_FRACTION * area_large
            and not geo.edge_crossings(large, stop_after=1)
        ):
            return large
    raise ContourError.of(
        QT_TRANSLATE_NOOP(
            "core",
            "The contour crosses itself (near x={x:.0f}, y={y:.0f}) and cannot be repaired without "
            "guessing; move the points so that the outline does not cross.",
        ),
        x=float(where[0]),
        y=float(where[1]),
    )


def _region_hits(regions: tuple[UltrasoundRegion, ...], pts: np.ndarray) -> list[UltrasoundRegion]:
    """Regions that contain at least one of the points."""
    x, y = pts[:, 0], pts[:, 1]
    return [r for r in regions if np.any((x >= r.x0) & (x <= r.x1 + 1) & (y >= r.y0) & (y <= r.y1 + 1))]


def _check_regions(image: UltrasoundImage, pts: np.ndarray) -> UltrasoundRegion | None:
    if not image.regions:
        return None
    region = select_region(image.regions, pts)
    if region is not None:
        return region
    whole = [r for r in image.regions if r.contains(pts)]
    if whole:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "The contour lies in an ultrasound region that is not a 2D tissue image (e.g. Doppler "
                "or M-mode); draw it on the B-mode image.",
            )
        )
    hits = _region_hits(image.regions, pts)
    if len(hits) >= 2:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "The contour crosses two ultrasound regions (e.g. the two halves of a dual view); "
                "draw it inside one image.",
            )
        )
    if image.calibration is not None and image.calibration.source != "dicom-us-region":
        return None  # calibration does not depend on the region: the scan-area check decides
    raise ContourError.of(
        QT_TRANSLATE_NOOP(
            "core", "The contour leaves the ultrasound image region; draw it inside the scan area."
        )
    )


def _check_scan_area(image: UltrasoundImage, pts: np.ndarray) -> None:
    j0, i0, j1, i1 = geo.pixel_bbox(pts)
    if j1 <= j0 or i1 <= i0:
        return
    j0c, i0c = max(j0, 0), max(i0, 0)
    j1c, i1c = min(j1, image.width), min(i1, image.height)
    inside = geo.rasterize(pts, (i1c - i0c, j1c - j0c), origin=(j0c, i0c))
    total = int(inside.sum())
    if total == 0:
        return
    views = {k: c for k, c in image.view_labels(inside, (j0c, i0c)).items() if k > 0}
    if len(views) > 1 and sorted(views.values())[-2] > MAX_OUTSIDE_SCAN_FRACTION * total:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "The contour crosses from one view of this split image into another ({views} views side "
                "by side or one above the other); draw it inside one view.",
            ),
            views=image.view_count,
        )
    off = int((inside & ~image.scan_mask[i0c:i1c, j0c:j1c]).sum())
    if off > MAX_OUTSIDE_SCAN_FRACTION * total:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "{percent:.0f} % of the contour lies outside the scan area (on the black margin, text or "
                "rulers); draw it on the tissue.",
            ),
            percent=100.0 * off / total,
        )
