"""Why a DICOM Segmentation is not read as this image's contour (imaging/dicom_seg.py), marked for
translation: the GUI's "Load contour" shows the sentence in its language (`ui.i18n.core_text`)."""

from __future__ import annotations

from dlrs_desktop.wording import QT_TRANSLATE_NOOP

NO_SEGMENTS = QT_TRANSLATE_NOOP("core", "The segmentation has no segments.")
NOT_A_SEG = QT_TRANSLATE_NOOP("core", "{name} is a DICOM file but not a Segmentation.")
SIZE = QT_TRANSLATE_NOOP(
    "core", "The segmentation {name} is {seg_w}×{seg_h} pixels but the image is {image_w}×{image_h}."
)
MALFORMED = QT_TRANSLATE_NOOP("core", "{name} is a malformed DICOM segmentation ({detail}).")
TOO_LARGE = QT_TRANSLATE_NOOP("core", "{name} is larger than {mb} MB; not read as a segmentation.")
UNREADABLE = QT_TRANSLATE_NOOP("core", "{name} is not a readable DICOM segmentation ({detail}).")
TOO_MANY_FRAMES = QT_TRANSLATE_NOOP(
    "core", "The segmentation {name} has {frames} frames; at most {limit} are read."
)
TOO_MANY_PIXELS = QT_TRANSLATE_NOOP(
    "core",
    "The segmentation {name} declares {frames} frames of {w}×{h} pixels; at most {mpx} M pixels are decoded.",
)
NO_META_LENGTH = QT_TRANSLATE_NOOP(
    "core", "{name} has no File Meta group length; not read as a segmentation."
)
INFLATES = QT_TRANSLATE_NOOP("core", "{name} inflates to more than {mb} MB; not read as a segmentation.")
NEEDS_DICOM_IMAGE = QT_TRANSLATE_NOOP(
    "core",
    "The segmentation {name} references a DICOM image; open that image (not a PNG/JPEG) to use it.",
)
OTHER_IMAGE_UIDS = QT_TRANSLATE_NOOP(
    "core",
    "The segmentation {name} was made for another image (its referenced series/instance UIDs do not "
    "match this image); not applied.",
)
FRAMES_INCOMPLETE = QT_TRANSLATE_NOOP(
    "core", "{name}: the segmentation's per-frame information is incomplete."
)
PIXELS_UNDECODABLE = QT_TRANSLATE_NOOP(
    "core", "{name}: the segmentation's pixels cannot be decoded ({detail})."
)
OTHER_IMAGE = QT_TRANSLATE_NOOP("core", "The segmentation {name} was made for another image.")
EMPTY = QT_TRANSLATE_NOOP("core", "The tumour segment of {name} is empty.")
NO_FRACTIONAL_MAXIMUM = QT_TRANSLATE_NOOP(
    "core", "The fractional segmentation has no valid Maximum Fractional Value."
)
