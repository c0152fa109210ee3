"""The tumour contour: an immutable polygon in image pixels, with the calibration it was drawn under.

Immutable so the GUI, the ring computation and the model (in a worker thread) can share one object, and
so "stale" is a simple comparison of `content_hash()`. Every edit returns a new contour.
Coordinates: x to the right, y down, in pixels; pixel (row i, col j) covers [j, j+1) × [i, i+1).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from dlrs_desktop.errors import CalibrationError, ContourError, DlrsError, reason_of
from dlrs_desktop.fileio import atomic_write_json
from dlrs_desktop.imaging.dicom_seg import is_seg_file, read_seg_mask
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.limits import (
    CONTOUR_FILE,
    MASK_IMAGE,
    MAX_CONTOUR_FILE_BYTES,
    MAX_CONTOUR_VERTICES,
    MAX_FRAMES,
    MAX_IMAGE_FILE_BYTES,
    MAX_PIXELS,
    ContourLimitError,
    LimitError,
    check_file_as,
    parse_json,
    read_regular_bytes,
)
from dlrs_desktop.roi import contour_text as T
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.wording import Worded

if TYPE_CHECKING:
    from dlrs_desktop.imaging.dicom_seg import ImageRef

SCHEMA = "dlrs-contour"
SCHEMA_VERSION = 1
MASK_SUFFIXES = {".png", ".tif", ".tiff", ".bmp"}
MAX_CONTOUR_VERTICES_READ = 10 * MAX_CONTOUR_VERTICES  # more is not read at all
SIMPLIFY_TOLERANCE_PX = 0.25
MAX_COORDINATE = 1e7  # pixels; no image is this large, and squares of it stay exact enough

Point = tuple[float, float]


@dataclass(frozen=True)
class Measurements:
    """What a sonographer reports, in millimetres, with the caliper endpoints (image px) for drawing."""

    area_mm2: float
    perimeter_mm: float
    max_diameter_mm: float
    perpendicular_diameter_mm: float
    max_diameter_endpoints_px: tuple[Point, Point]
    perpendicular_endpoints_px: tuple[Point, Point]

    def to_dict(self) -> dict[str, Any]:
        """The fields by name, each endpoint pair as JSON lists ([[x, y], [x, y]])."""
        return {k: [list(p) for p in v] if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _points_array(points: Any) -> np.ndarray:
    if isinstance(points, str | bytes | dict) or points is None:
        raise ContourError.of(T.NOT_PAIRS)
    try:
        arr = np.array(points, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ContourError.of(T.NOT_PAIRS) from exc
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ContourError.of(T.NOT_PAIRS)
    if not np.isfinite(arr).all() or (arr.size and float(np.abs(arr).max()) > MAX_COORDINATE):
        raise ContourError.of(T.NOT_FINITE)
    if len(arr) > MAX_CONTOUR_VERTICES:
        arr = _simplify_to_limit(arr)
    arr.setflags(write=False)
    return arr


def _simplify_to_limit(arr: np.ndarray) -> np.ndarray:
    """A contour over the vertex limit: Douglas–Peucker at a quarter pixel, or refused if still over."""
    if len(arr) > MAX_CONTOUR_VERTICES_READ:
        raise ContourLimitError.of(
            T.TOO_MANY_READ, count=len(arr), limit=MAX_CONTOUR_VERTICES_READ, kept=MAX_CONTOUR_VERTICES
        )
    simple = arr[geo.douglas_peucker_closed(arr, SIMPLIFY_TOLERANCE_PX)]
    if len(simple) > MAX_CONTOUR_VERTICES:
        raise ContourLimitError.of(
            T.TOO_MANY_KEPT, count=len(arr), simple=len(simple), limit=MAX_CONTOUR_VERTICES
        )
    return np.ascontiguousarray(simple)


def _frame_value(value: Any) -> int:
    """A frame index from JSON: a non-negative whole number, nothing else (no bool, inf, 1e400, text)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContourError.of(T.FRAME_NOT_WHOLE, value=repr(str(value)[:40]))
    if not (math.isfinite(value) and value == int(value) and 0 <= value <= MAX_FRAMES):
        raise ContourError.of(T.FRAME_OUT_OF_RANGE, value=str(value)[:40], last=MAX_FRAMES)
    return int(value)


def _pt(p: np.ndarray) -> Point:
    return (float(p[0]), float(p[1]))


@dataclass(frozen=True, eq=False)
class Contour:
    """Closed polygon (no repeated closing vertex) in image pixel coordinates (x, y)."""

    points: np.ndarray
    calibration: Calibration | None = None
    frame: int = 0
    region_index: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _points_array(self.points))
        object.__setattr__(self, "frame", int(self.frame))

    # ------------------------------------------------------------------------------ identity
    def __len__(self) -> int:
        return len(self.points)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Contour):
            return NotImplemented
        return (
            np.array_equal(self.points, other.points)
            and self.calibration == other.calibration
            and self.frame == other.frame
            and self.region_index == other.region_index
        )

    def __hash__(self) -> int:
        return hash(self.content_hash())

    def __repr__(self) -> str:
        cal = self.calibration.label() if self.calibration else "uncalibrated"
        return f"Contour({len(self.points)} points, frame {self.frame}, {cal})"

    def content_hash(self) -> str:
        """sha256 over points, calibration and frame: what decides whether a result is stale."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.points, dtype="<f8").tobytes())
        cal = self.calibration.to_dict() if self.calibration else None
        h.update(json.dumps({"calibration": cal, "frame": self.frame}, sort_keys=True).encode())
        return h.hexdigest()

    # -------------------------------------------------------------------------------- editing
    def _with_points(self, pts: np.ndarray) -> Contour:
        return replace(self, points=pts)

    def with_calibration(self, calibration: Calibration | None) -> Contour:
        return replace(self, calibration=calibration)

    def insert_vertex(self, i: int, xy: Point) -> Contour:
        """A new vertex before index i (i == len appends, between the last and first vertex)."""
        return self._with_points(np.insert(self.points, i, np.asarray(xy, float), axis=0))

    def move_vertex(self, i: int, xy: Point) -> Contour:
        pts = self.points.copy()
        pts[i] = xy
        return self._with_points(pts)

    def delete_vertex(self, i: int) -> Contour:
        return self._with_points(np.delete(self.points, i, axis=0))

    def translated(self, dx: float, dy: float) -> Contour:
        return self._with_points(self.points + np.array([dx, dy], float))

    def smoothed(self, iterations: int = 2, strength: float = 0.5) -> Contour:
        """Taubin smoothing (no shrinkage); vertex count and order are kept."""
        return self._with_points(geo.taubin_smooth(self.points, iterations, strength, -(strength + 0.03)))

    def resampled(self, spacing_mm: float) -> Contour:
        """Vertices at even spacing along the outline, in millimetres (anisotropy-aware)."""
        if not spacing_mm > 0:
            raise ContourError.of(T.SPACING_NOT_POSITIVE)
        s = self._scale(T.TO_RESAMPLE)
        return self._with_points(geo.resample_closed(self.points * s, spacing_mm) / s)

    def simplified(self, tolerance_px: float = 0.5) -> Contour:
        """Douglas–Peucker: drop vertices that move the outline by less than `tolerance_px`."""
        keep = geo.douglas_peucker_closed(self.points, float(tolerance_px))
        return self._with_points(self.points[keep])

    def offset(self, d_mm: float) -> Contour:
        """Grown (d > 0) or shrunk (d < 0) by d millimetres everywhere, honouring anisotropic pixels.

        On a grid of the image's own pixel size (accuracy about a quarter pixel, ~0.02 mm): a half-pixel
        grid cost 2.6x the time for no difference a ring or the sensitivity band can show (the
        sensitivity stage makes four of these per prediction; issue 29)."""
        if d_mm == 0:
            return self
        s = self._scale(T.TO_OFFSET)
        pts_mm = self.points * s
        out = geo.offset_polygon(pts_mm, float(d_mm), cell=float(min(s)))
        if out is None:
            raise ContourError.of(T.SHRUNK_TO_NOTHING, mm=abs(d_mm))
        return self._with_points(out / s)

    def _scale(self, why: str) -> np.ndarray:
        """The contour's mm per pixel (x, y); `why` (a marked clause) says what needed it."""
        if self.calibration is None:
            raise CalibrationError.of(T.NO_CALIBRATION_TO, why=Worded(why))
        return np.array([self.calibration.mm_per_px_x, self.calibration.mm_per_px_y])

    # ---------------------------------------------------------------------------------- masks
    def to_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Bool (H, W): pixels whose centres are inside the contour."""
        return geo.rasterize(self.points, (int(shape[0]), int(shape[1]))).copy()

    @classmethod
    def from_mask(
        cls,
        mask: np.ndarray,
        calibration: Calibration | None = None,
        frame: int = 0,
        region_index: int | None = None,
    ) -> Contour:
        """Outline of the largest connected component (holes filled) of a binary mask (non-zero = tumour)."""
        arr = np.asarray(mask)
        if arr.ndim != 2:
            raise ContourError.of(T.MASK_NOT_SINGLE_CHANNEL)
        pts = geo.mask_to_polygon(arr != 0)
        if pts is None:
            raise ContourError.of(T.MASK_EMPTY)
        return cls(pts, calibration, frame, region_index)

    # --------------------------------------------------------------------------- measurements
    def area_px(self) -> float:
        return abs(geo.signed_area(self.points)) if len(self.points) >= 3 else 0.0

    def measurements(self, calibration: Calibration | None = None) -> Measurements:
        """Area, perimeter, longest diameter and the longest perpendicular to it, in mm.

        Points are converted to millimetres first, so anisotropic pixels measure correctly.
        """
        cal = calibration or self.calibration
        if cal is None:
            raise CalibrationError.of(T.NOT_MEASURED)
        if len(self.points) < 3:
            raise ContourError.of(T.TOO_FEW_POINTS, count=len(self.points))
        s = np.array([cal.mm_per_px_x, cal.mm_per_px_y])
        pts = self.points * s
        dmax, a, b = geo.max_feret(pts)
        dperp, c, d = geo.perpendicular_chord(pts, a, b)
        return Measurements(
            area_mm2=abs(geo.signed_area(pts)),
            perimeter_mm=geo.perimeter(pts),
            max_diameter_mm=dmax,
            perpendicular_diameter_mm=dperp,
            max_diameter_endpoints_px=(_pt(a / s), _pt(b / s)),
            perpendicular_endpoints_px=(_pt(c / s), _pt(d / s)),
        )

    # ----------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "points": self.points.tolist(),
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "frame": self.frame,
            "region_index": self.region_index,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Contour:
        if not isinstance(d, dict) or "points" not in d:
            raise ContourError.of(T.NO_POINTS)
        if d.get("schema", SCHEMA) != SCHEMA:
            raise ContourError.of(T.OTHER_SCHEMA, schema=str(d.get("schema"))[:80])
        version = d.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ContourError.of(T.NEWER_FORMAT, version=str(version)[:40], supported=SCHEMA_VERSION)
        pts = geo.drop_repeated(_points_array(d["points"]))
        cal = d.get("calibration")
        frame = _frame_value(d.get("frame"))
        try:
            if cal is not None and not isinstance(cal, dict):
                raise TypeError("the calibration must be an object")
            calibration = Calibration.from_dict(cal) if cal else None
            region = d.get("region_index")
            if region is not None and (isinstance(region, bool) or not isinstance(region, int)):
                region = None  # a damaged hint only: the region is recomputed from the points
            region_index = None if region is None or not 0 <= region < 1_000_000 else int(region)
        except (KeyError, TypeError, ValueError, OverflowError, CalibrationError) as exc:
            raise ContourError.of(T.CALIBRATION_MALFORMED, detail=reason_of(exc)) from exc
        return cls(pts, calibration, frame, region_index)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Atomic write: a crash leaves the old file or the new one, never a torn one."""
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Contour:
        """A contour JSON, any JSON with a top-level "contour" object (GUI sidecars), or a labelme file."""
        p = Path(path)
        if not os.path.lexists(p):
            raise ContourError.of(T.FILE_NOT_FOUND, path=str(p))
        try:
            raw = read_regular_bytes(p, CONTOUR_FILE, MAX_CONTOUR_FILE_BYTES)
        except LimitError as exc:
            raise ContourLimitError.keeping(exc) from None
        except DlrsError as exc:
            raise ContourError.keeping(exc) from None
        except OSError as exc:
            raise ContourError.of(T.FILE_UNREADABLE, name=p.name, detail=exc.strerror or str(exc)) from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ContourError.of(T.FILE_NOT_UTF8, name=p.name) from None
        try:
            data = parse_json(text, "text", ContourError)
        except ContourError as exc:
            raise ContourError.of(T.FILE_NOT_JSON, name=p.name, detail=reason_of(exc)) from None
        if isinstance(data, dict) and isinstance(data.get("contour"), dict):
            return cls.from_dict(data["contour"])
        if isinstance(data, dict) and "shapes" in data and "points" not in data:
            return _from_labelme(data, p.name)
        if not isinstance(data, dict) or "points" not in data:
            raise ContourError.of(T.FILE_WITHOUT_CONTOUR, name=p.name)
        return cls.from_dict(data)

    @classmethod
    def load_any(
        cls,
        path: str | os.PathLike[str],
        shape: tuple[int, int],
        *,
        calibration: Calibration | None = None,
        frame: int = 0,
        image_ref: ImageRef | None = None,
    ) -> Contour:
        """A contour JSON, a mask image (PNG/TIFF/BMP, non-zero = tumour) of the image's `shape` (H, W),
        or a DICOM Segmentation (its tumour segment, see `imaging.dicom_seg`).

        `calibration` and `frame` are attached to contours made from masks (a mask carries neither);
        a SEG that records its source frame gives that frame instead. `image_ref`: the image's DICOM
        UIDs (`ImageRef.of(image_path)`); a SEG is read only when it references exactly that image.
        """
        p = Path(path)
        if is_seg_file(p):
            mask, seg_frame = read_seg_mask(p, tuple(shape), image_ref)
            return cls.from_mask(mask, calibration, frame if seg_frame is None else seg_frame)
        if p.suffix.lower() in MASK_SUFFIXES:
            mask = read_mask(p)
            if mask.shape != tuple(shape):
                raise ContourError.of(
                    T.MASK_SIZE,
                    name=p.name,
                    mask_w=mask.shape[1],
                    mask_h=mask.shape[0],
                    image_w=shape[1],
                    image_h=shape[0],
                )
            return cls.from_mask(mask, calibration, frame)
        if p.suffix.lower() in {".jpg", ".jpeg"}:
            raise ContourError.of(T.MASK_JPEG, name=p.name)
        return cls.load(p)


def read_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Bool (H, W) from a mask image: palette index, gray value or any RGB channel non-zero = tumour."""
    p = Path(path)
    check_file_as(p, MASK_IMAGE, MAX_IMAGE_FILE_BYTES, ContourLimitError, ContourError)
    try:
        with Image.open(p) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ContourLimitError.of(
                    T.MASK_PIXELS, name=p.name, w=im.width, h=im.height, megapixels=MAX_PIXELS // 1_000_000
                )
            if im.mode == "P":
                arr = np.asarray(im) != 0
            elif im.mode in ("RGB", "RGBA", "CMYK", "YCbCr"):
                arr = (np.asarray(im.convert("RGB")) != 0).any(axis=2)
            elif im.mode == "LA":
                arr = np.asarray(im)[..., 0] != 0
            else:
                arr = np.asarray(im) != 0
    except FileNotFoundError as exc:
        raise ContourError.of(T.MASK_NOT_FOUND, path=str(p)) from exc
    except Image.DecompressionBombError:
        raise ContourLimitError.of(T.MASK_BOMB, name=p.name, megapixels=MAX_PIXELS // 1_000_000) from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, MemoryError) as exc:
        raise ContourError.of(T.MASK_UNREADABLE, name=p.name, detail=str(exc)) from exc
    if arr.ndim != 2:
        raise ContourError.of(T.MASK_NOT_2D, name=p.name)
    return arr


def _from_labelme(data: dict[str, Any], name: str) -> Contour:
    """labelme's format: the largest polygon shape (labelme also puts pixel centres at +0.5)."""
    shapes = data.get("shapes")
    if not isinstance(shapes, list):
        raise ContourError.of(T.LABELME_SHAPES, name=name)
    polys = []
    for s in shapes:
        if not isinstance(s, dict) or s.get("shape_type", "polygon") != "polygon":
            continue
        pts = s.get("points")
        if not isinstance(pts, list) or len(pts) < 3:
            continue
        try:
            polys.append(_points_array(pts))
        except ContourError as exc:
            raise ContourError.of(T.LABELME_POLYGON, name=name, detail=reason_of(exc)) from None
    if not polys:
        raise ContourError.of(T.LABELME_EMPTY, name=name)
    best = max(polys, key=lambda p: abs(geo.signed_area(p)))
    return Contour(geo.drop_repeated(_points_array(best)))
