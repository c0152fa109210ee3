"""One case for the command line: image + contour + the calibration the GUI would use for it.

A GUI sidecar (`<image>.dlrs.json`) is read with the store's own parser and applied only when its
`image_sha256` is the image's (a sidecar copied next to another image is refused, never applied).
The calibration comes from `effective_calibration`, the one rule the GUI, the report and training use.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop.errors import CalibrationError, ContourError, DlrsError
from dlrs_desktop.imaging import Calibration, effective_calibration, load_image
from dlrs_desktop.limits import MAX_CONTOUR_FILE_BYTES, parse_json, read_regular_bytes
from dlrs_desktop.store.annotation import SIDECAR_SUFFIX, AnnotationStore
from dlrs_desktop.store.record import SCHEMA, Annotation

AUTO = "auto"  # `--spacing auto`: read the on-screen depth scale when the file has no scale


@dataclass(frozen=True)
class Case:
    image: Any  # UltrasoundImage carrying the effective calibration
    contour: Any  # Contour
    calibration: Any  # EffectiveCalibration
    annotation: Any = None  # store Annotation when the contour came from a GUI sidecar
    depth_scale: Any = None  # DepthScaleReading when `--spacing auto` read the ruler


def spacing_arg(text: str) -> float | str:
    """argparse type of `--spacing`: a number of mm per pixel, or `auto` (the depth scale)."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected mm per pixel or 'auto', not {text!r}") from None


def add_image_arguments(parser: argparse.ArgumentParser, spacing_help: str, *, typed: bool = False) -> None:
    """--spacing (a manual calibration, or 'auto': the on-screen depth scale) and --frame of a cine loop;
    `typed`: --spacing parsed by `spacing_arg` (one number or auto), else by the command itself (X or X,Y)."""
    spacing: dict[str, Any] = {"type": spacing_arg} if typed else {}
    parser.add_argument("--spacing", **spacing, metavar="MM_PER_PX", help=spacing_help)
    parser.add_argument("--frame", type=int, default=None, help="frame of a cine loop (0 = first)")


def as_spacing(value: Any) -> Any:
    """`--spacing`'s value as `load_case` takes it: a manual Calibration, AUTO, or None."""
    if value is None or value == AUTO:
        return value
    return Calibration.manual(float(value))


def read_scale(image: Any, name: str) -> Any:
    """The depth-scale reading of an image; CalibrationError (exit 2, one line) when it refuses."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.imaging.depth_scale import DepthScaleRefusal, read_depth_scale

    reading = read_depth_scale(image)
    if isinstance(reading, DepthScaleRefusal):
        raise CalibrationError(f"--spacing auto: {name}: {reading.reason}")
    return reading


def scale_line(reading: Any) -> str:
    """What `--spacing auto` read, for the command's text output."""
    return f"calibration  {reading.mm_per_px:.4f} mm/px · source depth-scale · {reading.summary()}"


def is_sidecar(path: Path) -> bool:
    """A GUI annotation file, by its name or (for renamed copies) by its schema."""
    if path.name.endswith(SIDECAR_SUFFIX):
        return True
    if path.suffix.lower() != ".json":
        return False
    try:
        data = _read_json(path)
    except (DlrsError, OSError):
        return False  # not a readable sidecar: the contour reader says why
    return isinstance(data, dict) and data.get("schema") == SCHEMA


def _read_json(path: Path) -> Any:
    """JSON of a regular file within the contour-file limit (a pipe never blocks; strict JSON)."""
    raw = read_regular_bytes(path, "annotation file", MAX_CONTOUR_FILE_BYTES)
    return parse_json(raw, f"annotation file {path.name}", ContourError)


def read_sidecar(path: Path) -> Any:
    """The annotation in a sidecar file (store parser); ContourError if it is not a usable one."""
    if not path.exists():
        raise ContourError(f"Annotation file not found: {path}")
    try:
        data = _read_json(path)
    except ContourError:
        raise
    except (DlrsError, OSError) as exc:
        raise ContourError(f"{path.name} is not a readable annotation file ({exc}).") from None
    try:
        return Annotation.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise ContourError(f"{path.name} is not a usable DLRS annotation ({exc}).") from None


def _check_owner(ann: Any, path: Path, image: Any, image_path: Path) -> None:
    if ann.image_sha256 != image.sha256:
        raise ContourError(
            f"{path.name} belongs to a different image (its image_sha256 {ann.image_sha256[:12]}… is not "
            f"{image_path.name}'s {image.sha256[:12]}…); it was not applied."
        )
    if ann.contour is None:
        raise ContourError(f"{path.name} holds no contour for {image_path.name}.")


def _stored_annotation(image: Any, image_path: Path, sidecar: Path) -> Any:
    """The newest copy the GUI would open (per-user store or beside the image), sha256 checked."""
    result = AnnotationStore(write_beside=False).load(image.sha256, image_path)
    ann = result.annotation
    if ann is None:
        if result.rejected:
            raise ContourError(result.rejected[0])
        raise ContourError(f"{sidecar.name} is not a usable annotation for {image_path.name}.")
    _check_owner(ann, sidecar, image, image_path)
    return ann


def load_case(
    image_path: Path,
    contour_file: Path | None,
    *,
    frame: int | None = None,
    spacing: Any = None,
    beside: bool = False,
) -> Case:
    """Image, contour and effective calibration of a case.

    `contour_file`: contour JSON, labelme, mask image, DICOM SEG or GUI sidecar; `beside`: it was found next
    to the image by the naming convention (a sidecar is then looked up the way the GUI does).
    `spacing`: a Calibration given for this run (`--spacing`), the first in the precedence; or AUTO:
    the on-screen depth scale is read when the file has no scale of its own (a refusal is exit 2).
    """
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.imaging.dicom_seg import ImageRef, is_seg_file, seg_source_frame
    from dlrs_desktop.roi import Contour
    from dlrs_desktop.roi.contour import MASK_SUFFIXES

    if contour_file is None:
        raise ContourError(
            f"No contour for {image_path.name}: pass --contour/--mask or put {image_path.stem}.contour.json "
            f"or {image_path.stem}_mask.png beside it."
        )
    ann = None
    drawn = None
    if is_sidecar(contour_file):
        direct = None if beside else read_sidecar(contour_file)
        image = load_image(image_path, frame if frame is not None else (direct.frame if direct else None))
        if direct is not None:
            _check_owner(direct, contour_file, image, image_path)
            ann = direct
        else:
            ann = _stored_annotation(image, image_path, contour_file)
            if frame is None and ann.frame != image.frame_index:
                image = load_image(image_path, ann.frame)
        drawn = Contour.from_dict(ann.contour)
    else:
        seg = is_seg_file(contour_file)
        if contour_file.suffix.lower() not in MASK_SUFFIXES | {".jpg", ".jpeg"} and not seg:
            drawn = Contour.load(contour_file)
        if frame is None:  # the contour's own frame; a SEG of a cine loop names the frame it was drawn on
            frame = drawn.frame if drawn is not None else (seg_source_frame(contour_file) if seg else None)
        image = load_image(image_path, frame)
        if drawn is None:
            ref = ImageRef.of(image_path) if seg else None  # a SEG must reference this very image
            drawn = Contour.load_any(contour_file, image.shape, frame=image.frame_index, image_ref=ref)
    own = drawn.calibration
    fallback = own if own is not None and own.source == "manual" else None
    saved = None if ann is None else ann.calibration
    reading = None
    if spacing == AUTO:
        spacing = None
        first = effective_calibration(image, drawn.points, saved=saved)
        if first.calibration is None and not any(r.usable_for_mm for r in image.regions):
            reading = read_scale(image, image_path.name)
    eff = effective_calibration(
        image,
        drawn.points,
        override=spacing,
        saved=saved,
        fallback=fallback,
        depth_scale=None if reading is None else reading.calibration(),
    )
    return Case(eff.image, drawn, eff, ann, reading)
