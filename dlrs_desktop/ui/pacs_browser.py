"""Query/retrieve from the configured PACS: C-FIND studies by patient ID, name or date; C-GET one into a
local folder, which then opens as the worklist. Network calls run in the DicomController's worker pool.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from dlrs_desktop import paths
from dlrs_desktop.imaging.dicom_seg import segs_for_image
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.dicom_actions import DicomHost, configured_node, pacs_setting

translate = QCoreApplication.translate

if TYPE_CHECKING:
    from dlrs_desktop.ui.actions import ActionRegistry

COLUMNS = [
    ("PatientID", QT_TRANSLATE_NOOP("pacs_browser", "Patient ID")),
    ("PatientName", QT_TRANSLATE_NOOP("pacs_browser", "Name")),
    ("StudyDate", QT_TRANSLATE_NOOP("pacs_browser", "Date")),
    ("StudyDescription", QT_TRANSLATE_NOOP("pacs_browser", "Description")),
    ("ModalitiesInStudy", QT_TRANSLATE_NOOP("pacs_browser", "Modalities")),
    ("NumberOfStudyRelatedInstances", QT_TRANSLATE_NOOP("pacs_browser", "Objects")),
]


def retrieve_folder(win: DicomHost, study: Any) -> Path:
    """Where a retrieved study goes: <export folder or user data>/pacs/<study date>_<8 hex of its UID's sha1>
    (short for the worklist title, no patient identifiers, the same folder when retrieved again)."""
    base = Path(win.prefs.export_folder) if win.prefs.export_folder else paths.user_data_dir()
    date = re.sub(r"[^0-9]", "", study.fields.get("StudyDate", ""))[:8] or "study"
    return base / "pacs" / f"{date}_{hashlib.sha1(study.study_uid.encode()).hexdigest()[:8]}"


class QueryRetrieveDialog(QDialog):
    """Search fields, a study table and Retrieve; `status` says what happened (tests read it)."""

    def __init__(self, win: DicomHost) -> None:
        super().__init__(win)
        self.win = win
        self.node = configured_node(win)
        self.matches: list[Any] = []
        self.retrieved: list[Path] = []
        self.setWindowTitle(translate("pacs_browser", "Query/retrieve from PACS"))
        self.resize(760, 420)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.patient_id, self.patient_name, self.study_date = QLineEdit(), QLineEdit(), QLineEdit()
        self.patient_name.setPlaceholderText(translate("pacs_browser", "e.g. DOE^J* (wildcards allowed)"))
        self.study_date.setPlaceholderText(translate("pacs_browser", "YYYYMMDD or YYYYMMDD-YYYYMMDD"))
        form.addRow(translate("pacs_browser", "Patient ID:"), self.patient_id)
        form.addRow(translate("pacs_browser", "Patient name:"), self.patient_name)
        form.addRow(translate("pacs_browser", "Study date:"), self.study_date)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.search_button = QPushButton(translate("pacs_browser", "Search"))
        self.retrieve_button = QPushButton(translate("pacs_browser", "Retrieve and open"))
        self.retrieve_button.setEnabled(False)
        row.addWidget(self.search_button)
        row.addWidget(self.retrieve_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([translate("pacs_browser", c[1]) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.cellDoubleClicked.connect(lambda *_: self.retrieve())
        lay.addWidget(self.table, 1)
        where = (
            self.node.label() if self.node else translate("pacs_browser", "no PACS configured (Preferences)")
        )
        self.status = QLabel(translate("pacs_browser", "PACS: {node}").format(node=where))
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # PACS answers and errors are not markup
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve)
        self.search_button.setEnabled(self.node is not None)
        runner = win.dicom.runner
        runner.done.connect(self._done)
        runner.failed.connect(self._failed)
        self.busy = False

    def search(self) -> None:

        # lazy: exchange.query stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.exchange.query import find_studies

        if self.node is None or self.busy:
            return
        node = self.node
        keys = {
            "patient_id": self.patient_id.text(),
            "patient_name": self.patient_name.text(),
            "study_date": self.study_date.text(),
        }
        self._start(translate("pacs_browser", "Searching {node}…").format(node=node.label()))
        self.win.dicom.runner.submit(("find", id(self)), lambda: find_studies(node, **keys))

    def retrieve(self) -> None:

        # lazy: exchange.query stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.exchange.query import get_study, move_study

        row = self.table.currentRow()
        if self.node is None or self.busy or not 0 <= row < len(self.matches):
            return
        node, study = self.node, self.matches[row]
        folder = retrieve_folder(self.win, study)
        self._start(
            translate("pacs_browser", "Retrieving {study} into {folder}…").format(
                study=study.label(), folder=folder
            )
        )
        if pacs_setting(self.win, "retrieve") == "move":
            try:
                port = int(pacs_setting(self.win, "listen_port") or 11112)
            except ValueError:
                self.status.setText(
                    translate("pacs_browser", "The receive port in Preferences is not a number.")
                )
                return
            bind = pacs_setting(self.win, "listen_bind") or "127.0.0.1"  # the PACS must reach this address
            work = lambda: move_study(node, study.study_uid, folder, listen_port=port, bind=bind)  # noqa: E731
        else:
            work = lambda: get_study(node, study.study_uid, folder)  # noqa: E731
        self.win.dicom.runner.submit(("get", id(self), folder), work)

    def _start(self, text: str) -> None:
        self.busy = True
        self.search_button.setEnabled(False)
        self.retrieve_button.setEnabled(False)
        self.status.setText(text)

    def _finish(self, text: str) -> None:
        self.busy = False
        self.search_button.setEnabled(self.node is not None)
        self._selection_changed()
        self.status.setText(text)

    def _selection_changed(self) -> None:
        self.retrieve_button.setEnabled(not self.busy and 0 <= self.table.currentRow() < len(self.matches))

    def _done(self, token: Any, result: Any) -> None:
        if not isinstance(token, tuple) or len(token) < 2 or token[1] != id(self):
            return
        if token[0] == "find":
            self.matches = list(result)
            self.table.setRowCount(len(self.matches))
            for r, m in enumerate(self.matches):
                for c, (key, _) in enumerate(COLUMNS):
                    self.table.setItem(r, c, QTableWidgetItem(m.fields.get(key, "")))
            n = len(self.matches)
            self._finish(
                (
                    translate("pacs_browser", "{count} study found.")
                    if n == 1
                    else translate("pacs_browser", "{count} studies found.")
                ).format(count=n)
            )
        elif token[0] == "get":
            self.retrieved = list(result)
            folder: Path = token[2]
            self._finish(
                translate("pacs_browser", "Retrieved {count} objects into {folder}.").format(
                    count=len(self.retrieved), folder=folder
                )
            )
            if any(p.parent == folder for p in self.retrieved):
                self.win.open_path(folder)
                self._load_shared_contour(folder)
                self.accept()

    def _load_shared_contour(self, folder: Path) -> None:
        """No contour of ours for this image yet: take the newest SEG the study holds for it."""
        # lazy: exchange.listener stays off the window's start-up (importtime of ui.mainwindow)
        from dlrs_desktop.exchange.listener import DERIVED_FOLDER

        doc = self.win.doc
        if doc.image is None or doc.path is None or doc.contour is not None:
            return
        segs = segs_for_image(doc.path, folder / DERIVED_FOLDER)
        if segs:
            self.win.load_contour_file(segs[0])
            self.win.show_status(
                translate("pacs_browser", "Contour taken from the study's segmentation {name}.").format(
                    name=segs[0].name
                )
            )

    def _failed(self, token: Any, message: str) -> None:
        if isinstance(token, tuple) and len(token) >= 2 and token[1] == id(self):
            self._finish(translate("pacs_browser", "Failed: {reason}").format(reason=message))


def query_retrieve_dialog(win: DicomHost) -> QueryRetrieveDialog | None:
    if configured_node(win) is None:
        dialogs.error(
            win,
            translate(
                "pacs_browser", "No PACS is configured: set its AE title, host and port in Preferences."
            ),
            "PACS",
        )
        return None
    dlg = QueryRetrieveDialog(win)
    dlg.show()
    return dlg


def add_menu(win: DicomHost, file_menu: Any, reg: ActionRegistry) -> None:
    """The File → DICOM submenu (one hook in menus.py)."""
    c = win.dicom
    m = file_menu.addMenu(translate("pacs_browser", "&DICOM"))
    reg.add(m, "dicom_export", translate("pacs_browser", "Export to &DICOM (SEG, SR, PDF)…"), c.export_dialog)
    reg.add(m, "dicom_send", translate("pacs_browser", "&Send results to PACS"), c.send_results)
    reg.add(
        m,
        "dicom_query",
        translate("pacs_browser", "&Query/retrieve from PACS…"),
        lambda: query_retrieve_dialog(win),
    )
    reg.add(
        m,
        "dicom_receive",
        translate("pacs_browser", "&Receive from scanner"),
        c.toggle_receive,
        checked=False,
    )
