"""Contour assist in the window: outline from a box or a click, and snap-to-edges (core: `roi.assist`).

Proposals take 20–300 ms, so they run in a worker; the answer becomes an ordinary contour pushed as one
undo step ("Assisted outline", "Snap to edges"), so undo brings back exactly the previous contour. An
answer that arrives after the user changed the image or the contour is dropped, never applied.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, QThreadPool, Signal
from PySide6.QtGui import QMouseEvent

from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.commands import SetContour
from dlrs_desktop.ui.tools import Host
from dlrs_desktop.ui.tools_drag import DragTool
from dlrs_desktop.ui.worker import _Job

translate = QCoreApplication.translate


class AssistService(QObject):
    done = Signal(str, object, str)  # job key, Contour, undo text
    failed = Signal(str, str)  # job key, message

    def __init__(self, host: Host) -> None:
        super().__init__(host.canvas)
        self.host = host
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pending: str | None = None
        self.done.connect(self._done)
        self.failed.connect(self._failed)

    def _key(self) -> str:
        doc = self.host.doc
        contour = doc.contour.content_hash() if doc.contour is not None else "-"
        return f"{doc.base_image.sha256 if doc.base_image else '-'}:{doc.frame}:{contour}"

    def run(self, fn: Any, text: str) -> None:
        """Run `fn(image) -> Contour` in the worker; apply it if nothing changed meanwhile."""
        image = self.host.doc.image
        if image is None:
            return
        key = self.pending = self._key()
        self.host.canvas.viewport().setCursor(Qt.CursorShape.BusyCursor)
        self.host.show_status(translate("assist", "{task}…").format(task=text))
        self.pool.start(
            _Job(
                lambda: fn(image), lambda c: self.done.emit(key, c, text), lambda m: self.failed.emit(key, m)
            )
        )

    def _finish(self, key: str) -> bool:
        mine = key == self.pending
        if mine:
            self.pending = None
            tool = self.host.tool if hasattr(self.host, "tool") else None
            if tool is not None:
                tool.activate()  # restores the tool's cursor
        return mine and key == self._key()

    def _done(self, key: str, contour: Any, text: str) -> None:
        if not self._finish(key):
            self.host.show_status(
                translate(
                    "assist", "{task}: the image or contour changed meanwhile; proposal discarded."
                ).format(task=text)
            )
            return
        doc = self.host.doc
        method = f" ({contour.method}: {contour.detail})" if hasattr(contour, "method") else ""
        contour = getattr(contour, "contour", contour)  # a roi.assist.Proposal says which engine answered
        new = doc.make_contour(np.asarray(contour.points))
        self.host.undo_stack.push(SetContour(doc, doc.contour, new, text))
        self.host.show_status(
            translate(
                "assist", "{task}{method}: {count} vertices. Edit it like any contour; Ctrl+Z undoes it."
            ).format(task=text, method=method, count=len(new.points))
        )

    def _failed(self, key: str, message: str) -> None:
        self._finish(key)
        dialogs.error(self.host.dialog_parent(), message, translate("assist", "Contour assist"))

    def snap(self) -> None:
        doc = self.host.doc
        if doc.contour is None:
            dialogs.error(
                self.host.dialog_parent(),
                translate("assist", "Draw or propose a contour first, then snap it to the edges."),
            )
            return
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi.snap import snap_to_edges

        contour = doc.contour
        self.run(lambda image: snap_to_edges(image, contour), translate("commands", "Snap to edges"))


class AssistTool(DragTool):
    name, label, shortcut = "assist", QT_TRANSLATE_NOOP("tools", "Assist"), "A"
    diameter = False  # this drag is a Shift-drag along the lesion's longest diameter
    tip = QT_TRANSLATE_NOOP(
        "tools",
        "Drag a box around the lesion, click inside it, or Shift-drag along its longest diameter: "
        "a proposed outline, editable, one undo step",
    )

    @cached_property
    def service(self) -> AssistService:
        """The worker thread that computes proposals and snaps, made when first asked for."""
        return AssistService(self.host)

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        super().press(pos, event)
        # decided when the drag starts: letting go of Shift before the mouse does not make it a box
        self.diameter = _diameter_gesture(event)

    def move(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.p0 is None:
            return
        (x0, y0), (x1, y1) = self.p0, pos
        if self.diameter:  # a caliper line, end to end
            self.host.canvas.set_tool_preview(np.array([[x0, y0], [x1, y1]]), closed=False)
        else:
            self.host.canvas.set_tool_preview(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), closed=True)

    def release(self, pos: np.ndarray, event: QMouseEvent) -> None:
        if self.p0 is None:
            return
        p0, p1 = self.p0, pos.copy()
        self.cancel()
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi import assist

        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi.assist_finish import MIN_BOX_PX

        if math.hypot(*(p1 - p0)) < self.host.canvas.screen_tolerance(MIN_BOX_PX):
            xy = tuple(p1)
            self.service.run(
                lambda image: assist.propose_click(image, xy), translate("commands", "Assisted outline")
            )
        elif self.diameter:
            ends = (tuple(p0), tuple(p1))
            self.service.run(
                lambda image: assist.propose_diameter(image, ends), translate("commands", "Assisted outline")
            )
        else:
            box = (min(p0[0], p1[0]), min(p0[1], p1[1]), max(p0[0], p1[0]), max(p0[1], p1[1]))
            self.service.run(
                lambda image: assist.propose_box(image, box), translate("commands", "Assisted outline")
            )


def _diameter_gesture(event: QMouseEvent) -> bool:
    """Shift held: the drag is the lesion's longest diameter (as calipers are placed), not a box."""
    return bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
