"""Why a contour, a tumour mask or a contour file is refused (roi/contour.py), marked for translation: the
GUI shows the sentence in its language (`ui.i18n.core_text`), the CLI and the logs keep the English.
Kept apart from contour.py so that its checks read without the wording."""

from __future__ import annotations

from dlrs_desktop.wording import QT_TRANSLATE_NOOP

# the points themselves
NOT_PAIRS = QT_TRANSLATE_NOOP("core", "The contour points must be pairs of numbers (x, y).")
NOT_FINITE = QT_TRANSLATE_NOOP(
    "core", "The contour has points with missing, infinite or absurdly large coordinates."
)
TOO_MANY_READ = QT_TRANSLATE_NOOP(
    "core",
    "The contour has {count:,} points, over the limit of {limit:,} that are read (contours are "
    "simplified to at most {kept:,}).",
)
TOO_MANY_KEPT = QT_TRANSLATE_NOOP(
    "core",
    "The contour has {count:,} points and still {simple:,} after simplification, over the limit of "
    "{limit:,} points.",
)
TOO_FEW_POINTS = QT_TRANSLATE_NOOP("core", "The contour needs at least 3 points; it has {count}.")
FRAME_NOT_WHOLE = QT_TRANSLATE_NOOP("core", "The contour's frame must be a whole number, not {value}.")
FRAME_OUT_OF_RANGE = QT_TRANSLATE_NOOP(
    "core", "The contour's frame {value} is not a frame index (0 to {last})."
)

# millimetres
SPACING_NOT_POSITIVE = QT_TRANSLATE_NOOP(
    "core", "The resampling spacing must be a positive number of millimetres."
)
SHRUNK_TO_NOTHING = QT_TRANSLATE_NOOP(
    "core", "Shrinking the contour by {mm:g} mm leaves nothing of the tumour."
)
NO_CALIBRATION_TO = QT_TRANSLATE_NOOP("core", "The contour has no calibration (mm per pixel); cannot {why}.")
TO_RESAMPLE = QT_TRANSLATE_NOOP("core", "resample the contour in millimetres")
TO_OFFSET = QT_TRANSLATE_NOOP("core", "offset the contour in millimetres")
NOT_MEASURED = QT_TRANSLATE_NOOP(
    "core", "The contour has no calibration (mm per pixel), so it cannot be measured."
)

# a tumour mask
MASK_NOT_SINGLE_CHANNEL = QT_TRANSLATE_NOOP("core", "A tumour mask must be a single-channel image.")
MASK_EMPTY = QT_TRANSLATE_NOOP("core", "The tumour mask is empty (no non-zero pixels).")
MASK_SIZE = QT_TRANSLATE_NOOP(
    "core",
    "The mask {name} is {mask_w}×{mask_h} pixels but the image is {image_w}×{image_h}; they must match.",
)
MASK_JPEG = QT_TRANSLATE_NOOP(
    "core", "{name}: JPEG blurs mask edges; export the tumour mask as PNG (non-zero = tumour)."
)
MASK_PIXELS = QT_TRANSLATE_NOOP(
    "core", "The mask {name} is {w} x {h} pixels, over the limit of {megapixels} megapixels."
)
MASK_BOMB = QT_TRANSLATE_NOOP("core", "The mask {name} is over the limit of {megapixels} megapixels.")
MASK_NOT_FOUND = QT_TRANSLATE_NOOP("core", "Mask file not found: {path}")
MASK_UNREADABLE = QT_TRANSLATE_NOOP("core", "{name} is not a readable mask image ({detail}).")
MASK_NOT_2D = QT_TRANSLATE_NOOP("core", "{name} is not a single 2D mask.")

# a contour file (the app's JSON, a sidecar's "contour", labelme)
NO_POINTS = QT_TRANSLATE_NOOP("core", "This is not a contour: it has no list of points.")
OTHER_SCHEMA = QT_TRANSLATE_NOOP("core", "This file holds a '{schema}', not a tumour contour.")
NEWER_FORMAT = QT_TRANSLATE_NOOP(
    "core",
    "This contour file uses format version {version}; this version of DLRS Desktop reads up to version "
    "{supported}. Please update the application.",
)
CALIBRATION_MALFORMED = QT_TRANSLATE_NOOP("core", "The contour's calibration is malformed ({detail}).")
FILE_NOT_FOUND = QT_TRANSLATE_NOOP("core", "Contour file not found: {path}")
FILE_UNREADABLE = QT_TRANSLATE_NOOP("core", "{name} is not a readable contour file ({detail}).")
FILE_NOT_UTF8 = QT_TRANSLATE_NOOP("core", "{name} is not a readable contour JSON file (not UTF-8 text).")
FILE_NOT_JSON = QT_TRANSLATE_NOOP("core", "{name} is not a readable contour JSON file: {detail}")
FILE_WITHOUT_CONTOUR = QT_TRANSLATE_NOOP(
    "core", "{name} holds no contour (expected a 'points' list or a 'contour' object)."
)
LABELME_SHAPES = QT_TRANSLATE_NOOP("core", "{name} is not a labelme file: its 'shapes' is not a list.")
LABELME_POLYGON = QT_TRANSLATE_NOOP("core", "{name}: a labelme polygon is malformed ({detail})")
LABELME_EMPTY = QT_TRANSLATE_NOOP("core", "{name} is a labelme file without any polygon.")

# the rings (roi/rings.py) and the size over time (roi/size.py)
RADII_NOT_POSITIVE = QT_TRANSLATE_NOOP("core", "Ring radii must be positive numbers of millimetres.")
TOO_MANY_RINGS = QT_TRANSLATE_NOOP(
    "core",
    "At most {most} rings of at most {widest:g} mm are computed (asked: {count} rings up to {asked:g} mm).",
)
CLIP_THRESHOLD = QT_TRANSLATE_NOOP("core", "The clip threshold must be a fraction between 0 and 1.")
RINGS_UNCALIBRATED = QT_TRANSLATE_NOOP(
    "core",
    "The image has no calibration (mm per pixel), so the rings cannot be drawn in millimetres; calibrate "
    "the image first.",
)
TOO_THIN = QT_TRANSLATE_NOOP("core", "The contour is too thin to contain any pixel.")
SIZE_UNCALIBRATED = QT_TRANSLATE_NOOP(
    "core",
    "This image has no trustworthy millimetre calibration, so its lesion size is not measured; give one "
    "with --spacing MM_PER_PX or calibrate it in the application.",
)
NOT_A_MEASUREMENT = QT_TRANSLATE_NOOP("core", "The {name} is not a usable measurement ({value}).")
LONGEST = QT_TRANSLATE_NOOP("core", "longest diameter")
PERPENDICULAR = QT_TRANSLATE_NOOP("core", "perpendicular diameter")
BASELINE = QT_TRANSLATE_NOOP("core", "baseline diameter")
FOLLOW_UP = QT_TRANSLATE_NOOP("core", "follow-up diameter")
NADIR = QT_TRANSLATE_NOOP("core", "nadir diameter")
PERPENDICULAR_LONGER = QT_TRANSLATE_NOOP("core", "The perpendicular diameter exceeds the longest one.")
