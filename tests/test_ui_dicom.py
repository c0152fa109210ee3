"""The GUI against a real Orthanc: query, retrieve a study, contour, predict, send the results back;
SEG import as the contour; no network without a configured PACS; a dead PACS is one message."""

from __future__ import annotations

import io
import subprocess
import urllib.request

import pydicom
import pytest

from dlrs_desktop import paths
from dlrs_desktop.roi import Contour
from dlrs_desktop.store import AnnotationStore
from dlrs_desktop.ui.dicom_actions import PacsFields
from dlrs_desktop.ui.pacs_browser import query_retrieve_dialog
from tests.model_factory import cached_bundle
from tests.pacs_factory import MOVE_PORT, PACS_AET, PDF, SEG, SR, US, export_demo, free_port, need, store_scan
from tests.ui_factory import complete, dialog_log, make_window  # noqa: F401  (fixture)

SAMPLES = paths.samples_dir()


def configure(win, port: int, timeout: str = "10", move: bool = False) -> None:
    """As the user does: Preferences → PACS rows → OK."""
    dlg = win.preferences_dialog()
    pacs = next(s for s in dlg.sections if isinstance(s, PacsFields))
    for key, value in {"aet": PACS_AET, "host": "127.0.0.1", "port": str(port), "timeout": timeout}.items():
        pacs.edits[key].setText(value)
    if move:
        pacs.edits["listen_port"].setText(str(MOVE_PORT))
        pacs.retrieve.setCurrentIndex(pacs.retrieve.findData("move"))
    dlg.apply()


def retrieve_the_one_study(qtbot, win, done) -> None:
    """As the user does: Query/Retrieve → Search → the one study found → Retrieve, until `done()`."""
    dlg = query_retrieve_dialog(win)
    dlg.search_button.click()
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1 and not dlg.busy, timeout=20000)
    dlg.table.selectRow(0)
    dlg.retrieve_button.click()
    qtbot.waitUntil(done, timeout=20000)


def test_query_retrieve_contour_predict_and_send_back(qtbot, tmp_path, orthanc, dialog_log):  # noqa: F811
    orthanc.clear()
    store_scan(orthanc, SAMPLES / "demo.dcm")
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    win.prefs.export_folder = str(tmp_path)
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(cached_bundle())
    configure(win, orthanc.dicom_port)

    dlg = query_retrieve_dialog(win)
    dlg.patient_id.setText(str(pydicom.dcmread(SAMPLES / "demo.dcm").PatientID))
    dlg.search_button.click()
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1 and not dlg.busy, timeout=20000)
    dlg.table.selectRow(0)
    dlg.retrieve_button.click()
    qtbot.waitUntil(lambda: win.doc.image is not None, timeout=20000)
    assert win.doc.path.parent.parent.name == "pacs" and win.worklist.folder == win.doc.path.parent
    assert not dialog_log.texts("error")

    win.load_contour_file(SAMPLES / "demo.contour.json")
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    assert win.dicom.send_results()
    qtbot.waitUntil(lambda: win.dicom.last_send is not None, timeout=20000)
    assert all(o.ok for o in win.dicom.last_send) and not dialog_log.texts("error")
    assert orthanc.sop_classes() == sorted([US, SEG, SR, PDF])
    sent = [r for r in win.audit.records() if r["event"] == "dicom_send"]
    assert sent[-1]["status"] == "stored 3/3" and sent[-1]["contour_hash"] == win.doc.contour.content_hash()
    sr_id = next(
        i
        for i in orthanc.rest("/instances")
        if orthanc.rest(f"/instances/{i}/simplified-tags")["SOPClassUID"] == SR
    )
    with urllib.request.urlopen(
        f"http://127.0.0.1:{orthanc.http_port}/instances/{sr_id}/file", timeout=10
    ) as r:
        sr = pydicom.dcmread(io.BytesIO(r.read()))
    probs = []

    def walk(items):
        for it in items:
            if it.ValueType == "NUM" and it.ConceptNameCodeSequence[0].CodeValue == "EARLYRESP":
                probs.append(float(it.MeasuredValueSequence[0].NumericValue))
            walk(getattr(it, "ContentSequence", []))

    walk(sr.ContentSequence)
    assert probs == [pytest.approx(win.doc.prediction.probability, abs=1e-6)]

    # Another workstation (its own annotation store) retrieves the study: the contour comes from the SEG.
    other = make_window(qtbot, store=AnnotationStore(tmp_path / "other-store"))
    other.prefs.export_folder = str(tmp_path / "other")
    configure(other, orthanc.dicom_port)
    retrieve_the_one_study(qtbot, other, lambda: other.doc.contour is not None)
    shape = other.doc.image.shape
    a, b = win.doc.contour.to_mask(shape), other.doc.contour.to_mask(shape)
    assert 2 * (a & b).sum() / (a.sum() + b.sum()) >= 0.99
    m0 = win.doc.contour.measurements(win.doc.calibration)
    m1 = other.doc.contour.measurements(other.doc.calibration)
    assert m1.area_mm2 == pytest.approx(m0.area_mm2, rel=0.01)
    assert m1.max_diameter_mm == pytest.approx(m0.max_diameter_mm, abs=0.5)


def test_seg_imports_as_the_contour_in_the_gui(qtbot, tmp_path, dialog_log):  # noqa: F811
    assert export_demo(tmp_path, "--no-predict") == 0
    win = make_window(qtbot)
    assert win.open_path(SAMPLES / "demo.dcm")
    win.load_contour_file(tmp_path / "demo.seg.dcm")
    assert not dialog_log.texts("error")
    shape = win.doc.image.shape
    a = Contour.load(SAMPLES / "demo.contour.json").to_mask(shape)
    b = win.doc.contour.to_mask(shape)
    assert 2 * (a & b).sum() / (a.sum() + b.sum()) >= 0.99


def test_no_pacs_configured_means_no_network(qtbot, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    assert query_retrieve_dialog(win) is None
    assert win.dicom.send_results() is False
    assert all("No PACS is configured" in t for t in dialog_log.texts("error"))
    assert len(dialog_log.texts("error")) == 2


def test_dead_pacs_is_one_message_and_the_window_stays_responsive(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    assert win.open_path(SAMPLES / "demo.dcm")
    win.load_contour_file(SAMPLES / "demo.contour.json")
    configure(win, free_port(), timeout="2")
    assert win.dicom.send_results()  # returns at once: the network runs in a worker
    assert win.isVisible()
    qtbot.waitUntil(lambda: win.dicom.last_error is not None, timeout=10000)
    assert "Cannot connect" in win.dicom.last_error
    assert dialog_log.texts("error") == [win.dicom.last_error]


def test_png_export_asks_for_the_patient_and_writes_a_secondary_capture(qtbot, tmp_path, dialog_log):  # noqa: F811
    from dlrs_desktop.imaging import Calibration
    from tests.pacs_factory import dciodvfy_errors
    from tests.ui_factory import LESION_POLYGON, uncalibrated_png

    win = make_window(qtbot)
    assert win.open_path(uncalibrated_png(tmp_path))
    win.doc.set_manual_calibration(Calibration.manual(0.1))
    win.doc.set_contour(win.doc.make_contour(LESION_POLYGON))
    dialog_log.answers["text"] = "P77"
    files = win.dicom.export_dialog(str(tmp_path / "out"))
    assert len(files) == 4 and not dialog_log.texts("error")
    assert "measurements only" in win.statusBar().currentMessage()  # no prediction was made
    assert len(dialog_log.texts("text")) == 2  # patient ID, then name
    sc = pydicom.dcmread(tmp_path / "out" / "plain.sc.dcm")
    assert sc.PatientID == "P77" and sc.Modality == "US"
    for f in files:
        assert pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID == sc.StudyInstanceUID
        assert dciodvfy_errors(f) == [], f.name
    dialog_log.answers["text"] = None  # Cancel: nothing written
    assert win.dicom.export_dialog(str(tmp_path / "out2")) == []
    assert not (tmp_path / "out2").exists()


def test_receive_from_scanner_files_into_the_watched_worklist(qtbot, tmp_path, dialog_log):  # noqa: F811
    import shutil

    storescu = need("storescu", "dcmtk")
    folder = tmp_path / "worklist"
    folder.mkdir()
    shutil.copy(SAMPLES / "sample-centre1.dcm", folder / "first.dcm")
    win = make_window(qtbot)
    assert win.open_path(folder)
    port = free_port()
    win.prefs.qs.setValue("pacs/listen_port", str(port))
    win.actions_by_name["dicom_receive"].setChecked(True)  # File → DICOM → Receive from scanner
    assert win.dicom.listener is not None and not dialog_log.texts("error")
    sent = subprocess.run(
        [storescu, "-aec", "DLRS", "127.0.0.1", str(port), str(SAMPLES / "demo.dcm")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert sent.returncode == 0, sent.stderr
    qtbot.waitUntil(lambda: len(win.worklist.paths) == 2, timeout=10000)
    assert win.worklist.current == folder / "first.dcm"
    win.actions_by_name["dicom_receive"].setChecked(False)
    assert win.dicom.listener is None
    # Any file that lands in the folder (e.g. from `dlrs dicom listen`) shows up too.
    shutil.copy(SAMPLES / "sample-centre2.dcm", folder / "third.dcm")
    qtbot.waitUntil(lambda: len(win.worklist.paths) == 3, timeout=10000)


def test_retrieve_with_c_move_for_a_pacs_without_c_get(qtbot, tmp_path, orthanc, dialog_log):  # noqa: F811
    orthanc.clear()
    store_scan(orthanc, SAMPLES / "sample-centre2.dcm")
    win = make_window(qtbot)
    win.prefs.export_folder = str(tmp_path)
    configure(win, orthanc.dicom_port, move=True)
    retrieve_the_one_study(qtbot, win, lambda: win.doc.image is not None)
    assert win.doc.path.parent.parent.name == "pacs" and not dialog_log.texts("error")
    assert (
        pydicom.dcmread(win.doc.path).SOPInstanceUID
        == pydicom.dcmread(SAMPLES / "sample-centre2.dcm").SOPInstanceUID
    )
