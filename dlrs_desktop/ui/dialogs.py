"""Every message box and question goes through here, so tests can observe and answer them.

`set_handler(fn)` replaces the real dialogs by `fn(kind, title, text, **extra) -> answer`; with no handler
the ordinary Qt dialogs are shown. Errors are always plain words (a DlrsError message), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

Handler = Callable[..., Any]
_handler: Handler | None = None


def set_handler(handler: Handler | None) -> None:
    global _handler
    _handler = handler


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str) -> QMessageBox:
    """A message box that shows its text as plain text: messages quote file names and DICOM tags,
    which must never be interpreted as HTML (Qt's default guesses)."""
    box = QMessageBox(icon, title, text, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def has_handler() -> bool:
    return _handler is not None


def error(parent: QWidget | None, text: str, title: str = "DLRS Desktop") -> None:
    text = QCoreApplication.translate("errors", text)  # the UI's own fixed messages (document.py)
    if _handler is not None:
        _handler("error", title, text)
        return
    _box(parent, QMessageBox.Icon.Warning, title, text).exec()


def info(parent: QWidget | None, text: str, title: str = "DLRS Desktop") -> None:
    if _handler is not None:
        _handler("info", title, text)
        return
    _box(parent, QMessageBox.Icon.Information, title, text).exec()


def ask_save_discard_cancel(parent: QWidget | None, text: str, title: str = "DLRS Desktop") -> str:
    """Returns "save", "discard" or "cancel" (closing the dialog means cancel)."""
    if _handler is not None:
        return str(_handler("save_discard_cancel", title, text))
    box = _box(parent, QMessageBox.Icon.Question, title, text)
    save = box.addButton(QMessageBox.StandardButton.Save)
    discard = box.addButton(QMessageBox.StandardButton.Discard)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "discard" if clicked is discard else "cancel"


def ask_yes_no(parent: QWidget | None, text: str, title: str = "DLRS Desktop") -> bool:
    if _handler is not None:
        return bool(_handler("yes_no", title, text))
    box = _box(parent, QMessageBox.Icon.Question, title, text)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.exec()
    return box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes


def ask_float(
    parent: QWidget | None, text: str, value: float, lo: float, hi: float, title: str = "DLRS Desktop"
) -> float | None:
    """A number from the user, or None if cancelled."""
    if _handler is not None:
        answer = _handler("float", title, text, value=value, lo=lo, hi=hi)
        return None if answer is None else float(answer)
    number, ok = QInputDialog.getDouble(parent, title, text, value, lo, hi, 2)
    return float(number) if ok else None


def ask_text(parent: QWidget | None, text: str, value: str = "", title: str = "DLRS Desktop") -> str | None:
    if _handler is not None:
        answer = _handler("text", title, text, value=value)
        return None if answer is None else str(answer)
    result, ok = QInputDialog.getText(parent, title, text, text=value)
    return result if ok else None


def ask_form(kind: str, title: str, text: str, run: Callable[[], Any], **extra: Any) -> Any:
    """A custom dialog (`run()` shows it and returns its answer, None when cancelled).

    With a test handler the handler answers instead: `handler(kind, title, text, **extra)`.
    """
    if _handler is not None:
        return _handler(kind, title, text, **extra)
    return run()
