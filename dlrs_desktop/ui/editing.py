"""The tool box (which tool is active; the `Host` the tools talk to) and edits made without a tool.

Explicit dependencies: the canvas, the document, the undo stack, a parent for dialogs and a status
callback. Nothing here knows the main window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.assist import AssistTool
from dlrs_desktop.ui.canvas import ImageCanvas
from dlrs_desktop.ui.commands import SetCalibration, SetContour
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.settings import Preferences
from dlrs_desktop.ui.tools import DRAWING_TOOLS, Tool
from dlrs_desktop.ui.tools_drag import TOOLS as DRAG_TOOLS

translate = QCoreApplication.translate


class ToolBox(QObject):
    """Owns the tools and the active one; is the tools' `Host`."""

    tool_changed = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        canvas: ImageCanvas,
        doc: Document,
        undo_stack: QUndoStack,
        status: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.canvas, self.doc, self.undo_stack = canvas, doc, undo_stack
        self._parent, self._status = parent, status
        pan, polygon, freehand, edit = DRAWING_TOOLS
        classes = (pan, polygon, freehand, AssistTool, edit, *DRAG_TOOLS)
        self.tools: dict[str, Tool] = {cls.name: cls(self) for cls in classes}
        self.tool: Tool | None = None

    # Host protocol (tools.Host)
    def dialog_parent(self) -> QWidget:
        return self._parent

    def show_status(self, text: str) -> None:
        self._status(text)

    def set_tool(self, name: str) -> None:
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = self.tools[name]
        self.canvas.tool = self.tool
        self.tool.activate()
        self.show_status(
            translate("editing", "{tool}: {tip}").format(tool=self.tool.title, tip=self.tool.hint)
        )
        self.tool_changed.emit(name)

    def confirm_discard_gesture(self) -> bool:
        """A half-drawn polygon is work too: ask before dropping it."""
        if self.tool is None or not self.tool.busy:
            return True
        if dialogs.ask_yes_no(
            self._parent, translate("editing", "A contour is being drawn and is not finished. Discard it?")
        ):
            self.tool.cancel()
            return True
        return False


class ContourEdits:
    """Edit-menu actions that need no tool: smooth, snap, clear, calibration reset, review."""

    def __init__(self, toolbox: ToolBox, prefs: Preferences) -> None:
        self.toolbox, self.prefs = toolbox, prefs
        self.doc, self.undo_stack = toolbox.doc, toolbox.undo_stack

    def smooth(self) -> None:
        c = self.doc.contour
        if c is None:
            return
        try:
            new = self.doc.make_contour(np.asarray(c.smoothed().points))
        except DlrsError as exc:
            dialogs.error(self.toolbox.dialog_parent(), i18n.core_text(exc))
            return
        self.undo_stack.push(SetContour(self.doc, c, new, translate("commands", "Smooth contour")))

    def snap(self) -> None:
        assist = self.toolbox.tools["assist"]
        assert isinstance(assist, AssistTool)
        assist.service.snap()

    def clear(self) -> None:
        if self.doc.contour is not None:
            self.undo_stack.push(
                SetContour(self.doc, self.doc.contour, None, translate("commands", "Clear contour"))
            )

    def reset_calibration(self) -> None:
        if self.doc.manual_calibration is not None:
            self.undo_stack.push(
                SetCalibration(
                    self.doc,
                    self.doc.manual_calibration,
                    None,
                    translate("commands", "Use the file's calibration"),
                )
            )

    def calibrate_from_depth_scale(self) -> bool:
        """Read the on-screen depth ruler, show its tick column, apply it only when the user confirms."""
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.imaging.depth_scale import DepthScaleRefusal, read_depth_scale

        image, parent, title = (
            self.doc.base_image,
            self.toolbox.dialog_parent(),
            translate("editing", "Calibrate from depth scale"),
        )
        if image is None:
            return False
        if image.calibration is not None or any(r.usable_for_mm for r in image.regions):
            own = (
                image.calibration.label(translate)
                if image.calibration is not None
                else translate("editing", "its ultrasound regions")
            )
            dialogs.info(
                parent,
                translate(
                    "editing",
                    "This image carries the scanner's own scale ({scale}); it wins over the depth scale.",
                ).format(scale=own),
                title,
            )
            return False
        reading = read_depth_scale(image)
        if isinstance(reading, DepthScaleRefusal):
            dialogs.error(parent, i18n.core_text(reading.worded), title)
            return False
        x, rows = reading.column_x, reading.tick_rows
        canvas = self.toolbox.canvas
        canvas.set_measure(
            np.array([x, rows[0]]),
            np.array([x, rows[-1]]),
            translate("editing", "{count} ticks").format(count=reading.tick_count),
        )
        try:
            ok = dialogs.ask_yes_no(
                parent,
                translate(
                    "editing",
                    "Read the {summary}.\nWhy {tick} mm a tick: {rule}.\nTick rows: {rows}.\n\n"
                    "The tick column is marked on the image. Use this calibration?",
                ).format(
                    summary=reading.summary(translate),
                    tick=f"{reading.tick_mm:g}",
                    rule=i18n.core_text(reading.interval_rule),
                    rows=", ".join(f"{y:.1f}" for y in rows),
                ),
                title,
            )
        finally:
            canvas.set_measure(None)
        if not ok:
            return False
        cal = reading.calibration()
        self.undo_stack.push(
            SetCalibration(
                self.doc,
                self.doc.manual_calibration,
                cal,
                translate("commands", "Calibrate from depth scale"),
            )
        )
        self.toolbox.show_status(
            translate("tools", "Calibrated: {calibration}").format(calibration=cal.label(translate))
        )
        return True

    def toggle_reviewed(self) -> None:
        if self.doc.image is None:
            return
        parent = self.toolbox.dialog_parent()
        try:
            reviewed = self.doc.review.status != "reviewed"
            if reviewed and not self.prefs.reviewer:
                name = dialogs.ask_text(
                    parent, translate("editing", "Reviewer name (saved in Preferences):"), ""
                )
                if not name:
                    return
                self.prefs.reviewer = name
            self.doc.set_review(reviewed, self.prefs.reviewer)
        except DlrsError as exc:
            dialogs.error(parent, i18n.core_text(exc))
