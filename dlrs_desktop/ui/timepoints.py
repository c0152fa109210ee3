"""Patients and time points in the window: the banner, the exam labels, the side-by-side view.

A component wired by the main window (it adds its actions to the View menu); the grouping itself is
ui/patients.py, the second view ui/compare_view.py. Exam labels, assigned patients/dates and the
orthogonal pair are saved in the images' annotation sidecars (`exam`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt

from dlrs_desktop.imaging import load_image
from dlrs_desktop.store.annotation import Annotation
from dlrs_desktop.store.schema import DATE
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.banner import PatientBanner
from dlrs_desktop.ui.compare_view import CompareView, ViewLink, split_central
from dlrs_desktop.ui.patients import Patient, exam_of, group_images
from dlrs_desktop.ui.worklist import list_images


class TimePoints(QObject):
    def __init__(self, win: Any) -> None:
        """`win`: the main window (its canvas, document, worklist, store, menus and actions)."""
        # lazy: ui.known_scale stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.ui.known_scale import add_action

        super().__init__(win)
        self.win = win
        self.banner = PatientBanner()
        central = win.centralWidget()
        central.layout().insertWidget(0, self.banner)
        self.compare = CompareView(win.store)
        self.compare.hide()
        self.splitter = split_central(central, win.canvas, self.compare)
        self.link = ViewLink(win.canvas, self.compare.canvas)
        self.compare.pair_button.clicked.connect(self.mark_pair)
        m = win.menus["view"]
        m.addSeparator()
        add = win.actions.add
        self.identifiers_action = add(
            m, "patient_identifiers", self.tr("Show patient &identifiers"), self.set_identifiers,
            checked=bool(win.prefs.show_identifiers),
        )  # fmt: skip
        self.compare_action = add(
            m, "compare", self.tr("Compare side by side"), self.set_compare, "Ctrl+Shift+C", checked=False
        )
        add(m, "label_exam", self.tr("Label this exam's time point…"), self.label_exam)
        add(m, "assign_exam", self.tr("Assign patient and exam date…"), self.assign_exam)
        win.doc.events.connect(self._doc_changed)
        win.worklist.width_wanted.connect(self.widen_worklist)

        add_action(win)  # Edit → Type a known scale (issue 30: calibration without a drawn line)

    # ------------------------------------------------------------------ state
    def _doc_changed(self, kind: str) -> None:
        if kind in ("image", "exam"):
            self.refresh()

    def exam_label(self) -> str:
        return str((self.win.doc.exam or {}).get("label") or "")

    def refresh(self) -> None:
        doc = self.win.doc
        self.banner.show_for(doc.path, self.exam_label(), bool(self.win.prefs.show_identifiers))
        if self.compare.isVisible():
            partner = (doc.exam or {}).get("pair")
            self.compare.set_choices(self.patients(), doc.path, partner)

    def patients(self) -> list[Patient]:
        """The worklist's grouping, or the open image's own folder grouped (an image opened alone)."""
        wl, path = self.win.worklist, self.win.doc.path
        if path is None or path in wl.paths:
            return wl.patients

        return group_images(self.win.store, list_images(path.parent))

    def widen_worklist(self, width: int) -> None:
        """Full names and the Result column, up to 36 % of the window (the image keeps the rest)."""
        win = self.win
        dock = win.worklist_dock
        wanted = min(width, int(win.width() * 0.36))
        if dock.width() < wanted:
            win.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)

    def set_identifiers(self, on: bool) -> None:
        self.win.prefs.show_identifiers = bool(on)
        self.regroup()
        self.refresh()

    def set_compare(self, on: bool) -> None:
        self.compare.setVisible(bool(on))
        if on:
            self.refresh()
            half = max(self.splitter.width() // 2, 1)
            self.splitter.setSizes([half, half])
            self.link.follow(self.win.canvas, self.compare.canvas)

    def regroup(self) -> None:
        wl = self.win.worklist
        if wl.folder is not None:
            wl.regroup(list(wl.paths))
            wl._apply_filter()
            wl.set_current(wl.current)

    # ------------------------------------------------------------------ editing the sidecars
    def update_exam(self, path: Path, changes: dict[str, Any]) -> bool:
        """Merge `changes` into the image's `exam` and save; the open image goes through the document."""
        doc = self.win.doc
        if doc.path is not None and path == doc.path:
            doc.set_exam({**(doc.exam or {}), **changes})
            return self.win.files.save_now()

        try:
            sha = load_image(path, 0).sha256
        except Exception as exc:  # an image that does not open keeps no label
            dialogs.error(self.win, self.tr("Cannot open {name}: {why}").format(name=path.name, why=exc))
            return False
        store = self.win.store
        store.remember_path(path, sha)  # the pair is found again by its hash without decoding
        ann = store.load(sha, path).annotation or Annotation(sha)
        exam = {k: v for k, v in {**(ann.exam or {}), **changes}.items() if v not in (None, "")}
        return store.save(replace(ann, exam=exam or None), path).ok

    def label_exam(self, label: str | None = None) -> None:
        """The time point's words ("baseline", "after cycle 2"), for every image of the open exam."""
        doc = self.win.doc
        if doc.path is None:
            dialogs.error(self.win, self.tr("Open an image first."))
            return
        if label is None:
            label = dialogs.ask_text(
                self.win, self.tr("Time point of this exam (e.g. baseline, after cycle 2):"),
                self.exam_label(), self.tr("Label exam"),
            )  # fmt: skip
            if label is None:
                return
        exam = exam_of(self.patients(), doc.path)
        for path in exam.paths if exam is not None else [doc.path]:
            self.update_exam(path, {"label": label.strip()})
        self.regroup()
        self.refresh()

    def assign_exam(self, patient: str | None = None, date: str | None = None) -> None:
        """Patient and exam date for an image that carries none (PNG/JPEG)."""
        doc = self.win.doc
        if doc.path is None:
            dialogs.error(self.win, self.tr("Open an image first."))
            return
        exam = doc.exam or {}
        if patient is None:
            patient = dialogs.ask_text(
                self.win, self.tr("Patient (a study code, not a name):"), str(exam.get("patient") or "")
            )
            if patient is None:
                return
        if date is None:
            date = dialogs.ask_text(self.win, self.tr("Exam date (YYYY-MM-DD):"), str(exam.get("date") or ""))
            if date is None:
                return

        if date.strip() and not DATE.match(date.strip()):
            dialogs.error(self.win, self.tr("{date} is not a date of the form YYYY-MM-DD.").format(date=date))
            return
        self.update_exam(doc.path, {"patient": patient.strip() or None, "date": date.strip() or None})
        self.regroup()
        self.refresh()

    def mark_pair(self) -> None:
        """The open image (radial) and the compared one (antiradial): one lesion, two planes."""
        doc, path, sha = self.win.doc, self.compare.path, self.compare.sha256
        if doc.base_image is None or doc.path is None or path is None or sha is None:
            dialogs.error(self.win, self.tr("Open an image and choose a second one to compare first."))
            return
        self.update_exam(path, {"pair": doc.base_image.sha256, "view": "antiradial"})
        self.update_exam(doc.path, {"pair": sha, "view": "radial"})
        self.win.show_status(
            self.tr("{a} and {b} are marked as the orthogonal pair of this exam.").format(
                a=doc.path.name, b=path.name
            )
        )
