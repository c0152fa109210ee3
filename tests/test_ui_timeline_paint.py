"""The GUI report's timeline table (ui/timeline_paint.py): drawn with QPainter into a real QPdfWriter and
read back with pypdf, it shows the same cells as the command line's PDF (exchange/timeline.py)."""

from __future__ import annotations

import re

from pypdf import PdfReader
from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

from dlrs_desktop.exchange.timeline import TimelineEntry, timeline_table
from dlrs_desktop.ui.timeline_paint import paint_timeline

ENTRIES = (
    TimelineEntry("20260105", "baseline", 20.0, probability=0.412),
    TimelineEntry("20260302", "after cycle 2", 13.0, -7.0, -35.0, "partial response (size criteria)", 0.731),
)


def test_table_cells():
    rows = timeline_table(ENTRIES)
    assert rows[1] == ("2026-01-05", "baseline", "20.0 mm", "baseline", "-", "0.412")
    assert rows[2] == ("2026-03-02", "after cycle 2", "13.0 mm", "-35.0 % (-7.0 mm)",
                       "partial response (size criteria)", "0.731")  # fmt: skip


def test_paint_timeline_into_a_pdf_reads_back(qapp, tmp_path):
    path = tmp_path / "t.pdf"
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    p = QPainter(writer)
    try:
        bottom = paint_timeline(p, 0, 100, writer.width(), ENTRIES)
    finally:
        p.end()
    assert bottom > 100
    text = re.sub(r"[ \t]+", " ", PdfReader(str(path)).pages[0].extract_text())
    for cell in ("Exam date", "2026-03-02", "after cycle 2", "13.0 mm", "-35.0 % (-7.0 mm)",
                 "partial response (size criteria)", "0.731"):  # fmt: skip
        assert cell in text, cell
