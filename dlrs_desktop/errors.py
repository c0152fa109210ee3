"""One family of user-facing errors.

Every error a user can cause (a bad file, a contour that does not fit, a broken model) is a
`DlrsError` whose message is written for the user. The CLI prints it on one line and exits
with `exit_code`; the GUI shows it in a dialog. Anything else is a bug.
"""


class DlrsError(Exception):
    """Base class: the message is shown to the user as is."""

    exit_code = 2


class ImageLoadError(DlrsError):
    """The image file cannot be read as an ultrasound image."""


class CalibrationError(DlrsError):
    """No trustworthy mm/pixel, or a manual calibration that makes no sense."""


class ContourError(DlrsError):
    """The tumour contour is invalid for this image."""


class CohortError(DlrsError):
    """A training/validation cohort file is unusable."""


class ModelError(DlrsError):
    """The model bundle is missing, tampered with, or cannot run."""

    exit_code = 3
