"""A corrective click on an outline the user has edited by hand: change it only near the click (no Qt).

A corrective click on an untouched proposal re-runs its box with every click so far
(`assist_learned.learned_box`): the network sees the whole lesion again, which is what the NoC
benchmark measures. An outline the user has drawn or edited is not a network input, so re-running the
box would replace those edits with a fresh proposal (issue 28's limit: "a hand edit made before it is
replaced"). Here the network still proposes the whole outline from the edited outline's box and the
click, but only the part of its disagreement with the edited outline that holds the click, and lies
within a disc around it, is applied: a bulge added or a notch cut where the user clicked, the rest of
their outline kept to the pixel — the local edit ITK-SNAP's and Slicer's brushes taught.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging.types import UltrasoundImage
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.assist_finish import check_click
from dlrs_desktop.roi.assist_learned import (
    HONOUR_MARGIN_PX,
    LearnedAssist,
    depth_at,
    honour_corrections,
    keeps_clicks,
    learned_box,
    outline_from_mask,
    refine_box,
)
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.roi.validate import validate_contour
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

# The change reaches at most REACH × the click's distance from the outline's edge (at least MIN_REACH_PX)
# from the click; None: the whole connected stretch where the proposal disagrees around the click.
# 6 was chosen over 2 and None on the validation split (benchmarks/bench_assist_edited.py;
# docs/ASSIST_MODEL.md): the best Dice after 1-3 clicks, and the hand-drawn half kept to Dice 0.995.
REACH: float | None = 6.0
MIN_REACH_PX = 8
EDGE_STEP_PX = 1.0  # `splice` tests the outline this finely along its edges


def local_change(
    current: np.ndarray, proposal: np.ndarray, xy: tuple[float, float], include: bool
) -> np.ndarray:
    """The pixels a click changes: where the proposal disagrees with the current outline on the click's
    side (added for an include click, cut for an exclude click), in the connected part that holds the
    click (within REACH × its distance from the current edge, if REACH is set). Empty when the proposal
    does not disagree there (the click's own disc, `honour_corrections`, then does the work)."""
    at = (int(xy[0]), int(xy[1]))
    differs = (proposal & ~current) if include else (current & ~proposal)
    if not differs[at[1], at[0]]:
        return np.zeros_like(current)
    _, lab = cv2.connectedComponents(differs.astype(np.uint8), connectivity=8)
    part = lab == lab[at[1], at[0]]
    if REACH is None:
        return part
    gap = depth_at(~current if include else current, at)
    disc = np.zeros(current.shape, np.uint8)
    cv2.circle(disc, at, int(np.ceil(max(REACH * gap, MIN_REACH_PX))), 1, -1)
    near = part & (disc > 0)
    _, lab = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
    return lab == lab[at[1], at[0]]


def _inside_run(pts: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Which vertices lie in `region`, and where their one cyclic run starts; None unless exactly one."""
    h, w = region.shape
    ix = np.clip(pts[:, 0].astype(int), 0, w - 1)
    iy = np.clip(pts[:, 1].astype(int), 0, h - 1)
    inside = region[iy, ix]
    starts = np.nonzero(inside & ~np.roll(inside, 1))[0]
    if len(starts) != 1 or inside.all():
        return None
    return inside, int(starts[0])


def splice(image: UltrasoundImage, before: Contour, traced: Contour, changed: np.ndarray) -> Contour | None:
    """The outline `before` with only its stretch through the changed pixels replaced by `traced`'s.

    `before` is tested a pixel at a time along its edges (a clicked polygon's long edge can meet the
    change between two vertices); the stretch is the changed pixels grown by that spacing and two
    pixels, so both outlines leave it where they agree, and the points added along the edges are dropped
    again where `before` is kept. (Grown by the spacing of the vertices as drawn, the stretch swallowed
    more of the user's vertices: `bench_assist_edited.py --clicked`, docs/ASSIST_MODEL.md.) None when
    the change meets the outline in more than one place, or the joined outline crosses itself or is
    refused: the caller then keeps `traced` whole."""
    old, original = geo.densify_closed(np.asarray(before.points, float), EDGE_STEP_PX)
    new = np.asarray(traced.points, float)
    if geo.signed_area(old) * geo.signed_area(new) < 0:
        new = new[::-1]
    grow = math.ceil(EDGE_STEP_PX) + 2
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    zone = cv2.dilate(changed.astype(np.uint8), disc)
    runs = _inside_run(old, zone > 0), _inside_run(new, zone > 0)
    if runs[0] is None or runs[1] is None:
        return None
    (old_in, old_start), (new_in, new_start) = runs
    n_old, n_new = len(old), len(new)
    kept = np.roll(old, -old_start, axis=0)[int(old_in.sum()) :]  # from where `before` leaves the zone
    vertex = np.roll(original, -old_start)[int(old_in.sum()) :]
    vertex[[0, -1]] = True  # the junctions stay where they are; the other added points go
    kept = kept[vertex]
    fresh = np.roll(new, -new_start, axis=0)[: int(new_in.sum())]  # `traced` through the zone
    if len(kept) < 3 or len(fresh) < 1 or n_old < 3 or n_new < 3:
        return None
    pts = np.vstack([kept, fresh])
    if geo.edge_crossings(pts):
        return None
    try:
        return validate_contour(Contour(pts, traced.calibration, traced.frame), image, min_area_mm2=1.0)
    except ContourError:
        return None


def correct_edited(
    image: UltrasoundImage, current: Contour, xy: tuple[float, float], include: bool, model: LearnedAssist
) -> Contour:
    """The edited outline `current` with one corrective click applied near the click only.

    The proposal comes from the learned model run on the outline's bounding box (padded as a click's
    outline is refined) with this one click; its local disagreement (`local_change`) is applied, then
    the click is made to hold as every corrective click does (`honour_corrections`, margins widened
    until the finished outline keeps it). Raises ContourError with a plain sentence."""
    xy = check_click(image, xy)
    shape = image.shape
    mine = current.to_mask(shape).astype(bool)
    if not mine.any():
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "The outline covers no pixel of the image; draw it again.")
        )
    ys, xs = np.nonzero(mine)
    x0, y0, x1, y1 = float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)
    box = refine_box(min(x0, xy[0]), min(y0, xy[1]), max(x1, xy[0]), max(y1, xy[1]))
    box = (max(box[0], 0.0), max(box[1], 0.0), min(box[2], float(shape[1])), min(box[3], float(shape[0])))
    inc, exc = ([xy], []) if include else ([], [xy])
    proposal = learned_box(image, box, model, inc, exc).to_mask(shape).astype(bool)
    changed = local_change(mine, proposal, xy, include)
    edited = (mine | changed) if include else (mine & ~changed)
    scan = image.scan_mask.astype(bool)
    for margin in (HONOUR_MARGIN_PX, HONOUR_MARGIN_PX + 2, HONOUR_MARGIN_PX + 4):
        kept = honour_corrections(edited, (0, 0), inc, exc, margin) & scan
        traced = outline_from_mask(image, kept, (0, 0))
        for contour in (splice(image, current, traced, kept ^ mine), traced):
            if contour is not None and keeps_clicks(contour, inc, exc):
                return contour
    return traced
