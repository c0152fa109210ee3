"""Tumour contour, masks, peritumoral rings and measurements (no Qt).

`from dlrs_desktop.roi import Contour, compute_rois, RoiSet, RoiMask, Measurements, validate_contour`
"""

from dlrs_desktop.errors import ContourError
from dlrs_desktop.regions import TUMOUR, ring_name
from dlrs_desktop.roi.assist import propose_from_box, propose_from_click
from dlrs_desktop.roi.contour import Contour, Measurements, read_mask
from dlrs_desktop.roi.rings import RoiMask, RoiSet, compute_rois
from dlrs_desktop.roi.snap import snap_to_edges
from dlrs_desktop.roi.validate import validate_contour

__all__ = [
    "TUMOUR",
    "Contour",
    "ContourError",
    "Measurements",
    "RoiMask",
    "RoiSet",
    "compute_rois",
    "propose_from_box",
    "propose_from_click",
    "read_mask",
    "ring_name",
    "snap_to_edges",
    "validate_contour",
]
