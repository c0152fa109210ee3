"""QAction bookkeeping: every menu action is made here, so the Help dialog lists exactly the shortcuts
the menus have. Generic: it knows no window, no document; menus.py says what the actions do.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

Shortcut = str | QKeySequence.StandardKey | None


class ActionRegistry:
    """Actions by name, added to a menu and to `owner` (so their shortcuts work window-wide)."""

    def __init__(self, owner: QWidget) -> None:
        self.owner = owner
        self.by_name: dict[str, QAction] = {}
        self.shortcuts: list[tuple[str, str, str]] = []  # (menu, action text, key) in menu order

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def get(self, name: str) -> QAction | None:
        return self.by_name.get(name)

    def add(
        self,
        menu: QMenu,
        name: str,
        text: str,
        slot: Callable[..., object],
        shortcut: Shortcut = None,
        *,
        checked: bool | None = None,
        extra_shortcuts: tuple[str, ...] = (),
        before: QAction | None = None,
    ) -> QAction:
        """`checked`: a toggle starting in that state (None: a plain command, `slot()` on trigger);
        `before`: insert above this action of `menu` instead of at the end."""
        action = QAction(text, self.owner)
        if shortcut is not None:
            action.setShortcuts([QKeySequence(shortcut), *(QKeySequence(s) for s in extra_shortcuts)])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checked is not None)
        if checked is not None:
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _=False: slot())
        return self.adopt(menu, name, action, before)

    def adopt(self, menu: QMenu, name: str, action: QAction, before: QAction | None = None) -> QAction:
        """Register an action made elsewhere (undo/redo from the QUndoStack)."""
        if before is not None:
            menu.insertAction(before, action)
        else:
            menu.addAction(action)
        self.owner.addAction(action)
        seq = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if seq:
            self.shortcuts.append((menu.title().replace("&", ""), action.text().replace("&", ""), seq))
        self.by_name[name] = action
        return action

    def remove(self, name: str, menu: QMenu) -> None:
        """Take an action out of `menu`, the window and the shortcut list (menus that change at run time)."""
        action = self.by_name.pop(name)
        menu.removeAction(action)
        self.owner.removeAction(action)
        row = (menu.title().replace("&", ""), action.text().replace("&", ""))
        self.shortcuts = [s for s in self.shortcuts if s[:2] != row]
        action.deleteLater()
