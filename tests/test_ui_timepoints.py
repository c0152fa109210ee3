"""Patients and time points (issue 30, items 1 and 2), real Qt offscreen on real DICOM files.

A folder of two patients × two exams groups by PatientID and StudyDate; exam labels and the
orthogonal pair are saved in the sidecars; the banner follows the identifiers preference; the
side-by-side views stay aligned after zoom, pan and window/level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from PySide6.QtCore import QPointF

from dlrs_desktop.store.annotation import beside_path
from tests.dicom_factory import write_bmode_dicom
from tests.ui_factory import dialog_log, make_window  # noqa: F401

EXAMS = [  # (file, PatientID, name, StudyDate, seed)
    ("a1.dcm", "P-002", "Roe^Ann", "20260105", 1),
    ("a2.dcm", "P-002", "Roe^Ann", "20260302", 2),
    ("b1.dcm", "P-001", "Doe^Jane", "20260110", 3),
    ("b2.dcm", "P-001", "Doe^Jane", "20260310", 4),
    ("b2_anti.dcm", "P-001", "Doe^Jane", "20260310", 5),
]


def two_patients(folder: Path) -> Path:
    """Small real US DICOMs whose patient and study fields are set with pydicom."""
    folder.mkdir(exist_ok=True)
    for name, pid, pname, date, seed in EXAMS:
        path, _, _ = write_bmode_dicom(folder / name, h=160, w=200, seed=seed)
        ds = pydicom.dcmread(path)
        ds.PatientID, ds.PatientName, ds.StudyDate = pid, pname, date
        ds.PatientBirthDate, ds.AccessionNumber = "19700101", f"ACC{seed}"
        ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[pid, date])  # one study per exam
        ds.save_as(path)
    return folder


def group_rows(win) -> list[str]:
    table = win.worklist.table
    return [table.item(r, 0).text().strip() for r in range(table.rowCount())]


def test_two_patients_two_exams_group_and_labels_persist(qtbot, tmp_path, dialog_log):  # noqa: F811
    folder = two_patients(tmp_path / "study")
    win = make_window(qtbot)
    win.open_path(folder)
    assert group_rows(win) == [
        "Patient 1",
        "Exam 1 · no time-point label · 1 image",
        "b1.dcm",
        "Exam 2 · no time-point label · 2 images",
        "b2.dcm",
        "b2_anti.dcm",
        "Patient 2",
        "Exam 1 · no time-point label · 1 image",
        "a1.dcm",
        "Exam 2 · no time-point label · 1 image",
        "a2.dcm",
    ]  # no names, IDs or dates while identifiers are off (the default)
    assert not win.timepoints.banner.isVisible()

    win.open_path(folder / "b1.dcm")
    win.timepoints.label_exam("baseline")
    win.open_path(folder / "b2.dcm")
    win.timepoints.label_exam("after cycle 2")  # both images of that exam
    assert "after cycle 2" in beside_path(folder / "b2_anti.dcm").read_text()
    win.actions["patient_identifiers"].setChecked(True)
    rows = group_rows(win)
    assert rows[:4] == ["Patient Doe Jane · ID P-001", "Exam 2026-01-10 · baseline · 1 image", "b1.dcm",
                        "Exam 2026-03-10 · after cycle 2 · 2 images"]  # fmt: skip
    assert rows[6:8] == ["Patient Roe Ann · ID P-002", "Exam 2026-01-05 · no time-point label · 1 image"]
    banner = win.timepoints.banner
    assert banner.isVisible()
    assert banner.text() == (
        "Doe Jane · ID P-001 · born 1970-01-01 · exam 2026-03-10 · accession ACC4 · after cycle 2"
    )
    win.actions["patient_identifiers"].setChecked(False)
    assert not banner.isVisible() and group_rows(win)[0] == "Patient 1"

    # a new window (a new session) reads the labels back from the sidecars
    win.close()
    again = make_window(qtbot)
    again.open_path(folder)
    assert group_rows(again)[1] == "Exam 1 · baseline · 1 image"
    assert group_rows(again)[3] == "Exam 2 · after cycle 2 · 2 images"


def test_png_assigned_to_patient_and_date_groups_with_it(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PIL import Image

    from tests.dicom_factory import bmode_frame

    folder = tmp_path / "pngs"
    folder.mkdir()
    for seed, name in enumerate(("x.png", "y.png", "z.png")):
        Image.fromarray(bmode_frame(160, 200, seed=seed)[0]).save(folder / name)  # three distinct images
    win = make_window(qtbot)
    win.open_path(folder)
    assert group_rows(win) == ["x.png", "y.png", "z.png"]  # one folder, one group: no group rows
    win.open_path(folder / "z.png")
    win.timepoints.assign_exam("S-7", "2026-02-01")
    win.timepoints.assign_exam("S-7", "2026-02-31x")  # refused in plain words
    assert any("YYYY-MM-DD" in t for t in dialog_log.texts())
    assert group_rows(win) == [
        "Patient 1",
        "Exam 1 · no time-point label · 1 image",
        "z.png",
        "Patient 2",
        "Exam 1 · no time-point label · 2 images",
        "x.png",
        "y.png",
    ]


def centre(canvas) -> tuple[float, float]:
    from dlrs_desktop.ui.compare_view import ViewLink

    return ViewLink.centre(canvas)


def test_side_by_side_views_stay_linked_and_keep_their_contours(qtbot, tmp_path, dialog_log):  # noqa: F811
    from tests.ui_factory import LESION_POLYGON, draw_polygon

    folder = two_patients(tmp_path / "study")
    win = make_window(qtbot)
    win.open_path(folder / "b1.dcm")
    draw_polygon(qtbot, win, LESION_POLYGON * 0.3 + 10)
    win.save_now()
    win.open_path(folder / "b2.dcm")
    win.actions["compare"].setChecked(True)
    compare = win.timepoints.compare
    assert compare.isVisible() and compare.path is not None and compare.path.name == "b1.dcm"
    assert compare.canvas.contour_item.path().elementCount() > 0  # b1's own saved contour
    assert win.canvas.contour_item.path().elementCount() == 0  # b2 has none
    a, b = win.canvas, compare.canvas
    a.zoom_at(2.0, QPointF(40, 50))
    assert abs(a.zoom - b.zoom) < 1e-6
    assert np.allclose(centre(a), centre(b), atol=0.01)
    a.horizontalScrollBar().setValue(a.horizontalScrollBar().value() + 37)  # pan
    a.verticalScrollBar().setValue(a.verticalScrollBar().value() - 21)
    assert np.allclose(centre(a), centre(b), atol=0.01)
    b.zoom_at(1.5)  # and the other way round
    assert abs(a.zoom - b.zoom) < 1e-6 and np.allclose(centre(a), centre(b), atol=0.01)
    a.set_window_level(80.0, 100.0)
    assert b.window_level == (80.0, 100.0)

    # the same exam's second image as the orthogonal view, marked as the pair in both sidecars
    compare.chooser.setCurrentIndex(compare.chooser.findData(str(folder / "b2_anti.dcm")))
    assert "same exam" in compare.chooser.currentText()
    compare.pair_button.click()
    assert win.doc.exam["view"] == "radial" and win.doc.exam["pair"] == compare.sha256
    assert '"antiradial"' in beside_path(folder / "b2_anti.dcm").read_text()
    win.open_path(folder / "b1.dcm")
    win.open_path(folder / "b2.dcm")
    assert compare.path.name == "b2_anti.dcm"  # the saved pair is offered first


def test_sidecar_exam_field_is_checked_and_round_trips():
    import pytest

    from dlrs_desktop.store.annotation import Annotation
    from dlrs_desktop.store.schema import SidecarError

    sha = "a" * 64
    ann = Annotation(
        sha, exam={"label": "after cycle 2", "date": "2026-03-10", "view": "radial", "pair": "b" * 64}
    )
    assert Annotation.from_dict(ann.to_dict()).exam == ann.exam
    assert "exam" not in Annotation(sha).to_dict()  # sidecars without a time point stay as they were
    assert not Annotation(sha, exam={"label": "baseline"}).is_empty  # a label alone is saved
    for bad in ({"pair": "xyz"}, {"date": "10/03/2026"}, {"view": "oblique"}, {"label": 5}, "baseline"):
        with pytest.raises(SidecarError):
            Annotation.from_dict({**ann.to_dict(), "exam": bad})
