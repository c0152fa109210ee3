"""Helpers for the Chinese-interface tests: switch the running app's language, list visible text, find
English words that are not on the allow-list, and open every dialog a menu action shows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTableWidget,
    QTextBrowser,
    QToolBar,
    QTreeView,
    QWidget,
)

from dlrs_desktop.ui import i18n

#: Words that stay as they are in a Chinese interface: standards, protocols, units, keys, product and
#: model names, file types, the study's citation and placeholders the user types in that form.
_WORDS = (
    "DICOM PACS AE SR SEG PDF PNG JSON GPU CPU CUDA DLRS Desktop ResNet sha mm mm² px fps W L ID T "
    "Ctrl Shift Alt Enter Esc Backspace Delete PgUp PgDown Space Return Del Up Down Left Right "
    "Liu et al BMC Cancer C-GET C-MOVE GET MOVE ANONYMOUS Anonymous Patient DOE YYYYMMDD "
    "dcm dicom png jpg jpeg tif tiff bmp json pdf manifest onnxruntime cpu gpu auto cuda "
    "BUS-BRA BUSI BrEaST "  # public datasets the bundled real-data model names
    "int float "  # int8 / float32: the numeric type the model ran in (docs/MODEL_BUNDLE.md "int8 model")
    "English"  # the language's own name in Preferences → Language
)
ALLOWED = set(re.split(r"\s+", _WORDS.strip()))
WORD = re.compile(r"[A-Za-z][A-Za-z²'-]*")
#: File names, paths, hashes and model ids ("dlrs-demo", "dlrs-bus-malignancy") are names, not words.
FILE_NAME = re.compile(
    r"\S+\.(dcm|png|json|pdf|onnx|jpg|tif|zip|ini)\b|\S*/\S+|\b[0-9a-f]{12,64}\b|\b[a-z0-9]+(?:-[a-z0-9]+)+\b"
)


@pytest.fixture
def zh_cn():
    """The running QApplication in Simplified Chinese for one test, English again afterwards."""
    app = QApplication.instance()
    assert i18n.install(app, "zh_CN") == "zh_CN"
    native = QCoreApplication.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)  # inspectable
    yield app
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, native)
    i18n.install(app, "en")


def english_words(text: str, extra: set[str] = frozenset()) -> list[str]:
    """Latin words in `text` that a Chinese interface must not show (file names and hashes excepted)."""
    text = FILE_NAME.sub(" ", text.replace("&", ""))
    return [w for w in WORD.findall(text) if w.strip("'-") not in ALLOWED | extra and len(w) > 1]


def chinese(text: str, *names: str) -> bool:
    """Chinese, with no English word but the allowed ones (standards, formats) and `names`."""
    return any("\u4e00" <= c <= "\u9fff" for c in text) and english_words(text, set(names)) == []


def visible_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a user sees in `root` and its visible children."""
    if root.isWindow():
        yield "title", root.windowTitle()
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisibleTo(root) and w is not root:
            continue
        name = type(w).__name__
        if isinstance(w, QLabel | QAbstractButton):
            yield name, w.text()
        elif isinstance(w, QGroupBox):
            yield name, w.title()
        elif isinstance(w, QComboBox):
            yield from ((name, w.itemText(i)) for i in range(w.count()))
        elif isinstance(w, QLineEdit):
            yield name, w.placeholderText()
        elif isinstance(w, QTextBrowser):
            yield name, w.toPlainText()
        elif isinstance(w, QDockWidget | QToolBar):
            yield name, w.windowTitle()
        elif isinstance(w, QTableWidget):
            for c in range(w.columnCount()):
                item = w.horizontalHeaderItem(c)
                yield name, item.text() if item else ""
            for r in range(w.rowCount()):
                for c in range(w.columnCount()):
                    item = w.item(r, c)
                    yield name, item.text() if item else ""
        elif isinstance(w, QTreeView) and w.model() is not None:
            model = w.model()
            for c in range(model.columnCount()):
                yield name, str(model.headerData(c, Qt.Orientation.Horizontal) or "")


def menu_actions(menu: QMenu, path: str = "") -> Iterator[tuple[str, object]]:
    """(menu path, action) for every action of `menu` and its submenus."""
    for action in menu.actions():
        if action.isSeparator():
            continue
        where = f"{path} > {action.text()}"
        yield where, action
        if action.menu() is not None:
            yield from menu_actions(action.menu(), where)


class DialogCatcher:
    """Every top-level window that appears while an action runs: its texts are read, then it is closed
    (modal dialogs run their own event loop, so a timer does the reading)."""

    def __init__(self, main: QWidget) -> None:
        self.main = main
        self.seen: list[tuple[str, list[tuple[str, str]]]] = []
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._poll)

    def _poll(self) -> None:
        for w in QApplication.topLevelWidgets():
            if w is self.main or not w.isVisible() or isinstance(w, QMenu):
                continue
            self.seen.append((f"{type(w).__name__}: {w.windowTitle()}", list(visible_texts(w))))
            if isinstance(w, QDialog):
                w.reject()
            w.close()

    def run(self, action) -> None:
        self.timer.start()
        try:
            action.trigger()
            for _ in range(6):  # non-modal dialogs and timers after the action returned
                QApplication.processEvents()
                self._poll()
        finally:
            self.timer.stop()
