"""One family of user-facing errors.

Every error a user can cause (a bad file, a contour that does not fit, a broken model) is a
`DlrsError` whose message is written for the user. The CLI prints it on one line and exits
with `exit_code`; the GUI shows it in a dialog. Anything else is a bug. An error raised with `of`
carries its sentence as a template and values (`wording.Worded`), which the GUI shows in the interface's
language; the CLI and log files print the English.
"""

from __future__ import annotations

from typing import Self

from dlrs_desktop.wording import Worded


class DlrsError(Exception):
    """Base class: the message is shown to the user as is."""

    exit_code = 2
    worded: Worded | None = None

    @classmethod
    def of(cls, template: str, **values: object) -> Self:
        """The error whose message is `template` filled with `values`; `template` is marked where it is
        written with `QT_TRANSLATE_NOOP("core", "…")` (pyside6-lupdate reads only a literal context)."""
        worded = Worded(template, values)
        error = cls(str(worded))
        error.worded = worded
        return error

    @classmethod
    def keeping(cls, error: DlrsError) -> Self:
        """`error`'s sentence as an error of this type, its wording kept for translation (a caller's
        own error type around a shared check)."""
        converted = cls(str(error))
        converted.worded = error.worded
        return converted


def reason_of(exc: BaseException) -> Worded | str:
    """An error's sentence as the core raised it: its `Worded` (translatable), else its message."""
    worded = getattr(exc, "worded", None)
    return worded if isinstance(worded, Worded) else str(exc)


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
