"""The workstation in Simplified Chinese: the main window after a prediction, every menu's dialogs, the
PDF report with a Chinese patient name, and the language choice (Preferences, --language)."""

from __future__ import annotations

import io
import unicodedata

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QCoreApplication

from dlrs_desktop.ui import i18n
from dlrs_desktop.ui.report import ReportOptions
from tests.i18n_factory import DialogCatcher, english_words, menu_actions, visible_texts, zh_cn  # noqa: F401
from tests.ui_factory import complete, dialog_log, make_window  # noqa: F401  (fixture)

#: Actions left out of the menu walk: Quit closes the window under test.
SKIP = {"quit"}


@pytest.fixture
def predicted(qtbot, zh_cn):  # noqa: F811
    """The demo case in Chinese with the bundled demonstration model's prediction shown."""
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=120000):
        win.start_model(None)
    assert win.open_demo()
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=120000)
    return win


def _english(texts, extra=frozenset()):
    return [(where, english_words(text, extra)) for where, text in texts if english_words(text, extra)]


def test_main_window_after_predict_shows_no_english(predicted):
    win = predicted
    texts = list(visible_texts(win))
    texts += [("menu", a.text()) for m in win.menus.values() for _, a in menu_actions(m)]
    texts += [("menu bar", a.text()) for a in win.menuBar().actions()]
    texts += [("status", win.statusBar().currentMessage())]
    # the model's id is its name (allowed); everything else must be Chinese
    assert _english(texts) == []
    assert "早期反应概率" in win.result_panel.caption.text()
    assert "仅供研究使用" in win.result_panel.notice.text()
    assert win.menus["file"].title() == "文件(&F)"


def test_every_dialog_reachable_from_the_menus_is_chinese(predicted, qtbot):
    win = predicted
    catcher = DialogCatcher(win)
    opened = []
    for menu in win.menus.values():
        for where, action in list(menu_actions(menu)):
            name = next((n for n, a in win.actions_by_name.items() if a is action), "")
            if name in SKIP or action.menu() is not None or not action.isEnabled():
                continue
            before = len(catcher.seen)
            catcher.run(action)
            if name == "dicom_receive" and action.isChecked():
                action.trigger()  # stop the listener again
            opened += [(where, *seen) for seen in catcher.seen[before:]]
    # a prediction or model switch started from a menu may still answer with a dialog: read it too
    before = len(catcher.seen)
    catcher.timer.start()

    def idle() -> bool:
        """A model switch keeps the model in use "ready" while the new one loads: wait for that load too
        (a window deleted while its worker pool still runs Python deadlocks in ~QThreadPool)."""
        return win.prediction.pending_job is None and win.model.ready and not win.model.loading

    qtbot.waitUntil(idle, timeout=120000)
    qtbot.wait(500)
    catcher.timer.stop()
    opened += [("(after the walk)", *seen) for seen in catcher.seen[before:]]
    titles = [t for _, t, _ in opened]
    # the ones every tester expects: Preferences, export PDF, help, about, the file dialogs, PACS errors
    for expected in ("首选项", "导出 PDF 报告", "帮助 — 工具与快捷键", "关于 DLRS Desktop", "打开超声图像"):
        assert any(expected in t for t in titles), (expected, titles)
    # the merged branches' dialogs: time point, patient/exam date, known scale (their questions)
    asked = [text for _, _, texts in opened for _, text in texts]
    for expected in ("本次检查的时间点", "患者（研究编号，而非姓名）", "该图像的已知比例尺"):
        assert any(expected in t for t in asked), (expected, titles)
    assert any("标注检查时间点" in t for t in titles) and any("输入已知比例尺" in t for t in titles)
    # View → Compare side by side opened the second view beside the image: it is Chinese too
    compare = win.timepoints.compare
    assert compare.isVisible() and compare.pair_button.text() == "标记为正交切面对"
    assert _english(visible_texts(compare)) == []
    problems = []
    for where, title, texts in opened:
        card = title.endswith("关于 DLRS Desktop")
        for kind, text in texts:
            if card and kind == "QTextBrowser":
                text = text.split("已加载模型的研究声明")[0]  # the model card itself is the bundle's words
            words = english_words(text)
            if words:
                problems.append((where, title, kind, words[:6]))
    assert problems == []
    assert len(opened) >= 12


def test_the_unsigned_model_question_is_chinese(predicted, qtbot):
    """Model → a bundle no trusted key signed: the question (and the refusal after "no") is Chinese."""
    from tests.model_factory import cached_bundle

    win = predicted
    catcher = DialogCatcher(win)
    catcher.timer.start()
    try:
        win.prediction.start_model(cached_bundle(), keep_current=True)  # as Model → Open; unsigned
        qtbot.waitUntil(lambda: any("未签名模型" in title for title, _ in catcher.seen), timeout=120000)
        qtbot.waitUntil(lambda: not win.model.loading, timeout=120000)
        qtbot.wait(300)
    finally:
        catcher.timer.stop()
    question = next(texts for title, texts in catcher.seen if "未签名模型" in title)
    assert any("未经您信任的密钥签名" in text and "未签名模型" in text for _, text in question)
    assert [(title, _english(texts)) for title, texts in catcher.seen if _english(texts)] == []
    assert win.model.info.name == "dlrs-demo"  # "no": the model in use stays


def test_gui_pdf_is_chinese_with_a_chinese_patient_name(predicted, tmp_path):
    win = predicted
    options = ReportOptions(True, {"patient_name": "张伟", "patient_id": "ZW-0001", "operator": "李娜"})
    win.prefs.institution, win.prefs.reviewer = "某某大学附属医院 乳腺超声科", "李娜"
    out = win.export_pdf(str(tmp_path / "report.pdf"), options)
    # NFKC: a CJK system font may map a character to its Kangxi-radical twin in the text layer
    text = unicodedata.normalize("NFKC", "".join(page.extract_text() for page in PdfReader(out).pages))
    for label in ("报告", "患者姓名", "张伟", "李娜", "预测", "肿瘤与瘤周环", "早期反应概率", "仅供研究使用"):
        assert label in text, label
    # the taller Chinese lines, the institution and the signature block still fit one page (the image
    # gives way), where before the merges' extra lines ran off the bottom of the page unseen
    assert len(PdfReader(out).pages) == 1 and "签名" in text and "审阅者:李娜" in text
    heights: list[float] = []  # where each piece of text sits (PDF y: 0 is the page's bottom edge)
    PdfReader(out).pages[0].extract_text(
        visitor_text=lambda t, cm, tm, *_: heights.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
    )
    assert heights and min(heights) >= 0
    assert "?" not in text.replace("(?)", "")  # no glyph fell back to a question mark
    fonts = {str(f) for page in PdfReader(out).pages for f in page["/Resources"]["/Font"].values()}
    assert fonts


def test_language_follows_argument_then_preference_then_system(monkeypatch):
    assert i18n.resolve_language("zh_CN", "en") == "zh_CN"
    assert i18n.resolve_language(None, "zh_CN") == "zh_CN"
    assert i18n.resolve_language("en", "zh_CN") == "en"
    assert i18n.normalise("zh-Hans-CN") == "zh_CN" and i18n.normalise("fr_FR") is None
    from dlrs_desktop.ui.app import build_parser

    assert build_parser().parse_args(["--language", "zh_CN"]).language == "zh_CN"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--language", "de"])


def test_preferences_language_is_saved_and_asks_for_a_restart(qtbot, dialog_log):  # noqa: F811
    win = make_window(qtbot)
    dlg = win.preferences_dialog()
    assert [dlg.language.itemData(i) for i in range(dlg.language.count())] == ["", "en", "zh_CN"]
    assert dlg.language.itemText(2) == "简体中文"
    dlg.language.setCurrentIndex(2)
    dlg.apply()
    assert win.prefs.language == "zh_CN"
    assert any("next start" in t for t in dialog_log.texts("info"))


def test_english_stays_the_source_language(qtbot):
    """Without the catalogue the interface is English, word for word as written in the source."""
    win = make_window(qtbot)
    assert win.menus["file"].title() == "&File"
    assert QCoreApplication.translate("outcome", "early response") == "early response"


def test_cli_pdf_prints_a_chinese_patient_name_with_the_shipped_font(qtbot):
    """The Pillow report (`dlrs dicom export`, no Qt inside) stays English, and a Chinese name given to
    it is drawn as Hanzi: the embedded page image differs between "张伟", "伟张" and "??"."""
    from dlrs_desktop.exchange.pdf import render_report_pdf

    win = make_window(qtbot)
    assert win.open_demo()
    rois, err = win.doc.rois()
    assert rois is not None, err
    measured = win.doc.contour.measurements()

    def title_band(patient: str) -> bytes:
        pdf = render_report_pdf(win.doc.image, rois, measured, None, "image abc, frame 1", patient)
        (page,) = PdfReader(io.BytesIO(pdf)).pages
        (picture,) = page.images
        return picture.image.convert("L").crop((80, 100, 1240, 150)).tobytes()

    zhang_wei, wei_zhang, unknown = title_band("张伟"), title_band("伟张"), title_band("??")
    assert zhang_wei != wei_zhang and zhang_wei != unknown
    assert min(zhang_wei) < 100  # ink: the name was drawn


def test_the_file_dialog_names_a_folder_in_chinese(qapp, zh_cn, tmp_path) -> None:  # noqa: F811
    """qtbase_zh_CN lacks the Type column's "Folder" for this Qt: our catalogue holds it (i18n.QT_GAPS)."""
    from PySide6.QtCore import QFileInfo
    from PySide6.QtWidgets import QFileIconProvider

    assert QFileIconProvider().type(QFileInfo(str(tmp_path))) == "文件夹"
