"""The PACS and receiver rows of Preferences, and reading them: node, receive address, allowed AE titles.

Kept apart from `dicom_actions` (the actions) so each stays small; settings live under `pacs/` in
QSettings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit

from dlrs_desktop.errors import DlrsError

if TYPE_CHECKING:
    from dlrs_desktop.ui.settings import Preferences

translate = QCoreApplication.translate


class PrefsHost(Protocol):
    """What these helpers use of the window: its preferences only."""

    prefs: Preferences


_KEYS = {
    "aet": "", "host": "", "port": "", "calling_aet": "DLRS", "timeout": "10", "listen_port": "11112",
    "listen_bind": "127.0.0.1", "allow_aets": "", "retrieve": "get",
}  # fmt: skip
RETRIEVE_METHODS = {
    "get": QT_TRANSLATE_NOOP("PacsFields", "C-GET (nothing to register in the PACS)"),
    "move": QT_TRANSLATE_NOOP("PacsFields", "C-MOVE to our receive port"),
}


def pacs_setting(win: PrefsHost, key: str) -> str:
    return str(win.prefs.qs.value(f"pacs/{key}", _KEYS[key]) or "").strip()


def set_pacs_setting(win: PrefsHost, key: str, value: str) -> None:
    win.prefs.qs.setValue(f"pacs/{key}", str(value).strip())


def configured_node(win: PrefsHost) -> Any:
    """The PACS node from Preferences, or None when none is configured (then no network use)."""
    # lazy: exchange.net stays off the window's start-up (importtime of ui.mainwindow)
    from dlrs_desktop.exchange.net import Node

    aet, host, port = pacs_setting(win, "aet"), pacs_setting(win, "host"), pacs_setting(win, "port")
    if not (aet and host and port):
        return None
    try:
        return Node(
            aet,
            host,
            int(port),
            pacs_setting(win, "calling_aet") or "DLRS",
            float(pacs_setting(win, "timeout") or 10),
        )
    except (ValueError, DlrsError):
        return None


def receive_policy(win: PrefsHost) -> Any:
    """Who may send to our receive port, and on which address (Preferences)."""
    # lazy: exchange.listener stays off the window's start-up (importtime of ui.mainwindow)
    from dlrs_desktop.exchange.listener import ListenerPolicy, parse_aets

    bind = pacs_setting(win, "listen_bind") or "127.0.0.1"
    return ListenerPolicy(bind=bind, allow_aets=parse_aets(pacs_setting(win, "allow_aets")))


class PacsFields:
    """The PACS rows of the Preferences dialog (AE title, host, port, our AE title, timeout)."""

    LABELS: ClassVar[dict[str, str]] = {
        "aet": QT_TRANSLATE_NOOP("PacsFields", "PACS AE title:"),
        "host": QT_TRANSLATE_NOOP("PacsFields", "PACS host:"),
        "port": QT_TRANSLATE_NOOP("PacsFields", "PACS port:"),
        "calling_aet": QT_TRANSLATE_NOOP("PacsFields", "Our AE title:"),
        "timeout": QT_TRANSLATE_NOOP("PacsFields", "Network timeout (s):"),
        "listen_port": QT_TRANSLATE_NOOP("PacsFields", "Receive port (scanner, C-MOVE):"),
        "listen_bind": QT_TRANSLATE_NOOP("PacsFields", "Receive on address:"),
        "allow_aets": QT_TRANSLATE_NOOP("PacsFields", "Allowed AE titles (scanners):"),
    }

    def __init__(self, win: PrefsHost) -> None:
        self.win = win
        self.edits = {k: QLineEdit(pacs_setting(win, k)) for k in self.LABELS}
        self.edits["host"].setPlaceholderText(translate("PacsFields", "empty: no PACS, no network use"))
        self.edits["listen_bind"].setPlaceholderText(translate("PacsFields", "127.0.0.1: this computer only"))
        self.edits["allow_aets"].setPlaceholderText(
            translate("PacsFields", "e.g. SCANNER1 SCANNER2; empty: any, on 127.0.0.1 only")
        )
        self.edits["allow_aets"].setToolTip(
            translate(
                "PacsFields",
                "Calling AE titles that may send images to this workstation (space or comma separated). "
                "Any other is rejected. Needed when receiving on an address other than 127.0.0.1.",
            )
        )
        self.retrieve = QComboBox()
        for key, text in RETRIEVE_METHODS.items():
            self.retrieve.addItem(translate("PacsFields", text), key)
        self.retrieve.setCurrentIndex(max(self.retrieve.findData(pacs_setting(win, "retrieve")), 0))

    def add_rows(self, form: QFormLayout) -> None:
        for key, edit in self.edits.items():
            form.addRow(translate("PacsFields", self.LABELS[key]), edit)
        form.addRow(translate("PacsFields", "Retrieve with:"), self.retrieve)

    def apply(self) -> None:
        for key, edit in self.edits.items():
            set_pacs_setting(self.win, key, edit.text())
        set_pacs_setting(self.win, "retrieve", self.retrieve.currentData())
