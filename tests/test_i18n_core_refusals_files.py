"""The core's refusals of a contour file, a DICOM Segmentation, a model bundle, a DICOM peer and an
anisotropic calibration, in a Chinese window; the CLI and the logs keep the core's English."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication

from dlrs_desktop import paths
from dlrs_desktop.errors import CalibrationError, ContourError, ModelError
from dlrs_desktop.exchange.net import NetworkError, Node, echo
from dlrs_desktop.imaging import Calibration
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.ui import i18n
from tests.i18n_factory import chinese, zh_cn  # noqa: F401  (fixture)
from tests.seg_factory import highdicom_single_segment_seg
from tests.ui_factory import dialog_log, make_window  # noqa: F401  (fixture)

REAL = Path(__file__).parent / "data" / "real"
SCAN = "assist_busi_benign_303.png"


def _contour_files(folder: Path, width: int, height: int) -> list[tuple[Path, str]]:
    """(file, words its refusal must hold): each a way a contour file from elsewhere can be unusable."""
    newer = folder / "newer.json"
    newer.write_text(json.dumps({"schema": "dlrs-contour", "schema_version": 9, "points": [[1, 1]] * 3}))
    small = folder / "small_mask.png"
    Image.fromarray(np.full((10, 12), 255, np.uint8)).save(small)
    jpeg = folder / "mask.jpg"
    Image.fromarray(np.full((height, width), 255, np.uint8)).save(jpeg)
    empty = folder / "empty_mask.png"
    Image.fromarray(np.zeros((height, width), np.uint8)).save(empty)
    labelme = folder / "labelme.json"
    labelme.write_text(json.dumps({"shapes": [{"shape_type": "rectangle", "points": [[0, 0], [5, 5]]}]}))
    broken = folder / "broken.json"
    broken.write_text('{"points": [[1, 2], [3')
    nan = folder / "nan.json"
    nan.write_text('{"points": [[1, 2], [3, 4], [5, "x"]]}')
    return [
        (newer, "格式版本 9"),
        (small, "12×10 像素"),
        (jpeg, "JPEG"),
        (empty, "掩膜为空"),
        (labelme, "labelme"),
        (broken, "不是有效的 JSON"),
        (nan, "成对的数字"),
    ]


def test_a_contour_file_that_cannot_be_used_is_refused_inchinese(qtbot, tmp_path, zh_cn, dialog_log) -> None:  # noqa: F811
    scan = Path(shutil.copyfile(REAL / SCAN, tmp_path / SCAN))  # the window writes its sidecar beside it
    win = make_window(qtbot)
    assert win.open_path(scan)
    height, width = win.doc.image.shape
    for path, words in _contour_files(tmp_path, width, height):
        shown = len(dialog_log.texts("error"))
        win.load_contour_file(path)
        assert len(dialog_log.texts("error")) == shown + 1, path.name
        refusal = dialog_log.texts("error")[-1]
        parser_says = {"Expecting", "delimiter", "line", "column", "char"}  # json's own words, as the OS's
        assert words in refusal and chinese(refusal, "labelme", "JPEG", *parser_says), refusal
    # the CLI and the logs: the same refusal in the core's English, the values with it
    with pytest.raises(ContourError) as raised:
        Contour.load_any(tmp_path / "small_mask.png", (height, width))
    assert str(raised.value) == (
        f"The mask small_mask.png is 12×10 pixels but the image is {width}×{height}; they must match."
    )


def test_a_segmentation_for_another_image_is_refused_inchinese(qtbot, tmp_path, zh_cn, dialog_log) -> None:  # noqa: F811
    demo = paths.samples_dir() / "demo.dcm"
    seg = tmp_path / "demo.seg.dcm"
    rows, cols = _dicom_size(demo)
    mask = np.zeros((rows, cols), bool)
    mask[rows // 3 : rows // 2, cols // 3 : cols // 2] = True
    highdicom_single_segment_seg(demo, mask).save_as(seg)
    scan = Path(shutil.copyfile(REAL / SCAN, tmp_path / SCAN))
    win = make_window(qtbot)
    assert win.open_path(scan)  # a PNG: a SEG of a DICOM image never lands on it
    win.load_contour_file(seg)
    refusal = dialog_log.texts("error")[-1]
    assert "分割对象" in refusal and seg.name in refusal and chinese(refusal), refusal
    assert win.doc.contour is None


def _dicom_size(path: Path) -> tuple[int, int]:
    import pydicom  # lazy: only this test reads a header

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return int(ds.Rows), int(ds.Columns)


def test_a_tampered_model_bundle_is_refused_inchinese(
    qtbot,
    tmp_path,
    bundle_dir,
    zh_cn,  # noqa: F811
    dialog_log,  # noqa: F811
) -> None:
    tampered = Path(shutil.copytree(bundle_dir, tmp_path / "tampered"))
    heads = tampered / "heads.safetensors"
    data = bytearray(heads.read_bytes())
    data[-1] ^= 0xFF  # one weight changed, the size kept: only the sha256 tells
    heads.write_bytes(bytes(data))
    dialog_log.answers["yes_no"] = True  # the unsigned test bundle serves (bundle_signature.py)
    win = make_window(qtbot)
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.model_menu.start(bundle_dir)
    dialog_log.answers["model_folder"] = str(tampered)
    with qtbot.waitSignal(win.model.switch_failed, timeout=60000):
        win.actions_by_name["open_model"].trigger()
    refusal = dialog_log.texts("error")[-1]
    assert "heads.safetensors" in refusal and "sha256" in refusal, refusal
    assert "已被修改或损坏" in refusal and chinese(refusal, "heads", "safetensors"), refusal
    with pytest.raises(ModelError) as raised:
        load_bundle(tampered)
    assert str(raised.value) == (
        "File 'heads.safetensors' of the model bundle does not match its sha256 in the manifest "
        "(modified or corrupted); refusing to load."
    )


def test_a_peer_that_does_not_answer_is_reported_inchinese(zh_cn) -> None:  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(NetworkError) as raised:
        echo(Node("PACS", "127.0.0.1", port, timeout_s=5))
    shown = i18n.core_text(raised.value)
    assert "连接被拒绝" in shown and f"PACS@127.0.0.1:{port}" in shown and chinese(shown), shown
    assert str(raised.value) == (
        f"Cannot connect to PACS@127.0.0.1:{port}: the connection was refused (is the server running?)."
    )
    with pytest.raises(NetworkError) as raised:
        Node("PACS\\1", "127.0.0.1", 104)
    shown = i18n.core_text(raised.value)
    assert "被叫 AE 名称" in shown and chinese(shown, "ASCII"), shown


def test_an_anisotropic_calibration_is_refused_inchinese(zh_cn) -> None:  # noqa: F811
    with pytest.raises(CalibrationError) as raised:
        Calibration.manual(0.1, 0.9)
    shown = i18n.core_text(raised.value)
    assert "9:1" in shown and "各向异性" in shown and chinese(shown), shown
    assert str(raised.value) == (
        "A calibration of 0.1 mm × 0.9 mm per pixel is 9:1 anisotropic "
        "(the limit is 3:1 for any calibration)."
    )


def test_an_uncalibrated_image_says_why_it_has_no_rings_inchinese(qtbot, tmp_path, zh_cn) -> None:  # noqa: F811
    scan = Path(shutil.copyfile(REAL / SCAN, tmp_path / SCAN))  # a BUSI crop: no calibration at all
    win = make_window(qtbot)
    assert win.open_path(scan) and win.doc.calibration is None
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    win.doc.contour = win.doc.make_contour(np.stack([120 + 40 * np.cos(t), 100 + 25 * np.sin(t)], axis=1))
    rois, why = win.doc.rois(QCoreApplication.translate)
    assert rois is None and why is not None and "瘤周环" in why and "校准" in why and chinese(why), why
    assert win.doc.rois()[1] == (
        "The image has no calibration (mm per pixel), so the rings cannot be drawn in millimetres; "
        "calibrate the image first."
    )


def test_a_worklist_row_that_cannot_open_says_why_on_hover(qtbot, tmp_path, zh_cn) -> None:  # noqa: F811
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copyfile(REAL / SCAN, folder / SCAN)
    (folder / "report.png").write_bytes(b"%PDF-1.7 not an image at all\n" * 8)
    win = make_window(qtbot)
    win.open_path(folder)
    assert win.worklist.wait_for_scan()
    qtbot.waitUntil(lambda: Path(folder / "report.png") in win.worklist.scanned, timeout=10000)
    row = win.worklist.row_of(folder / "report.png")
    calibration = win.worklist.table.item(row, 3)
    assert calibration.text() == "无法打开"
    tip = calibration.toolTip()
    assert "扩展名有误" in tip and "report.png" in tip and chinese(tip), tip
    readable = win.worklist.table.item(win.worklist.row_of(folder / SCAN), 3)  # a PNG: no calibration
    assert readable.text() == readable.toolTip() == "未校准"
