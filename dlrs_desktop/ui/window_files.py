"""Opening images and folders, navigating the worklist and frames, saving and quitting safely.

A mixin of MainWindow (kept apart so each file stays readable): every path into or out of the
document goes through here, so autosave-before-switch and the quit guards live in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFileDialog

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.fileio import clean_stale_temps
from dlrs_desktop.store.annotation import SIDECAR_SUFFIX
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.commands import SetContour


class FilesMixin:
    """Open/navigate/save/close behaviour of the main window."""

    # ------------------------------------------------------------------ open / navigate
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open ultrasound image", self.prefs.open_folder,
            "Images (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)",
        )  # fmt: skip
        if path:
            self.prefs.open_folder = str(Path(path).parent)
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder as worklist", self.prefs.open_folder)
        if folder:
            self.prefs.open_folder = folder
            self.open_path(folder)

    def open_path(
        self,
        path: str | Path,
        frame: int | None = None,
        contour_file: Path | None = None,
        *,
        background: bool = False,
    ) -> bool:
        """Open an image (or a folder as worklist). Returns False with a dialog when it cannot.

        `background=True` decodes in a worker (start-up, worklist navigation, drops) so the window
        stays responsive; the image appears when ready, unless another was asked for meanwhile.
        """
        p = Path(path)
        if p.is_dir():
            self.worklist.set_folder(p)
            self.worklist_dock.show()
            self.session.update(folder=str(p))
            first = self.worklist.neighbour(+1)
            return self.open_path(first, background=background) if first is not None else True
        if not self.confirm_discard_gesture():
            return False
        if background:
            self._pending_open = (self.loader.request(p, frame), p, contour_file)
            self.statusBar().showMessage(f"Opening {p.name}…")
            if self.worklist.folder is not None and p.parent == self.worklist.folder:
                self.worklist.set_current(p)  # PgDown again moves on from here, not from the old image
            return True
        from dlrs_desktop.imaging import load_image

        try:
            image = load_image(p, frame)
        except DlrsError as exc:
            dialogs.error(self, str(exc), "Cannot open image")
            return False
        except Exception as exc:  # never a traceback for a file the user picked
            dialogs.error(self, f"Cannot open '{p.name}': {type(exc).__name__}: {exc}", "Cannot open image")
            return False
        self._show_image(p, image, contour_file)
        return True

    def _image_loaded(self, token: int, image: Any) -> None:
        pending = getattr(self, "_pending_open", None)
        if pending is None or pending[0] != token:
            return  # the user asked for another image meanwhile
        self._pending_open = None
        self.statusBar().clearMessage()
        if self.confirm_discard_gesture():
            self._show_image(pending[1], image, pending[2])

    def _image_failed(self, token: int, message: str) -> None:
        pending = getattr(self, "_pending_open", None)
        if pending is not None and pending[0] == token:
            self._pending_open = None
            self.statusBar().clearMessage()
            dialogs.error(self, message, "Cannot open image")

    def _show_image(self, p: Path, image: Any, contour_file: Path | None) -> None:
        self.save_now()  # the previous image's last edits
        self.undo_stack.clear()
        self.doc.open(image, p)
        clean_stale_temps(p.parent, SIDECAR_SUFFIX)  # left by a killed writer
        self.store.remember_path(p, image.sha256)
        loaded = self.store.load(image.sha256, p, keep_backups=True)
        self._tell_load_notes(loaded)
        if loaded.annotation is not None and not loaded.annotation.is_empty:
            self._apply_annotation(loaded.annotation)
        elif contour_file is not None and contour_file.is_file():
            self._load_contour_file(contour_file)
        if self.worklist.folder is not None and p.parent == self.worklist.folder:
            self.worklist.set_current(p)
        self.session.update(image=str(p.resolve()), image_sha256=image.sha256, frame=self.doc.frame)
        self._refresh_title()

    def open_image(self, image: Any, path: str | Path | None = None) -> None:
        """Open an in-memory image (tools, tests); autosaves like any other."""
        self.save_now()
        self.undo_stack.clear()
        self.doc.open(image, path)
        loaded = self.store.load(image.sha256, path, keep_backups=True)
        self._tell_load_notes(loaded)
        if loaded.annotation is not None and not loaded.annotation.is_empty:
            self._apply_annotation(loaded.annotation)

    def _tell_load_notes(self, loaded: Any) -> None:
        """Copies that were skipped or differ: one dialog per opened image, in plain words."""
        lines = list(loaded.rejected) + list(loaded.notes)
        if lines:
            dialogs.info(self, "\n\n".join(lines), "Annotation copies")

    def _apply_annotation(self, ann: Any) -> None:
        from dlrs_desktop.imaging import load_image

        try:
            if self.doc.path is not None and ann.frame != self.doc.frame:
                self.doc.base_image = load_image(self.doc.path, ann.frame)
            self.doc.apply_annotation(ann)
        except DlrsError as exc:
            dialogs.error(self, f"The saved annotation could not be restored: {exc}")
            return
        self.show_status("Restored the saved contour for this image.")
        self.reverify_saved_result()  # a saved result is never shown as current before it is re-computed

    def _load_contour_file(self, path: Path) -> None:
        from dlrs_desktop.roi import Contour

        try:  # contour JSON, mask image or DICOM SEG (its tumour segment)
            contour = Contour.load_any(path, self.doc.image.shape, frame=self.doc.frame)
        except DlrsError as exc:
            dialogs.error(self, str(exc), "Cannot load contour")
            return
        if contour.frame != self.doc.frame:
            self.set_frame(contour.frame)  # a SEG of a cine loop names the frame it was drawn on
        self.undo_stack.push(
            SetContour(self.doc, None, self.doc.make_contour(np.asarray(contour.points)), "Load contour")
        )

    def import_contour_dialog(self) -> None:  # JSON, mask PNG or DICOM SEG
        if self.doc.image is None:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Import contour", self.prefs.open_folder, "Contour (*.json *.png *.dcm);;All files (*)"
        )
        if path:
            self._load_contour_file(Path(path))

    def navigate(self, step: int) -> None:
        target = self.worklist.neighbour(step)
        if target is None:
            self.show_status("No further image in the worklist.")
            return
        self.open_path(target, background=True)

    def set_frame(self, frame: int) -> None:
        if self.doc.base_image is None or self.doc.path is None or frame == self.doc.frame:
            return
        from dlrs_desktop.imaging import load_image

        try:
            self.doc.set_frame_image(load_image(self.doc.path, frame))
        except DlrsError as exc:
            dialogs.error(self, str(exc))

    def _frame_slider_moved(self, value: int) -> None:
        self.frame_label.setText(f"Frame {value + 1}/{self.frame_slider.maximum() + 1}")
        self.frame_timer.start()

    def _load_slider_frame(self) -> None:
        self.set_frame(self.frame_slider.value())

    # ------------------------------------------------------------------ saving
    def save_now(self) -> bool:
        """Write the annotation now (autosave calls this). False if it could not be written."""
        self.autosave_timer.stop()
        doc = self.doc
        if doc.base_image is None or not doc.dirty:
            return True
        revision = doc.revision
        ann = doc.to_annotation()
        cal = doc.calibration
        summary = {
            "frame_count": doc.base_image.frame_count,
            "calibration": cal.label() if cal is not None else "not calibrated",
            "stale": doc.result_is_stale,
        }
        from dataclasses import replace

        res = self.store.save(replace(ann, summary=summary), doc.path)
        for target, note in zip(res.backed_up, res.backups, strict=True):
            if f"backup:{target}" in self.told_storage_problems:  # a window saving again and again
                self.show_status(note)
            else:
                self.told_storage_problems.add(f"backup:{target}")
                dialogs.info(self, note, "Backup kept")
        new = [(k, m) for k, m in res.problems if k not in self.told_storage_problems]
        self.told_storage_problems.update(k for k, _ in res.problems)
        if not res.ok:
            text = " ".join(m for _, m in res.problems) or "The annotation could not be saved."
            if new:  # once per fault, not at every autosave
                dialogs.error(
                    self,
                    f"{text}\n\nYour work stays open in this window. Saving is tried again at every "
                    "change and when you close; the title shows * while changes are unsaved.",
                    "Cannot save",
                )
            else:
                self.show_status(f"Not saved: {text}")
            self._refresh_title()
            return False
        if new:
            self.show_status(" ".join(m for _, m in new) + " Saved in the other location.")
        doc.mark_saved(revision)
        self.worklist.refresh_path(doc.path)
        self._refresh_title()
        return True

    def confirm_discard_gesture(self) -> bool:
        """A half-drawn polygon is work too: ask before dropping it."""
        if self.tool is None or not self.tool.busy:
            return True
        if dialogs.ask_yes_no(self, "A contour is being drawn and is not finished. Discard it?"):
            self.tool.cancel()
            return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard_gesture():
            event.ignore()
            return
        if not self.save_now():
            answer = dialogs.ask_save_discard_cancel(
                self,
                "Your latest changes could not be saved. Try saving again, quit without them, or cancel?",
            )
            if answer == "cancel" or (answer == "save" and not self.save_now()):
                event.ignore()
                return
        if self.pending_job is not None:
            self.model.wait(10000)
        self.prefs.sync()
        self.session.end()
        event.accept()

    # ------------------------------------------------------------------ exports & dialogs
    def export_pdf(self, path: str | None = None) -> Path | None:
        from dlrs_desktop.ui.report import export_pdf_dialog

        return export_pdf_dialog(self, path)

    def export_masks(self, folder: str | None = None) -> list[Path]:
        from dlrs_desktop.ui.report import export_masks_dialog

        return export_masks_dialog(self, folder)

    def export_annotation(self, path: str | None = None) -> Path | None:
        from dlrs_desktop.ui.report import export_annotation_dialog

        return export_annotation_dialog(self, path)
