"""The open image and everything the user did to it, without Qt (napari-style model).

Views subscribe with `doc.events.connect(callback)`; the callback receives the kind of change ("image",
"contour", "calibration", "frame", "result", "review", "exam", "saved", "ruler", "rings", "model",
"path"). Every public field is an evented property (napari's evented model): assigning it emits its
kind, so no write can bypass the views; a compound change (a new image) emits one event for the whole
(`_batch`). Keeping this Qt-free means the rules that matter most — a result belongs to exactly one
contour and one model, any edit or model switch makes it stale, review status returns to draft on
edit — are plain Python and tested without a window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dlrs_desktop.errors import DlrsError, reason_of
from dlrs_desktop.imaging.calibration import EffectiveCalibration, effective_calibration
from dlrs_desktop.model.result import SavedResult
from dlrs_desktop.store.record import Annotation, Review, now_iso
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Translate, Worded, english, in_words

CONTEXT = "document"  # the translation context of this module's words


if TYPE_CHECKING:
    from dlrs_desktop.imaging import Calibration, UltrasoundImage
    from dlrs_desktop.roi import Contour, RoiSet

Listener = Callable[[str], None]
DEFAULT_RING_RADII_MM = (3.0, 5.0, 10.0)  # until a model bundle says otherwise


class Events:
    """Minimal synchronous event hub (the views run on the GUI thread, so no queueing is needed)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self.blocked = 0  # > 0 inside Document._batch: field events wait for the batch's one event

    def connect(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, kind: str) -> None:
        if self.blocked:
            return
        for listener in list(self._listeners):
            listener(kind)


class _Field:
    """A public Document field: assigning it emits `kind`; an `edit` also counts as an unsaved change
    and returns a reviewed contour to draft (the rule lives here, not in every caller)."""

    def __init__(self, kind: str, *, edit: bool = False, saved: bool = False) -> None:
        self.kind, self.edit, self.saved = kind, edit, saved or edit

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = f"_{name}"

    def __get__(self, doc: Any, owner: type | None = None) -> Any:
        return self if doc is None else getattr(doc, self.attr)

    def __set__(self, doc: Document, value: Any) -> None:
        setattr(doc, self.attr, value)
        doc._field_changed(self.kind, edit=self.edit, saved=self.saved)


class Document:
    """One image under review. Every field assignment emits its event; none does geometry itself (`roi`)."""

    FIELDS: ClassVar[dict[str, str]] = {  # public field → the event its assignment emits (tested)
        "path": "path", "base_image": "frame", "manual_calibration": "calibration", "contour": "contour",
        "result": "result", "prediction": "result", "result_verified": "result", "review": "review",
        "exam": "exam", "ruler": "ruler", "ring_radii_mm": "rings", "model_sha256": "model",
        "sensitivity_computing": "result",
    }  # fmt: skip
    path: Path | None = _Field("path")  # type: ignore[assignment]
    base_image: UltrasoundImage | None = _Field("frame", saved=True)  # type: ignore[assignment]  # as read from the file
    manual_calibration: Calibration | None = _Field("calibration", edit=True)  # type: ignore[assignment]
    contour: Contour | None = _Field("contour", edit=True)  # type: ignore[assignment]
    result: SavedResult | None = _Field("result", saved=True)  # type: ignore[assignment]
    prediction: Any = _Field("result")  # the live Prediction (CAM maps), only for results made this session
    # True only for a result the model computed in this session; one read from a file is "saved — not
    # verified" until Predict re-computes it (a sidecar can be edited by anyone).
    result_verified: bool = _Field("result")  # type: ignore[assignment]
    # True while the shown result's second stage (its contour sensitivity) is still being computed: the
    # probability is on screen, the band is not yet (this session only; never saved).
    sensitivity_computing: bool = _Field("result")  # type: ignore[assignment]
    review: Review = _Field("review", saved=True)  # type: ignore[assignment]
    exam: dict[str, Any] | None = _Field("exam", saved=True)  # type: ignore[assignment]  # time point
    ruler: tuple[np.ndarray, np.ndarray] | None = _Field("ruler")  # type: ignore[assignment]  # this image only
    ring_radii_mm: tuple[float, ...] = _Field("rings")  # type: ignore[assignment]  # the loaded bundle's
    model_sha256: str | None = _Field("model")  # type: ignore[assignment]  # the loaded model (set_model)

    def __init__(self) -> None:
        self.events = Events()
        self.revision = 0  # bumps on every change that must be saved
        self.saved_revision = 0
        self._path: Path | None = None  # the fields' storage (_Field): set here without events
        self._base_image: UltrasoundImage | None = None
        self._manual_calibration: Calibration | None = None
        self._contour: Contour | None = None
        self._result: SavedResult | None = None
        self._prediction: Any = None
        self._result_verified = False
        self._sensitivity_computing = False
        self._review = Review()
        self._exam: dict[str, Any] | None = None
        self._ruler: tuple[np.ndarray, np.ndarray] | None = None
        self._ring_radii_mm: tuple[float, ...] = DEFAULT_RING_RADII_MM
        self._model_sha256: str | None = None
        self._rois_key: tuple[str, tuple[float, ...], str] | None = None
        self._rois: RoiSet | None = None
        self._rois_error: Worded | str | None = None
        self._problem_key: str | None = None
        self._problem: Worded | str | None = None

    @contextmanager
    def _batch(self, kind: str | None) -> Iterator[None]:
        """Several fields change as one: their own events are held back and `kind` is emitted once."""
        review = self._review
        self.events.blocked += 1
        try:
            yield
        finally:
            self.events.blocked -= 1
        if kind is not None:
            self.events.emit(kind)
        if self._review is not review and kind != "image":  # an edit in the batch returned it to draft
            self.events.emit("review")

    def _field_changed(self, kind: str, *, edit: bool, saved: bool) -> None:
        if saved:
            self.revision += 1
        self.events.emit(kind)
        if edit and self._review.status == "reviewed":
            self.review = Review("draft")  # emits "review" (after the batch, inside one)

    # ----------------------------------------------------------------- state
    @property
    def image(self) -> UltrasoundImage | None:
        if self.base_image is None:
            return None
        return self.effective_calibration().image

    @property
    def frame(self) -> int:
        return 0 if self.base_image is None else int(self.base_image.frame_index)

    @property
    def calibration(self) -> Calibration | None:
        """The calibration that measures the contour (`effective_calibration`, as the CLI decides it)."""
        if self.base_image is None:
            return None
        return self.effective_calibration().calibration

    def effective_calibration(self) -> EffectiveCalibration:
        """The one core rule (imaging.calibration) applied to this image and the user's calibration."""
        assert self.base_image is not None
        pts = None if self.contour is None or not len(self.contour.points) else self.contour.points
        return effective_calibration(self.base_image, pts, saved=self.manual_calibration)

    @property
    def dirty(self) -> bool:
        return self.revision != self.saved_revision

    @property
    def result_is_stale(self) -> bool:
        """True when the shown result was computed for another image/contour/calibration/frame.

        The contour hash covers points, calibration and frame; the image hash is checked when the
        result records it.
        """
        if self.result is None:
            return False
        if self.contour is None or self.result.contour_hash != self.contour.content_hash():
            return True
        image_sha = self.result.identity.image_sha256 if self.result.identity is not None else None
        if image_sha is not None and (self.base_image is None or image_sha != self.base_image.sha256):
            return True
        return self.result_model_changed

    @property
    def result_model_changed(self) -> bool:
        """The result was computed by another model than the one loaded now (a model switch)."""
        if self.result is None or self.model_sha256 is None:
            return False
        sha = self.result.model_sha256
        return sha is not None and sha != self.model_sha256

    @property
    def result_state(self) -> str:
        """ "none", "stale", "unverified" (read from a file, not re-computed) or "current"."""
        if self.result is None:
            return "none"
        if self.result_is_stale:
            return "stale"
        return "current" if self.result_verified and self.prediction is not None else "unverified"

    # ----------------------------------------------------------------- changes
    def open(self, image: UltrasoundImage, path: str | Path | None = None) -> None:
        """A new image: forget everything of the previous one (it was autosaved by the window)."""
        with self._batch("image"):
            self.path = Path(path) if path is not None else None
            self.base_image = image
            self.manual_calibration = None
            self.contour = None
            self.result = None
            self.prediction = None
            self.result_verified = False
            self.sensitivity_computing = False
            self.review = Review()
            self.exam = None
            self.ruler = None
            self.revision = self.saved_revision = 0  # before the "image" event: a new image is clean

    def make_contour(self, points: np.ndarray) -> Contour:
        """A contour bound to this image's calibration (the region containing it) and frame."""
        # lazy: cv2 (~0.45 s) only when this runs, not at start-up
        from dlrs_desktop.roi import Contour

        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        image = self.image
        cal = image.calibration_for(pts) if image is not None and len(pts) else None
        region = cal.region_index if cal is not None else None
        return Contour(pts, calibration=cal, frame=self.frame, region_index=region)

    def set_contour(self, contour: Contour | None) -> None:
        self.contour = contour

    def set_contour_points(self, points: np.ndarray | None) -> None:
        self.set_contour(None if points is None or len(points) == 0 else self.make_contour(points))

    def set_manual_calibration(self, calibration: Calibration | None) -> None:
        """A user calibration (or None to go back to the file's); the contour is re-bound to it."""
        with self._batch("calibration"):
            self.manual_calibration = calibration
            if self.contour is not None:
                self.contour = self.make_contour(np.asarray(self.contour.points))

    def set_frame_image(self, image: UltrasoundImage) -> None:
        """Another frame of the same cine loop; the contour follows to that frame (and goes stale)."""
        with self._batch("frame"):
            self.base_image = image
            if self.contour is not None:
                self.contour = self.make_contour(np.asarray(self.contour.points))

    def set_result(
        self, result: SavedResult | None, prediction: Any = None, *, computing: bool = False
    ) -> None:
        """A result with its live `prediction` is current; without one it is only ever "unverified".

        `computing`: the first stage only; its contour sensitivity is still being computed."""
        with self._batch("result"):
            self.result = result
            self.prediction = prediction
            self.result_verified = result is not None and prediction is not None
            self.sensitivity_computing = computing and self.result_verified

    def set_review(self, reviewed: bool, reviewer: str | None) -> None:
        if reviewed and self.contour is None:
            raise DlrsError(QT_TRANSLATE_NOOP("errors", "There is no contour to mark as reviewed."))
        self.review = Review("reviewed", reviewer or None, now_iso()) if reviewed else Review("draft")

    def set_exam(self, exam: dict[str, Any] | None) -> None:
        """The time point (label, pair, ...): saved with the annotation; not an edit of the contour."""
        kept = {k: v for k, v in (exam or {}).items() if v not in (None, "")}
        self.exam = kept or None

    def set_ruler(self, line: tuple[np.ndarray, np.ndarray] | None) -> None:
        """A measurement on this image (not part of the saved annotation; forgotten on the next image)."""
        self.ruler = line

    def ruler_text(self, p0: np.ndarray, p1: np.ndarray, tr: Translate = english) -> str:
        """ "10.5 mm · 105 px", or "105 px (not calibrated)" where no calibration covers the line
        (`tr`: the GUI's translation)."""
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        px = float(np.hypot(*(p1 - p0)))
        image = self.image
        cal = image.calibration_for(np.array([p0, p1])) if image is not None else None
        if cal is None:
            return tr(CONTEXT, QT_TRANSLATE_NOOP("document", "{px} px (not calibrated)")).format(
                px=f"{px:.0f}"
            )
        dx, dy = (p1 - p0) * (cal.mm_per_px_x, cal.mm_per_px_y)
        return f"{float(np.hypot(dx, dy)):.1f} mm · {px:.0f} px"

    def set_model(self, sha256: str | None) -> None:
        """The model loaded now (its manifest sha256): a result of another model is stale until the
        user predicts again; it is never re-computed behind their back."""
        if sha256 != self.model_sha256:
            self.model_sha256 = sha256

    def set_ring_radii(self, radii_mm: tuple[float, ...]) -> None:
        """The rings the loaded model uses (from its bundle), so the rings on screen are the model's."""
        radii = tuple(float(r) for r in radii_mm) or DEFAULT_RING_RADII_MM
        if radii != self.ring_radii_mm:
            self.ring_radii_mm = radii  # the ROI cache is keyed by the radii too

    def mark_saved(self, revision: int) -> None:
        self.saved_revision = revision
        self.events.emit("saved")

    # ----------------------------------------------------------------- derived (core does the maths)
    def rois(self, tr: Translate = english) -> tuple[RoiSet | None, str | None]:
        """Tumour + rings for the current contour, cached by contour hash; or the reason there are none
        (in the language of `tr`)."""
        if self.contour is None or self.image is None:
            return None, None
        key = (self.contour.content_hash(), self.ring_radii_mm, self.image.sha256)
        if key != self._rois_key:
            # lazy: roi imports cv2 (~0.45 s), kept out of the window's start-up
            from dlrs_desktop.roi import compute_rois

            self._rois_key = key
            self._rois, self._rois_error = None, None
            try:
                if len(self.contour.points) < 3:
                    raise DlrsError(QT_TRANSLATE_NOOP("errors", "The contour needs at least 3 points."))
                self._rois = compute_rois(self.contour, self.image, radii_mm=self.ring_radii_mm)
            except DlrsError as exc:
                self._rois_error = reason_of(exc)
        return self._rois, in_words(self._rois_error, tr)

    def contour_problem(self, tr: Translate = english) -> str | None:
        """Why the model would refuse this contour (outside the scan area, too small, ...), if it would,
        in the language of `tr`."""
        if self.contour is None or self.image is None:
            return None
        key = self.contour.content_hash()
        if key != self._problem_key:
            # lazy: cv2 (~0.45 s) only when this runs, not at start-up
            from dlrs_desktop.roi import validate_contour

            self._problem_key, self._problem = key, None
            try:
                validate_contour(self.contour, self.image)
            except DlrsError as exc:
                self._problem = reason_of(exc)
        return in_words(self._problem, tr)

    # ----------------------------------------------------------------- persistence
    def to_annotation(self) -> Annotation:
        if self.base_image is None:
            raise DlrsError(QT_TRANSLATE_NOOP("errors", "No image is open."))
        return Annotation(
            image_sha256=self.base_image.sha256,
            frame=self.frame,
            contour=None if self.contour is None else self.contour.to_dict(),
            calibration=None if self.manual_calibration is None else self.manual_calibration.to_dict(),
            result=None if self.result is None else self.result.to_json_dict(),
            review=self.review,
            exam=self.exam,
        )

    def apply_annotation(self, ann: Annotation, frame_image: UltrasoundImage | None = None) -> None:
        """Restore a saved state (the caller has checked the hash); `frame_image`: the saved frame of a
        cine loop, loaded by the caller, replaces the one open (one "image" event for all of it)."""
        image = frame_image or self.base_image
        if image is None or ann.image_sha256 != image.sha256:
            raise DlrsError(
                QT_TRANSLATE_NOOP(
                    "errors", "This annotation belongs to a different image and was not applied."
                )
            )
        # lazy: roi imports cv2 (~0.45 s); an annotation is applied only once an image is open
        from dlrs_desktop.imaging import Calibration
        from dlrs_desktop.roi import Contour

        result = SavedResult.from_json_dict(ann.result) if ann.result else None
        revision = self.revision  # restoring what was saved is not an unsaved change
        with self._batch("image"):
            self.base_image = image
            self.manual_calibration = Calibration.from_dict(ann.calibration) if ann.calibration else None
            contour = Contour.from_dict(ann.contour) if ann.contour else None
            # Re-bind to the current calibration: a saved contour never carries a stale mm scale.
            self.contour = None if contour is None else self.make_contour(np.asarray(contour.points))
            self.result = result
            self.prediction = None
            self.result_verified = False  # saved — not verified, until Predict runs on this computer
            self.sensitivity_computing = False
            self.review = ann.review
            self.exam = ann.exam
            self.revision = revision  # before the "image" event: restoring is not an unsaved change
