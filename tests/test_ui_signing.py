"""The window and unsigned bundles (issue 27 item 4): a bundle no trusted key signed is used only when
the user says yes in a dialog; then the panel, the PDF report and every result say "unsigned model"."""

from __future__ import annotations

import re
from pathlib import Path

from dlrs_desktop.ui.about import PreferencesDialog
from tests.model_factory import cached_bundle
from tests.ui_factory import calibrated_dicom, complete, dialog_log, draw_polygon, make_window  # noqa: F401


def _pdf_text(path: str | Path) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(str(path)).pages))


def test_an_unsigned_bundle_needs_the_users_yes_and_then_says_so(qtbot, tmp_path, dialog_log):  # noqa: F811
    bundle = cached_bundle(input_size=64)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    dialog_log.answers["yes_no"] = False
    with qtbot.waitSignal(win.model.load_failed, timeout=60000):
        win.model_menu.start(bundle)
    asked = dialog_log.texts("yes_no")
    assert len(asked) == 1 and "not signed by a key you trust" in asked[0]
    assert not win.model.ready

    dialog_log.answers["yes_no"] = True
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.model_menu.start(bundle)
    assert win.model.info.name == "test-random" and "unsigned model" in win.model.info.notice
    assert win.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, win)
    win.predict()
    qtbot.waitUntil(lambda: win.doc.result_state == "current" and complete(win), timeout=60000)
    assert "unsigned model" in _pdf_text(win.export_pdf(str(tmp_path / "report.pdf")))


def test_opening_an_unsigned_bundle_keeps_the_model_in_use_unless_allowed(qtbot, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.model_menu.start(None)  # the signed demonstration model: no question
    assert not dialog_log.texts("yes_no") and win.model.info.name == "dlrs-demo"
    dialog_log.answers["model_folder"] = str(cached_bundle(input_size=64))
    dialog_log.answers["yes_no"] = False
    with qtbot.waitSignal(win.model.switch_failed, timeout=60000):
        win.actions_by_name["open_model"].trigger()
    assert win.model.ready and win.model.info.name == "dlrs-demo"  # the model in use stays
    dialog_log.answers["yes_no"] = True
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.actions_by_name["open_model"].trigger()
    assert win.model.info.name == "test-random" and "unsigned model" in win.result_panel.notice.text()


def test_an_edited_signed_bundle_is_asked_about_too(qtbot, tmp_path, dialog_log):  # noqa: F811
    import json
    import shutil

    demo = Path(
        shutil.copytree(Path(__file__).parent.parent / "resources" / "models" / "dlrs-demo", tmp_path / "d")
    )
    m = json.loads((demo / "manifest.json").read_text())
    m["threshold"] = m["threshold"] + 0.01
    (demo / "manifest.json").write_text(json.dumps(m))
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    dialog_log.answers["yes_no"] = False
    with qtbot.waitSignal(win.model.load_failed, timeout=60000):
        win.model_menu.start(demo)
    assert "manifest was changed after signing" in dialog_log.texts("yes_no")[0]
    assert not win.model.ready


def test_preferences_list_trusted_keys(qtbot):
    win = make_window(qtbot)
    dlg = PreferencesDialog(win, win.prefs, "cpu", [], lambda *_: None, lambda: None)
    dlg.trusted_keys.setText(" /keys/a.pub ; /keys/b.pub ")
    dlg.apply()
    assert win.prefs.trusted_key_files == ("/keys/a.pub", "/keys/b.pub")
