"""User preferences persisted with QSettings (INI file in the user's config folder)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

RING_NAMES = ("ring_3mm", "ring_5mm", "ring_10mm")


def default_settings() -> QSettings:
    """INI file in the user's config folder; $XDG_CONFIG_HOME is read on every call (Qt caches it)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return QSettings(str(Path(xdg) / "dlrs-desktop" / "dlrs-desktop.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "dlrs-desktop", "dlrs-desktop")


class Preferences:
    """Typed access to the few settings the app has; defaults chosen for a first start."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qs = settings or default_settings()

    def _get(self, key: str, default: object) -> object:
        value = self.qs.value(key, default)
        if isinstance(default, bool) and isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return value

    @property
    def device(self) -> str:
        value = str(self._get("model/device", "auto"))
        return value if value in ("auto", "cpu", "gpu") else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.qs.setValue("model/device", value)

    def ring_visible(self, name: str) -> bool:
        return bool(self._get(f"view/{name}", True))

    def set_ring_visible(self, name: str, visible: bool) -> None:
        self.qs.setValue(f"view/{name}", visible)

    @property
    def show_scan_outline(self) -> bool:
        return bool(self._get("view/scan_outline", True))

    @show_scan_outline.setter
    def show_scan_outline(self, value: bool) -> None:
        self.qs.setValue("view/scan_outline", value)

    @property
    def reviewer(self) -> str:
        return str(self._get("review/name", ""))

    @reviewer.setter
    def reviewer(self, value: str) -> None:
        self.qs.setValue("review/name", value)

    @property
    def open_folder(self) -> str:
        return str(self._get("folders/open", ""))

    @open_folder.setter
    def open_folder(self, value: str) -> None:
        self.qs.setValue("folders/open", value)

    @property
    def export_folder(self) -> str:
        return str(self._get("folders/export", ""))

    @export_folder.setter
    def export_folder(self, value: str) -> None:
        self.qs.setValue("folders/export", value)

    def sync(self) -> None:
        self.qs.sync()
