"""Help (tools and shortcuts), About (with the model card) and Preferences dialogs."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTextBrowser,
    QVBoxLayout,
)

from dlrs_desktop import __version__
from dlrs_desktop.ui.dicom_actions import PacsFields
from dlrs_desktop.ui.panels import REGION_LABELS
from dlrs_desktop.ui.settings import RING_NAMES

if TYPE_CHECKING:
    from dlrs_desktop.ui.mainwindow import MainWindow


def _text_dialog(win: MainWindow, title: str, body: str) -> QDialog:
    dlg = QDialog(win)
    dlg.setWindowTitle(title)
    dlg.resize(640, 560)
    lay = QVBoxLayout(dlg)
    view = QTextBrowser()
    view.setHtml(body)
    view.setOpenExternalLinks(False)
    lay.addWidget(view)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dlg.reject)
    lay.addWidget(buttons)
    return dlg


def help_html(win: MainWindow) -> str:
    from dlrs_desktop.ui.actions import SHORTCUTS

    rows = "".join(
        f"<tr><td>{html.escape(menu)}</td><td>{html.escape(text)}</td><td><b>{html.escape(key)}</b></td></tr>"
        for menu, text, key in SHORTCUTS
    )
    tools = "".join(
        f"<li><b>{t.label}</b> ({t.shortcut}): {html.escape(t.tip)}</li>" for t in win.tools.values()
    )
    return (
        "<h2>Tools</h2><ul>" + tools + "</ul>"
        "<p>Mouse wheel zooms at the cursor; the middle button pans in every tool; Esc cancels a gesture.</p>"
        "<h2>Keyboard shortcuts</h2><table cellpadding=3>" + rows + "</table>"
        "<h2>Workflow</h2><ol><li>Open an image or a folder (worklist).</li>"
        "<li>Check the calibration badge; calibrate with K if it says 'Not calibrated'.</li>"
        "<li>Draw the tumour (P or F), correct it with Edit (E); the 3/5/10 mm rings follow live.</li>"
        "<li>Predict (Ctrl+Enter). Any later edit marks the result stale.</li>"
        "<li>Mark reviewed (Ctrl+R), export the PDF report (Ctrl+P). Everything is autosaved.</li></ol>"
    )


def help_dialog(win: MainWindow) -> None:
    _text_dialog(win, "Help — tools and shortcuts", help_html(win)).exec()


def model_card_markdown(info: dict[str, Any]) -> str:
    """The model card as the model package renders it (same text as MODEL_CARD.md and `dlrs model info`)."""
    manifest = info.get("manifest") or {}
    if not manifest:
        return "_The model is not loaded; its card is shown once it is._"
    from dlrs_desktop.model.card import render_model_card

    return render_model_card(manifest)


def about_markdown(win: MainWindow) -> str:
    return (
        f"# DLRS Desktop {__version__}\n\n"
        "**Research use · demonstration model trained on synthetic data.** Not a diagnosis; never the sole "
        "basis of a clinical decision.\n\n"
        "Predicts early response to neoadjuvant chemotherapy from one breast ultrasound image, following the "
        "dual-centre study of Liu et al. (BMC Cancer 25:1737, 2025): ResNet models on the tumour and on 3, 5 "
        "and 10 mm peritumoral rings, combined by stacking fusion. Runs offline; nothing leaves this "
        "computer.\n\n---\n\n" + model_card_markdown(win.model.info)
    )


def about_dialog(win: MainWindow) -> None:
    dlg = _text_dialog(win, "About DLRS Desktop", "")
    # The model card quotes the bundle's manifest (a file): Markdown yes, embedded HTML never.
    features = (
        QTextDocument.MarkdownFeature.MarkdownDialectGitHub | QTextDocument.MarkdownFeature.MarkdownNoHTML
    )
    dlg.findChild(QTextBrowser).document().setMarkdown(about_markdown(win), features)
    dlg.exec()


def available_devices() -> list[str]:
    """Devices to offer without importing torch (that import alone takes seconds)."""
    from dlrs_desktop.model.predictor import gpu_hint

    return ["auto", "cpu", "gpu"] if gpu_hint() is not None else ["auto", "cpu"]


def gpu_absence() -> str:
    """Why no GPU is offered: none found, or the GPU path (torch, the [gpu] extra) is not installed."""
    from dlrs_desktop.extras import install_hint, missing_modules

    if missing_modules(["torch"]):
        return f"GPU inference needs the [gpu] extra ({install_hint('gpu')})"
    return "no GPU found on this computer"


class PreferencesDialog(QDialog):
    """Device, reviewer, folders, ring visibility. `apply()` writes them (tests call it directly)."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        prefs = win.prefs
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        self.device = QComboBox()
        names = {"auto": "Auto (GPU if present)", "cpu": "CPU", "gpu": "GPU (CUDA)"}
        for d in available_devices():
            self.device.addItem(names[d], d)
        self.device.setCurrentIndex(max(self.device.findData(prefs.device), 0))
        form.addRow("Model device:", self.device)
        current = win.model.info.get("device") if win.model.ready else "not loaded"
        gpu = "a GPU is available" if "gpu" in available_devices() else gpu_absence()
        form.addRow("", QLabel(f"In use now: {current}; {gpu}. A failing GPU falls back to the CPU."))
        self.reviewer = QLineEdit(prefs.reviewer)
        form.addRow("Reviewer name:", self.reviewer)
        self.open_folder = QLineEdit(prefs.open_folder)
        form.addRow("Default image folder:", self.open_folder)
        self.export_folder = QLineEdit(prefs.export_folder)
        form.addRow("Default export folder:", self.export_folder)
        self.rings: dict[str, QCheckBox] = {}
        for name in RING_NAMES:
            self.rings[name] = QCheckBox(f"Show {REGION_LABELS[name]}")
            self.rings[name].setChecked(prefs.ring_visible(name))
            form.addRow("", self.rings[name])
        self.pacs = PacsFields(win)  # PACS node: no network use unless configured
        self.pacs.add_rows(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.accepted.connect(self.apply)

    def apply(self) -> None:
        win, prefs = self.win, self.win.prefs
        old_device = prefs.device
        prefs.device = self.device.currentData()
        prefs.reviewer = self.reviewer.text().strip()
        prefs.open_folder = self.open_folder.text().strip()
        prefs.export_folder = self.export_folder.text().strip()
        for name, box in self.rings.items():
            win.set_ring_visible(name, box.isChecked())
        self.pacs.apply()
        prefs.sync()
        if prefs.device != old_device:
            win.start_model()  # reload on the chosen device


def preferences_dialog(win: MainWindow) -> None:
    PreferencesDialog(win).exec()
