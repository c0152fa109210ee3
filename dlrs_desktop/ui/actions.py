"""Menus, toolbar and keyboard shortcuts, built from one table so the Help dialog lists exactly them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QSlider, QToolBar

from dlrs_desktop.ui.panels import REGION_LABELS
from dlrs_desktop.ui.settings import RING_NAMES

if TYPE_CHECKING:
    from dlrs_desktop.ui.mainwindow import MainWindow

#: (menu, name, text, shortcut) in the order they appear; filled by build_actions, read by the Help dialog.
SHORTCUTS: list[tuple[str, str, str]] = []


def _add(
    win: MainWindow,
    menu,
    name: str,
    text: str,
    slot: Callable[..., object],
    shortcut: str | QKeySequence.StandardKey | None = None,
    *,
    checkable: bool = False,
    checked: bool = False,
) -> QAction:
    action = QAction(text, win)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    if checkable:
        action.setChecked(checked)
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _=False: slot())
    menu.addAction(action)
    win.addAction(action)
    seq = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    if seq:
        SHORTCUTS.append((menu.title().replace("&", ""), text.replace("&", ""), seq))
    win.actions_by_name[name] = action
    return action


def build_actions(win: MainWindow) -> dict[str, QAction]:
    win.actions_by_name = {}
    SHORTCUTS.clear()
    bar = win.menuBar()
    m = bar.addMenu("&File")
    _add(win, m, "open", "&Open image…", win.open_dialog, QKeySequence.StandardKey.Open)
    _add(win, m, "open_folder", "Open &folder as worklist…", win.open_folder_dialog, "Ctrl+Shift+O")
    _add(win, m, "import_contour", "&Import contour…", win.import_contour_dialog, "Ctrl+I")
    _add(win, m, "save", "&Save now (autosave is on)", win.save_now, QKeySequence.StandardKey.Save)
    m.addSeparator()
    _add(win, m, "export_pdf", "Export &PDF report…", win.export_pdf, "Ctrl+P")
    _add(win, m, "export_masks", "Export &masks (PNG)…", win.export_masks, "Ctrl+Shift+M")
    _add(win, m, "export_json", "Export annotation &JSON…", win.export_annotation, "Ctrl+Shift+J")
    _dicom_menu(win, m)
    m.addSeparator()
    _add(win, m, "prefs", "Pr&eferences…", lambda: _about().preferences_dialog(win), "Ctrl+,")
    _add(win, m, "quit", "&Quit", win.close, QKeySequence.StandardKey.Quit)

    m = bar.addMenu("&Edit")
    undo = win.undo_stack.createUndoAction(win, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = win.undo_stack.createRedoAction(win, "&Redo")
    redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
    for name, a in (("undo", undo), ("redo", redo)):
        m.addAction(a)
        win.addAction(a)
        win.actions_by_name[name] = a
        SHORTCUTS.append(("Edit", a.text().replace("&", ""), a.shortcut().toString()))
    m.addSeparator()
    _add(win, m, "smooth", "S&mooth contour", win.smooth_contour, "S")
    _add(win, m, "snap", "Snap contour to &edges", win.snap_contour, "G")
    _add(win, m, "clear", "&Clear contour", win.clear_contour, "Ctrl+Backspace")
    _add(win, m, "reset_cal", "Use the file's calibration", win.reset_calibration)

    m = bar.addMenu("&Tools")
    tb = QToolBar("Tools", win)
    tb.setObjectName("tools")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    win.addToolBar(tb)
    for name, tool in win.tools.items():
        a = _add(
            win, m, f"tool_{name}", f"{tool.label}", lambda on, n=name: on and win.set_tool(n),
            tool.shortcut, checkable=True,
        )  # fmt: skip
        a.setToolTip(f"{tool.label} ({tool.shortcut}): {tool.tip}")
        win.tool_group.addAction(a)
        tb.addAction(a)
    tb.addSeparator()
    for name, short in (
        ("undo", "Undo"),
        ("redo", "Redo"),
        ("smooth", "Smooth"),
        ("snap", "Snap"),
        ("clear", "Clear"),
    ):
        win.actions_by_name[name].setIconText(short)  # short toolbar labels; menus keep the full text
    tb.addAction(win.actions_by_name["undo"])
    tb.addAction(win.actions_by_name["redo"])
    tb.addAction(win.actions_by_name["smooth"])
    tb.addAction(win.actions_by_name["snap"])
    tb.addAction(win.actions_by_name["clear"])

    m = bar.addMenu("&View")
    _add(win, m, "zoom_in", "Zoom &in", lambda: win.canvas.zoom_by(1.25), "+")
    win.actions_by_name["zoom_in"].setShortcuts([QKeySequence("+"), QKeySequence("=")])
    _add(win, m, "zoom_out", "Zoom &out", lambda: win.canvas.zoom_by(0.8), "-")
    _add(win, m, "fit", "&Fit to window", win.canvas.fit, "0")
    _add(win, m, "one", "&1:1 (one image pixel per screen pixel)", win.canvas.one_to_one, "1")
    _add(win, m, "reset_wl", "&Reset brightness/contrast", lambda: _reset_wl(win), "W")
    m.addSeparator()
    for i, name in enumerate(RING_NAMES):
        _add(
            win, m, f"show_{name}", f"Show {REGION_LABELS[name]}",
            lambda on, n=name: win.set_ring_visible(n, on), f"Alt+{i + 1}", checkable=True,
            checked=win.prefs.ring_visible(name),
        )  # fmt: skip
    _add(
        win, m, "show_scan", "Show scan area outline", lambda on: _scan(win, on), "Alt+4", checkable=True,
        checked=win.prefs.show_scan_outline,
    )  # fmt: skip
    m.addSeparator()
    _add(win, m, "next", "&Next image", lambda: win.navigate(+1), "PgDown")
    _add(win, m, "prev", "&Previous image", lambda: win.navigate(-1), "PgUp")
    _add(win, m, "next_frame", "Next frame", lambda: _frame(win, +1), "]")
    _add(win, m, "prev_frame", "Previous frame", lambda: _frame(win, -1), "[")
    m.addSeparator()
    m.addAction(win.side_dock.toggleViewAction())
    m.addAction(win.worklist_dock.toggleViewAction())

    m = bar.addMenu("&Model")
    predict = _add(win, m, "predict", "&Predict", win.predict, "Ctrl+Return")
    predict.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
    _add(win, m, "reviewed", "Mark contour &reviewed", win.toggle_reviewed, "Ctrl+R", checkable=False)
    win.actions_by_name["reviewed"].setCheckable(True)

    m = bar.addMenu("&Help")
    _add(win, m, "help", "&Keyboard shortcuts and tools", lambda: _about().help_dialog(win), "F1")
    _add(win, m, "about", "&About DLRS Desktop and the model", lambda: _about().about_dialog(win))

    wl = QToolBar("Brightness/contrast", win)
    wl.setObjectName("wl")
    wl.addWidget(QLabel(" Contrast "))
    win.wl_window = QSlider(Qt.Orientation.Horizontal)
    win.wl_window.setRange(16, 256)
    win.wl_window.setValue(256)
    win.wl_window.setMaximumWidth(110)
    wl.addWidget(win.wl_window)
    wl.addWidget(QLabel(" Brightness "))
    win.wl_level = QSlider(Qt.Orientation.Horizontal)
    win.wl_level.setRange(0, 255)
    win.wl_level.setValue(128)
    win.wl_level.setMaximumWidth(110)
    wl.addWidget(win.wl_level)
    for s in (win.wl_window, win.wl_level):
        s.valueChanged.connect(lambda _v: _apply_wl(win))
    win.addToolBar(wl)
    return win.actions_by_name


def _about():
    from dlrs_desktop.ui import about

    return about


def _apply_wl(win: MainWindow) -> None:
    window, level = win.wl_window.value(), 255 - win.wl_level.value()
    if window >= 256 and level == 127:
        win.window_level(None)
    else:
        win.window_level(float(window), float(level))


def _reset_wl(win: MainWindow) -> None:
    win.wl_window.setValue(256)
    win.wl_level.setValue(128)
    win.window_level(None)


def _scan(win: MainWindow, on: bool) -> None:
    win.canvas.scan_item.setVisible(on)
    win.prefs.show_scan_outline = on


def _frame(win: MainWindow, step: int) -> None:
    s = win.frame_slider
    if s.isEnabled():
        s.setValue(min(max(s.value() + step, s.minimum()), s.maximum()))


def _dicom_menu(win: MainWindow, menu) -> None:
    from dlrs_desktop.ui.pacs_browser import add_menu

    add_menu(win, menu, _add)
