"""The patient/study banner above the image: who and which exam, as a PACS viewer shows it.

Read from the open DICOM each time (never stored); hidden unless the user turned patient identifiers
on (View → Show patient identifiers), so a screen share or a screenshot shows none by default.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from dlrs_desktop.ui.patients import read_header


class PatientBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)  # the fields come from a file
        self.setStyleSheet("background:#20324a; color:white; padding:3px 8px; font-weight:bold;")
        self.setWordWrap(True)  # a long name wraps; it never forces the window wider than the screen
        self.setVisible(False)

    def show_for(self, path: Path | None, label: str, identifiers: bool) -> None:
        """`label`: the exam's time point ("baseline"), shown after the exam date."""
        header = read_header(path) if path is not None else None
        if not identifiers or header is None or not (header.patient_id or header.patient_name):
            self.setText("")
            self.setVisible(False)
            return
        dash = "–"
        text = self.tr("{name} · ID {id} · born {birth} · exam {date} · accession {accession}").format(
            name=header.patient_name or dash,
            id=header.patient_id or dash,
            birth=header.birth_date or dash,
            date=header.study_date or dash,
            accession=header.accession or dash,
        )
        if label:
            text = self.tr("{fields} · {label}").format(fields=text, label=label)
        self.setText(text)
        self.setVisible(True)
