"""Model menu: one checkable entry per bundled prediction model, "Open model bundle…", the loaded one ticked.

The entries come from the bundles' manifests (model/catalog.py), re-read each time the menu opens. A
choice loads in the background like start-up does, the model in use serving until the new one is
ready and staying if it fails (one message). A choice that loaded is remembered (Preferences
.model_bundle) and used at the next start unless `--model` is given; a remembered bundle that no
longer loads falls back to the bundled demonstration model with one message. A result on screen of
another model is marked stale by the document (Document.set_model), never re-computed unasked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from dlrs_desktop import paths
from dlrs_desktop.model.catalog import bundled_models, choice_for, entry_from_manifest, resolve_choice
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.actions import ActionRegistry
from dlrs_desktop.ui.prediction import PredictionController
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.worker import ModelInfo, ModelService

translate = QCoreApplication.translate

OTHER = "model_other"  # the entry of a loaded bundle that is not a bundled one (--model, Open…)


def same_folder(a: str | Path | None, b: str | Path | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def menu_text(text: str) -> str:
    """A label from a manifest as menu text: '&' is shown, not taken as a mnemonic."""
    return text.replace("&", "&&")


#: The catalogue's words for what a bundle was trained on (model/catalog.py `_source`) and the bundled
#: real-data bundle's description; a bundle's other words are shown as written.
SOURCE_WORDS = (
    QT_TRANSLATE_NOOP("catalog", "demonstration (synthetic data)"),
    QT_TRANSLATE_NOOP("catalog", "demonstration"),
    QT_TRANSLATE_NOOP("catalog", "synthetic data"),
    QT_TRANSLATE_NOOP("catalog", "real data"),
    QT_TRANSLATE_NOOP("catalog", "public breast ultrasound"),
)


def entry_label(entry: Any) -> str:
    """A catalogue entry's menu label in the interface language ("Malignancy — public breast
    ultrasound (BUS-BRA, BUSI)": outcome and source words translated, dataset names kept)."""
    source = translate("catalog", entry.source)
    m = re.fullmatch(r"(.+) \((.+)\)", entry.source)
    if source == entry.source and m is not None:
        source = translate("model_menu", "{words} ({centres})").format(
            words=translate("catalog", m[1]), centres=m[2]
        )
    outcome = translate("outcome", entry.outcome)
    return translate("model_menu", "{outcome} — {source}").format(
        outcome=outcome[:1].upper() + outcome[1:], source=source
    )


class ModelMenu(QObject):
    def __init__(
        self,
        parent: QWidget,
        reg: ActionRegistry,
        menu: QMenu,
        prediction: PredictionController,
        model: ModelService,
        prefs: Preferences,
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.reg, self.menu = parent, reg, menu
        self.prediction, self.model, self.prefs = prediction, model, prefs
        self.remember: Path | None = None  # a menu choice being loaded: remembered once it has loaded
        self.fallback_from: str | None = None  # the remembered choice being loaded at start-up
        self.entries: dict[str, Path] = {}  # the model entries in `reg` (name → bundle folder), in order
        menu.addSeparator()
        self.open_action = reg.add(
            menu, "open_model", translate("model_menu", "&Open model bundle…"), self.open_dialog
        )
        menu.setToolTipsVisible(True)
        self.refresh()
        menu.aboutToShow.connect(self.refresh)
        model.loaded.connect(self._loaded)
        model.load_failed.connect(self._load_failed)
        model.switch_failed.connect(self._switch_failed)

    # ------------------------------------------------------------------ entries
    def loaded_path(self) -> str | None:
        return (self.model.info.path or None) if self.model.ready else None

    def refresh(self) -> None:
        """(Re)build the entries from the bundles on disk; the loaded model ticked."""
        for name in self.entries:
            self.reg.remove(name, self.menu)
        self.entries = {}
        loaded = self.loaded_path()
        for name, folder, label, tip in self._items(loaded):
            action = self.reg.add(
                self.menu, name, menu_text(label), lambda f=folder: self.choose(f), before=self.open_action
            )
            action.setCheckable(True)
            action.setChecked(same_folder(folder, loaded))
            action.setToolTip(f"{tip} · {folder}")
            action.setStatusTip(f"{tip} · {folder}")
            self.entries[name] = folder

    def _items(self, loaded: str | None) -> list[tuple[str, Path, str, str]]:
        """(action name, folder, label, "id version") per bundled model, then the loaded bundle when it
        is not one of them. Two bundles with the same label are told apart by id and version."""
        found = bundled_models()
        labels = [e.label for e in found]
        items = []
        for e in found:
            tip = f"{e.id} {e.version}"
            label = entry_label(e) if labels.count(e.label) == 1 else f"{entry_label(e)} ({tip})"
            items.append((f"model_{e.folder.name}", e.folder, label, tip))
        if loaded and not any(same_folder(e.folder, loaded) for e in found):
            other = entry_from_manifest(self.model.info.manifest, Path(loaded))
            items.append(
                (
                    OTHER,
                    other.folder,
                    f"{entry_label(other)} · {other.folder.name}",
                    f"{other.id} {other.version}",
                )
            )
        return items

    def checked_entry(self) -> str | None:
        return next((n for n in self.entries if self.reg[n].isChecked()), None)

    def _tick(self) -> None:
        loaded = self.loaded_path()
        for name, folder in self.entries.items():
            self.reg[name].setChecked(same_folder(folder, loaded))

    # ------------------------------------------------------------------ choosing
    def choose(self, folder: str | Path) -> None:
        """Load `folder` in the background; the tick stays on the model in use until it is ready."""
        self._tick()
        path = Path(folder)
        if same_folder(path, self.loaded_path()) and not self.model.loading:
            return
        self.remember = path
        self.prediction.start_model(path, keep_current=True)

    def open_dialog(self) -> None:
        start = str(Path(self.loaded_path()).parent) if self.loaded_path() else str(paths.models_dir())
        answer = dialogs.ask_form(
            "model_folder",
            translate("model_menu", "Open model bundle"),
            translate("model_menu", "Choose a model bundle folder (the one holding manifest.json)."),
            lambda: (
                QFileDialog.getExistingDirectory(
                    self.parent_widget, translate("model_menu", "Open model bundle"), start
                )
                or None
            ),
        )
        if answer:
            self.choose(Path(str(answer)))

    def start(self, bundle: str | Path | None = None) -> None:
        """Start-up: `bundle` (`--model`) if given, else the remembered choice, else the demonstration
        model."""
        if bundle:
            self.prediction.start_model(bundle)
            return
        value = str(self.prefs.model_bundle)
        path = resolve_choice(value)
        if path is None or same_folder(path, paths.bundled_model_dir()):
            self.prediction.start_model(None)
            return
        self.fallback_from = str(path)
        self.prediction.start_model(path)

    # ------------------------------------------------------------------ outcomes
    def _loaded(self, info: ModelInfo) -> None:
        if self.remember is not None and same_folder(info.path, self.remember):
            self.prefs.model_bundle = choice_for(self.remember)
            self.prefs.sync()
            self.remember = None
        self.fallback_from = None
        self.refresh()

    def _switch_failed(self, message: str) -> None:
        """A chosen bundle did not load: the model in use stays, one message says so."""
        self.remember = None
        self.prediction.show_model()
        self._tick()
        info = self.model.info
        dialogs.error(
            self.parent_widget,
            translate(
                "model_menu",
                "The model bundle could not be loaded: {reason}\n\nThe model in use stays: {name} {version}.",
            ).format(reason=message, name=info.name, version=info.version),
            translate("model_menu", "Model not changed"),
        )

    def _load_failed(self, message: str) -> None:
        self._tick()
        if self.fallback_from is not None:
            chosen, self.fallback_from = self.fallback_from, None
            self.prefs.model_bundle = ""
            dialogs.error(
                self.parent_widget,
                translate(
                    "model_menu",
                    "The model chosen last time ({chosen}) could not be loaded: {reason}\n\n"
                    "DLRS Desktop uses the bundled demonstration model instead; choose another model in "
                    "the Model menu.",
                ).format(chosen=chosen, reason=message),
                translate("model_menu", "Model"),
            )
            self.prediction.start_model(None)
        elif self.remember is not None:
            self.remember = None
            dialogs.error(
                self.parent_widget,
                translate("model_menu", "The model bundle could not be loaded: {reason}").format(
                    reason=message
                ),
                translate("model_menu", "Model"),
            )
