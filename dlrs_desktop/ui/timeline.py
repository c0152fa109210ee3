"""Lesion timeline view: the size change and its RECIST 1.1 size category beside the model's probability.

A dock holding one plain-words summary line, the same table the PDF reports print
(`exchange.timeline.timeline_table`) and a plot of the longest diameter over the exams with the
partial-response and progression lines. pyqtgraph is imported only when the view is first shown (the
[plot] extra); without it the view keeps the summary and the table and says what to install.
The entries come from the caller (`set_timeline`): baseline first, as `dlrs compare` builds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QDockWidget,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.exchange.timeline import TimelineEntry, timeline_table
from dlrs_desktop.extras import install_hint
from dlrs_desktop.ui.timeline_paint import translate_cell

PR_FACTOR, PD_FACTOR, PD_MIN_MM = 0.7, 1.2, 5.0  # RECIST 1.1 size criteria (roi/size.py)


class TimelineDock(QDockWidget):
    """The lesion over time; `plot` is None until the view is shown with pyqtgraph installed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Lesion timeline"), parent)
        self.setObjectName("timeline_dock")
        body = QWidget(self)
        # Words and table beside the plot in a wide dock (under the image), above it in a narrow one.
        self._row = QBoxLayout(QBoxLayout.Direction.TopToBottom, body)
        words = QWidget(body)
        layout = QVBoxLayout(words)
        layout.setContentsMargins(0, 0, 0, 0)
        self._row.addWidget(words, 0)
        self.summary = QLabel(self.tr("No comparison yet: a baseline and a follow-up exam of the lesion."))
        self.summary.setWordWrap(True)
        self.explain = QLabel(
            self.tr(
                "Size change: the longest diameter against baseline, by RECIST 1.1 size criteria "
                "(partial response at -30 % or less; progression at +20 % and at least 5 mm more). "
                "A measurement rule, not a diagnosis; the probability is the model's, at that exam."
            )
        )
        self.explain.setWordWrap(True)
        self.table = QTableWidget(0, 6, body)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.plot_note = QLabel("")
        self.plot_note.setWordWrap(True)
        self.plot_note.hide()
        self.notes = QLabel("")  # stale or saved results, volumes, exams left out (set_notes)
        self.notes.setWordWrap(True)
        self.notes.hide()
        for w in (self.summary, self.explain, self.table, self.notes, self.plot_note):
            layout.addWidget(w)
            w.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)  # never clipped
        self.setWidget(body)
        self.plot: Any = None
        self._curve: Any = None
        self._entries: tuple[TimelineEntry, ...] = ()

    def set_timeline(self, entries: Sequence[TimelineEntry]) -> None:
        """Show these exams (baseline first); the plot follows when it exists."""
        self._entries = tuple(entries)
        rows = timeline_table(self._entries)
        self.table.setHorizontalHeaderLabels([translate_cell(c) for c in rows[0]])
        self.table.setRowCount(len(rows) - 1)
        for r, row in enumerate(rows[1:]):
            for c, cell in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(translate_cell(cell)))
        self.table.resizeColumnsToContents()
        rows_h = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        bar = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(self.table.horizontalHeader().height() + rows_h + bar + 4)  # every exam
        self.summary.setText(self._summary_text())
        self._draw()

    def set_notes(self, lines: Sequence[str]) -> None:
        """Plain-words lines under the table (why a probability is missing, a two-view volume)."""
        self.notes.setText("\n".join(lines))
        self.notes.setVisible(bool(lines))

    def refuse(self, line: str) -> None:
        """No numbers at all, one line saying why (e.g. an exam without a trustworthy mm/px)."""
        self.set_timeline(())
        self.set_notes(())
        self.summary.setText(line)

    def _summary_text(self) -> str:
        if len(self._entries) < 2:
            return self.tr("No comparison yet: a baseline and a follow-up exam of the lesion.")
        base, last = self._entries[0], self._entries[-1]
        if base.longest_mm is None or last.change_percent is None or last.change_mm is None:
            return self.tr("The baseline lesion has no measurement.")
        after = self.tr("not measurable") if last.longest_mm is None else f"{last.longest_mm:.1f} mm"
        text = self.tr("Longest diameter {0:.1f} mm → {1} ({2:+.1f} %, {3:+.1f} mm): {4}").format(
            base.longest_mm, after, last.change_percent, last.change_mm, translate_cell(last.category or "")
        )
        if last.probability is not None:
            text += self.tr(" · model probability at {0}: {1:.3f}").format(last.label, last.probability)
        else:
            text += self.tr(" · no model probability at {0}").format(last.label)
        return text

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wide = self.width() > 2.2 * max(self.height(), 1)
        self._row.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.plot is None and not self.plot_note.isVisible():
            self._make_plot()
        self._draw()

    def _make_plot(self) -> None:
        try:
            # lazy: pyqtgraph is optional here; its ImportError is handled below
            import pyqtgraph as pg
        except ImportError:
            note = self.tr("The plot needs pyqtgraph (the [plot] extra); {0}")
            self.plot_note.setText(note.format(install_hint("plot")))
            self.plot_note.show()
            return
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(160)
        self.plot.setLabel("left", self.tr("Longest diameter (mm)"))
        self.plot.showGrid(x=False, y=True, alpha=0.3)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setTextPen((50, 50, 50))
        self.plot.getAxis("bottom").setHeight(28)
        self._curve = self.plot.plot([], [], pen=pg.mkPen((40, 90, 200), width=2), symbol="o", symbolSize=8)
        self._row.addWidget(self.plot, 1)  # the plot takes the room the words do not need

    def _draw(self) -> None:
        if self.plot is None:
            return
        # lazy: pyqtgraph (~0.7 s, the optional [plot] extra) only when this runs, not at start-up
        import pyqtgraph as pg

        pts = [(i, e.longest_mm if e.longest_mm is not None else 0.0) for i, e in enumerate(self._entries)]
        self._curve.setData([p[0] for p in pts], [p[1] for p in pts])
        for item in list(self.plot.getPlotItem().items):
            if isinstance(item, pg.InfiniteLine):
                self.plot.removeItem(item)
        if pts and self._entries[0].longest_mm:
            b = self._entries[0].longest_mm
            dash = pg.mkPen((120, 120, 120), style=pg.QtCore.Qt.PenStyle.DashLine)
            lines = (
                (b * PR_FACTOR, self.tr("partial response (-30 %)")),
                (max(b * PD_FACTOR, b + PD_MIN_MM), self.tr("progression (+20 % and 5 mm)")),
            )
            for y, words in lines:
                opts = {"color": (70, 70, 70), "position": 0.5}
                self.plot.addItem(pg.InfiniteLine(pos=y, angle=0, pen=dash, label=words, labelOpts=opts))
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(i, e.label or "-") for i, e in enumerate(self._entries)]])
        self.plot.setXRange(-0.3, max(len(self._entries) - 1, 1) + 0.3)
