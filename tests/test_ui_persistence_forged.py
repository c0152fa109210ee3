"""A forged `result` block in a sidecar is never shown as current, in the window or in the PDF (issue 14)."""

from __future__ import annotations

import json
import unicodedata

import pytest
from PySide6.QtCore import Qt

from dlrs_desktop.model import Predictor
from dlrs_desktop.store import AnnotationStore
from dlrs_desktop.store.annotation import beside_path
from tests.model_factory import cached_bundle
from tests.ui_factory import (
    calibrated_dicom,
    complete,
    dialog_log,  # noqa: F401  (fixture)
    make_window,
    saved_work,
)

HOSTILE_NAME = '<b style="color:red">Dr Forger</b><img src="x.png">'


def forge(qtbot, tmp_path):
    """A saved contour whose sidecar was then edited: p = 0.99, "reviewed" by an HTML name."""
    image = calibrated_dicom(tmp_path)
    win = saved_work(qtbot, image)
    contour_hash = win.doc.contour.content_hash()
    for path in (beside_path(image), win.store.user_path(win.doc.base_image.sha256)):
        data = json.loads(path.read_text())
        data["result"] = {
            "prediction": {
                "probability": 0.99,
                "threshold": 0.5,
                "category": "<i>likely early responder</i>",
                "regions": [{"name": "intratumoral", "probability": 0.99, "coefficient": 1.0}],
                "flags": [{"severity": "warning", "message": "<a href='http://x'>verified</a>"}],
            },
            "contour_hash": contour_hash,
            "model": {"id": "dlrs-demo", "version": "1.1.0", "notice": "Verified clinical model"},
        }
        data["review"] = {"status": "reviewed", "reviewer": HOSTILE_NAME, "time": data["saved_at"]}
        path.write_text(json.dumps(data))
    return image


def pdf_text(path) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())  # tabs between words, "ﬁ" ligatures


def test_forged_result_is_shown_only_as_saved_not_verified(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = forge(qtbot, tmp_path)
    win = make_window(qtbot)  # no model loaded: the result cannot be re-computed
    win.open_path(image)
    assert win.doc.result is not None and win.doc.result_state == "unverified"
    panel = win.result_panel
    assert panel.caption.text() == "saved — not verified"
    assert panel.stale.isVisible() and "NOT VERIFIED" in panel.stale.text()
    assert "gray" in panel.probability.styleSheet()
    assert panel.category.text().startswith("saved: ")
    for label in (panel.category, panel.details, panel.model_state):
        assert label.textFormat() == Qt.TextFormat.PlainText  # markup from the file stays text
    assert "<i>likely early responder</i>" in panel.category.text()

    pdf = win.export_pdf(str(tmp_path / "report.pdf"))
    text = pdf_text(pdf)
    assert "No verified prediction" in text
    assert "0.99" not in text and "likely early responder" not in text
    assert "Verified clinical model" not in text
    assert "Dr Forger" in text  # the review line is printed as the plain text it is


def test_forged_result_is_re_computed_as_soon_as_the_model_is_loaded(qtbot, tmp_path, dialog_log):  # noqa: F811
    image = forge(qtbot, tmp_path)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    win.open_path(image)
    assert win.doc.result_state == "unverified"
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(cached_bundle())
    qtbot.waitUntil(lambda: win.doc.result_state == "current" and complete(win), timeout=60000)
    # Re-computed: the loaded model's own answer for this image and contour, and its identity (not the
    # forged block's, and not merely "not 0.99", nor two fields copied from one value)
    shown = win.doc.result.to_json_dict()
    p = shown["prediction"]["probability"]
    model = Predictor(cached_bundle(), device="cpu")
    assert p == pytest.approx(
        model.predict(win.doc.image, win.doc.contour, sensitivity=False).probability, abs=1e-6
    )
    assert win.result_panel.caption.text() == "probability of early response"
    assert any("differs" in t and "0.990" in t for t in dialog_log.texts("info"))
    assert shown["identity"]["image_sha256"] == win.doc.base_image.sha256
    assert shown["identity"]["model_sha256"] == model.bundle.manifest_sha256
    assert shown["model"]["id"] == model.bundle.id != "dlrs-demo"
    text = pdf_text(win.export_pdf(str(tmp_path / "report.pdf")))
    assert f"{p:.2f}" in text and "No verified prediction" not in text
    # The re-computed result, as the model wrote it, passes the sidecar checks when read back.
    assert win.save_now()
    back = AnnotationStore().load(win.doc.base_image.sha256, image)
    assert not back.rejected and back.annotation.result["prediction"]["probability"] == p


def test_text_from_files_is_never_rich_text(qtbot, tmp_path, dialog_log):  # noqa: F811
    from PySide6.QtWidgets import QMessageBox

    from dlrs_desktop.ui import dialogs

    folder = tmp_path / "<h1>Study<br>"
    folder.mkdir()
    calibrated_dicom(folder, "<img src=x>SMITH.dcm")
    win = make_window(qtbot)
    assert win.open_path(folder)
    assert win.worklist.title.textFormat() == Qt.TextFormat.PlainText
    assert win.worklist.title.text().startswith("<h1>Study<br>")
    tip = win.worklist.table.item(0, 0).toolTip()
    assert "&lt;img src=x&gt;SMITH.dcm" in tip and "<img" not in tip  # tooltips would render HTML
    box = dialogs._box(win, QMessageBox.Icon.Information, "t", "Cannot open '<b>x</b>.dcm'")
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert win.model_label.textFormat() == Qt.TextFormat.PlainText
