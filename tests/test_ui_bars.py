"""The result chart's row labels: a label longer than its column (a radiomics row in Chinese in the
narrow result panel) is drawn smaller or elided, never cut off at the chart's left edge."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from dlrs_desktop.ui.bars import BarRow, paint_bars
from tests.i18n_factory import zh_cn  # noqa: F401  (fixture)

ROWS = [
    BarRow("intratumoral", 0.13, 0.30, 0.35),
    BarRow("ring_3mm", 0.02, 0.25, 0.22),
    BarRow("radiomics_ring_10mm", 0.02, 0.28, 0.67),
    BarRow("fusion", 0.01, 0.24, None),
]


def _left_edge_ink(width: int) -> int:
    """Dark pixels in the chart's two leftmost columns: a label drawn past the edge leaves its cut
    glyphs there."""
    image = QImage(width, 140, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(QColor("black"))
    paint_bars(painter, QRectF(0, 0, width, 140), ROWS)
    painter.end()
    grey = np.array([[QColor(image.pixel(x, y)).lightness() for x in range(2)] for y in range(140)])
    return int((grey < 128).sum())


def test_labels_fit_the_narrow_result_panel_in_english(qapp) -> None:
    assert _left_edge_ink(300) == 0


def test_labels_fit_the_narrow_result_panel_in_chinese(zh_cn) -> None:  # noqa: F811
    assert _left_edge_ink(300) == 0
    assert _left_edge_ink(220) == 0  # narrower still: smaller, then elided in the middle


def test_the_chart_still_draws_every_label(zh_cn) -> None:  # noqa: F811
    image = QImage(300, 140, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setPen(QColor("black"))
    paint_bars(painter, QRectF(0, 0, 300, 140), ROWS)
    painter.end()
    rows = np.array([[QColor(image.pixel(x, y)).lightness() < 128 for x in range(135)] for y in range(140)])
    inked = [rows[k * 35 : (k + 1) * 35].any() for k in range(4)]  # each row's label column holds text
    assert all(inked), inked
