"""Undoable edits (QUndoStack): contour and calibration changes, one command per user gesture."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from dlrs_desktop.ui.document import Document

if TYPE_CHECKING:
    from dlrs_desktop.imaging import Calibration
    from dlrs_desktop.roi import Contour


class SetContour(QUndoCommand):
    """Replace the contour. A drag calls the document live and pushes one of these on release."""

    def __init__(self, doc: Document, old: Contour | None, new: Contour | None, text: str) -> None:
        super().__init__(text)
        self.doc, self.old, self.new = doc, old, new

    def redo(self) -> None:
        if self.doc.contour is not self.new:
            self.doc.set_contour(self.new)

    def undo(self) -> None:
        self.doc.set_contour(self.old)


class SetCalibration(QUndoCommand):
    def __init__(self, doc: Document, old: Calibration | None, new: Calibration | None, text: str) -> None:
        super().__init__(text)
        self.doc, self.old, self.new = doc, old, new

    def redo(self) -> None:
        self.doc.set_manual_calibration(self.new)

    def undo(self) -> None:
        self.doc.set_manual_calibration(self.old)
