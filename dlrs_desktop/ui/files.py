"""Opening images and folders, Open Recent, the demo case, frames, saving and the quit guard.

A component with explicit dependencies: every path into or out of the document goes through here,
so autosave-before-switch lives in one place. It knows nothing of the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFileDialog, QWidget

from dlrs_desktop import paths
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.fileio import clean_stale_temps
from dlrs_desktop.imaging import load_image
from dlrs_desktop.store import AnnotationStore, SessionStore, Summary
from dlrs_desktop.store.annotation import SIDECAR_SUFFIX
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.contour_import import ask_contour_file, load_contour_into
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.editing import ToolBox
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.worker import ImageLoader
from dlrs_desktop.ui.worklist import Worklist

AUTOSAVE_DELAY_MS = 600
IMAGE_FILTER = QT_TRANSLATE_NOOP(
    "FileController", "Images (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)"
)


def demo_paths() -> tuple[Path, Path]:

    return paths.samples_dir() / "demo.dcm", paths.samples_dir() / "demo.contour.json"


class Stores(NamedTuple):
    """Where an image's work is kept: the annotation sidecars and the crash-recovery session."""

    annotations: AnnotationStore
    session: SessionStore


class FileController(QObject):
    recent_changed = Signal()
    saved = Signal(str)  # a plain-words note after an explicit save (Ctrl+S)
    annotation_restored = Signal()  # a saved result may need re-verifying (PredictionController)

    def __init__(
        self,
        parent: QWidget,
        doc: Document,
        stores: Stores,
        prefs: Preferences,
        worklist: Worklist,
        show_worklist: Callable[[], None],
        edit: tuple[ToolBox, QUndoStack],
        status: Callable[[str, int], None],
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.doc, self.prefs = parent, doc, prefs
        self.store, self.session = stores
        self.worklist, self.show_worklist = worklist, show_worklist
        self.toolbox, self.undo_stack = edit  # a new image clears the gesture and the undo history
        self.status = status
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._image_loaded)
        self.loader.failed.connect(self._image_failed)
        self._pending_open: tuple[int, Path, Path | None, bool] | None = None
        self._untried: list[Path] = []  # a folder's images not tried yet for the first one that opens
        self._folder_try: Path | None = None  # the one of them being opened in the background
        self.told_storage_problems: set[str] = set()  # each storage fault is told once, not per autosave
        self.demo_open = False
        self.autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self._autosave)
        worklist.open_requested.connect(lambda path: self.open_path(path, background=True))

    # ------------------------------------------------------------------ open / navigate
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget,
            self.tr("Open ultrasound image"),
            self.prefs.open_folder,
            self.tr(IMAGE_FILTER),
        )
        if path:
            self.prefs.open_folder = str(Path(path).parent)
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.parent_widget, self.tr("Open folder as worklist"), self.prefs.open_folder
        )
        if folder:
            self.prefs.open_folder = folder
            self.open_path(folder)

    def open_recent(self, path: str) -> None:
        if not Path(path).exists():
            gone = self.tr("'{path}' no longer exists; removed from Open Recent.")
            dialogs.error(self.parent_widget, gone.format(path=path))
            self.prefs.remove_recent(path)
            self.recent_changed.emit()
            return
        self.open_path(path)

    def open_demo(self, *, background: bool = False) -> bool:
        """The bundled case as shipped: its own contour, none of the earlier edits (Reset demo)."""
        image, contour = demo_paths()
        if not image.is_file():
            missing = self.tr("The bundled sample is missing ({path}). Reinstall the application.")
            dialogs.error(self.parent_widget, missing.format(path=image))
            return False
        edited = self.demo_open and self.undo_stack.count() > 1  # more than "Load contour"
        if edited and not dialogs.ask_yes_no(
            self.parent_widget,
            self.tr("Discard your changes to the demo case and start again from the bundled contour?"),
        ):
            return False
        return self.open_path(image, contour_file=contour, pristine=True, background=background)

    def open_path(
        self,
        path: str | Path,
        frame: int | None = None,
        contour_file: Path | None = None,
        *,
        background: bool = False,
        pristine: bool = False,
    ) -> bool:
        """Open an image (or a folder as worklist). Returns False with a dialog when it cannot.

        `background=True` decodes in a worker (start-up, worklist navigation, drops) so the window
        stays responsive; the image appears when ready, unless another was asked for meanwhile.
        `pristine=True` ignores saved edits and applies `contour_file` (the demo case).
        """
        p = Path(path)
        if p.is_dir():
            self.worklist.set_folder(p)
            self.show_worklist()
            self.session.update(folder=str(p))
            self._remember(p)
            self._untried = self.worklist.visible_paths()
            return self._open_next_untried(background) if self._untried else True
        if not self.toolbox.confirm_discard_gesture():
            return False
        if background:
            self._pending_open = (self.loader.request(p, frame), p, contour_file, pristine)
            self.status(self.tr("Opening {name}…").format(name=p.name), 0)
            if self.worklist.folder is not None and p.parent == self.worklist.folder:
                self.worklist.set_current(p)  # PgDown again moves on from here, not from the old image
            return True

        try:
            image = load_image(p, frame)
        except DlrsError as exc:
            dialogs.error(self.parent_widget, i18n.core_text(exc), self.tr("Cannot open image"))
            return False
        except Exception as exc:  # never a traceback for a file the user picked
            dialogs.error(
                self.parent_widget,
                self.tr("Cannot open '{name}': {error}").format(
                    name=p.name, error=f"{type(exc).__name__}: {exc}"
                ),
                self.tr("Cannot open image"),
            )
            return False
        self._show_image(p, image, contour_file, pristine)
        return True

    def _open_next_untried(self, background: bool) -> bool:
        """A folder opens on its first image that opens: a report or a damaged file before it only
        marks its worklist row (which says why on hover), no dialog for a file the user did not pick."""
        if not background and not self.toolbox.confirm_discard_gesture():
            return False
        while self._untried:
            candidate = self._untried.pop(0)
            if background:  # _image_failed comes back here for the next one
                self._folder_try = candidate
                return self.open_path(candidate, background=True)
            try:
                image = load_image(candidate)
            except Exception:  # the worklist row of this file says why
                continue
            self._untried = []
            self._show_image(candidate, image, None)
            return True
        nothing = self.tr("No image in this folder can be opened; each row of the worklist says why.")
        dialogs.error(self.parent_widget, nothing, self.tr("Cannot open image"))
        return False

    def _image_loaded(self, token: int, image: Any) -> None:
        pending = self._pending_open
        if pending is None or pending[0] != token:
            return  # the user asked for another image meanwhile
        self._pending_open = None
        self.status("", 0)
        self._untried, self._folder_try = [], None
        if self.toolbox.confirm_discard_gesture():
            self._show_image(pending[1], image, pending[2], pending[3])

    def _image_failed(self, token: int, message: str) -> None:
        pending = self._pending_open
        if pending is not None and pending[0] == token:
            self._pending_open = None
            self.status("", 0)
            if pending[1] == self._folder_try:
                self._folder_try = None
                self._open_next_untried(background=True)  # the folder's next image, without a dialog
                return
            dialogs.error(self.parent_widget, message, self.tr("Cannot open image"))

    def _show_image(self, p: Path, image: Any, contour_file: Path | None, pristine: bool = False) -> None:
        self.save_now()  # the previous image's last edits
        self.undo_stack.clear()
        self.doc.open(image, p)
        self.demo_open = pristine
        clean_stale_temps(p.parent, SIDECAR_SUFFIX)  # left by a killed writer
        self.store.remember_path(p, image.sha256)
        restored = False
        if not pristine:
            loaded = self.store.load(image.sha256, p, keep_backups=True)
            self._tell_load_notes(loaded)
            if loaded.annotation is not None and not loaded.annotation.is_empty:
                restored = self._apply_annotation(loaded.annotation)
        if not restored and contour_file is not None and contour_file.is_file():
            self.load_contour_file(contour_file)
            if pristine:
                said = self.tr("{name}: the bundled case with its bundled contour (File → Reset demo).")
                self.status(said.format(name=p.name), 8000)
        if self.worklist.folder is not None and p.parent == self.worklist.folder:
            self.worklist.set_current(p)
        self.session.update(image=str(p.resolve()), image_sha256=image.sha256, frame=self.doc.frame)
        if not pristine:
            self._remember(p)

    def _remember(self, p: Path) -> None:
        self.prefs.add_recent(p)
        self.recent_changed.emit()

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
            dialogs.info(self.parent_widget, "\n\n".join(lines), self.tr("Annotation copies"))

    def _apply_annotation(self, ann: Any) -> bool:

        try:
            frame_image = None
            if self.doc.path is not None and ann.frame != self.doc.frame:
                frame_image = load_image(self.doc.path, ann.frame)
            self.doc.apply_annotation(ann, frame_image)
        except DlrsError as exc:
            dialogs.error(
                self.parent_widget,
                self.tr("The saved annotation could not be restored: {error}").format(
                    error=i18n.core_text(exc)
                ),
            )
            return False
        parts = [
            name
            for name, present in (
                (self.tr("contour"), ann.contour),
                (self.tr("calibration"), ann.calibration),
                (self.tr("result"), ann.result),
                (self.tr("review"), ann.review.status == "reviewed"),
            )
            if present
        ]
        what = self.tr(", ").join(parts) or self.tr("annotation")
        self.status(self.tr("Restored the saved {what} for this image.").format(what=what), 6000)
        self.annotation_restored.emit()  # a saved result is never shown as current before re-computing
        return True

    def load_contour_file(self, path: Path) -> None:
        load_contour_into(self.doc, self.undo_stack, self.set_frame, self.parent_widget, path)

    def import_contour_dialog(self) -> None:
        if self.doc.image is None:
            return
        if (path := ask_contour_file(self.parent_widget, self.prefs.open_folder)) is not None:
            self.load_contour_file(path)

    def navigate(self, step: int) -> None:
        target = self.worklist.neighbour(step)
        if target is None:
            self.status(self.tr("No further image in the worklist."), 6000)
            return
        self.open_path(target, background=True)

    def set_frame(self, frame: int) -> None:
        if self.doc.base_image is None or self.doc.path is None or frame == self.doc.frame:
            return

        try:
            self.doc.set_frame_image(load_image(self.doc.path, frame))
        except DlrsError as exc:
            dialogs.error(self.parent_widget, i18n.core_text(exc))

    # ------------------------------------------------------------------ saving
    def schedule_autosave(self) -> None:
        """Not restarted by later changes: the save comes ≤ 0.6 s after the first unsaved change."""
        if not self.autosave_timer.isActive():
            self.autosave_timer.start()

    def _autosave(self) -> None:
        """Waits while a contour sensitivity computes: a result is saved once, complete."""
        (self.autosave_timer.start if self.doc.sensitivity_computing else self.save_now)()

    def save_now(self) -> bool:
        """Write the annotation now (autosave calls this). False if it could not be written."""
        self.autosave_timer.stop()
        doc = self.doc
        if doc.base_image is None or not doc.dirty:
            return True
        revision = doc.revision
        ann = doc.to_annotation()
        cal = doc.calibration
        label = cal.label() if cal is not None else "not calibrated"
        summary = Summary(doc.base_image.frame_count, label, doc.result_is_stale)
        res = self.store.save(replace(ann, summary=summary), doc.path)
        told = self.told_storage_problems
        for target, note in zip(res.backed_up, res.backups, strict=True):
            if f"backup:{target}" in told:  # a window saving again and again
                self.status(note, 6000)
            else:
                told.add(f"backup:{target}")
                dialogs.info(self.parent_widget, note, self.tr("Backup kept"))
        new = [(k, m) for k, m in res.problems if k not in told]
        told.update(k for k, _ in res.problems)
        if not res.ok:
            text = " ".join(m for _, m in res.problems) or self.tr("The annotation could not be saved.")
            if new:  # once per fault, not at every autosave
                dialogs.error(
                    self.parent_widget,
                    self.tr(
                        "{problem}\n\nYour work stays open in this window. Saving is tried again at every "
                        "change and when you close; the title shows * while changes are unsaved.",
                    ).format(problem=text),
                    self.tr("Cannot save"),
                )
            else:
                self.status(self.tr("Not saved: {problem}").format(problem=text), 6000)
            return False
        if new:
            said = self.tr("{problems} Saved in the other location.")
            self.status(said.format(problems=" ".join(m for _, m in new)), 6000)
        doc.mark_saved(revision)
        self.worklist.refresh_path(doc.path)
        return True

    def save_explicitly(self) -> bool:
        """Ctrl+S: save and say so (autosave is silent)."""
        if self.doc.base_image is None:
            self.status(self.tr("Nothing to save: no image is open."), 4000)
            return True
        was_dirty = self.doc.dirty
        ok = self.save_now()
        if ok:
            where = self.doc.path.name if self.doc.path else self.tr("this image")
            done = self.tr("Saved the annotation of {name}.")
            note = (done if was_dirty else self.tr("{name}: everything is already saved.")).format(name=where)
            self.status(note, 4000)
            self.saved.emit(note)
        return ok

    def close_guard(self) -> bool:
        """True when the window may close (a half gesture confirmed, the last edits saved or dropped)."""
        if not self.toolbox.confirm_discard_gesture():
            return False
        if not self.save_now():
            answer = dialogs.ask_save_discard_cancel(
                self.parent_widget,
                self.tr(
                    "Your latest changes could not be saved. Try saving again, quit without them, or cancel?",
                ),
            )
            if answer == "cancel" or (answer == "save" and not self.save_now()):
                return False
        return True
