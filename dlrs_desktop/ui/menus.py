"""Menus, toolbar and keyboard shortcuts: what each action does, wired to the components explicitly."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QToolBar

from dlrs_desktop.ui.actions import ActionRegistry
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.editing import ContourEdits, ToolBox
from dlrs_desktop.ui.exports import Exporter
from dlrs_desktop.ui.files import FileController
from dlrs_desktop.ui.prediction import PredictionController
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.style import region_label
from dlrs_desktop.ui.viewbar import CineBar, WindowLevelBar

translate = QCoreApplication.translate


class Controllers(NamedTuple):
    """The components whose slots the menu entries call (labelme-style grouping of what menus need)."""

    files: FileController
    exporter: Exporter
    edits: ContourEdits
    toolbox: ToolBox
    prediction: PredictionController


class ViewParts(NamedTuple):
    """The widgets the Edit, View and Tools entries act on or add to the menus."""

    undo_stack: QUndoStack
    canvas: ImageCanvas
    wl_bar: WindowLevelBar
    cine: CineBar
    docks: tuple[QDockWidget, ...]


class WindowHooks(NamedTuple):
    """The window's own dialogs and ring toggles; `file_extras(file_menu)` adds a component's own File
    submenu (File → DICOM)."""

    set_ring_visible: Callable[[str, bool], None]
    ring_names: list[str]
    help_dialog: Callable[[], None]
    about_dialog: Callable[[], None]
    preferences_dialog: Callable[[], None]
    file_extras: Callable[[QMenu], None] = lambda _menu: None


def build_menus(
    win: QMainWindow, reg: ActionRegistry, prefs: Preferences, ctl: Controllers, view: ViewParts,
    hooks: WindowHooks,
) -> dict[str, QMenu]:  # fmt: skip
    """File, Edit, Tools (+ toolbar), View, Model and Help, in that order; the menus by name."""
    bar = win.menuBar()
    menus: dict[str, QMenu] = {}
    _file_menu(win, reg, prefs, ctl, hooks, menus)
    _edit_menu(win, reg, ctl, view, menus)
    _tools_menu(win, reg, ctl, menus)
    _view_menu(win, reg, prefs, ctl, view, hooks, menus)
    m = menus["model"] = bar.addMenu(translate("menus", "&Model"))
    reg.add(
        m,
        "predict",
        translate("menus", "&Predict"),
        ctl.prediction.predict,
        "Ctrl+Return",
        extra_shortcuts=("Ctrl+Enter",),
    )
    reg.add(m, "reviewed", translate("menus", "Mark contour &reviewed"), ctl.edits.toggle_reviewed, "Ctrl+R")
    reg["reviewed"].setCheckable(True)

    m = menus["help"] = bar.addMenu(translate("menus", "&Help"))
    reg.add(m, "help", translate("menus", "&Keyboard shortcuts and tools"), hooks.help_dialog, "F1")
    reg.add(m, "about", translate("menus", "&About DLRS Desktop and the model"), hooks.about_dialog)
    win.addToolBar(view.wl_bar)
    return menus


def _file_menu(
    win: QMainWindow, reg: ActionRegistry, prefs: Preferences, ctl: Controllers, hooks: WindowHooks,
    menus: dict[str, QMenu],
) -> None:  # fmt: skip
    bar, files, exporter = win.menuBar(), ctl.files, ctl.exporter
    m = menus["file"] = bar.addMenu(translate("menus", "&File"))
    reg.add(m, "open", translate("menus", "&Open image…"), files.open_dialog, QKeySequence.StandardKey.Open)
    reg.add(
        m,
        "open_folder",
        translate("menus", "Open &folder as worklist…"),
        files.open_folder_dialog,
        "Ctrl+Shift+O",
    )
    recent = menus["recent"] = m.addMenu(translate("menus", "Open &Recent"))
    _fill_recent(recent, files, prefs)
    files.recent_changed.connect(lambda: _fill_recent(recent, files, prefs))
    reg.add(m, "open_demo", translate("menus", "Open &demo case"), files.open_demo)
    reg.add(
        m,
        "reset_demo",
        translate("menus", "Reset &demo (bundled contour, no earlier edits)"),
        files.open_demo,
    )
    reg.add(
        m, "import_contour", translate("menus", "&Import contour…"), files.import_contour_dialog, "Ctrl+I"
    )
    reg.add(
        m,
        "save",
        translate("menus", "&Save now (autosave is on)"),
        files.save_explicitly,
        QKeySequence.StandardKey.Save,
    )
    m.addSeparator()
    reg.add(m, "export_pdf", translate("menus", "Export &PDF report…"), exporter.pdf, "Ctrl+P")
    reg.add(m, "export_masks", translate("menus", "Export &masks (PNG)…"), exporter.masks, "Ctrl+Shift+M")
    reg.add(
        m, "export_json", translate("menus", "Export annotation &JSON…"), exporter.annotation, "Ctrl+Shift+J"
    )
    hooks.file_extras(m)
    m.addSeparator()
    reg.add(m, "prefs", translate("menus", "Pr&eferences…"), hooks.preferences_dialog, "Ctrl+,")
    reg.add(m, "quit", translate("menus", "&Quit"), win.close, QKeySequence.StandardKey.Quit)


def _edit_menu(
    win: QMainWindow, reg: ActionRegistry, ctl: Controllers, view: ViewParts, menus: dict[str, QMenu]
) -> None:
    bar, edits, undo_stack = win.menuBar(), ctl.edits, view.undo_stack
    m = menus["edit"] = bar.addMenu(translate("menus", "&Edit"))
    undo = undo_stack.createUndoAction(win, translate("menus", "&Undo"))
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = undo_stack.createRedoAction(win, translate("menus", "&Redo"))
    redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
    reg.adopt(m, "undo", undo)
    reg.adopt(m, "redo", redo)
    m.addSeparator()
    reg.add(m, "smooth", translate("menus", "S&mooth contour"), edits.smooth, "S")
    reg.add(m, "snap", translate("menus", "Snap contour to &edges"), edits.snap, "G")
    reg.add(m, "clear", translate("menus", "&Clear contour"), edits.clear, "Ctrl+Backspace")
    reg.add(m, "reset_cal", translate("menus", "Use the file's calibration"), edits.reset_calibration)


def _tools_menu(win: QMainWindow, reg: ActionRegistry, ctl: Controllers, menus: dict[str, QMenu]) -> None:
    """The Tools menu and the tools toolbar (one checkable action per tool, then the edit shortcuts)."""
    bar, toolbox, edits = win.menuBar(), ctl.toolbox, ctl.edits
    m = menus["tools"] = bar.addMenu(translate("menus", "&Tools"))
    tb = QToolBar(translate("menus", "Tools"), win)
    tb.setObjectName("tools")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    win.addToolBar(tb)

    group = QActionGroup(win)
    for name, tool in toolbox.tools.items():
        a = reg.add(
            m, f"tool_{name}", tool.title, lambda on, n=name: on and toolbox.set_tool(n), tool.shortcut,
            checked=False,
        )  # fmt: skip
        a.setToolTip(
            translate("menus", "{tool} ({key}): {tip}").format(
                tool=tool.title, key=tool.shortcut, tip=tool.hint
            )
        )
        group.addAction(a)
        tb.addAction(a)
    toolbox.tool_changed.connect(lambda n: reg[f"tool_{n}"].setChecked(True))
    reg.add(
        m,
        "depth_scale_cal",
        translate("menus", "Calibrate from &depth scale…"),
        edits.calibrate_from_depth_scale,
    )
    tb.addSeparator()
    for name, short in (
        ("undo", translate("menus", "Undo")),
        ("redo", translate("menus", "Redo")),
        ("smooth", translate("menus", "Smooth")),
        ("snap", translate("menus", "Snap")),
        ("clear", translate("menus", "Clear")),
    ):
        reg[name].setIconText(short)  # short toolbar labels; menus keep the full text
        tb.addAction(reg[name])


def _view_menu(
    win: QMainWindow, reg: ActionRegistry, prefs: Preferences, ctl: Controllers, view: ViewParts,
    hooks: WindowHooks, menus: dict[str, QMenu],
) -> None:  # fmt: skip
    bar, canvas, wl_bar, cine, files = win.menuBar(), view.canvas, view.wl_bar, view.cine, ctl.files
    m = menus["view"] = bar.addMenu(translate("menus", "&View"))
    reg.add(
        m,
        "zoom_in",
        translate("menus", "Zoom &in (about the view centre)"),
        lambda: canvas.zoom_by(1.25),
        "+",
        extra_shortcuts=("=",),
    )
    reg.add(m, "zoom_out", translate("menus", "Zoom &out"), lambda: canvas.zoom_by(0.8), "-")
    reg.add(m, "fit", translate("menus", "&Fit to window"), canvas.fit, "0")
    reg.add(m, "one", translate("menus", "&1:1 (one image pixel per screen pixel)"), canvas.one_to_one, "1")
    reg.add(m, "reset_wl", translate("menus", "&Reset brightness/contrast"), wl_bar.reset, "W")
    m.addSeparator()
    reg.add(
        m, "show_scan", translate("menus", "Show scan area outline"), lambda on: _scan(canvas, prefs, on),
        SCAN_KEY,
        checked=prefs.show_scan_outline,
    )  # fmt: skip
    set_ring_actions(reg, m, hooks.ring_names, prefs, hooks.set_ring_visible)
    m.addSeparator()
    reg.add(m, "next", translate("menus", "&Next image"), lambda: files.navigate(+1), "PgDown")
    reg.add(m, "prev", translate("menus", "&Previous image"), lambda: files.navigate(-1), "PgUp")
    reg.add(m, "next_frame", translate("menus", "Next frame"), lambda: cine.step(+1), "]")
    reg.add(m, "prev_frame", translate("menus", "Previous frame"), lambda: cine.step(-1), "[")
    reg.add(m, "play", translate("menus", "Play/pause cine"), cine.toggle_playing, "Ctrl+Space")
    m.addSeparator()
    for dock in view.docks:
        m.addAction(dock.toggleViewAction())


#: View-menu keys of the ring toggles, in ring order (Alt+4 stays the scan-area outline, as documented).
RING_KEYS = ("Alt+1", "Alt+2", "Alt+3", "Alt+5", "Alt+6", "Alt+7", "Alt+8", "Alt+9")
SCAN_KEY = "Alt+4"


def set_ring_actions(
    reg: ActionRegistry,
    view_menu: QMenu,
    ring_names: list[str],
    prefs: Preferences,
    set_ring_visible: Callable[[str, bool], None],
) -> None:
    """(Re)build View → Show ring … for the rings on screen, which follow the loaded model's radii."""
    for name in [n for n in reg.by_name if n.startswith("show_ring_")]:
        reg.remove(name, view_menu)
    for i, name in enumerate(ring_names):
        key = RING_KEYS[i] if i < len(RING_KEYS) else None
        reg.add(
            view_menu, f"show_{name}", translate("menus", "Show {region}").format(region=region_label(name)),
            partial(set_ring_visible, name), key,
            checked=prefs.ring_visible(name), before=reg.get("show_scan"),
        )  # fmt: skip


def _fill_recent(menu: QMenu, files: FileController, prefs: Preferences) -> None:
    menu.clear()
    items = prefs.recent
    for i, path in enumerate(items):
        p = Path(path)
        label = f"&{(i + 1) % 10} {p.name}{'/' if p.is_dir() else ''}  —  {p.parent}"
        action = menu.addAction(label)
        action.setData(path)
        action.triggered.connect(lambda _=False, q=path: files.open_recent(q))
    menu.setEnabled(bool(items))


def _scan(canvas: ImageCanvas, prefs: Preferences, on: bool) -> None:
    canvas.scan_item.setVisible(on)
    prefs.show_scan_outline = on
