"""Help (tools and shortcuts), About (with the model card) and Preferences dialogs."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QTextCursor, QTextDocument
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
    QWidget,
)

from dlrs_desktop import __version__
from dlrs_desktop.extras import install_hint, missing_modules
from dlrs_desktop.model.outcome import DEFAULT, OUTCOME, Outcome
from dlrs_desktop.regions import DEFAULT_RING_RADII_MM
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.result_help import reading_html
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.style import region_label
from dlrs_desktop.ui.worker import ModelInfo

translate = QCoreApplication.translate


def _text_dialog(win: QWidget, title: str, body: str) -> QDialog:
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


def help_html(
    tools: Iterable[Any],
    shortcuts: Iterable[tuple[str, str, str]],
    outcome: Outcome = DEFAULT,
    ring_radii: tuple[float, ...] = DEFAULT_RING_RADII_MM,
) -> str:
    """`tools`: objects with label, shortcut, tip; `shortcuts`: (menu, action, key) as the menus have them;
    `outcome`, `ring_radii`: the loaded model's (what "Reading the result" says the number is the
    probability of, and which rings the bars are)."""
    rows = "".join(
        f"<tr><td>{html.escape(menu)}</td><td>{html.escape(text)}</td><td><b>{html.escape(key)}</b></td></tr>"
        for menu, text, key in shortcuts
    )
    tool_items = "".join(
        f"<li><b>{html.escape(t.title)}</b> ({t.shortcut}): {html.escape(t.hint)}</li>" for t in tools
    )
    return translate(
        "about",
        "<h2>Tools</h2><ul>{tools}</ul>"
        "<p>Mouse wheel (or trackpad pinch) zooms at the cursor; + and − zoom about the centre of the "
        "view; the middle button pans in every tool; right-drag changes brightness (up = brighter) and "
        "contrast "
        "(left = more contrast), W resets them; Esc cancels a gesture.</p>"
        "<h2>Keyboard shortcuts</h2><table cellpadding=3>{shortcuts}</table>"
        "<h2>Workflow</h2><ol><li>Open an image or a folder (worklist).</li>"
        "<li>Check the calibration badge; calibrate with K if it says 'Not calibrated'.</li>"
        "<li>Draw the tumour (P or F), correct it with Edit (E); the model's rings follow live.</li>"
        "<li>Predict (Ctrl+Enter). Any later edit marks the result stale.</li>"
        "<li>Mark reviewed (Ctrl+R), export the PDF report (Ctrl+P). Everything is autosaved.</li></ol>",
    ).format(tools=tool_items, shortcuts=rows) + reading_html(outcome, ring_radii)


def help_dialog(
    parent: QWidget,
    tools: Iterable[Any],
    shortcuts: Iterable[tuple[str, str, str]],
    outcome: Outcome = DEFAULT,
    ring_radii: tuple[float, ...] = DEFAULT_RING_RADII_MM,
) -> None:
    title = translate("about", "Help — tools and shortcuts")
    _text_dialog(parent, title, help_html(tools, shortcuts, outcome, ring_radii)).exec()


def model_card_markdown(info: ModelInfo) -> str:
    """The model card as the model package renders it (same text as MODEL_CARD.md and `dlrs model info`)."""
    # lazy: model.card stays off the window's start-up (importtime of ui.mainwindow)
    from dlrs_desktop.model.card import render_model_card

    manifest = info.manifest
    if not manifest:
        return translate("about", "_The model is not loaded; its card is shown once it is._")

    return render_model_card(manifest)


def about_markdown(model_info: ModelInfo) -> str:
    head = translate(
        "about",
        "# DLRS Desktop {version}\n\n"
        "**Research use only.** Not a diagnosis; never the sole basis of a clinical decision. The card of "
        "the loaded model below says what it was trained on (the bundled demonstration model: synthetic "
        "data).\n\n"
        "Follows the method of the dual-centre study of Liu et al. (BMC Cancer 25:1737, 2025), which "
        "predicted early response to neoadjuvant chemotherapy from one breast ultrasound image: ResNet "
        "models on the tumour and on 3, 5 and 10 mm peritumoral rings, combined by stacking fusion. Runs "
        "offline; nothing leaves this computer.",
    ).format(version=__version__)
    if model_info.manifest:
        head += "\n\n" + loaded_model_line(model_info)
    notice = model_info.notice
    translated = i18n.notice(notice) if notice else ""
    if translated and translated != notice:  # the card below stays as the bundle wrote it (English)
        head += "\n\n" + translate("about", "**Research notice of the loaded model:** {notice}").format(
            notice=translated
        )
    return head + "\n\n---\n\n" + model_card_markdown(model_info)


def loaded_model_line(model_info: ModelInfo) -> str:
    """What the loaded model's number is the probability of, and from which regions: a real-data
    benign-vs-malignant bundle must not sit under an About that says only "early response"."""
    reading = model_info.reading
    words = {k: translate(OUTCOME, v) for k, v in reading.outcome.to_dict().items()}  # a bundle's own words
    radii = reading.ring_radii
    if not radii:
        regions = translate("about", "the tumour alone (no rings)")
    else:
        regions = translate("about", "the tumour and its {radii} mm rings").format(
            radii=", ".join(f"{r:g}" for r in radii)
        )
    return translate(
        "about",
        "**The loaded model** ({model}) gives the probability of {short_name} ({name}) from {regions}.",
    ).format(model=model_info.id, short_name=words["short_name"], name=words["name"], regions=regions)


def about_dialog(parent: QWidget, model_info: ModelInfo) -> None:
    make_about_dialog(parent, model_info).exec()


def make_about_dialog(parent: QWidget, model_info: ModelInfo) -> QDialog:
    dlg = _text_dialog(parent, translate("about", "About DLRS Desktop"), "")
    # The model card quotes the bundle's manifest (a file): Markdown yes, embedded HTML never.
    features = (
        QTextDocument.MarkdownFeature.MarkdownDialectGitHub | QTextDocument.MarkdownFeature.MarkdownNoHTML
    )
    view = dlg.findChild(QTextBrowser)
    view.document().setMarkdown(about_markdown(model_info), features)
    view.document().setDocumentMargin(14)  # readable: text off the frame, a wider window below
    dlg.resize(760, 680)
    show_from_top(view)
    dlg.shown = lambda: show_from_top(view)  # type: ignore[attr-defined]
    return dlg


def show_from_top(view: QTextBrowser) -> None:
    """Open at the first line (a long model card otherwise leaves the view scrolled down)."""
    view.moveCursor(QTextCursor.MoveOperation.Start)
    view.verticalScrollBar().setValue(0)


def available_devices() -> list[str]:
    """Devices to offer without importing torch (that import alone takes seconds)."""
    # lazy: cv2 (~0.45 s) only when this runs, not at start-up
    from dlrs_desktop.model.predictor import gpu_hint

    return ["auto", "cpu", "gpu"] if gpu_hint() is not None else ["auto", "cpu"]


def gpu_absence() -> str:
    """Why no GPU is offered: none found, or the GPU path (torch, the [gpu] extra) is not installed."""
    if missing_modules(["torch"]):
        return translate("about", "GPU inference needs the [gpu] extra ({hint})").format(
            hint=install_hint("gpu")
        )
    return translate("about", "no GPU found on this computer")


class PreferencesDialog(QDialog):
    """Device, reviewer, folders, ring visibility. `apply()` writes them (tests call it directly)."""

    def __init__(
        self,
        parent: QWidget,
        prefs: Preferences,
        device_in_use: str,
        ring_names: list[str],
        set_ring_visible: Callable[[str, bool], None],
        reload_model: Callable[[], None],
        sections: Iterable[Any] = (),
    ) -> None:
        """`sections`: more rows owned by other components (objects with add_rows(form) and apply())."""
        super().__init__(parent)
        self.prefs, self.set_ring_visible, self.reload_model = prefs, set_ring_visible, reload_model
        self.setWindowTitle(self.tr("Preferences"))
        form = QFormLayout(self)
        self.device = QComboBox()
        names = {"auto": self.tr("Auto (GPU if present)"), "cpu": "CPU", "gpu": self.tr("GPU (CUDA)")}
        for d in available_devices():
            self.device.addItem(names[d], d)
        self.device.setCurrentIndex(max(self.device.findData(prefs.device), 0))
        form.addRow(self.tr("Model device:"), self.device)
        gpu = self.tr("a GPU is available") if "gpu" in available_devices() else gpu_absence()
        in_use = self.tr("In use now: {device}; {gpu}. A failing GPU falls back to the CPU.")
        form.addRow("", QLabel(in_use.format(device=translate("device", device_in_use), gpu=gpu)))
        self.precision = QComboBox()
        self.precision.addItem(self.tr("Auto (int8 where this CPU runs it fast)"), "auto")
        self.precision.addItem(self.tr("Float32 always"), "float")
        self.precision.setCurrentIndex(max(self.precision.findData(prefs.precision), 0))
        form.addRow(self.tr("Model precision:"), self.precision)
        self.language = QComboBox()
        self.language.addItem(self.tr("System default"), "")
        for code, name in i18n.LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(self.language.findData(prefs.language), 0))
        form.addRow(self.tr("Language:"), self.language)
        self.reviewer = QLineEdit(prefs.reviewer)
        form.addRow(self.tr("Reviewer name:"), self.reviewer)
        self.institution = QLineEdit(str(prefs.institution))
        form.addRow(self.tr("Institution (PDF report):"), self.institution)
        self.open_folder = QLineEdit(prefs.open_folder)
        form.addRow(self.tr("Default image folder:"), self.open_folder)
        self.export_folder = QLineEdit(prefs.export_folder)
        form.addRow(self.tr("Default export folder:"), self.export_folder)
        self.trusted_keys = QLineEdit(prefs.trusted_keys)
        self.trusted_keys.setToolTip(
            self.tr("Public key files (separated by ;) whose signed model bundles are trusted, besides the "
                    "release key. A bundle no trusted key signed is used only if you allow it.")
        )  # fmt: skip
        form.addRow(self.tr("Trusted model keys:"), self.trusted_keys)
        self.rings: dict[str, QCheckBox] = {}
        for name in ring_names:
            self.rings[name] = QCheckBox(self.tr("Show {region}").format(region=region_label(name)))
            self.rings[name].setChecked(prefs.ring_visible(name))
            form.addRow("", self.rings[name])
        self.sections = list(sections)  # e.g. the PACS node (dicom_actions.PacsFields)
        for section in self.sections:
            section.add_rows(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.accepted.connect(self.apply)

    def apply(self) -> None:
        prefs = self.prefs
        old_device, old_precision = prefs.device, prefs.precision
        prefs.device = self.device.currentData()
        prefs.precision = self.precision.currentData()
        prefs.reviewer = self.reviewer.text().strip()
        prefs.institution = self.institution.text().strip()
        prefs.open_folder = self.open_folder.text().strip()
        prefs.export_folder = self.export_folder.text().strip()
        old_language, prefs.language = prefs.language, self.language.currentData()
        prefs.trusted_keys = self.trusted_keys.text().strip()
        for name, box in self.rings.items():
            self.set_ring_visible(name, box.isChecked())
        for section in self.sections:
            section.apply()
        prefs.sync()
        if prefs.device != old_device or prefs.precision != old_precision:
            self.reload_model()  # on the chosen device, at the chosen precision
        if prefs.language != old_language:
            dialogs.info(
                self.parentWidget(),
                self.tr("The new language is used from the next start of DLRS Desktop."),
                self.tr("Language"),
            )
