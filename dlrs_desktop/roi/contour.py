"""The tumour contour: an immutable polygon in image pixels, with the calibration it was drawn under.

Immutable so the GUI, the ring computation and the model (in a worker thread) can share one object, and
so "stale" is a simple comparison of `content_hash()`. Every edit returns a new contour.
Coordinates: x to the right, y down, in pixels; pixel (row i, col j) covers [j, j+1) × [i, i+1).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.roi import geometry as geo

SCHEMA = "dlrs-contour"
SCHEMA_VERSION = 1
MASK_SUFFIXES = {".png", ".tif", ".tiff", ".bmp"}

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
        return {
            "area_mm2": self.area_mm2,
            "perimeter_mm": self.perimeter_mm,
            "max_diameter_mm": self.max_diameter_mm,
            "perpendicular_diameter_mm": self.perpendicular_diameter_mm,
            "max_diameter_endpoints_px": [list(p) for p in self.max_diameter_endpoints_px],
            "perpendicular_endpoints_px": [list(p) for p in self.perpendicular_endpoints_px],
        }


def _points_array(points: Any) -> np.ndarray:
    try:
        arr = np.array(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ContourError("The contour points must be pairs of numbers (x, y).") from exc
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ContourError("The contour points must be pairs of numbers (x, y).")
    if not np.isfinite(arr).all():
        raise ContourError("The contour has points with missing or infinite coordinates.")
    arr.setflags(write=False)
    return arr


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
            raise ContourError("The resampling spacing must be a positive number of millimetres.")
        s = self._scale("resample the contour in millimetres")
        return self._with_points(geo.resample_closed(self.points * s, spacing_mm) / s)

    def simplified(self, tolerance_px: float = 0.5) -> Contour:
        """Douglas–Peucker: drop vertices that move the outline by less than `tolerance_px`."""
        keep = geo.douglas_peucker_closed(self.points, float(tolerance_px))
        return self._with_points(self.points[keep])

    def offset(self, d_mm: float) -> Contour:
        """Grown (d > 0) or shrunk (d < 0) by d millimetres everywhere, honouring anisotropic pixels."""
        if d_mm == 0:
            return self
        s = self._scale("offset the contour in millimetres")
        pts_mm = self.points * s
        out = geo.offset_polygon(pts_mm, float(d_mm), cell=float(min(s)) / 2)
        if out is None:
            raise ContourError(f"Shrinking the contour by {abs(d_mm):g} mm leaves nothing of the tumour.")
        return self._with_points(out / s)

    def _scale(self, why: str) -> np.ndarray:
        if self.calibration is None:
            raise CalibrationError(f"The contour has no calibration (mm per pixel); cannot {why}.")
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
            raise ContourError("A tumour mask must be a single-channel image.")
        pts = geo.mask_to_polygon(arr != 0)
        if pts is None:
            raise ContourError("The tumour mask is empty (no non-zero pixels).")
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
            raise CalibrationError("The contour has no calibration (mm per pixel), so it cannot be measured.")
        if len(self.points) < 3:
            raise ContourError(f"The contour needs at least 3 points; it has {len(self.points)}.")
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
            raise ContourError("This is not a contour: it has no list of points.")
        if d.get("schema", SCHEMA) != SCHEMA:
            raise ContourError(f"This file holds a '{d.get('schema')}', not a tumour contour.")
        version = d.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ContourError(
                f"This contour file uses format version {version}; this version of DLRS Desktop reads "
                f"up to version {SCHEMA_VERSION}. Please update the application."
            )
        pts = geo.drop_repeated(_points_array(d["points"]))
        cal = d.get("calibration")
        try:
            calibration = Calibration.from_dict(cal) if cal else None
            frame = int(d.get("frame") or 0)
            region = d.get("region_index")
            region_index = None if region is None else int(region)
        except (KeyError, TypeError, ValueError) as exc:
            raise ContourError(f"The contour's calibration or frame is malformed ({exc}).") from exc
        return cls(pts, calibration, frame, region_index)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Atomic write: a crash leaves the old file or the new one, never a torn one."""
        from dlrs_desktop.fileio import atomic_write_json

        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Contour:
        """A contour JSON, any JSON with a top-level "contour" object (GUI sidecars), or a labelme file."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ContourError(f"Contour file not found: {p}") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContourError(f"{p.name} is not a readable contour JSON file ({exc}).") from exc
        if isinstance(data, dict) and isinstance(data.get("contour"), dict):
            return cls.from_dict(data["contour"])
        if isinstance(data, dict) and "shapes" in data and "points" not in data:
            return _from_labelme(data, p.name)
        if not isinstance(data, dict) or "points" not in data:
            raise ContourError(f"{p.name} holds no contour (expected a 'points' list or a 'contour' object).")
        return cls.from_dict(data)

    @classmethod
    def load_any(
        cls,
        path: str | os.PathLike[str],
        shape: tuple[int, int],
        *,
        calibration: Calibration | None = None,
        frame: int = 0,
    ) -> Contour:
        """A contour JSON, a mask image (PNG/TIFF/BMP, non-zero = tumour) of the image's `shape` (H, W),
        or a DICOM Segmentation (its tumour segment, see `imaging.dicom_seg`).

        `calibration` and `frame` are attached to contours made from masks (a mask carries neither);
        a SEG that records its source frame gives that frame instead.
        """
        from dlrs_desktop.imaging.dicom_seg import is_seg_file, read_seg_mask

        p = Path(path)
        if is_seg_file(p):
            mask, seg_frame = read_seg_mask(p, tuple(shape))
            return cls.from_mask(mask, calibration, frame if seg_frame is None else seg_frame)
        if p.suffix.lower() in MASK_SUFFIXES:
            mask = read_mask(p)
            if mask.shape != tuple(shape):
                raise ContourError(
                    f"The mask {p.name} is {mask.shape[1]}×{mask.shape[0]} pixels but the image is "
                    f"{shape[1]}×{shape[0]}; they must match."
                )
            return cls.from_mask(mask, calibration, frame)
        if p.suffix.lower() in {".jpg", ".jpeg"}:
            raise ContourError(
                f"{p.name}: JPEG blurs mask edges; export the tumour mask as PNG (non-zero = tumour)."
            )
        return cls.load(p)


def read_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Bool (H, W) from a mask image: palette index, gray value or any RGB channel non-zero = tumour."""
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    try:
        with Image.open(p) as im:
            if im.mode == "P":
                arr = np.asarray(im) != 0
            elif im.mode in ("RGB", "RGBA", "CMYK", "YCbCr"):
                arr = (np.asarray(im.convert("RGB")) != 0).any(axis=2)
            elif im.mode == "LA":
                arr = np.asarray(im)[..., 0] != 0
            else:
                arr = np.asarray(im) != 0
    except FileNotFoundError as exc:
        raise ContourError(f"Mask file not found: {p}") from exc
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ContourError(f"{p.name} is not a readable mask image ({exc}).") from exc
    if arr.ndim != 2:
        raise ContourError(f"{p.name} is not a single 2D mask.")
    return arr


def _from_labelme(data: dict[str, Any], name: str) -> Contour:
    """labelme's format: the largest polygon shape (labelme also puts pixel centres at +0.5)."""
    polys = [
        np.asarray(s.get("points", []), float)
        for s in data.get("shapes", [])
        if isinstance(s, dict)
        and s.get("shape_type", "polygon") == "polygon"
        and len(s.get("points", [])) >= 3
    ]
    if not polys:
        raise ContourError(f"{name} is a labelme file without any polygon.")
    best = max(polys, key=lambda p: abs(geo.signed_area(p)))
    return Contour(geo.drop_repeated(_points_array(best)))
