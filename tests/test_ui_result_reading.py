"""A result you can read (issue 30, item 5), on real widgets offscreen and real files.

Plain-words guide and review state on the panel, F1 help, threshold vs uncertainty wording at two
decimals, About at the top, full worklist names, the cursor reading dropped on image change, a typed
known scale, the PDF's default name, institution, reviewer and signature line, the CSV's notice.
"""

from __future__ import annotations

import pytest

from dlrs_desktop.model.reading import is_uncertain
from dlrs_desktop.model.result import Prediction
from dlrs_desktop.ui.bars import format_probability, sensitivity_text
from tests.ui_factory import calibrated_dicom, dialog_log, make_window, uncalibrated_png  # noqa: F401

NEAR = [0.4949, 0.4951, 0.4996, 0.49999, 0.5, 0.50001, 0.5004, 0.5051]


@pytest.mark.parametrize("p", NEAR)
def test_shown_probability_is_on_the_same_side_of_the_threshold(p):
    shown = float(format_probability(p, 0.5))
    assert (shown < 0.5) == (p < 0.5), (p, shown)


@pytest.mark.parametrize("hi", NEAR)
def test_sensitivity_band_wording_agrees_with_the_uncertain_state(hi):
    pred = Prediction.from_json_dict(
        {"probability": 0.47, "threshold": 0.5, "category": "non-responder",
         "sensitivity": {"offsets_mm": [-1.0, 1.0], "probabilities": [0.46, hi]}}
    )  # fmt: skip
    text = sensitivity_text(pred)
    top = float(text.split("–")[1].split()[0])
    assert (top >= 0.5) == is_uncertain(pred), (hi, text)  # the band crosses the threshold iff shown so


def test_panel_explains_itself_and_shows_the_review(qtbot, tmp_path, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    panel = win.result_panel
    guide = panel.guide
    assert guide.button.text() == "How to read this" and not guide.text.isVisible()
    guide.button.click()
    assert guide.text.isVisible()
    for element in ("Big number", "Bars", "dashed", "Fusion", "Weights in the fusion", "early response",
                    "STALE", "Explanation map", "reviewed"):  # fmt: skip
        assert element in guide.text.text(), element
    win.open_path(calibrated_dicom(tmp_path))
    assert panel.review.text().startswith("Contour: draft")
    from tests.ui_factory import draw_polygon

    draw_polygon(qtbot, win)
    dialog_log.answers["text"] = "Dr Reader"
    win.toggle_reviewed()
    assert panel.review.text().startswith("Contour: reviewed by Dr Reader at ")
    from dlrs_desktop.ui.about import help_html

    html = help_html(win.tools.values(), win.actions.shortcuts)
    assert "Reading the result" in html and "dashed tick" in html
    assert "of early response: the tumour shrinking well" in html  # the demo's outcome, the study's words
    assert "against (blue) early response" in html
    assert "the 3, 5 and 10 mm rings around it" in html  # the study's rings, in its own sentence


def test_the_reading_guide_names_a_model_without_rings(qtbot):
    from dlrs_desktop.model.outcome import DEFAULT
    from dlrs_desktop.ui.result_help import ReadingGuide

    guide = ReadingGuide()
    qtbot.addWidget(guide)
    guide.set_model(DEFAULT, ())
    assert "one bar, for the tumour's network (this model has no rings)" in guide.text.text()
    assert "mm rings" not in guide.text.text()


def test_about_opens_at_the_top(qtbot):
    from dlrs_desktop.ui.about import make_about_dialog
    from dlrs_desktop.ui.worker import ModelInfo

    dlg = make_about_dialog(None, ModelInfo())
    qtbot.addWidget(dlg)
    dlg.show()
    from PySide6.QtWidgets import QTextBrowser

    view = dlg.findChild(QTextBrowser)
    assert view.verticalScrollBar().value() == 0 and view.textCursor().position() == 0
    assert dlg.width() >= 700 and view.document().documentMargin() >= 12


def test_worklist_full_names_cursor_reading_known_scale(qtbot, tmp_path, dialog_log):  # noqa: F811
    long_name = "2026-03-10_after_cycle_2_left_breast_radial_view_lesion_A.png"
    uncalibrated_png(tmp_path, long_name)
    calibrated_dicom(tmp_path, "b.dcm")
    win = make_window(qtbot)
    win.worklist_dock.setMinimumWidth(500)
    win.open_path(tmp_path)
    table = win.worklist.table
    row = win.worklist.row_of(tmp_path / long_name)
    width = table.fontMetrics().horizontalAdvance(long_name)
    assert table.columnWidth(0) >= width and "Result" in [
        table.horizontalHeaderItem(c).text() for c in range(table.columnCount())
    ]
    assert table.item(row, 0).text() == long_name
    win.open_path(tmp_path / "b.dcm")
    win._cursor_moved(10.0, 12.0)
    assert win.cursor_label.text().startswith("x 10, y 12 px")
    win.open_path(tmp_path / long_name)
    assert win.cursor_label.text() == ""  # not the previous image's reading
    dialog_log.answers["float"] = 0.125
    win.actions["known_scale"].trigger()
    assert win.doc.calibration.mm_per_px_x == pytest.approx(0.125)
    win.undo_stack.undo()
    assert win.doc.manual_calibration is None


def test_pdf_name_institution_reviewer_signature(qtbot, tmp_path, dialog_log):  # noqa: F811
    import pypdf

    from dlrs_desktop.ui.report import ReportOptions

    win = make_window(qtbot)
    win.prefs.institution = "Breast Centre, Example Hospital"
    win.prefs.reviewer = "Dr Reader"
    win.open_path(calibrated_dicom(tmp_path))
    ids = {"patient_id": "P 001/x", "study_date": "2026-03-10"}
    assert win.exporter.default_name(ReportOptions(True, ids)) == "dlrs-P_001_x-2026-03-10"
    assert win.exporter.default_name(ReportOptions()).startswith("dlrs-") and "P_001" not in (
        win.exporter.default_name(ReportOptions())
    )
    out = win.export_pdf(str(tmp_path / "r.pdf"), ReportOptions(True, ids))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(out).pages).replace("\t", " ")
    for needle in ("Breast Centre, Example Hospital", "Reviewer: Dr Reader", "Signature:"):
        assert needle in text, needle


def test_csv_rows_carry_the_research_notice():
    from dlrs_desktop.commands.predict import CSV_FIELDS, _row

    assert CSV_FIELDS[-1] == "research_notice"
    assert "Research use only" in _row("x.png", error="cannot open")["research_notice"]
