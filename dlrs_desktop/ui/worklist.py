"""A folder as a worklist: one row per image with its annotation status, filterable, next/previous.

Rows are filled at once from the annotation store (sidecars and the per-user index); a background scan
then reads each image without a saved annotation (calibration source, frames), one at a time in a
worker thread, so the list is complete without the user opening every image. One click opens a row.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.store import Annotation, AnnotationStore
from dlrs_desktop.store.annotation import SIDECAR_SUFFIX

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
    from dlrs_desktop.imaging import load_image

    try:
        image = load_image(path, 0)
    except Exception as exc:  # a worklist row says it, the folder still lists
        return {
            "calibration": QT_TRANSLATE_NOOP("worklist", "cannot open"),
            "frames": "–",
            "error": str(exc).splitlines()[0][:200],
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
    from PySide6 import QtGui

    return f"<p>{html.escape(text)}</p>" if QtGui.Qt.mightBeRichText(text) else text


class Worklist(QWidget):
    open_requested = Signal(str)

    def __init__(self, store: AnnotationStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.folder: Path | None = None
        self.paths: list[Path] = []
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
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for col, width in ((0, 115), (1, 80)):  # names and reviewers elide; the scan columns stay visible
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
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
        self.paths = list_images(folder)
        self.title.setText(
            translate("worklist", "{folder}  ({count} images)").format(
                folder=folder.name, count=len(self.paths)
            )
        )
        self.table.setRowCount(len(self.paths))
        self.scanned = {}
        for row, _path in enumerate(self.paths):
            self.refresh_row(row)
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

    def refresh_path(self, path: Path | None) -> None:
        if path is not None and path in self.paths:
            self.refresh_row(self.paths.index(path))
            self._apply_filter()

    def refresh_row(self, row: int) -> None:
        path = self.paths[row]
        ann = self.store.status_of(None, path)
        s = ann.summary if ann is not None else {}
        result = "–"
        if ann is not None and ann.result:
            prob = (ann.result.get("prediction") or {}).get("probability")
            # A saved number, never re-verified here: labelled as such, like in the result panel.
            tag = translate("worklist", " (stale)") if s.get("stale") else translate("worklist", " (saved)")
            result = "–" if prob is None else f"{float(prob):.2f}{tag}"
        status = row_status(ann)
        if status == "reviewed" and ann is not None and ann.review.reviewer:
            status = translate("worklist", "reviewed ({reviewer})").format(reviewer=ann.review.reviewer)
        scan = self.scanned.get(path, {})
        pending = "…" if ann is None and not scan else "–"
        calibration = str(s.get("calibration") or scan.get("calibration") or pending)
        cells = [
            path.name,
            translate("worklist", status) if ann is not None else translate("worklist", "new"),
            translate("worklist", "yes") if ann is not None and ann.contour else translate("worklist", "no"),
            translate(
                "calibration", translate("worklist", calibration.split(" · ")[-1])
            ),  # the source ("DICOM region", "manual", ...); scale in the tip
            str(s.get("frame_count") or scan.get("frames") or pending),
            result,
        ]
        tips = [*cells[:3], calibration, *cells[4:]]
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
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            status = item.data(Qt.ItemDataRole.UserRole) if item else "none"
            self.table.setRowHidden(row, key not in ("all", status))

    def _activated(self, row: int, _col: int) -> None:
        if self.paths[row] != self.current:  # a click on the open image keeps its undo history
            self.open_requested.emit(str(self.paths[row]))

    def set_current(self, path: Path | None) -> None:
        previous, self.current = self.current, path
        for p in (previous, path):
            if p is not None and p in self.paths:
                self.refresh_row(self.paths.index(p))
        if path is not None and path in self.paths:
            self.table.selectRow(self.paths.index(path))

    def neighbour(self, step: int) -> Path | None:
        """Next/previous visible row from the current image (wraps nowhere: stops at the ends)."""
        if not self.paths:
            return None
        visible = [i for i in range(len(self.paths)) if not self.table.isRowHidden(i)]
        if not visible:
            return None
        if self.current not in self.paths:
            return self.paths[visible[0 if step > 0 else -1]]
        cur = self.paths.index(self.current)
        later = [i for i in visible if (i > cur if step > 0 else i < cur)]
        if not later:
            return None
        return self.paths[later[0] if step > 0 else later[-1]]
