"""Contour assist in the window: outline from a box or a click, and snap-to-edges (core: `roi.assist`).

Proposals take 20–300 ms, so they run in a worker; the answer becomes an ordinary contour pushed as one
undo step ("Assisted outline", "Corrected outline", "Snap to edges"), so undo brings back exactly the
previous contour. An answer that arrives after the user changed the image or the contour is dropped,
never applied.

Corrective clicks (Ctrl+click: take this spot in; Ctrl+Shift+click: leave it out) on a proposal re-run
its box with every correction so far. Which box and corrections made an outline is remembered by the
outline's content, so undo and redo bring the matching corrections back. On an outline drawn or
edited by hand a click changes it near the click only (`roi.assist_local`): the user's edits elsewhere
stay. The corrections of the outline shown are marked (+ / ×).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, QThreadPool, Signal
from PySide6.QtGui import QMouseEvent

from dlrs_desktop.ui import dialogs, i18n
from dlrs_desktop.ui.commands import SetContour
from dlrs_desktop.ui.tools import Host
from dlrs_desktop.ui.tools_drag import DragTool
from dlrs_desktop.ui.worker import _Job

translate = QCoreApplication.translate


Prompt = tuple[tuple[float, float, float, float], tuple, tuple]  # box, include points, exclude points
MAX_PROMPTS = 64  # outlines whose box and corrections are remembered (undo depth of a session's work)


#: which engine answered a proposal (roi.assist.Proposal.method), as the status bar names it
METHOD_WORDS = {
    "learned": QT_TRANSLATE_NOOP("assist", "learned"),
    "classical": QT_TRANSLATE_NOOP("assist", "classical"),
}


class AssistService(QObject):
    done = Signal(str, object, str)  # job key, Contour, undo text
    failed = Signal(str, str)  # job key, message

    def __init__(self, host: Host) -> None:
        super().__init__(host.canvas)
        self.host = host
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pending: str | None = None
        self.pending_prompt: Prompt | None = None
        self.prompts: dict[str, Prompt] = {}  # outline content hash -> the box and corrections that made it
        self.done.connect(self._done)
        self.failed.connect(self._failed)
        host.doc.events.connect(self._doc_changed)

    def _key(self) -> str:
        doc = self.host.doc
        contour = doc.contour.content_hash() if doc.contour is not None else "-"
        return f"{doc.base_image.sha256 if doc.base_image else '-'}:{doc.frame}:{contour}"

    def run(self, fn: Any, text: str, prompt: Prompt | None = None) -> None:
        """Run `fn(image) -> Contour` in the worker; apply it if nothing changed meanwhile. `prompt`:
        the box and corrections it comes from, remembered for the next corrective click."""
        image = self.host.doc.image
        if image is None:
            return
        key = self.pending = self._key()
        self.pending_prompt = prompt
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
        method = (
            f" ({translate('assist', METHOD_WORDS.get(contour.method, contour.method))}: "
            f"{i18n.core_text(contour.detail)})"
            if hasattr(contour, "method")
            else ""
        )
        contour = getattr(contour, "contour", contour)  # a roi.assist.Proposal says which engine answered
        new = doc.make_contour(np.asarray(contour.points))
        if self.pending_prompt is not None:
            self.prompts[new.content_hash()] = self.pending_prompt
            while len(self.prompts) > MAX_PROMPTS:
                self.prompts.pop(next(iter(self.prompts)))
        self.host.undo_stack.push(SetContour(doc, doc.contour, new, text))
        self.host.show_status(
            translate(
                "assist", "{task}{method}: {count} vertices. Edit it like any contour; Ctrl+Z undoes it."
            ).format(task=text, method=method, count=len(new.points))
        )

    def _doc_changed(self, kind: str) -> None:
        if kind in ("contour", "image"):
            contour = self.host.doc.contour
            prompt = self.prompts.get(contour.content_hash()) if contour is not None else None
            self.host.canvas.set_marks(*(prompt[1:] if prompt else ()))

    def correct(self, xy: tuple[float, float], include: bool) -> None:
        """A corrective click on the outline shown: re-run its box with this point taken in or left out."""
        contour = self.host.doc.contour
        if contour is None:
            dialogs.error(
                self.host.dialog_parent(),
                translate(
                    "assist", "Ctrl+click corrects a proposed outline: drag a box around the lesion first."
                ),
            )
            return
        prompt = self.prompts.get(contour.content_hash())
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi import assist

        if prompt is None:  # drawn or edited by hand: change it near the click, keep the rest
            self.run(
                lambda image: assist.propose_local_correction(image, contour, xy, include),
                translate("commands", "Corrected outline (near the click)"),
            )
            return
        box, inc, exc = prompt
        inc, exc = ((*inc, xy), exc) if include else (inc, (*exc, xy))
        self.run(
            lambda image: assist.propose_corrected(image, box, inc, exc),
            translate("commands", "Corrected outline"),
            (box, inc, exc),
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
    correction: bool | None = None  # this press is a Ctrl+click correction: True include, False exclude
    tip = QT_TRANSLATE_NOOP(
        "tools",
        "Drag a box around the lesion, click inside it, or Shift-drag along its longest diameter: "
        "a proposed outline, editable, one undo step. Ctrl+click takes a spot in, Ctrl+Shift+click "
        "leaves it out",
    )

    @cached_property
    def service(self) -> AssistService:
        """The worker thread that computes proposals and snaps, made when first asked for."""
        return AssistService(self.host)

    def press(self, pos: np.ndarray, event: QMouseEvent) -> None:
        super().press(pos, event)
        # decided when the drag starts: letting go of Shift before the mouse does not make it a box
        self.diameter = _diameter_gesture(event)
        self.correction = _correction_gesture(event)

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

        short = math.hypot(*(p1 - p0)) < self.host.canvas.screen_tolerance(MIN_BOX_PX)
        if short and self.correction is not None:
            self.service.correct((float(p1[0]), float(p1[1])), self.correction)
        elif short:
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
            box = (
                float(min(p0[0], p1[0])), float(min(p0[1], p1[1])),
                float(max(p0[0], p1[0])), float(max(p0[1], p1[1])),
            )  # fmt: skip
            self.service.run(
                lambda image: assist.propose_box(image, box),
                translate("commands", "Assisted outline"),
                (box, (), ()),
            )


def _correction_gesture(event: QMouseEvent) -> bool | None:
    """Ctrl held: a corrective click — True takes the spot in, with Shift too False leaves it out."""
    mods = event.modifiers()
    if not mods & Qt.KeyboardModifier.ControlModifier:
        return None
    return not mods & Qt.KeyboardModifier.ShiftModifier


def _diameter_gesture(event: QMouseEvent) -> bool:
    """Shift held: the drag is the lesion's longest diameter (as calipers are placed), not a box."""
    return bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
