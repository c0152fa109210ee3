"""The lesion's timeline table drawn with QPainter, for the GUI's PDF report (ui/report.py).

The cells come from `exchange.timeline.timeline_table`, the rows the command line's PDF draws too, so
both reports show the same numbers; only the column headings and the size categories are translated.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from dlrs_desktop.exchange.timeline import TimelineEntry, timeline_table
from dlrs_desktop.ui import i18n

_CONTEXT = "Timeline"
# Listed for the translators (lupdate); the Qt-free table holds these very strings.
_WORDS = (
    QT_TRANSLATE_NOOP("Timeline", "Exam date"),
    QT_TRANSLATE_NOOP("Timeline", "Time point"),
    QT_TRANSLATE_NOOP("Timeline", "Longest diameter"),
    QT_TRANSLATE_NOOP("Timeline", "Change"),
    QT_TRANSLATE_NOOP("Timeline", "Size category"),
    QT_TRANSLATE_NOOP("Timeline", "Probability"),
    QT_TRANSLATE_NOOP("Timeline", "baseline"),
    QT_TRANSLATE_NOOP("Timeline", "unknown"),  # an exam without a date
    QT_TRANSLATE_NOOP("Timeline", "not measurable"),
    QT_TRANSLATE_NOOP("Timeline", "partial response (size criteria)"),
    QT_TRANSLATE_NOOP("Timeline", "progressive disease (size criteria)"),
    QT_TRANSLATE_NOOP("Timeline", "stable disease (size criteria)"),
    QT_TRANSLATE_NOOP("Timeline", "complete response (size criteria)"),
)


def translate_cell(text: str) -> str:
    """A heading or size category in the user's language; numbers and names stay as they are."""
    return QCoreApplication.translate(_CONTEXT, text) if text in _WORDS else text


def heading() -> str:
    return QCoreApplication.translate(  # a literal context: lupdate does not follow _CONTEXT
        "Timeline", "Lesion timeline (size by RECIST 1.1 size criteria, not a diagnosis)"
    )


def paint_timeline(
    p: QPainter, x: float, y: float, width: float, entries: Sequence[TimelineEntry], *, size: int = 9
) -> float:
    """Draw the heading and the table from (x, y) within `width`; returns the y under the table."""
    rows = [[translate_cell(c) for c in row] for row in timeline_table(list(entries))]
    font = i18n.font("Sans Serif", size)  # the CJK subset behind it: a Chinese report's headings
    bold = QFont(font)
    bold.setBold(True)
    # measured at the page's resolution (a 150 dpi PDF), not the screen's: else the columns come out narrow
    fm, fmb = QFontMetricsF(font, p.device()), QFontMetricsF(bold, p.device())
    pad = fm.horizontalAdvance("  ")
    widths = [
        max(
            max(fm.horizontalAdvance(r[k]) for r in rows[1:]) if len(rows) > 1 else 0,
            fmb.horizontalAdvance(rows[0][k]),
        )
        + pad
        for k in range(len(rows[0]))
    ]
    shrink = min(1.0, width / sum(widths))  # a narrow page: columns share it (text may then elide)
    widths = [w * shrink for w in widths]
    line_h = fm.height() * 1.5
    p.setFont(bold)
    p.setPen(QColor(0, 0, 0))
    p.drawText(QRectF(x, y, width, line_h), int(Qt.AlignmentFlag.AlignVCenter), heading())
    y += line_h
    for i, row in enumerate(rows):
        p.setFont(bold if i == 0 else font)
        cx = x
        for k, cell in enumerate(row):
            text = (fmb if i == 0 else fm).elidedText(cell, Qt.TextElideMode.ElideRight, widths[k] - pad / 2)
            p.drawText(QRectF(cx, y, widths[k], line_h), int(Qt.AlignmentFlag.AlignVCenter), text)
            cx += widths[k]
        p.setPen(QPen(QColor(0, 0, 0) if i == 0 else QColor(160, 160, 160), 1))
        p.drawLine(int(x), int(y + line_h), int(cx), int(y + line_h))
        p.setPen(QColor(0, 0, 0))
        y += line_h
    return y
