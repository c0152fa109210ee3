"""Colours and names shared by the canvas, the panels and the PDF (one place, so they always agree).

Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

CONTOUR_COLOR = QColor(240, 228, 66)  # yellow
RING_COLORS = {
    "ring_3mm": QColor(86, 180, 233),  # sky blue
    "ring_5mm": QColor(230, 159, 0),  # orange
    "ring_10mm": QColor(204, 121, 167),  # reddish purple
}
_SPARE_RING_COLORS = (QColor(0, 158, 115), QColor(213, 94, 0), QColor(0, 114, 178))
SCAN_COLOR = QColor(0, 158, 115, 140)  # bluish green, faint
TOOL_COLOR = QColor(0, 114, 178)  # blue
MEASURE_COLOR = QColor(213, 94, 0)  # vermillion: visible on the white depth ruler
FUSION_COLOR = QColor(0, 114, 178)
WARNING_CSS = "#d55e00"
OK_CSS = "#009e73"


def ring_name(radius_mm: float) -> str:
    """The region name the model bundle uses for a ring of this radius (e.g. 3.0 → "ring_3mm")."""
    return f"ring_{radius_mm:g}mm"


def ring_color(name: str) -> QColor:
    if name in RING_COLORS:
        return RING_COLORS[name]
    return _SPARE_RING_COLORS[sum(map(ord, name)) % len(_SPARE_RING_COLORS)]


def region_label(name: str) -> str:
    """ "intratumoral" → "Tumour", "ring_3mm" → "Ring 3 mm", "fusion" → "Fusion"."""
    if name == "intratumoral":
        return "Tumour"
    if name == "fusion":
        return "Fusion"
    if name.startswith("ring_") and name.endswith("mm"):
        return f"Ring {name[5:-2]} mm"
    return name


def region_color(name: str) -> QColor:
    if name == "intratumoral":
        return CONTOUR_COLOR
    if name == "fusion":
        return FUSION_COLOR
    return ring_color(name)
