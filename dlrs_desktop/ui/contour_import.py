"""A contour from a file onto the open image: the app's JSON, a mask image or a DICOM SEG (its tumour
segment, only if made for this image). Kept apart from ui/files.py, which opens and saves images; the
words stay in the FileController's catalogue context."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFileDialog, QWidget

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.imaging.dicom_seg import ImageRef
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.commands import SetContour
from dlrs_desktop.ui.document import Document


def load_contour_into(
    doc: Document, undo_stack: QUndoStack, set_frame: Callable[[int], None], parent: QWidget, path: Path
) -> None:
    """Replace the contour by the one in `path` (one undoable step), or say in one dialog why not."""
    # lazy: cv2 (~0.45 s) only when this runs, not at start-up
    from dlrs_desktop.roi import Contour

    if doc.image is None:
        return
    try:
        contour = Contour.load_any(path, doc.image.shape, frame=doc.frame, image_ref=ImageRef.of(doc.path))
    except DlrsError as exc:
        title = QCoreApplication.translate("FileController", "Cannot load contour")
        dialogs.error(parent, i18n.core_text(exc), title)
        return
    if contour.frame != doc.frame:
        set_frame(contour.frame)  # a SEG of a cine loop names the frame it was drawn on
    step = QCoreApplication.translate("FileController", "Load contour")
    undo_stack.push(SetContour(doc, None, doc.make_contour(np.asarray(contour.points)), step))


def ask_contour_file(parent: QWidget, folder: str) -> Path | None:
    """The contour file the user picks in the Import contour dialog, if any."""
    path, _ = QFileDialog.getOpenFileName(
        parent,
        QCoreApplication.translate("FileController", "Import contour"),
        folder,
        QCoreApplication.translate("FileController", "Contour (*.json *.png *.dcm);;All files (*)"),
    )
    return Path(path) if path else None
