"""View → Size over time in the real window (issue 30): two DICOM exams of one patient, contours of
20.0 mm and 13.0 mm longest diameter saved through the app's own store, → -35 % "partial response (size
criteria)" in the dock and in the GUI's PDF; an edit of the follow-up contour updates the dock; a stale
result is never shown as a probability; no trustworthy mm/px, one line and no numbers. Real Qt
(offscreen), real files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydicom
from pypdf import PdfReader

from dlrs_desktop.model.domain_text import is_outside
from dlrs_desktop.model.result import SavedResult
from dlrs_desktop.store.annotation import beside_path
from tests.dicom_factory import write_bmode_dicom
from tests.i18n_factory import zh_cn  # noqa: F401
from tests.ui_factory import complete, dialog_log, make_window  # noqa: F401

PR = "partial response (size criteria)"
MM_PER_PX = 0.2  # the DICOM's ultrasound region: 20.0 mm = 100 px, 13.0 mm = 65 px
CENTRE = (256.0, 216.0)  # inside the scan area of tests.dicom_factory.bmode_frame(480, 640)


def diamond(longest_mm: float, height_mm: float = 6.0) -> np.ndarray:
    """A lesion whose longest diameter is exactly `longest_mm` (horizontal, vertex to vertex)."""
    a, b = longest_mm / MM_PER_PX / 2, height_mm / MM_PER_PX / 2
    x, y = CENTRE
    return np.array([[x - a, y], [x, y - b], [x + a, y], [x, y + b]], float)


def two_exams(folder: Path, mm_per_px: float = MM_PER_PX) -> tuple[Path, Path]:
    folder.mkdir(exist_ok=True)
    out = []
    for name, date, seed in (("base.dcm", "20260105", 1), ("cycle2.dcm", "20260302", 2)):
        path, _, _ = write_bmode_dicom(folder / name, mm_per_px=mm_per_px, seed=seed)
        ds = pydicom.dcmread(path)
        ds.PatientID, ds.PatientName, ds.StudyDate = "NAC-9", "Test^Patient", date
        ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["NAC-9", date])
        ds.save_as(path)
        out.append(path)
    return out[0], out[1]


def contour_and_label(win, path: Path, longest_mm: float, label: str) -> None:
    """What a user does: open the image, draw, label the exam; saved by the app's own store."""
    assert win.open_path(path)
    win.doc.set_contour_points(diamond(longest_mm))
    assert win.save_now()
    win.timepoints.label_exam(label)


def saved_result(win, probability: float) -> None:
    """A result saved for the open image's present contour (as a sidecar holds it)."""
    pred = {"probability": probability, "threshold": 0.5, "category": "non-responder"}
    win.doc.set_result(
        SavedResult.from_json_dict({"prediction": pred, "contour_hash": win.doc.contour.content_hash()})
    )
    assert win.save_now()


def cells(dock) -> list[list[str]]:
    t = dock.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return re.sub(r"[ \t]+", " ", text)


def cell_starts(path: Path) -> dict[str, tuple[float, float]]:
    """Where each text run of the PDF starts (x) and its font size, in page units."""
    out: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, font, size) -> None:
        if text.strip():
            out.setdefault(re.sub(r"\s+", " ", text.strip()), (float(tm[4]), float(size)))

    PdfReader(str(path)).pages[0].extract_text(visitor_text=visit)
    return out


def test_size_over_time_dock_pdf_edit_and_stale(qtbot, tmp_path, dialog_log):  # noqa: F811
    base, cycle2 = two_exams(tmp_path / "study")
    win = make_window(qtbot)
    win.open_path(tmp_path / "study")
    contour_and_label(win, base, 20.0, "baseline")
    saved_result(win, 0.412)
    contour_and_label(win, cycle2, 13.0, "after cycle 2")
    assert "after cycle 2" in beside_path(cycle2).read_text()
    dock = win.timeline.dock
    assert not dock.isVisible()
    assert win.actions["size_over_time"] in win.menus["view"].actions()  # View → Size over time
    assert ("View", "Size over time", "Ctrl+Shift+T") in win.actions.shortcuts
    win.actions["size_over_time"].trigger()
    qtbot.waitUntil(dock.isVisible)
    summary = dock.summary.text()
    assert "20.0 mm → 13.0 mm (-35.0 %, -7.0 mm): " + PR in summary
    assert "no model probability at after cycle 2" in summary  # nothing predicted for the follow-up
    assert cells(dock) == [
        ["2026-01-05", "baseline", "20.0 mm", "baseline", "-", "0.412"],
        ["2026-03-02", "after cycle 2", "13.0 mm", "-35.0 % (-7.0 mm)", PR, "-"],
    ]
    assert "baseline: probability read from the annotation file" in dock.notes.text()

    # The GUI's PDF carries the same table.
    text = pdf_text(win.write_report(tmp_path / "report.pdf"))
    assert "Lesion timeline" in text and "-35.0 % (-7.0 mm)" in text and PR in text
    # The report prints no number read from a file (its rule for the open image's result too).
    assert "0.412" not in text and "only where the model computed it in this session" in text
    starts = cell_starts(tmp_path / "report.pdf")  # columns laid out at the page's dpi: no overlap
    (x_change, size), (x_category, _) = starts["-35.0 % (-7.0 mm)"], starts[PR]
    assert x_category - x_change > 0.5 * size * len("-35.0 % (-7.0 mm)")

    # Editing the follow-up's contour updates the dock (the live contour, not the saved one).
    win.doc.set_contour_points(diamond(16.0))
    qtbot.waitUntil(lambda: "-20.0 %" in dock.summary.text(), timeout=3000)
    assert "stable disease (size criteria)" in dock.summary.text()

    # A result for this contour shows; an edit after it makes it stale: no number, a plain note.
    saved_result(win, 0.731)
    qtbot.waitUntil(lambda: cells(dock)[1][5] == "0.731", timeout=3000)
    win.doc.set_contour_points(diamond(13.0))
    qtbot.waitUntil(lambda: "-35.0 %" in dock.summary.text(), timeout=3000)
    assert cells(dock)[1][5] == "-" and "0.731" not in dock.summary.text()
    assert (
        "after cycle 2: the saved result belongs to an earlier contour or model (stale)" in dock.notes.text()
    )

    # The baseline's saved result belongs to its saved contour; once that contour changes on disk
    # (edited in another session) while its result stays, the number is no longer shown.
    assert win.save_now()
    win.open_path(base)
    win.doc.set_contour_points(diamond(21.0))  # the live baseline contour: its result goes stale
    qtbot.waitUntil(lambda: cells(dock)[0][5] == "-", timeout=3000)
    assert "baseline: the saved result belongs to an earlier contour" in dock.notes.text()


def test_orthogonal_pair_gives_the_two_view_volume(qtbot, tmp_path, dialog_log):  # noqa: F811
    import math

    base, cycle2 = two_exams(tmp_path / "study")
    anti, _, _ = write_bmode_dicom(tmp_path / "study" / "cycle2_anti.dcm", mm_per_px=MM_PER_PX, seed=7)
    ds = pydicom.dcmread(anti)  # the same visit as cycle2.dcm: one exam, two planes
    ref = pydicom.dcmread(cycle2, stop_before_pixels=True)
    ds.PatientID, ds.StudyDate, ds.StudyInstanceUID = ref.PatientID, ref.StudyDate, ref.StudyInstanceUID
    ds.save_as(anti)
    win = make_window(qtbot)
    win.open_path(tmp_path / "study")
    contour_and_label(win, base, 20.0, "baseline")
    contour_and_label(win, anti, 15.0, "after cycle 2")  # antiradial: 15 mm across, 6 mm deep
    anti_sha = win.doc.base_image.sha256
    contour_and_label(win, cycle2, 13.0, "after cycle 2")  # radial: 13 mm across, 6 mm deep
    win.timepoints.update_exam(anti, {"pair": win.doc.base_image.sha256, "view": "antiradial"})
    win.timepoints.update_exam(cycle2, {"pair": anti_sha, "view": "radial"})
    win.actions["size_over_time"].trigger()
    dock = win.timeline.dock
    qtbot.waitUntil(dock.isVisible)
    volume = math.pi / 6 * 13.0 * 15.0 * 6.0  # ellipsoid: across-beam of each view, the shared depth
    assert f"after cycle 2: two-view volume {volume:.0f} mm³" in dock.notes.text()
    # the lesion's longest diameter is the larger view's (RECIST: the longest in any plane)
    assert cells(dock)[1][2:5] == ["15.0 mm", "-25.0 % (-5.0 mm)", "stable disease (size criteria)"]
    assert "different numbers of views" in dock.notes.text()


def test_no_trustworthy_scale_is_one_line_and_no_numbers(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PIL import Image

    from tests.dicom_factory import bmode_frame

    folder = tmp_path / "pngs"
    folder.mkdir()
    for seed, name in enumerate(("a.png", "b.png")):
        Image.fromarray(bmode_frame(480, 640, seed=seed)[0]).save(folder / name)
    win = make_window(qtbot)
    win.open_path(folder)
    for name, date, label in (("a.png", "2026-01-05", "baseline"), ("b.png", "2026-03-02", "after cycle 2")):
        win.open_path(folder / name)
        win.timepoints.assign_exam("S-1", date)
        win.doc.set_contour_points(diamond(20.0))
        assert win.save_now()
        win.timepoints.label_exam(label)
    win.timeline.action.trigger()
    dock = win.timeline.dock
    qtbot.waitUntil(dock.isVisible)
    assert "no trustworthy millimetre calibration" in dock.summary.text()
    assert dock.table.rowCount() == 0 and "mm →" not in dock.summary.text()
    assert win.exporter.timeline() == ()  # the report prints no timeline either


def test_predict_follow_up_opens_dock_chinese_pdf(qtbot, tmp_path, dialog_log, zh_cn):  # noqa: F811
    from dlrs_desktop.ui.timeline_paint import heading, translate_cell

    base, cycle2 = two_exams(tmp_path / "study")
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=120000):
        win.start_model(None)
    win.open_path(tmp_path / "study")
    contour_and_label(win, base, 20.0, "baseline")
    contour_and_label(win, cycle2, 13.0, "after cycle 2")
    dock = win.timeline.dock
    assert not dock.isVisible()
    win.predict()  # the user's Predict on the follow-up: the size change belongs beside it
    qtbot.waitUntil(lambda: win.doc.result_state == "current" and complete(win), timeout=120000)
    qtbot.waitUntil(dock.isVisible, timeout=3000)
    row = cells(dock)[1]
    assert row[:5] == ["2026-03-02", "after cycle 2", "13.0 mm", "-35.0 % (-7.0 mm)", translate_cell(PR)]
    pred = win.doc.result.prediction
    # The synthetic scan is outside the demonstration model's domain: the number is withheld here too.
    assert is_outside(pred) and row[5] == "-" and f"{pred.probability:.3f}" not in dock.summary.text()
    assert "超出模型的训练范围" in dock.notes.text()  # the note in the interface's language
    text = pdf_text(win.write_report(tmp_path / "report-zh.pdf"))
    assert heading().split("(")[0].strip()[:4] in text
    assert "-35.0 % (-7.0 mm)" in text and translate_cell(PR) in text

    # Opening the baseline and predicting there does not open the dock by itself (no earlier exam).
    dock.hide()
    win.open_path(base)
    win.predict()
    qtbot.waitUntil(lambda: win.doc.result_state == "current" and complete(win), timeout=120000)
    qtbot.wait(200)
    assert not dock.isVisible()


def test_a_current_probability_is_in_the_dock_and_the_pdf(qtbot, tmp_path, dialog_log):  # noqa: F811
    """Bundled sample scans (inside the demonstration model's domain) as one patient's two exams."""
    import shutil

    from dlrs_desktop import paths

    folder = tmp_path / "study"
    folder.mkdir()
    for sample, name, date in (("sample-centre1", "base", "20260105"), ("demo", "cycle2", "20260302")):
        ds = pydicom.dcmread(paths.samples_dir() / f"{sample}.dcm")
        ds.PatientID, ds.StudyDate = "NAC-017", date
        ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["NAC-017", date])
        ds.save_as(folder / f"{name}.dcm")
        shutil.copy(paths.samples_dir() / f"{sample}.contour.json", folder / f"{name}.contour.json")
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=120000):
        win.start_model(None)
    win.open_path(folder)
    for name, label in (("base", "baseline"), ("cycle2", "after cycle 2")):
        win.open_path(folder / f"{name}.dcm")
        win.load_contour_file(folder / f"{name}.contour.json")
        assert win.save_now()
        win.timepoints.label_exam(label)
    win.predict()
    qtbot.waitUntil(
        lambda: win.doc.result_state == "current" and win.timeline.dock.isVisible(), timeout=120000
    )
    pred = win.doc.result.prediction
    assert not is_outside(pred)
    prob = f"{pred.probability:.3f}"
    qtbot.waitUntil(lambda: cells(win.timeline.dock)[1][5] == prob, timeout=3000)
    assert f"model probability at after cycle 2: {prob}" in win.timeline.dock.summary.text()
    starts = cell_starts(win.write_report(tmp_path / "report.pdf"))
    # the table's Probability column holds it: computed in this session for the contour shown
    assert abs(starts[prob][0] - starts["Probability"][0]) < 1
