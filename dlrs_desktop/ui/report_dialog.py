"""The PDF export dialog: "Include patient identifiers" (off by default) and the fields to print."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.report import IDENTIFIER_FIELDS, ReportOptions


class ReportOptionsDialog(QDialog):
    def __init__(self, parent: QWidget | None, defaults: dict[str, str]) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export PDF report"))
        form = QFormLayout(self)
        self.include = QCheckBox(self.tr("Include patient identifiers"))
        self.include.setChecked(False)
        form.addRow(self.include)
        form.addRow(
            QLabel(
                self.tr(
                    "Off: the report names the image only by a short hash (nothing identifies the patient)."
                )
            )
        )
        self.fields: dict[str, QLineEdit] = {}
        for key, label in IDENTIFIER_FIELDS:
            edit = QLineEdit(defaults.get(key, ""))
            edit.setEnabled(False)
            self.fields[key] = edit
            form.addRow(self.tr("{label}:").format(label=QCoreApplication.translate("report", label)), edit)
        self.include.toggled.connect(lambda on: [e.setEnabled(on) for e in self.fields.values()])
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> ReportOptions:
        if not self.include.isChecked():
            return ReportOptions()
        return ReportOptions(True, {k: e.text().strip() for k, e in self.fields.items()})


def ask_report_options(parent: QWidget | None, defaults: dict[str, str]) -> ReportOptions | None:
    """The user's choice, or None when cancelled. A test handler answers with a dict:
    {"include_identifiers": bool, "identifiers": {...}} (missing keys: the defaults), or "cancel"."""

    def run() -> ReportOptions | None:
        dlg = ReportOptionsDialog(parent, defaults)
        return dlg.options() if dlg.exec() else None

    answer = dialogs.ask_form(
        "report_options",
        QCoreApplication.translate("ReportOptionsDialog", "Export PDF report"),
        QCoreApplication.translate("ReportOptionsDialog", "Include patient identifiers?"),
        run,
        defaults=defaults,
    )
    if isinstance(answer, ReportOptions) or (answer is None and not dialogs.has_handler()):
        return answer
    if answer == "cancel":
        return None
    answer = dict(answer or {})
    if not answer.get("include_identifiers"):
        return ReportOptions()
    return ReportOptions(True, {**defaults, **(answer.get("identifiers") or {})})
