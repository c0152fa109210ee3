"""The on-screen depth scale read as mm/pixel (imaging/depth_scale.py), `--spacing auto`, and the GUI action.

Synthetic screens are drawn here (speckle scan area, burned-in text, a ruler of known spacing drawn
with sub-pixel tick positions); the real DICOM fixtures' ultrasound regions give the true spacing.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.imaging import image_from_array, load_image
from dlrs_desktop.imaging.depth_scale import DepthScaleReading, DepthScaleRefusal, read_depth_scale
from tests.i18n_factory import english_words, zh_cn  # noqa: F401  (fixture)
from tests.ui_factory import dialog_log, make_window  # noqa: F401

REAL = Path(__file__).parent / "data" / "real"
SCAN = (60, 40, 560, 440)  # x0, y0, x1, y1 of the speckle scan area


def _screen(seed: int = 0) -> np.ndarray:
    """A black 480x640 screen with a speckle scan area and burned-in text."""
    rng = np.random.default_rng(seed)
    img = np.zeros((480, 640), np.uint8)
    x0, y0, x1, y1 = SCAN
    speckle = rng.rayleigh(1.0, (y1 - y0, x1 - x0)).astype(np.float32)
    speckle = cv2.GaussianBlur(speckle, (0, 0), sigmaX=1.5, sigmaY=0.8)
    img[y0:y1, x0:x1] = np.clip(speckle / speckle.max() * 255 * 1.6, 20, 255).astype(np.uint8)
    for i, text in enumerate(("L12-5 BREAST", "G58 DR60", "4.0cm", "FR 24")):
        cv2.putText(img, text, (4, 60 + 19 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 220, 1, cv2.LINE_AA)
    cv2.putText(img, "RIGHT BREAST 10 H", (200, 470), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 230, 1, cv2.LINE_AA)
    return img


def _ruler(img: np.ndarray, x: int, period: float, n: int, major_every: int | None = 2, y0: float = 42.0):
    """Ticks at y0 + k*period (sub-pixel, anti-aliased); every `major_every`-th tick longer, with a digit."""
    for k in range(n):
        y = y0 + k * period
        major = major_every is not None and k % major_every == 0
        length = 9 if major else 5
        pt0, pt1 = (int(x * 16), round(y * 16)), (int((x + length) * 16), round(y * 16))
        cv2.line(img, pt0, pt1, 210, 1, cv2.LINE_AA, shift=4)
        if major:
            cv2.putText(
                img, str(k // major_every), (x + 13, int(y) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, 210, 1
            )
    return img


def _one_sentence(text: str) -> bool:
    return "\n" not in text and text.endswith(".") and ". " not in text and len(text) < 400


@pytest.mark.parametrize(("mm_per_px", "side"), [(0.0846, "right"), (0.1132, "left"), (0.0713, "right")])
def test_reads_a_synthetic_ruler_within_one_percent(mm_per_px: float, side: str) -> None:
    period = 5.0 / mm_per_px  # 5 mm minor ticks, centimetre ticks longer
    n = int((SCAN[3] - SCAN[1] - 4) / period) + 1
    x = SCAN[2] + 8 if side == "right" else SCAN[0] - 18
    reading = read_depth_scale(image_from_array(_ruler(_screen(1), x, period, n)))
    assert isinstance(reading, DepthScaleReading), reading
    assert reading.mm_per_px == pytest.approx(mm_per_px, rel=0.01)
    assert reading.tick_mm == 5.0 and "every 2nd tick" in str(reading.interval_rule)
    assert reading.side == side and reading.tick_count >= n - 1
    assert abs(reading.column_x - (x + 4)) < 6
    cal = reading.calibration()
    assert cal.source == "depth-scale" and cal.label().endswith("depth scale")


def test_refuses_an_image_without_a_ruler() -> None:
    result = read_depth_scale(image_from_array(_screen(2)))
    assert isinstance(result, DepthScaleRefusal)
    assert _one_sentence(result.reason) and "No depth scale" in result.reason


def test_refuses_too_few_ticks() -> None:
    result = read_depth_scale(image_from_array(_ruler(_screen(3), SCAN[2] + 8, 120.0, 3)))
    assert isinstance(result, DepthScaleRefusal)
    assert _one_sentence(result.reason) and "only 3" in result.reason


def test_refuses_uniform_ticks_that_could_be_5_mm_or_1_cm() -> None:
    # 80 px apart over a 400 px scan: 1 cm gives 5 cm deep, 5 mm gives 2.5 cm: both are breast depths
    result = read_depth_scale(image_from_array(_ruler(_screen(4), SCAN[2] + 8, 80.0, 5, major_every=None)))
    assert isinstance(result, DepthScaleRefusal)
    assert _one_sentence(result.reason) and "both possible" in result.reason


def test_refuses_two_rulers_that_disagree() -> None:
    img = _ruler(_ruler(_screen(5), SCAN[2] + 8, 50.0, 8), SCAN[0] - 18, 60.0, 7)
    result = read_depth_scale(image_from_array(img))
    assert isinstance(result, DepthScaleRefusal)
    assert _one_sentence(result.reason) and "disagree" in result.reason


def test_refuses_irregular_ticks() -> None:
    img = _screen(6)
    for y in (50, 95, 160, 190, 260, 300, 390):
        cv2.line(img, (SCAN[2] + 8, y), (SCAN[2] + 14, y), 210, 1)
    result = read_depth_scale(image_from_array(img))
    assert isinstance(result, DepthScaleRefusal) and _one_sentence(result.reason)


@pytest.mark.parametrize("name", ["scan_OBXXXX1A.dcm", "scan_ALOKA_dual.dcm"])
def test_real_dicom_rulers_match_their_ultrasound_regions(name: str) -> None:
    image = load_image(REAL / name)
    truth = next(r for r in image.regions if r.usable_for_mm).calibration().mm_per_px_y
    reading = read_depth_scale(image)
    assert isinstance(reading, DepthScaleReading), reading
    assert reading.mm_per_px == pytest.approx(truth, rel=0.01)  # measured: 0.0 % and 0.1 %
    assert reading.tick_mm == 10.0 and "every 5th tick" in str(reading.interval_rule)


def test_real_dicom_without_a_legible_ruler_is_refused() -> None:
    result = read_depth_scale(load_image(REAL / "scan_US1_UNCR.dcm"))  # 4 dots, one hidden by a grey bar
    assert isinstance(result, DepthScaleRefusal) and _one_sentence(result.reason)


def _case(tmp_path: Path, ruler: bool) -> tuple[Path, Path]:
    img = _screen(7)
    if ruler:
        _ruler(img, SCAN[2] + 8, 5.0 / 0.09, 8)
    mask = np.zeros_like(img)
    cv2.ellipse(mask, (300, 220), (60, 40), 0, 0, 360, 255, -1)
    path, mpath = tmp_path / ("ruler.png" if ruler else "plain.png"), tmp_path / "mask.png"
    cv2.imwrite(str(path), img)
    cv2.imwrite(str(mpath), mask)
    return path, mpath


def test_cli_spacing_auto(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.model_factory import cached_bundle

    bundle = str(cached_bundle())
    plain, mask = _case(tmp_path, ruler=False)
    argv = ["--allow-unsigned", "--model", bundle, "--device", "cpu", "--no-sensitivity", "--spacing", "auto"]
    assert main(["predict", str(plain), "--mask", str(mask), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No depth scale" in err

    ruler, _ = _case(tmp_path, ruler=True)
    assert main(["predict", str(ruler), "--mask", str(mask), *argv]) == 0
    out = capsys.readouterr().out
    assert "source depth-scale" in out and "0.0900 mm/px" in out
    assert main(["predict", str(ruler), "--mask", str(mask), *argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["calibration"]["source"] == "depth-scale"
    assert main(["roi", str(ruler), "--mask", str(mask), "--spacing", "auto", "--json"]) == 0
    roi = json.loads(capsys.readouterr().out)
    assert roi["calibration"]["origin"] == "depth-scale" and roi["depth_scale"]["tick_count"] >= 7


def test_cli_spacing_auto_keeps_the_dicom_region(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    mask = np.zeros((600, 800), np.uint8)
    cv2.circle(mask, (480, 300), 30, 255, -1)
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    argv = ["roi", str(REAL / "scan_OBXXXX1A.dcm"), "--mask", str(tmp_path / "m.png"), "--spacing", "auto"]
    assert main([*argv, "--json"]) == 0
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert cal["source"] == "dicom-us-region" and cal["origin"] == "file"


def test_gui_action_applies_a_confirmed_reading(qtbot, tmp_path: Path, dialog_log) -> None:  # noqa: F811
    win = make_window(qtbot)
    plain, _ = _case(tmp_path, ruler=False)
    assert win.open_path(plain)
    assert not win.edits.calibrate_from_depth_scale()
    assert "No depth scale" in dialog_log.texts("error")[-1] and win.doc.calibration is None

    ruler, _ = _case(tmp_path, ruler=True)
    assert win.open_path(ruler)
    dialog_log.answers["yes_no"] = False  # declined: nothing applied
    assert not win.edits.calibrate_from_depth_scale() and win.doc.calibration is None
    assert "ticks" in dialog_log.texts("yes_no")[-1]
    dialog_log.answers["yes_no"] = True
    assert win.edits.calibrate_from_depth_scale()
    cal = win.doc.calibration
    assert cal is not None and cal.source == "depth-scale"
    assert cal.mm_per_px_x == pytest.approx(0.09, rel=0.01)
    assert win.doc.to_annotation().calibration["source"] == "depth-scale"  # saved with its source
    win.undo_stack.undo()
    assert win.doc.calibration is None


def test_gui_offers_the_reading_and_refuses_in_chinese(qtbot, tmp_path: Path, zh_cn, dialog_log) -> None:  # noqa: F811
    win = make_window(qtbot)
    plain, _ = _case(tmp_path, ruler=False)
    assert win.open_path(plain)
    assert not win.edits.calibrate_from_depth_scale()
    refusal = dialog_log.texts("error")[-1]
    assert refusal.startswith("未找到深度标尺") and english_words(refusal) == [], refusal
    ruler, _ = _case(tmp_path, ruler=True)
    assert win.open_path(ruler)
    dialog_log.answers["yes_no"] = False
    assert not win.edits.calibrate_from_depth_scale()
    offer = dialog_log.texts("yes_no")[-1]  # the summary and the rule for 5 mm a tick, in Chinese
    assert "右侧的深度标尺" in offer and "每第 2 个刻度更长" in offer, offer
    assert english_words(offer, {"cm"}) == [], offer
