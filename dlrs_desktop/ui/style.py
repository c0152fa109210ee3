"""Colours and names shared by the canvas, the panels and the PDF (one place, so they always agree).

Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from dlrs_desktop.regions import DEFAULT_RING_RADII_MM, ring_names

translate = QCoreApplication.translate

CONTOUR_COLOR = QColor(240, 228, 66)  # yellow
#: Rings in order of radius (the first three: 3, 5 and 10 mm by default), Okabe–Ito colours.
RING_PALETTE = (
    QColor(86, 180, 233),  # sky blue
    QColor(230, 159, 0),  # orange
    QColor(204, 121, 167),  # reddish purple
    QColor(0, 158, 115),  # bluish green
    QColor(213, 94, 0),  # vermillion
    QColor(0, 114, 178),  # blue
)
DEFAULT_RING_NAMES = tuple(ring_names(DEFAULT_RING_RADII_MM))
SCAN_COLOR = QColor(0, 158, 115, 140)  # bluish green, faint
TOOL_COLOR = QColor(0, 114, 178)  # blue
MEASURE_COLOR = QColor(213, 94, 0)  # vermillion: visible on the white depth ruler
INCLUDE_COLOR = QColor(0, 158, 115)  # bluish green "+": an assist correction that takes a spot in
EXCLUDE_COLOR = QColor(213, 94, 0)  # vermillion "×": one that leaves a spot out (shape tells them apart too)
FUSION_COLOR = QColor(0, 114, 178)
RADIOMICS_COLOR = QColor(0, 158, 115)  # bluish green (Okabe–Ito): the signatures' bars in the chart
WARNING_CSS = "#d55e00"
OK_CSS = "#009e73"


def ring_color(name: str, ring_names: Sequence[str] = DEFAULT_RING_NAMES) -> QColor:
    """A ring's colour by its place among the rings on screen, so up to six rings never share one."""
    names = list(ring_names)
    if name not in names:
        names = [*names, name]
    return RING_PALETTE[names.index(name) % len(RING_PALETTE)]


def region_label(name: str) -> str:
    """ "intratumoral" → "Tumour", "ring_3mm" → "Ring 3 mm", "fusion" → "Fusion",
    "radiomics_ring_10mm" → "Radiomics T+10 mm" (the signature of tumour + 10 mm ring)."""
    if name == "intratumoral":
        return translate("style", "Tumour")
    if name == "fusion":
        return translate("style", "Fusion")
    if name.startswith("ring_") and name.endswith("mm"):
        return translate("style", "Ring {radius} mm").format(radius=name[5:-2])
    if name == "radiomics_all":
        return translate("style", "Radiomics, all")
    if name.startswith("radiomics_ring_") and name.endswith("mm"):
        return translate("style", "Radiomics T+{radius} mm").format(radius=name[15:-2])
    return name


def region_color(name: str, ring_names: Sequence[str] = DEFAULT_RING_NAMES) -> QColor:
    if name == "intratumoral":
        return CONTOUR_COLOR
    if name == "fusion":
        return FUSION_COLOR
    if name.startswith("radiomics_"):
        return RADIOMICS_COLOR
    return ring_color(name, ring_names)
