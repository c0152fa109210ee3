"""DICOM Segmentation (binary) of the tumour and its peritumoral rings, with highdicom.

One segment per ROI in the order of the RoiSet (tumour, then 3, 5, 10 mm rings): segment 1 is always
the tumour, which is what our importer (and 3D Slicer, OHIF) reads back as the contour.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from dlrs_desktop.exchange import codes
from dlrs_desktop.exchange.source import MANUFACTURER, MODEL_NAME, SOFTWARE_VERSION

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def algorithm() -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    return hd.AlgorithmIdentificationSequence(
        name="DLRS Desktop contour and rings",
        version=SOFTWARE_VERSION,
        family=codes.code("123109", "DCM", "Manual Processing"),
        source=MANUFACTURER,
    )


def _description(number: int, roi: Any) -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    if roi.radius_mm > 0:
        label, category, kind = f"Ring {roi.radius_mm:g} mm", codes.tissue(), codes.ring(roi.radius_mm)
        algo_type = hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC  # computed from the contour
    else:
        label, category, kind = "Tumour", codes.morph_altered(), codes.neoplasm()
        algo_type = hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC  # drawn or corrected by the user
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=category,
        segmented_property_type=kind,
        algorithm_type=algo_type,
        algorithm_identification=algorithm(),
        anatomic_regions=[codes.breast()],
    )


def build_seg(source: Any, rois: Any, *, frame_index: int = 0, series_number: int = 901) -> Any:
    """A binary SEG referencing `source` (one frame of it for a cine loop)."""
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    rows, cols = int(source.Rows), int(source.Columns)
    frames = int(getattr(source, "NumberOfFrames", 1) or 1)
    masks = [np.asarray(roi.full("annulus", (rows, cols)), dtype=bool) for roi in rois]
    arr = np.stack(masks, axis=-1)[None]
    reference = source
    if frames > 1:
        # A cine loop has no frame of reference, and highdicom then segments single-frame sources only:
        # build against a one-frame view of the header, then name the contoured frame in every
        # Source Image Sequence item (Referenced Frame Number, PS3.3 C.7.6.16.2.6).
        reference = copy.deepcopy(source)
        reference.SOPClassUID = US_IMAGE  # a one-frame view; the real class is restored below
        for key in ("NumberOfFrames", "FrameIncrementPointer", "FrameTime", "CineRate"):
            if key in reference:
                delattr(reference, key)
    seg = hd.seg.Segmentation(
        source_images=[reference],
        pixel_array=arr,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_description(i + 1, roi) for i, roi in enumerate(rois)],
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=SOFTWARE_VERSION,
        device_serial_number="none",
        series_description="DLRS tumour and peritumoral rings",
        content_label="TUMOUR_RINGS",
        content_description="Tumour contour and 3/5/10 mm peritumoral rings",
    )
    if frames > 1:
        for item in seg.PerFrameFunctionalGroupsSequence:
            for deriv in getattr(item, "DerivationImageSequence", []):
                for src in getattr(deriv, "SourceImageSequence", []):
                    src.ReferencedSOPClassUID = source.SOPClassUID
                    src.ReferencedFrameNumber = frame_index + 1
        for series in seg.ReferencedSeriesSequence:
            for inst in series.ReferencedInstanceSequence:
                inst.ReferencedSOPClassUID = source.SOPClassUID
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.dataset import Dataset

    scheme = Dataset()
    scheme.CodingSchemeDesignator = codes.PRIVATE_SCHEME
    scheme.CodingSchemeName = codes.PRIVATE_SCHEME_NAME
    scheme.CodingSchemeResponsibleOrganization = MANUFACTURER
    seg.CodingSchemeIdentificationSequence = [scheme]
    # General Image: Patient Orientation is type 2C without a frame of reference (ultrasound has none).
    if "FrameOfReferenceUID" not in source:
        seg.PatientOrientation = getattr(source, "PatientOrientation", "")
    return seg
