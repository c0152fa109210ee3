"""Corrective clicks on the learned assist (issue 28): training examples, fine-tuning, runtime, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.bundle_signature import TrustPolicy
from dlrs_desktop.cli import main
from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.roi import assist_prompt as ap
from dlrs_desktop.roi.assist import propose_corrected
from dlrs_desktop.roi.assist_bundle import load_assist_bundle
from dlrs_desktop.roi.assist_learned import get_learned
from dlrs_desktop.training.assist_augment import fixed_correction, lesion_box, make_example
from tests.test_assist_train import _ellipse_case, _train, busbra_like  # noqa: F401  (busbra_like: fixture)

REAL = Path(__file__).parent / "data" / "real"
TRUST = TrustPolicy(allow_unsigned=True)


def _peaks(plane: np.ndarray) -> list[tuple[int, int]]:
    ys, xs = np.nonzero((plane == cv2.dilate(plane, np.ones((5, 5), np.uint8))) & (plane > 0.9))
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def test_make_input_has_correction_channels_only_for_a_model_that_takes_them():
    grey, mask = _ellipse_case()
    box = lesion_box(mask)
    frame = ap.box_frame(box)
    plain = ap.make_input(grey, frame, box=box)
    five = ap.make_input(grey, frame, box=box, include=[(150, 120)], exclude=[(30, 30)], channels=5)
    assert plain.shape == (3, 96, 96) and five.shape == (5, 96, 96)
    assert np.array_equal(five[:3], plain)  # the first three channels are a 3-channel model's input
    (ix, iy) = frame.to_input(np.array([(150, 120)]))[0]
    assert _peaks(five[3]) == [(int(ix), int(iy))] and five[4].max() < 0.5  # (30, 30) lies off the crop
    empty = ap.make_input(grey, frame, box=box, channels=5)
    assert not empty[3:].any()
    with pytest.raises(ValueError, match="no corrective clicks"):
        ap.make_input(grey, frame, box=box, include=[(150, 120)])


def test_recipe_3_corrections_sit_where_an_outline_goes_wrong():
    grey, mask = _ellipse_case()
    with_corrections = boxes = 0
    for i in range(300):
        x, y = make_example(grey, mask, np.random.default_rng([0, 0, i]), recipe=3)
        assert x.shape == (5, 96, 96) and np.isfinite(x).all()
        if np.abs(x[1]).sum() == 0:  # a click or diameter example: no corrections
            assert not x[3:].any()
            continue
        boxes += 1
        include, exclude = _peaks(x[3]), _peaks(x[4])
        with_corrections += bool(include or exclude)
        assert len(include) + len(exclude) <= 3
        # include on the lesion, exclude off it (to the pixel: a peak is rounded to the input grid)
        assert all(y[max(py - 1, 0) : py + 2, max(px - 1, 0) : px + 2].max() > 0.5 for px, py in include)
        assert all(y[max(py - 1, 0) : py + 2, max(px - 1, 0) : px + 2].min() < 0.5 for px, py in exclude)
    assert 0.35 < with_corrections / boxes < 0.65  # half the box examples carry corrections


def test_fixed_correction_clicks_the_larger_error_of_the_inscribed_ellipse():
    mask = np.zeros((200, 200), bool)
    mask[50:150, 50:150] = True  # a square: the ellipse of its box misses its corners
    (pt,), exclude = fixed_correction(mask, (50, 50, 150, 150))
    assert not exclude and mask[int(pt[1]), int(pt[0])]
    ring = np.zeros((200, 200), np.uint8)
    cv2.circle(ring, (100, 100), 50, 1, -1)
    ring[95:105, :] = 0  # a lesion cut across: the ellipse takes in the gap
    include, (pt,) = fixed_correction(ring > 0, (50, 50, 150, 150))
    assert not include and not ring[int(pt[1]), int(pt[0])]


def test_fine_tuning_starts_from_the_bundle_and_recipe_3_needs_one(busbra_like, tmp_path, capsys):  # noqa: F811
    import torch

    from dlrs_desktop.training.assist_net import AssistUNet
    from dlrs_desktop.training.assist_train import _initialise

    assert _train(busbra_like, tmp_path / "r2", "--widths", "4,8,16")["version"] == "2.0.0"
    args = ["train-assist", "--data", str(busbra_like), "--out", str(tmp_path / "r3"), "--recipe", "3"]
    assert main(args) == 2
    assert "--init" in capsys.readouterr().err
    # the widened first layer: with no corrections the fine-tuned model starts where the bundle was
    model = AssistUNet((4, 8, 16), in_channels=5)
    origin = _initialise(model, str(tmp_path / "r2"), lambda s: None)
    assert origin["bundle"] == "dlrs-assist 2.0.0"
    x = np.random.default_rng(0).normal(size=(2, 5, 96, 96)).astype(np.float32)
    x[:, 3:] = 0
    old = get_learned(str(tmp_path / "r2"), TRUST)
    with torch.no_grad():
        new = torch.sigmoid(model.eval()(torch.from_numpy(x))).numpy()[:, 0]
    assert np.abs(new - old.probabilities(x[:, :3])).max() < 1e-4
    with pytest.raises(Exception, match="another shape"):
        _initialise(AssistUNet((4, 8, 32), in_channels=5), str(tmp_path / "r2"), lambda s: None)
    tuned = _train(
        busbra_like, tmp_path / "r3", "--widths", "4,8,16", "--recipe", "3", "--init", str(tmp_path / "r2")
    )
    assert tuned["version"] == "2.1.0" and len(tuned["input"]["channels"]) == 5
    assert tuned["training"]["config"]["init"] == "r2"  # the folder's name, not this machine's path
    assert tuned["training"]["initialised_from"] == {
        "bundle": "dlrs-assist 2.0.0",
        "manifest_sha256": load_assist_bundle(tmp_path / "r2").manifest_sha256,
    }
    assert get_learned(str(tmp_path / "r3"), TRUST).supports_corrections
    assert not old.supports_corrections
    image = load_image(REAL / "assist_busi_benign_303.png")
    box = (60.0, 60.0, 220.0, 180.0)
    with pytest.raises(ContourError, match="not trained on corrective clicks"):
        propose_corrected(
            image, box, [(100, 100)], (), engine="learned", bundle=str(tmp_path / "r2"), trust=TRUST
        )
    with pytest.raises(ContourError, match="need the learned contour assist"):
        propose_corrected(image, box, [(100, 100)], (), engine="classical")
    tuned_model = get_learned(str(tmp_path / "r3"), TRUST)
    x = tuned_model.make_input(image.gray, ap.box_frame(box), box=box, include=[(100, 100)])
    assert x.shape == (5, 96, 96) and tuned_model.probabilities(x[None]).shape == (1, 96, 96)


def test_a_corrective_click_the_model_ignored_is_still_kept():
    from dlrs_desktop.roi.assist_learned import HONOUR_MARGIN_PX, honour_corrections

    mask = np.zeros((120, 160), bool)
    cv2.circle(mask.view(np.uint8), (80, 60), 30, 1, -1)
    out = honour_corrections(mask, (10, 20), [(10 + 118, 20 + 60)], [])  # 8 px right of the outline
    assert out[60, 118] and out[60, 118 + HONOUR_MARGIN_PX - 1]  # taken in, with a margin
    assert out.sum() - mask.sum() < 0.2 * mask.sum() and out[60, 80]  # a bulge, not a new outline
    out = honour_corrections(mask, (0, 0), [], [(105, 60)])  # 5 px inside the edge: a notch cut to it
    assert not out[60, 105] and not out[60, 110] and out[60, 80]
    assert mask.sum() - out.sum() < 0.1 * mask.sum()
    out = honour_corrections(mask, (0, 0), [(100, 60)], [(100, 60)])  # contradictory: keep it in
    assert out[60, 100]
    assert np.array_equal(honour_corrections(mask, (0, 0), [(80, 60)], [(5, 5)]), mask)  # already right


def test_shipped_model_takes_corrections_by_api_and_cli(tmp_path, capsys):
    """2.1.0 on a real BUSI scan: a box that leaves out the lesion's right part, one include click there."""
    from dlrs_desktop.roi.assist import propose_box
    from dlrs_desktop.roi.assist_eval import mask_dice

    name = "assist_busi_benign_303"
    image = load_image(REAL / f"{name}.png")
    truth = cv2.imread(str(REAL / f"{name}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    ys, xs = np.nonzero(truth)
    right = float(xs.min() + 0.6 * (xs.max() - xs.min()))
    box = (float(xs.min()), float(ys.min()), right, float(ys.max() + 1))
    missed = truth.copy()
    missed[:, : int(right) + 5] = False
    my, mx = np.nonzero(missed)
    spot = (float(np.median(mx)), float(np.median(my)))
    before = propose_box(image, box).contour.to_mask(truth.shape)
    after = propose_corrected(image, box, [spot], ())
    assert after.method == "learned" and "2.1.0" in after.detail
    got = after.contour.to_mask(truth.shape)
    assert got[int(spot[1]), int(spot[0])] and not before[int(spot[1]), int(spot[0])]
    assert mask_dice(got, truth) > mask_dice(before, truth) + 0.05
    args = ["outline", str(REAL / f"{name}.png"), "--box", *(f"{v:.1f}" for v in box)]
    assert main([*args, "--include", f"{spot[0]:.1f}", f"{spot[1]:.1f}", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["method"] == "learned" and printed["source"].endswith("+ 1 include / 0 exclude clicks")
    assert main(["outline", str(REAL / f"{name}.png"), "--click", "200", "100", "--include", "5", "5"]) == 2
    assert "give --box" in capsys.readouterr().err
    assert main([*args, "--exclude", "nan", "5"]) == 2


def test_a_click_on_an_edited_outline_applies_only_the_disagreement_that_holds_it():
    from dlrs_desktop.roi.assist_local import local_change

    current = np.zeros((120, 200), np.uint8)
    cv2.circle(current, (100, 60), 30, 1, -1)
    proposal = current.copy()
    cv2.circle(proposal, (135, 60), 12, 1, -1)  # the proposal reaches further right ...
    cv2.circle(proposal, (65, 60), 12, 1, -1)  # ... and further left (where the user drew with care)
    cur, prop = current > 0, proposal > 0
    added = local_change(cur, prop, (138.0, 60.0), include=True)
    assert added[60, 138] and added[60, 140] and not added[60, 62] and not (added & cur).any()
    assert not local_change(cur, prop, (62.0, 10.0), include=True).any()  # no disagreement at the click
    cut_here = prop.copy()
    cut_here[40:80, 115:140] = False  # the proposal leaves out the outline's right edge
    cut = local_change(cur, cut_here, (125.0, 60.0), include=False)
    assert cut[60, 125] and not cut[60, 75] and not (cut & ~cur).any()


def _cut_short_on_the_right(name: str):  # type: ignore[no-untyped-def]
    """A real scan, its expert mask, the column where a hand-drawn outline stops short, that outline's
    mask (the expert's left of it) and an include click in the middle of the part it missed."""
    image = load_image(REAL / f"{name}.png")
    truth = cv2.imread(str(REAL / f"{name}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    _, xs = np.nonzero(truth)
    right = int(xs.min() + 0.6 * (xs.max() - xs.min()))
    drawn_mask = truth.copy()
    drawn_mask[:, right:] = False
    missed = truth.copy()
    missed[:, : right + 5] = False
    my, mx = np.nonzero(missed)
    return image, truth, right, drawn_mask, (float(np.median(mx)), float(np.median(my)))


def test_a_corrective_click_on_a_hand_drawn_outline_keeps_the_rest_of_it(tmp_path, capsys):
    """A real BUSI scan, outline drawn by hand: the expert's line on the left, cut short on the right.
    An include click in the missed part takes it in; the carefully drawn left half stays as drawn."""
    from dlrs_desktop.roi.assist import propose_local_correction
    from dlrs_desktop.roi.assist_eval import mask_dice
    from dlrs_desktop.roi.assist_learned import keep_and_fill, outline_from_mask

    name = "assist_busi_benign_303"
    image, truth, right, drawn_mask, spot = _cut_short_on_the_right(name)
    drawn = outline_from_mask(image, keep_and_fill(drawn_mask, drawn_mask.astype(np.float32)), (0, 0))
    got = propose_local_correction(image, drawn, spot, include=True)
    assert got.method == "learned" and str(got.detail).endswith(", local")
    before, after = drawn.to_mask(truth.shape) > 0, got.contour.to_mask(truth.shape) > 0
    assert after[int(spot[1]), int(spot[0])] and mask_dice(after, truth) > mask_dice(before, truth) + 0.05
    left = slice(None, right - 10)
    assert mask_dice(after[:, left], before[:, left]) > 0.98  # the hand-drawn part is kept
    # the same from the shell: --edit the saved contour with the click
    drawn.save(tmp_path / "drawn.json")
    args = ["outline", str(REAL / f"{name}.png"), "--edit", str(tmp_path / "drawn.json")]
    out = ["--out", str(tmp_path / "edited.json"), "--json"]
    assert main([*args, "--include", f"{spot[0]:.2f}", f"{spot[1]:.2f}", *out]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["source"] == "drawn.json + 1 include / 0 exclude clicks, each applied near itself"
    assert printed["method_detail"].endswith(", local")
    assert main(args) == 2 and "give --include" in capsys.readouterr().err


def test_a_click_on_a_polygon_clicked_vertex_by_vertex_keeps_its_vertices():
    """A polygon drawn with a few clicks has long edges; the change meets the cut edge between its two
    vertices. The hand-placed vertices away from the click stay exactly where they were (before, no vertex
    lay in the change, so the whole outline was replaced by the traced proposal)."""
    from dlrs_desktop.roi import Contour
    from dlrs_desktop.roi import geometry as geo
    from dlrs_desktop.roi.assist import propose_local_correction

    image, truth, right, drawn_mask, spot = _cut_short_on_the_right("assist_busi_benign_303")
    dense = np.asarray(Contour.from_mask(drawn_mask.astype(np.uint8)).points, float)
    clicked = Contour(dense[geo.douglas_peucker_closed(dense, 1.0)])  # a vertex per click: long edges
    assert 10 <= len(clicked.points) <= 60
    got = propose_local_correction(image, clicked, spot, include=True).contour
    assert got.to_mask(truth.shape)[int(spot[1]), int(spot[0])]
    far = [p for p in clicked.points if p[0] < right - 10]
    kept = {tuple(np.round(p, 6)) for p in np.asarray(got.points)}
    assert far and all(tuple(np.round(p, 6)) in kept for p in far)
    added = kept - {tuple(np.round(p, 6)) for p in clicked.points}
    assert all(x > right - 12 for x, _ in added)  # nothing added away from the click (no densified points)
