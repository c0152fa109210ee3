"""Image loading, calibration and scan area (no Qt).

`load_image(path, frame=None)` is the one way pixels enter the application; `image_from_array`
builds the same object from pixels in memory. pydicom and OpenCV are imported only when used.
"""

from dlrs_desktop.imaging.calibration import EffectiveCalibration, effective_calibration
from dlrs_desktop.imaging.loader import image_from_array, load_image
from dlrs_desktop.imaging.types import (
    Calibration,
    Provenance,
    UltrasoundImage,
    UltrasoundRegion,
    select_region,
)

__all__ = [
    "Calibration",
    "EffectiveCalibration",
    "Provenance",
    "UltrasoundImage",
    "UltrasoundRegion",
    "effective_calibration",
    "image_from_array",
    "load_image",
    "select_region",
]
