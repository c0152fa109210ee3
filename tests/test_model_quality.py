"""Quality gates: refusals (calibration, contour, scan area) and flagged-but-predicted cases."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.model.preprocess import PreprocessSpec, prepare_inputs
from dlrs_desktop.model.quality import ColourOverlayError
from dlrs_desktop.roi import Contour
from tests.model_factory import bmode_case, cached_bundle, with_pixels


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor(cached_bundle(input_size=64), device="cpu")


def codes(p) -> set[str]:
    return {f.code for f in p.flags}


def test_clean_case_has_no_warning(predictor: Predictor) -> None:
    p = predictor.predict(*bmode_case(), sensitivity=False)
    assert not [f for f in p.flags if f.severity == "warning"]


def test_no_calibration_is_refused(predictor: Predictor) -> None:
    image, contour = bmode_case(mm_per_px=None)
    with pytest.raises(CalibrationError, match="calibration"):
        predictor.predict(image, contour)


def test_invalid_contour_is_refused(predictor: Predictor) -> None:
    image, _ = bmode_case()
    # A figure of eight of two comparable loops: no repair without guessing.
    eight = Contour(np.array([[150, 150], [250, 250], [250, 150], [150, 250]], float), image.calibration)
    with pytest.raises(ContourError, match="crosses itself"):
        predictor.predict(image, eight)
    tiny = Contour(np.array([[200, 200], [205, 200], [205, 205]], float), image.calibration)
    with pytest.raises(ContourError, match="mm²"):
        predictor.predict(image, tiny)


def test_tumour_outside_scan_area_is_refused(predictor: Predictor) -> None:
    image, contour = bmode_case(margin=90, radius_mm=3.0)  # wide black margins
    on_margin = Contour(contour.points - contour.points.mean(0) + [45, 180], image.calibration)
    with pytest.raises(ContourError, match="outside the scan area"):
        predictor.predict(image, on_margin)


def test_clipped_ring_is_flagged(predictor: Predictor) -> None:
    # Tumour 3 mm from two edges of the scan area: its 10 mm ring runs off the tissue.
    image, contour = bmode_case(centre=(20 + 30 + 60, 20 + 30 + 48))
    p = predictor.predict(image, contour, sensitivity=False)
    flagged = [f for f in p.flags if f.code == "ring_clipped"]
    assert flagged and "10 mm ring" in flagged[-1].message
    assert p.region["ring_10mm"].clipped_fraction > 0.2 and p.region["ring_3mm"].clipped_fraction == 0


def test_tumour_size_outside_training_range_is_flagged(predictor: Predictor) -> None:
    small = predictor.predict(*bmode_case(radius_mm=2.0), sensitivity=False)  # ≈ 10 mm² < 20 mm²
    assert "tumour_size" in codes(small)
    assert "smaller than any seen in training" in next(
        f.message for f in small.flags if f.code == "tumour_size"
    )
    assert "tumour_size" not in codes(predictor.predict(*bmode_case(radius_mm=6.0), sensitivity=False))


def test_colour_overlay_over_2_percent_of_a_region_is_refused(predictor: Predictor) -> None:
    image, contour = bmode_case()
    display = np.array(image.display)
    cv2.rectangle(display, (190, 150), (230, 180), (200, 30, 30), -1)  # 4 × 3 mm red flow box
    cv2.rectangle(display, (200, 182), (235, 200), (30, 60, 220), -1)  # and blue
    with pytest.raises(ColourOverlayError, match="colour Doppler/elastography overlay covers") as err:
        predictor.predict(with_pixels(image, display), contour, sensitivity=False)
    assert "B-mode" in str(err.value) and "limit is 2%" in str(err.value)


def test_a_little_overlay_colour_is_flagged_not_refused(predictor: Predictor) -> None:
    image, contour = bmode_case()
    pts = np.asarray(contour.points)
    x, y = int(pts[:, 0].max() + 75), int(pts[:, 1].mean())  # 7.5 mm out: in the 10 mm ring only
    display = np.array(image.display)
    cv2.circle(display, (x, y), 12, (220, 40, 40), -1)  # ≈ 450 px: under 2 % of that ring
    p = predictor.predict(with_pixels(image, display), contour, sensitivity=False)
    assert "doppler" in codes(p) and "marks_inpainted" not in codes(p)
    flag = next(f.message for f in p.flags if f.code == "doppler")
    assert "B-mode" in flag and "10 mm ring" in flag


def _with_calipers(image):
    display = np.array(image.display)
    for x, y in [(190, 170), (262, 190), (300, 150)]:  # inside the tumour and in the rings
        cv2.line(display, (x - 15, y), (x + 15, y), (255, 255, 0), 1)
        cv2.line(display, (x, y - 15), (x, y + 15), (255, 255, 0), 1)
    return with_pixels(image, display)


def test_coloured_caliper_marks_are_inpainted_and_flagged(predictor: Predictor) -> None:
    image, contour = bmode_case()
    marked = _with_calipers(image)
    p = predictor.predict(marked, contour, sensitivity=False)
    flag = next(f for f in p.flags if f.code == "marks_inpainted")
    assert "3 coloured marks" in flag.message and "removed by inpainting" in flag.message
    assert "doppler" not in codes(p)
    # Inpainting brings the network input back close to the unmarked image's.
    spec = predictor.bundle.spec
    clean, _ = prepare_inputs(image, contour, spec)
    fixed, info = prepare_inputs(marked, contour, spec)
    raw, raw_info = prepare_inputs(
        marked, contour, PreprocessSpec(**{**spec.__dict__, "inpaint_colour_marks": False})
    )
    assert info.colour.marks_inpainted_px > 0 and raw_info.colour.marks_inpainted_px == 0
    assert np.abs(fixed - clean).mean() < 0.5 * np.abs(raw - clean).mean()


def test_flags_survive_to_dict(predictor: Predictor, tmp_path: Path) -> None:
    image, contour = bmode_case(radius_mm=2.0)
    d = predictor.predict(_with_calipers(image), contour, sensitivity=False).to_json_dict()
    assert {"tumour_size", "marks_inpainted"} <= {f["code"] for f in d["flags"]}
    assert all(f["message"] and f["severity"] in ("warning", "info") for f in d["flags"])
