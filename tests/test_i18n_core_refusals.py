"""Refusals from the Qt-free core in the interface's language: the depth-scale reader, the contour checks
and the contour assist in a Chinese window, while the CLI and the logs keep the core's English."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.imaging import Calibration, load_image
from dlrs_desktop.roi import validate_contour
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.ui import i18n
from dlrs_desktop.wording import CORE, Worded, render
from tests.i18n_factory import chinese, zh_cn  # noqa: F401  (fixture)
from tests.ui_factory import click, dialog_log, make_window  # noqa: F401  (fixture)

REAL = Path(__file__).parent / "data" / "real"


def test_render_translates_the_template_its_clauses_and_its_marked_words() -> None:
    table = {"outer {inner}": "外（{inner}）", "{side} is {f}": "{side}{f}", "left": "左侧", "longer": "更长"}

    def tr(context: str, text: str) -> str:
        return table.get(text, text) if context == CORE else text

    inner = Worded("{side} is {f}", {"side": Worded("left"), "f": Worded("longer")})
    worded = Worded("outer {inner}", {"inner": inner})
    assert str(worded) == "outer left is longer"
    assert render(worded, tr) == "外（左侧更长）"
    named = Worded("{side} is {f}", {"side": "left", "f": Worded("longer")})
    assert render(named, tr) == "left更长"  # a plain value (a file name, a model's name) is never translated


def test_the_cli_keeps_the_english_sentence_and_the_values_travel_with_it() -> None:
    image = load_image(REAL / "assist_busi_benign_303.png")
    with pytest.raises(ContourError) as raised:
        validate_contour(Contour(points=((10.0, 10.0), (20.0, 10.0))), image)
    assert str(raised.value) == "The contour needs at least 3 points; it has 2."
    assert raised.value.worded is not None and dict(raised.value.worded.values) == {"count": 2}


def _scan(tmp_path: Path, name: str) -> Path:
    """A private copy (the window writes its sidecar beside the image)."""
    copy = tmp_path / name
    shutil.copyfile(REAL / name, copy)
    return copy


def _png_header(width: int, height: int) -> bytes:
    """A PNG that states its size and holds no pixels (a stated limit is checked before decoding)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def _chinese(text: str) -> bool:
    """Chinese, with no English word but names (file formats)."""
    return chinese(text, "PNG", "JPEG", "TIFF", "BMP")


def test_a_chinese_window_shows_the_cores_refusals_in_chinese(qtbot, tmp_path, zh_cn, dialog_log) -> None:  # noqa: F811
    win = make_window(qtbot)
    assert win.open_path(_scan(tmp_path, "assist_busi_benign_303.png"))  # a BUSI crop: no depth ruler
    assert not win.edits.calibrate_from_depth_scale()
    refusal = dialog_log.texts("error")[-1]
    assert "未找到深度标尺" in refusal and _chinese(refusal), refusal

    win.doc.contour = win.doc.make_contour(np.array([[50.0, 50.0], [52.0, 50.0], [51.0, 52.0]]))
    problem = win.doc.contour_problem(QCoreApplication.translate)
    assert problem is not None and "个像素" in problem and _chinese(problem), problem
    assert win.doc.contour_problem().startswith("The contour encloses only")  # the core's own words
    win.predict()
    assert dialog_log.texts("error")[-1] == problem  # the same sentence, in Chinese, when Predict is refused

    assert win.open_path(_scan(tmp_path, "scan_OBXXXX1A.dcm"))  # a scanner's DICOM: a black margin
    win.set_tool("assist")
    shown = len(dialog_log.texts("error"))
    click(qtbot, win, 3.0, 3.0)  # on the margin, outside the scan area
    qtbot.waitUntil(lambda: len(dialog_log.texts("error")) > shown, timeout=20000)
    refusal = dialog_log.texts("error")[-1]
    assert "扫描区之外" in refusal and _chinese(refusal), refusal


def test_a_file_that_is_not_an_image_is_refused_in_chinese(qtbot, tmp_path, zh_cn, dialog_log) -> None:  # noqa: F811
    win = make_window(qtbot)
    empty, fake = tmp_path / "empty.png", tmp_path / "report.png"
    empty.write_bytes(b"")
    fake.write_bytes(b"%PDF-1.7 not an image at all\n" * 8)
    missing, notes, huge = tmp_path / "gone.png", tmp_path / "notes.dcm", tmp_path / "huge.png"
    notes.write_text("not a scan\n" * 40)
    huge.write_bytes(_png_header(20000, 20000))  # 400 megapixels stated: refused before decoding
    cases = ((empty, "文件为空"), (fake, "扩展名有误"), (missing, "不存在"), (notes, "DICOM"), (huge, "上限"))
    for path, words in cases:
        assert not win.open_path(path)
        refusal = dialog_log.texts("error")[-1]
        assert words in refusal and path.name in refusal and _chinese(refusal), refusal


def test_a_calibration_that_makes_no_sense_is_refused_in_chinese(zh_cn) -> None:  # noqa: F811
    for make in (
        lambda: Calibration.from_two_points((0.0, 0.0), (2.0, 0.0), 10.0),  # a 2-pixel line
        lambda: Calibration.from_two_points((0.0, 0.0), (200.0, 0.0), 0.0),  # no distance
        lambda: Calibration.manual(25.0),  # 25 mm a pixel
    ):
        with pytest.raises(CalibrationError) as raised:
            make()
        shown = i18n.core_text(raised.value)
        assert _chinese(shown) and shown != str(raised.value), shown
