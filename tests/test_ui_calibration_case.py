"""The same saved case gives the same calibration, rings and probability in the GUI and the CLI.

Before `effective_calibration`, the GUI let a calibration the user made override the file's while
`dlrs predict` used it only for files without one: a DICOM with an ultrasound region and a manual
correction got different rings and a different probability in the two.
"""

from __future__ import annotations

import json

import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.imaging import Calibration
from dlrs_desktop.ui.commands import SetCalibration
from tests.model_factory import cached_bundle
from tests.ui_factory import calibrated_dicom, complete, dialog_log, draw_polygon, make_window  # noqa: F401


def test_gui_and_cli_agree_on_a_saved_case(qtbot, tmp_path, capsys, dialog_log):  # noqa: F811
    bundle = cached_bundle()
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(bundle)
    path = calibrated_dicom(tmp_path)  # its ultrasound region says 0.1 mm/px
    assert win.open_path(path)
    draw_polygon(qtbot, win)
    doc = win.doc
    win.undo_stack.push(SetCalibration(doc, None, Calibration.manual(0.12), "Manual calibration"))
    assert doc.calibration == Calibration.manual(0.12)
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    assert not dialog_log.texts("error") and win.save_now()
    gui = doc.result.to_json_dict()["prediction"]
    rois, _ = doc.rois()
    assert rois is not None

    sidecar = path.with_name(path.name + ".dlrs.json")
    assert main(["roi", str(path), "--contour", str(sidecar), "--json"]) == 0
    cli_roi = json.loads(capsys.readouterr().out)
    argv = [
        "predict",
        str(path),
        "--allow-unsigned",
        "--model",
        str(bundle),
        "--device",
        "cpu",
        "--no-sensitivity",
        "--json",
    ]
    assert main(argv) == 0  # the contour and calibration come from the sidecar beside the image
    cli = json.loads(capsys.readouterr().out)

    assert cli["calibration"] == gui["calibration"] == Calibration.manual(0.12).to_dict()
    assert cli_roi["calibration"]["origin"] == "saved"
    assert cli["contour_hash"] == gui["contour_hash"]
    assert cli["probability"] == pytest.approx(gui["probability"], abs=1e-6)
    gui_areas = {r.name: round(r.area_mm2, 6) for r in rois}
    cli_areas = {r["name"]: round(r["area_mm2"], 6) for r in cli_roi["rois"]}
    assert cli_areas == gui_areas


def test_gui_refuses_colour_doppler_with_a_clear_dialog(qtbot, tmp_path, dialog_log):  # noqa: F811
    import shutil
    from pathlib import Path

    from tests.roi_factory import ellipse

    # A copy: the window autosaves a sidecar beside the image, never into the test corpus.
    image = Path(shutil.copy(Path(__file__).parent / "data" / "real" / "scan_US1_UNCR.dcm", tmp_path))

    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(cached_bundle())
    assert win.open_path(image)
    win.undo_stack.push(SetCalibration(win.doc, None, Calibration.manual(0.1), "Manual calibration"))
    win.doc.set_contour_points(ellipse(205, 222.5, 100, 62.5, 180))  # the left lymph node
    win.predict()
    qtbot.waitUntil(lambda: bool(dialog_log.texts("error")), timeout=60000)
    text = dialog_log.texts("error")[-1]
    assert "colour Doppler/elastography overlay covers" in text and "B-mode" in text
    assert win.doc.result is None
