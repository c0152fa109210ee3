"""Edit → Type a known scale (mm per pixel): calibration without drawing a line.

For images whose scale is known from elsewhere (the scanner's setup sheet, a study protocol): the
typed value becomes the manual calibration, undoable like a drawn one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.imaging import Calibration
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.commands import SetCalibration

# lupdate reads translate("context", text); a two-argument tr() it takes for (text, comment)
translate = QCoreApplication.translate


def calibrate_known_scale(win: Any, mm_per_px: float | None = None) -> bool:
    """`win`: the main window (document, undo stack, status). False when cancelled or refused."""
    doc = win.doc
    if doc.image is None:
        dialogs.error(win, translate("KnownScale", "Open an image first."))
        return False
    if mm_per_px is None:
        current = doc.calibration.mm_per_px_x if doc.calibration is not None else 0.1
        mm_per_px = dialogs.ask_float(
            win, translate("KnownScale", "Known scale of this image, in millimetres per pixel:"),
            float(current), 0.0001, 10.0, title=translate("KnownScale", "Type a known scale"),
        )  # fmt: skip
        if mm_per_px is None:
            return False
    try:
        cal = Calibration.manual(float(mm_per_px))
    except (DlrsError, ValueError) as exc:
        dialogs.error(win, i18n.core_text(exc), translate("KnownScale", "Type a known scale"))
        return False
    name = translate("KnownScale", "Known scale")
    win.undo_stack.push(SetCalibration(doc, doc.manual_calibration, cal, name))
    win.show_status(translate("KnownScale", "Calibrated: {label}").format(label=cal.label()))
    return True


def add_action(win: Any) -> None:
    """Below "Use the file's calibration" in the Edit menu."""
    menu = win.menus["edit"]
    win.actions.add(
        menu, "known_scale", QCoreApplication.translate("KnownScale", "Type a known scale (mm/px)…"),
        lambda: calibrate_known_scale(win),
    )  # fmt: skip
