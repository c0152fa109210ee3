"""The image our objects reference: the source DICOM's header, or a Secondary Capture made from a PNG.

A SEG, SR or Encapsulated PDF must reference a DICOM instance (study, series, SOP instance) and copy
its patient and study modules, so the hospital files it with the right patient. A PNG or JPEG has
none; for it we first create a Secondary Capture holding the pixels, with the patient ID and name the
user typed, or anonymous placeholders (never guessed).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop import __version__
from dlrs_desktop.errors import DlrsError

MANUFACTURER = "DLRS Desktop"
MODEL_NAME = "DLRS Desktop"
SOFTWARE_VERSION = __version__
ANONYMOUS_ID = "ANONYMOUS"
ANONYMOUS_NAME = "Anonymous^Patient"


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """A Part 10 file (preamble + DICM); what `dlrs` and scanners write."""
    try:
        if not Path(path).is_file():  # a named pipe or device would block the open
            return False
        with open(path, "rb") as fh:
            return fh.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def read_source(path: str | os.PathLike[str]) -> Any:
    """The source image's dataset without pixel data (our objects only reference it)."""
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    import pydicom

    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, InvalidDicomError, ValueError) as exc:
        raise DlrsError(f"{Path(path).name} is not a readable DICOM file ({exc}).") from exc
    for key in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns"):
        if key not in ds:
            raise DlrsError(f"{Path(path).name} lacks {key}; results cannot reference it.")
    return ds


def secondary_capture(
    rgb: np.ndarray,
    *,
    patient_id: str | None = None,
    patient_name: str | None = None,
    mm_per_px: tuple[float, float] | None = None,
) -> Any:
    """A Secondary Capture image (RGB) of a non-DICOM source, in a new study."""
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    arr = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError("secondary_capture needs an (H, W, 3) RGB array")
    now = _dt.datetime.now()
    name = (patient_name or "").strip() or ANONYMOUS_NAME
    if "^" not in name:
        name += "^"  # one typed word is the family name (PS3.5 6.2.1.2)
    sc = hd.sc.SCImage(
        pixel_array=arr,
        photometric_interpretation="RGB",
        bits_allocated=8,
        coordinate_system="PATIENT",
        study_instance_uid=hd.UID(),
        series_instance_uid=hd.UID(),
        series_number=1,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        patient_id=(patient_id or "").strip() or ANONYMOUS_ID,
        patient_name=name,
        patient_birth_date=None,
        patient_sex=None,
        accession_number=None,
        study_id="1",
        study_date=now.date(),
        study_time=now.time().replace(microsecond=0),
        referring_physician_name=None,
        # Row spacing first (DICOM order); the calibration the user confirmed for the PNG.
        pixel_spacing=(mm_per_px[1], mm_per_px[0]) if mm_per_px else None,
        patient_orientation=("L", "F"),  # highdicom insists; replaced just below
    )
    sc.PatientOrientation = ""  # type 2C: a free-hand ultrasound image has no known orientation
    sc.Modality = "US"
    sc.ConversionType = "WSD"
    sc.BodyPartExamined = "BREAST"
    sc.Laterality = ""
    sc.SeriesDescription = "DLRS Desktop secondary capture of a non-DICOM image"
    return sc
