"""Contour assist on synthetic cases with known true outlines: box/click proposals and snap-to-edge."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging import Calibration, image_from_array
from dlrs_desktop.roi import Contour, compute_rois, validate_contour
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.assist import propose_from_box, propose_from_click
from dlrs_desktop.roi.assist_eval import boundary_distance_mm, dice, radial_perturbation
from dlrs_desktop.roi.assist_finish import MAX_VERTICES, MIN_VERTICES
from dlrs_desktop.roi.snap import snap_to_edges
from tests.assist_factory import make_cases


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return make_cases(tmp_path_factory.mktemp("assist"))


def _assert_editable(contour: Contour, image) -> None:
    """An ordinary contour: bounded vertex count, ~1 mm apart, valid, inside the scan area, no crossing."""
    assert MIN_VERTICES <= len(contour) <= MAX_VERTICES
    assert contour.calibration is not None
    assert contour.frame == image.frame_index
    assert validate_contour(contour, image) == contour  # valid as it is: no repair was needed
    assert not geo.edge_crossings(np.asarray(contour.points))
    s = np.array([contour.calibration.mm_per_px_x, contour.calibration.mm_per_px_y])
    edges = np.hypot(*np.diff(np.vstack([contour.points, contour.points[:1]]) * s, axis=0).T)
    assert edges.max() < 2.5 and edges.min() > 0.2  # evenly spaced, not one vertex per pixel
    ix = np.clip(contour.points.astype(int), 0, [image.width - 1, image.height - 1])
    assert image.scan_mask[ix[:, 1], ix[:, 0]].all()


def test_box_proposal_matches_true_outline_on_both_centres(cases):
    assert {c.centre for c in cases} == {1, 2}
    for case in cases:
        proposal = propose_from_box(case.image, case.box(0.10))
        d = dice(proposal, case.truth, case.image.shape)
        bd = boundary_distance_mm(proposal, case.truth, (case.mm_per_px, case.mm_per_px))
        assert d >= 0.8, (case.case_id, d)
        assert bd <= 1.5, (case.case_id, bd)
        _assert_editable(proposal, case.image)
        assert proposal.calibration == case.image.calibration  # the region's calibration, not a guess


def test_box_proposal_does_not_depend_on_box_corner_order(cases):
    case = cases[2]
    x0, y0, x1, y1 = case.box(0.08)
    a = propose_from_box(case.image, (x0, y0, x1, y1))
    b = propose_from_box(case.image, (x1, y1, x0, y0))
    assert a == b


def test_proposal_is_editable_and_feeds_the_rings(cases):
    case = cases[1]
    proposal = propose_from_box(case.image, case.box())
    moved = proposal.move_vertex(3, tuple(proposal.points[3] + 2.0))
    inserted = moved.insert_vertex(5, tuple((moved.points[4] + moved.points[5]) / 2))
    assert len(inserted) == len(proposal) + 1
    assert inserted.content_hash() != proposal.content_hash()
    rois = compute_rois(validate_contour(inserted, case.image), case.image)
    assert rois["ring_5mm"].area_mm2 > 0
    restored = Contour.from_dict(proposal.to_dict())
    assert restored == proposal


def test_proposal_on_uncalibrated_pixels(cases):
    case = cases[0]
    image = image_from_array(np.asarray(case.image.gray))  # no calibration at all
    proposal = propose_from_box(image, case.box())
    assert proposal.calibration is None
    assert MIN_VERTICES <= len(proposal) <= MAX_VERTICES
    assert dice(proposal, case.truth, image.shape) >= 0.75


def test_proposal_with_anisotropic_pixels(cases):
    """The same case resampled to 1024×768 (different mm/px along x and y) gives the same outline."""
    import cv2

    case = cases[3]
    h, w = case.image.shape
    fx, fy = 1024 / w, 768 / h
    cal = Calibration.manual(case.mm_per_px / fx, case.mm_per_px / fy)
    big = image_from_array(cv2.resize(np.asarray(case.image.gray), (1024, 768)), cal)
    box = np.array(case.box()) * [fx, fy, fx, fy]
    proposal = propose_from_box(big, box)
    truth = Contour(case.truth.points * [fx, fy], cal)
    assert dice(proposal, truth, big.shape) >= 0.8
    _assert_editable(proposal, big)


def test_colour_overlay_inside_the_lesion_is_ignored(cases):
    """Doppler-like colour over the lesion must not pull the outline (its gray is not echogenicity)."""
    import cv2

    case = cases[1]
    rgb = np.repeat(np.asarray(case.image.gray)[:, :, None], 3, axis=2).copy()
    cx, cy = case.truth.points.mean(axis=0).astype(int)
    cv2.ellipse(rgb, (int(cx), int(cy)), (25, 12), 20, 0, 360, (255, 140, 0), -1)
    cv2.ellipse(rgb, (int(cx) - 20, int(cy) + 15), (15, 6), -30, 0, 360, (250, 220, 30), -1)
    image = image_from_array(rgb, case.image.calibration)
    proposal = propose_from_box(image, case.box())
    assert dice(proposal, case.truth, image.shape) >= 0.8


def test_click_inside_the_lesion(cases):
    for case in cases[1:]:
        proposal = propose_from_click(case.image, tuple(case.truth.points.mean(axis=0)))
        assert dice(proposal, case.truth, case.image.shape) >= 0.8, case.case_id
        _assert_editable(proposal, case.image)


@pytest.mark.parametrize("kind", ["grow", "shrink", "radial"])
def test_snap_improves_a_contour_off_by_a_millimetre(cases, kind):
    """A contour 1 mm too big or too small is always improved; a wobbly one (radial) on average.

    The radial case is not improved everywhere (89.6-97.9 % of cases in docs/CONTOUR_ASSIST.md): where
    the lower margin merges with posterior enhancement the edge is weak and snap can pull inwards,
    so it asserts the mean gain and bounds the worst case.
    """
    rng = np.random.default_rng(4)
    gains = []
    for case in cases:
        truth = case.truth
        if kind == "radial":
            start = radial_perturbation(truth, 1.0, rng)
        else:
            start = truth.offset(1.0 if kind == "grow" else -1.0)
        snapped = snap_to_edges(case.image, start, 1.5)
        mm = (case.mm_per_px, case.mm_per_px)
        gain = dice(snapped, truth, case.image.shape) - dice(start, truth, case.image.shape)
        gains.append(gain)
        if kind != "radial":
            assert gain > 0, case.case_id
            assert boundary_distance_mm(snapped, truth, mm) < boundary_distance_mm(start, truth, mm)
        _assert_editable(snapped, case.image)
    assert np.mean(gains) > 0.01 and min(gains) > -0.04, gains


def test_snap_moves_no_vertex_farther_than_allowed(cases):
    case = cases[2]
    start = case.truth.offset(2.5)  # the edge is out of reach: the contour may move at most 1 mm
    snapped = snap_to_edges(case.image, start, max_distance_mm=1.0)
    s = np.array([case.mm_per_px] * 2)
    start_dense = geo.resample_closed(start.points * s, 0.05)
    d = np.hypot(*(snapped.points[:, None, :] * s - start_dense[None]).transpose(2, 0, 1)).min(axis=1)
    assert d.max() <= 1.0 + 0.3  # + resampling/smoothing tolerance
    assert dice(snapped, case.truth, case.image.shape) > dice(start, case.truth, case.image.shape)


def test_snap_of_a_hand_drawn_contour_stays_close_and_smooth(cases):
    case = cases[0]
    snapped = snap_to_edges(case.image, case.drawn)
    _assert_editable(snapped, case.image)
    mm = (case.mm_per_px, case.mm_per_px)
    assert boundary_distance_mm(snapped, case.drawn, mm) <= 1.5


@pytest.mark.parametrize(
    "box, words",
    [
        ((5000, 10, 6000, 100), "outside"),
        ((100, 100, 103, 300), "at least 8 pixels"),
        ((0, 0, 30, 30), "outside the scan area"),  # the black margin with the burned-in text
        ((float("nan"), 1, 2, 3), "missing or infinite"),
        (("a", 1, 2, 3), "four numbers"),
    ],
)
def test_bad_boxes_are_refused_in_plain_words(cases, box, words):
    with pytest.raises(ContourError, match=words):
        propose_from_box(cases[0].image, box)


def test_bad_clicks_and_snap_distances_are_refused(cases):
    image = cases[0].image
    with pytest.raises(ContourError, match="outside the"):
        propose_from_click(image, (-5, 10))
    with pytest.raises(ContourError, match="scan area"):
        propose_from_click(image, (2, 2))
    with pytest.raises(ContourError, match="positive"):
        snap_to_edges(image, cases[0].drawn, max_distance_mm=0)
    with pytest.raises(ContourError, match="at most 10 mm"):
        snap_to_edges(image, cases[0].drawn, max_distance_mm=25)


def test_box_on_featureless_tissue_is_refused_or_stays_in_the_box():
    """Uniform speckle has no lesion: either a plain refusal or an outline inside the box, never a crash."""
    rng = np.random.default_rng(0)
    pixels = np.zeros((400, 500), np.uint8)
    pixels[30:380, 40:470] = rng.integers(60, 200, (350, 430))
    image = image_from_array(pixels, Calibration.manual(0.1))
    box = (150, 120, 300, 260)
    try:
        c = propose_from_box(image, box)
    except ContourError as exc:
        assert "No lesion outline" in str(exc)
        return
    assert (c.points[:, 0] >= box[0] - 1).all() and (c.points[:, 0] <= box[2] + 1).all()
    assert (c.points[:, 1] >= box[1] - 1).all() and (c.points[:, 1] <= box[3] + 1).all()
