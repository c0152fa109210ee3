"""Why a file cannot be opened as an image (imaging/dicom_reader.py, raster.py, loader.py): the clause
after "Cannot open 'NAME': ", marked for translation (the GUI shows it in its language,
`imaging.types.cannot_open`). Kept apart from the readers so that their checks read without the wording."""

from __future__ import annotations

from dlrs_desktop.wording import QT_TRANSLATE_NOOP

UNSUPPORTED_COMPRESSION = QT_TRANSLATE_NOOP("core", "its compression '{name}' ({uid}) is not supported.")
NOT_DICOM = QT_TRANSLATE_NOOP("core", "it is not a DICOM file.")
HEADER_DAMAGED = QT_TRANSLATE_NOOP(
    "core", "the DICOM file is truncated or damaged (its header cannot be read)."
)
ENDS_EARLY = QT_TRANSLATE_NOOP(
    "core", "the file is incomplete (it ends in the middle of the data: a truncated copy?)."
)
FLOAT_PIXELS = QT_TRANSLATE_NOOP(
    "core", "it holds floating-point pixel data, which is not an ultrasound image."
)
NO_PIXELS_TRUNCATED = QT_TRANSLATE_NOOP(
    "core", "the image data is missing; the file is probably truncated (an incomplete copy)."
)
NO_IMAGE = QT_TRANSLATE_NOOP(
    "core", "the DICOM file contains no image (no pixel data), e.g. a report or a presentation state."
)
EMPTY = QT_TRANSLATE_NOOP("core", "the image is empty ({w} x {h} pixels).")
PHOTOMETRIC = QT_TRANSLATE_NOOP("core", "its colour encoding '{pi}' is not supported.")
SAMPLES = QT_TRANSLATE_NOOP(
    "core", "it has {samples} samples per pixel; only grey (1) and colour (3) are supported."
)
SHORT_DATA = QT_TRANSLATE_NOOP(
    "core",
    "the file is incomplete: its image data is {missing:,} bytes shorter than the header says "
    "(a truncated copy or download).",
)
CLAIMS_MORE = QT_TRANSLATE_NOOP(
    "core",
    "its pixel data element claims {declared:,} bytes but the file holds only {available:,} "
    "(a damaged file).",
)
NO_DECODER = QT_TRANSLATE_NOOP("core", "no decoder for its compression '{name}' is installed.")
PIXELS_TRUNCATED = QT_TRANSLATE_NOOP("core", "the pixel data is truncated (the file is incomplete).")
UNDECODABLE = QT_TRANSLATE_NOOP("core", "the pixel data cannot be decoded ({detail}).")
RESCALE_NOT_NUMBER = QT_TRANSLATE_NOOP("core", "its {keyword} ({raw}) is not a number.")
RESCALE_NOT_FINITE = QT_TRANSLATE_NOOP(
    "core", "its {keyword} is {value} (not a finite number): the pixel values are garbage."
)
SLOPE_ZERO = QT_TRANSLATE_NOOP("core", "its RescaleSlope is 0, which maps every pixel to the same value.")
PALETTE = QT_TRANSLATE_NOOP("core", "its colour palette is missing or damaged ({detail}).")
RESCALE_OVERFLOW = QT_TRANSLATE_NOOP(
    "core", "its rescale (RescaleSlope/RescaleIntercept) overflows: the pixel values are garbage."
)
NOT_AN_IMAGE = QT_TRANSLATE_NOOP(
    "core", "it is neither a DICOM file nor a supported image (PNG, JPEG, TIFF, BMP)."
)
NO_SUCH_FRAME = QT_TRANSLATE_NOOP(
    "core", "frame {index} does not exist; the file has {frames} frames (0 to {last})."
)
NO_SUCH_FRAME_ONE = QT_TRANSLATE_NOOP("core", "frame {index} does not exist; the file has 1 frame (0 to 0).")
# any file (imaging/loader.py); SYSTEM_SAYS: the operating system's own words
SYSTEM_SAYS = QT_TRANSLATE_NOOP("core", "{detail}.")
OUT_OF_MEMORY = QT_TRANSLATE_NOOP("core", "the image is too large for the memory available.")
NESTS_TOO_DEEPLY = QT_TRANSLATE_NOOP("core", "its header nests too deeply (damaged file).")
MALFORMED = QT_TRANSLATE_NOOP("core", "the file is damaged or malformed ({detail}).")
EMPTY_FILE = QT_TRANSLATE_NOOP("core", "the file is empty.")
MISLABELLED = QT_TRANSLATE_NOOP(
    "core", "the file is named like a {kind} image but its content is not one (damaged or mislabelled)."
)
# stated limits and the compressed data's own headers (imaging/header_limits.py, raster.py)
DEFLATE_DAMAGED = QT_TRANSLATE_NOOP("core", "its deflated data is damaged.")
DEFLATE_TOO_LARGE = QT_TRANSLATE_NOOP("core", "its deflated dataset inflates to over {limit} MB, the limit.")
TOO_MANY_REGIONS = QT_TRANSLATE_NOOP("core", "it has more than {limit} ultrasound regions, the limit.")
TOO_MANY_PIXELS = QT_TRANSLATE_NOOP(
    "core", "the image is too large ({w} x {h} = {mp:.0f} megapixels; the limit is {limit} megapixels)."
)
OVER_PIXEL_LIMIT = QT_TRANSLATE_NOOP("core", "the image is too large (over the limit of {limit} megapixels).")
TOO_MANY_FRAMES = QT_TRANSLATE_NOOP("core", "it declares {frames:,} frames; the limit is {limit:,}.")
BAD_BITS = QT_TRANSLATE_NOOP(
    "core", "{bits} bits allocated per sample is not an image encoding it reads (1, 8, 16 or 32)."
)
FRAME_TOO_LARGE = QT_TRANSLATE_NOOP("core", "one frame decodes to {mb:.0f} MB; the limit is {limit} MB.")
MAY_DECODE_TOO_LARGE = QT_TRANSLATE_NOOP(
    "core", "{w} x {h} pixels may decode to {mb:.0f} MB; the limit is {limit} MB."
)
NOT_ENCAPSULATED = QT_TRANSLATE_NOOP(
    "core", "its compressed pixel data is not correctly encapsulated (damaged file)."
)
NO_FRAME_HEADER = QT_TRANSLATE_NOOP(
    "core", "its {codec} data cannot be decoded: no readable frame header (damaged file)."
)
CODEC_MISMATCH = QT_TRANSLATE_NOOP(
    "core",
    "its {codec} data says {w} x {h} pixels with {comps} components, the DICOM header {cols} x {rows} with "
    "{samples} (damaged or forged file).",
)
RLE_NO_TABLE = QT_TRANSLATE_NOOP("core", "its RLE data has no segment table (damaged file).")
RLE_TABLE_MISMATCH = QT_TRANSLATE_NOOP(
    "core", "its RLE segment table does not match the image header (damaged file)."
)
# a PNG, JPEG, TIFF or BMP file (imaging/raster.py)
RASTER_NO_SIZE = QT_TRANSLATE_NOOP(
    "core", "the {kind} file is damaged or truncated: its size cannot be read."
)
RASTER_UNDECODABLE = QT_TRANSLATE_NOOP(
    "core", "the {kind} file is damaged or truncated and cannot be decoded."
)
RASTER_SIZE_MISMATCH = QT_TRANSLATE_NOOP(
    "core", "the decoded size does not match the file header (damaged file)."
)
RASTER_TOO_LARGE = QT_TRANSLATE_NOOP("core", "the image is too large (over 100 megapixels).")
SIZE_MISMATCH = QT_TRANSLATE_NOOP("core", "the decoded image is {w} x {h}, not {cols} x {rows} as declared.")
