"""The names of the regions of interest: the one spelling shared by roi, model, the CLI and the GUI.

A bundle names its regions ("intratumoral", "ring_3mm", …) and `roi.compute_rois` names the masks it
makes; the two must agree, so the spelling lives here once, in a module that imports nothing (the
GUI can use it at start-up without loading roi's OpenCV).
"""

from __future__ import annotations

TUMOUR = "intratumoral"
DEFAULT_RING_RADII_MM: tuple[float, ...] = (3.0, 5.0, 10.0)


def ring_name(radius_mm: float) -> str:
    """The region name of the ring of this radius: 3.0 → "ring_3mm", 2.5 → "ring_2.5mm"."""
    return f"ring_{radius_mm:g}mm"


def ring_names(radii_mm: tuple[float, ...] | list[float]) -> list[str]:
    return [ring_name(r) for r in radii_mm]
