"""A folder as a worklist: one row per image with its annotation status, filterable, next/previous.

Rows are filled at once from the annotation store (sidecars and the per-user index); a background scan
then reads each image without a saved annotation (calibration source, frames), one at a time in a
worker thread, so the list is complete without the user opening every image. One click opens a row.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.imaging import load_image
from dlrs_desktop.model.result import SavedResult
from dlrs_desktop.store import Annotation, AnnotationStore, Summary
from dlrs_desktop.store.annotation import SIDECAR_SUFFIX
from dlrs_desktop.ui import i18n
from dlrs_desktop.ui import patients as pt

translate = QCoreApplication.translate

IMAGE_SUFFIXES = {".dcm", ".dicom", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
COLUMNS = [
    QT_TRANSLATE_NOOP("worklist", "Image"),
    QT_TRANSLATE_NOOP("worklist", "Status"),
    QT_TRANSLATE_NOOP("worklist", "Contour"),
    QT_TRANSLATE_NOOP("worklist", "Calibration"),
    QT_TRANSLATE_NOOP("worklist", "Frames"),
    QT_TRANSLATE_NOOP("worklist", "Result"),
]  # most useful first
STATUS_WORDS = (  # row_status() as shown
    QT_TRANSLATE_NOOP("worklist", "none"),
    QT_TRANSLATE_NOOP("worklist", "draft"),
    QT_TRANSLATE_NOOP("worklist", "reviewed"),
)
FILTERS = [
    (QT_TRANSLATE_NOOP("worklist", "All"), "all"),
    (QT_TRANSLATE_NOOP("worklist", "Draft"), "draft"),
    (QT_TRANSLATE_NOOP("worklist", "Reviewed"), "reviewed"),
    (QT_TRANSLATE_NOOP("worklist", "No contour"), "none"),
]


def list_images(folder: Path) -> list[Path]:
    """Image files in a folder (DICOMs may have no suffix: files without one that start like DICOM)."""
    out = []
    for p in sorted(folder.iterdir(), key=lambda q: q.name.lower()):
        if not p.is_file() or p.name.startswith(".") or p.name.endswith(SIDECAR_SUFFIX):
            continue
        if p.suffix.lower() in IMAGE_SUFFIXES:
            out.append(p)
        elif p.suffix == "":
            try:
                with p.open("rb") as fh:
                    head = fh.read(132)
                if head[128:132] == b"DICM":
                    out.append(p)
            except OSError:
                continue
    return out


def scan_image(path: Path) -> dict[str, str]:
    """What the worklist shows for an image nobody annotated yet: its calibration source and frames."""
    try:
        image = load_image(path, 0)
    except Exception as exc:  # a worklist row says it, the folder still lists
        return {
            "calibration": QT_TRANSLATE_NOOP("worklist", "cannot open"),
            "frames": "–",
            "error": i18n.core_text(exc).splitlines()[0][:300],  # why, in the window's language
        }
    if image.calibration is not None:
        cal = image.calibration.label()
    elif image.regions:
        cal = translate("worklist", "{count} DICOM regions (per region)").format(count=len(image.regions))
    else:
        cal = QT_TRANSLATE_NOOP("worklist", "not calibrated")
    return {"calibration": cal, "frames": str(image.frame_count)}


class _ScanJob(QRunnable):
    def __init__(self, paths: list[Path], generation: int, sink: _ScanSink) -> None:
        super().__init__()
        self.paths, self.generation, self.sink = paths, generation, sink

    def run(self) -> None:
        for path in self.paths:
            if self.sink.generation != self.generation:
                return  # another folder was opened
            self.sink.scanned.emit(self.generation, str(path), scan_image(path))


class _ScanSink(QObject):
    scanned = Signal(int, str, object)  # generation, path, info (delivered on the GUI thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.generation = 0


def row_status(ann: Annotation | None) -> str:
    if ann is None or ann.contour is None:
        return "none"
    return ann.review.status


def plain_tooltip(text: str) -> str:
    """Tooltips guess rich text (Qt.mightBeRichText); a file name that looks like HTML is escaped."""
    return f"<p>{html.escape(text)}</p>" if QtGui.Qt.mightBeRichText(text) else text


class Worklist(QWidget):
    open_requested = Signal(str)
    width_wanted = Signal(int)  # px that show every column in full (names, status, result)

    def __init__(
        self, store: AnnotationStore, parent: QWidget | None = None, show_identifiers: Any = None
    ) -> None:
        """`show_identifiers`: a callable saying whether patient names, IDs and dates may be shown."""
        super().__init__(parent)
        self.store = store
        self.show_identifiers = show_identifiers or (lambda: False)
        self.folder: Path | None = None
        self.paths: list[Path] = []
        self.patients: list[pt.Patient] = []  # the folder grouped by patient and exam (ui/patients.py)
        self.rows: list[Path | tuple[str, str]] = []  # table row -> image, or a (kind, text) group row
        self.current: Path | None = None
        self.scanned: dict[Path, dict[str, Any]] = {}
        self.scan_pool = QThreadPool(self)
        self.scan_pool.setMaxThreadCount(1)
        self._sink = _ScanSink(self)
        self._sink.scanned.connect(self._scanned)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.title = QLabel(translate("worklist", "No folder"))
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # folder names are the user's text
        top.addWidget(self.title, 1)
        top.addWidget(QLabel(translate("worklist", "Show:")))
        self.filter = QComboBox()
        for text, key in FILTERS:
            self.filter.addItem(translate("worklist", text), key)
        self.filter.currentIndexChanged.connect(self._apply_filter)
        top.addWidget(self.filter)
        lay.addLayout(top)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([translate("worklist", c) for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )  # full names, no eliding
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.setHorizontalScrollMode(QTableWidget.ScrollMode.ScrollPerPixel)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.setMinimumWidth(420)
        self.table.cellActivated.connect(self._activated)
        self.table.cellClicked.connect(self._activated)  # one click opens, as in PACS worklists
        self.table.setToolTip(
            translate("worklist", "Click a row to open it; PgDown/PgUp move through the list")
        )
        lay.addWidget(self.table)

    def set_folder(self, folder: Path) -> None:
        self.folder = folder
        self.scanned = {}
        self.regroup(list_images(folder))
        self._apply_filter()
        self._sink.generation += 1
        todo = [p for p in self.paths if self.store.status_of(None, p) is None]
        if todo:
            self.scan_pool.start(_ScanJob(todo, self._sink.generation, self._sink))

    def _scanned(self, generation: int, path: str, info: dict[str, Any]) -> None:
        if generation == self._sink.generation:
            self.scanned[Path(path)] = info
            self.refresh_path(Path(path))

    def wait_for_scan(self, ms: int = 30000) -> bool:
        return self.scan_pool.waitForDone(ms)

    def regroup(self, images: list[Path]) -> None:
        """Order the images by patient and exam; group rows only where there is more than one."""
        self.patients = pt.group_images(self.store, images)
        headers = pt.needs_headers(self.patients)
        self.rows, self.paths = [], []
        for i, patient in enumerate(self.patients, 1):
            if headers:
                self.rows.append(("patient", self.patient_text(patient, i)))
            for j, exam in enumerate(patient.exams, 1):
                if headers:
                    self.rows.append(("exam", self.exam_text(exam, j)))
                self.rows.extend(exam.paths)
                self.paths.extend(exam.paths)
        assert self.folder is not None
        self.title.setText(
            self.tr("{folder}  ({n} images)").format(folder=self.folder.name, n=len(self.paths))
        )
        self.table.clearSpans()
        self.table.setRowCount(len(self.rows))
        for row, entry in enumerate(self.rows):
            if isinstance(entry, Path):
                self.refresh_row(self.paths.index(entry))
            else:
                self._group_row(row, *entry)
        self.fit_width()

    def fit_width(self) -> None:
        """Ask for the width of full names and the Result column (beyond what is given, it scrolls)."""
        self.table.resizeColumnsToContents()
        columns = self.table.horizontalHeader().length()  # every section at its contents' width
        needed = (
            columns + self.table.verticalScrollBar().sizeHint().width() + 2 * self.table.frameWidth() + 64
        )
        self.width_wanted.emit(needed)  # the window widens the dock within reason (never off screen)

    def patient_text(self, patient: pt.Patient, number: int) -> str:
        h = patient.header
        if self.show_identifiers() and (h.patient_id or h.patient_name):
            return self.tr("Patient {name} · ID {id}").format(
                name=h.patient_name or "–", id=h.patient_id or "–"
            )
        if self.show_identifiers() and not patient.key.startswith("folder:"):
            return self.tr("Patient {id}").format(id=patient.key)
        return self.tr("Patient {n}").format(n=number)

    def exam_text(self, exam: pt.Exam, number: int) -> str:
        label = exam.label or self.tr("no time-point label")
        n = len(exam.paths)
        count = self.tr("1 image") if n == 1 else self.tr("{n} images").format(n=n)
        if self.show_identifiers() and exam.date:
            return self.tr("    Exam {date} · {label} · {count}").format(
                date=exam.date, label=label, count=count
            )
        return self.tr("    Exam {number} · {label} · {count}").format(
            number=number, label=label, count=count
        )

    def _group_row(self, row: int, kind: str, text: str) -> None:
        item = QTableWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: a heading, not an image
        f = item.font()
        f.setBold(True)
        f.setItalic(kind == "exam")
        item.setFont(f)
        item.setData(Qt.ItemDataRole.UserRole, kind)
        item.setToolTip(plain_tooltip(text))
        self.table.setItem(row, 0, item)
        for col in range(1, len(COLUMNS)):
            self.table.setItem(row, col, QTableWidgetItem(""))
        self.table.setSpan(row, 0, 1, len(COLUMNS))

    def row_of(self, path: Path) -> int:
        """The table row showing `path` (group rows come before their images)."""
        return self.rows.index(path)

    def refresh_path(self, path: Path | None) -> None:
        if path is not None and path in self.paths:
            self.refresh_row(self.paths.index(path))
            self._apply_filter()
            self.fit_width()

    def refresh_row(self, index: int) -> None:
        """Refresh the row of `self.paths[index]`."""
        path = self.paths[index]
        row = self.row_of(path)
        ann = self.store.status_of(None, path)
        s = ann.summary if ann is not None else Summary()
        result = "–"
        if ann is not None and ann.result:
            prob = SavedResult.from_json_dict(ann.result).prediction.probability
            # A saved number, never re-verified here: labelled as such, like in the result panel.
            tag = translate("worklist", " (stale)") if s.stale else translate("worklist", " (saved)")
            result = f"{prob:.2f}{tag}"
        status = row_status(ann)
        if status == "reviewed" and ann is not None and ann.review.reviewer:
            status = translate("worklist", "reviewed ({reviewer})").format(reviewer=ann.review.reviewer)
        scan = self.scanned.get(path, {})
        pending = "…" if ann is None and not scan else "–"
        calibration = str(s.calibration or scan.get("calibration") or pending)
        cells = [
            path.name,
            translate("worklist", status) if ann is not None else translate("worklist", "new"),
            translate("worklist", "yes") if ann is not None and ann.contour else translate("worklist", "no"),
            translate(
                "calibration", translate("worklist", calibration.split(" · ")[-1])
            ),  # the source ("DICOM region", "manual", ...); scale in the tip
            str(s.frame_count or scan.get("frames") or pending),
            result,
        ]
        scale = calibration.split(" · ")[:-1]  # "0.255 mm/px" before the source the cell shows
        tips = [*cells[:3], " · ".join([*scale, cells[3]]), *cells[4:]]
        if ann is None and scan.get("error"):  # a file the worklist cannot open says why on hover
            tips = [f"{cells[0]}\n{scan['error']}", *tips[1:3], f"{cells[3]}: {scan['error']}", *tips[4:]]
        for col, (text, tip) in enumerate(zip(cells, tips, strict=True)):
            item = QTableWidgetItem(text)
            item.setToolTip(plain_tooltip(tip))
            item.setData(Qt.ItemDataRole.UserRole, row_status(ann))
            if path == self.current:
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            self.table.setItem(row, col, item)

    def _apply_filter(self) -> None:
        key = self.filter.currentData()
        for row, entry in enumerate(self.rows):
            if not isinstance(entry, Path):
                continue  # group rows stay: they say whose images follow
            item = self.table.item(row, 0)
            status = item.data(Qt.ItemDataRole.UserRole) if item else "none"
            self.table.setRowHidden(row, key not in ("all", status))

    def _activated(self, row: int, _col: int) -> None:
        entry = self.rows[row] if 0 <= row < len(self.rows) else None
        if isinstance(entry, Path) and entry != self.current:  # a click on the open image keeps its undo
            self.open_requested.emit(str(entry))

    def set_current(self, path: Path | None) -> None:
        previous, self.current = self.current, path
        for p in (previous, path):
            if p is not None and p in self.paths:
                self.refresh_row(self.paths.index(p))
        if path is not None and path in self.paths:
            self.table.selectRow(self.row_of(path))

    def visible_paths(self) -> list[Path]:
        """The images of the rows the filter shows, in their order."""
        return [p for p in self.paths if not self.table.isRowHidden(self.row_of(p))]

    def neighbour(self, step: int) -> Path | None:
        """Next/previous visible row from the current image (wraps nowhere: stops at the ends)."""
        if not self.paths:
            return None
        visible = [i for i, p in enumerate(self.paths) if not self.table.isRowHidden(self.row_of(p))]
        if not visible:
            return None
        if self.current not in self.paths:
            return self.paths[visible[0 if step > 0 else -1]]
        cur = self.paths.index(self.current)
        later = [i for i in visible if (i > cur if step > 0 else i < cur)]
        if not later:
            return None
        return self.paths[later[0] if step > 0 else later[-1]]
