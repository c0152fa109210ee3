"""View → Size over time: the lesion timeline dock wired to the window (issue 30).

A component like ui/timepoints.py: it adds the dock (right side, hidden) and its View menu action,
follows the document (the open image's live contour and result) and the worklist's grouping, opens the
dock by itself after the user's Predict when the patient has an earlier exam, and hands the same entries
to the PDF report (`Exporter.timeline`). The numbers come from ui/timeline_entries.py.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer

from dlrs_desktop.exchange.timeline import TimelineEntry
from dlrs_desktop.ui.patients import same_patient
from dlrs_desktop.ui.timeline import TimelineDock
from dlrs_desktop.ui.timeline_entries import Timeline, TimelineBuilder

FOLLOWED = ("image", "contour", "calibration", "frame", "result", "model", "exam", "saved")


class TimelineWiring(QObject):
    def __init__(self, win: Any) -> None:
        """`win`: the main window (document, store, time points, prediction, exporter, menus)."""
        super().__init__(win)
        self.win = win
        self.builder = TimelineBuilder(win.store)
        self.dock = TimelineDock(win)
        # Under the image, between the worklist and the result (whose probability it sits beside).
        win.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        win.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        win.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.action = self.dock.toggleViewAction()
        self.action.setText(self.tr("Size over time"))
        self.action.setObjectName("size_over_time")
        self.action.setShortcut("Ctrl+Shift+T")
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        win.actions.adopt(win.menus["view"], "size_over_time", self.action)  # listed in F1's shortcuts
        self.dock.visibilityChanged.connect(self._shown)
        self.timer = QTimer(self)  # a vertex drag emits many contour events: one refresh for them
        self.timer.setSingleShot(True)
        self.timer.setInterval(80)
        self.timer.timeout.connect(self.refresh)
        win.doc.events.connect(self._doc_changed)
        win.prediction.user_predicted.connect(self._after_predict)
        win.exporter.timeline = self.entries

    def _doc_changed(self, kind: str) -> None:
        if kind in FOLLOWED and self.dock.isVisible():
            self.timer.start()

    def _shown(self, visible: bool) -> None:
        if visible:
            if not self.dock.isFloating() and self.dock.height() < 300:  # words, table and plot
                self.win.resizeDocks(
                    [self.dock], [max(300, self.win.height() * 2 // 5)], Qt.Orientation.Vertical
                )
            self.refresh()

    def timeline(self, *, verified_only: bool = False) -> Timeline:
        return self.builder.build(self.win.timepoints.patients(), self.win.doc, verified_only=verified_only)

    def entries(self) -> tuple[TimelineEntry, ...]:
        """For the PDF report: the patient's exams when there is more than one and all are measured."""
        t = self.timeline(verified_only=True)  # as the report prints the open image's result
        return () if t.refusal else t.entries

    def refresh(self) -> None:
        self.timer.stop()
        t = self.timeline()
        if t.refusal:
            self.dock.refuse(t.refusal)
            return
        self.dock.set_timeline(t.entries)
        self.dock.set_notes(t.notes)

    def has_earlier_exam(self) -> bool:
        doc = self.win.doc
        if doc.path is None:
            return False
        patient = same_patient(self.win.timepoints.patients(), doc.path)
        if patient is None:
            return False
        return any(doc.path in e.paths for e in patient.exams[1:])

    def _after_predict(self) -> None:
        """A follow-up was just predicted: its size change belongs beside the probability."""
        if self.has_earlier_exam():
            self.dock.show()
            self.dock.raise_()  # shown: refreshed by visibilityChanged, or by the result event
