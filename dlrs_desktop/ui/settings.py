"""User preferences persisted with QSettings (INI file in the user's config folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


def default_settings() -> QSettings:
    """INI file in the user's config folder; $XDG_CONFIG_HOME is read on every call (Qt caches it)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return QSettings(str(Path(xdg) / "dlrs-desktop" / "dlrs-desktop.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "dlrs-desktop", "dlrs-desktop")


class _Setting:
    """A typed preference stored under `key` (bool or str, with a first-start default)."""

    def __init__(self, key: str, default: bool | str) -> None:
        self.key, self.default = key, default

    def __get__(self, prefs: Preferences, owner: type | None = None) -> bool | str:
        return type(self.default)(prefs._get(self.key, self.default))

    def __set__(self, prefs: Preferences, value: bool | str) -> None:
        prefs.qs.setValue(self.key, value)


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

    @property
    def precision(self) -> str:
        """ "auto" (the bundle's int8 model where the CPU runs it fast) or "float" (model/precision.py)."""
        value = str(self._get("model/precision", "auto"))
        return value if value in ("auto", "float") else "auto"

    @precision.setter
    def precision(self, value: str) -> None:
        self.qs.setValue("model/precision", value)

    def ring_visible(self, name: str) -> bool:
        return bool(self._get(f"view/{name}", True))

    def set_ring_visible(self, name: str, visible: bool) -> None:
        self.qs.setValue(f"view/{name}", visible)

    show_scan_outline = _Setting("view/scan_outline", True)
    # The model chosen in the Model menu: "" = the bundled demonstration model, "bundled:NAME" = a
    # bundled one (model/catalog.py), else a bundle folder's path. `dlrs-desktop --model` overrides it.
    model_bundle = _Setting("model/bundle", "")
    # Public key files (";"-separated) whose signed bundles are trusted besides the release key.
    trusted_keys = _Setting("model/trusted_keys", "")
    reviewer = _Setting("review/name", "")
    institution = _Setting("report/institution", "")  # printed on the PDF report's header
    # Patient names, IDs and dates on screen (banner, worklist groups): off until the user turns them on.
    show_identifiers = _Setting("privacy/show_identifiers", False)
    open_folder = _Setting("folders/open", "")
    export_folder = _Setting("folders/export", "")
    # "" = follow the system locale; "en" or "zh_CN" (Preferences → Language, `dlrs-desktop --language`).
    language = _Setting("ui/language", "")

    @property
    def recent(self) -> list[str]:
        """Most recent first; stored as JSON (QSettings' list handling differs between back-ends)."""
        try:
            items = json.loads(str(self._get("files/recent", "[]")))
        except ValueError:
            return []
        return [str(i) for i in items if isinstance(i, str)][:MAX_RECENT] if isinstance(items, list) else []

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self.qs.setValue("files/recent", json.dumps([p, *(r for r in self.recent if r != p)][:MAX_RECENT]))

    def remove_recent(self, path: str) -> None:
        self.qs.setValue("files/recent", json.dumps([r for r in self.recent if r != path]))

    @property
    def trusted_key_files(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in str(self.trusted_keys).split(";") if p.strip())

    def sync(self) -> None:
        self.qs.sync()
