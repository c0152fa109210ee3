"""The image contract every other layer relies on: pixels plus a trustworthy millimetre scale.

Immutable on purpose: the GUI, the ROI maths and the model may hold the same image from
different threads. A manual calibration gives a *new* image (`with_calibration`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dlrs_desktop.errors import CalibrationError, ImageLoadError
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Translate, Worded, english

CalibrationSource = Literal["dicom-us-region", "dicom-pixel-spacing", "manual", "depth-scale"]

#: One limit for every calibration source (DICOM regions, PixelSpacing, typed, saved): pixels more than
#: 3 times longer one way than the other are a damaged header or a typo, not an ultrasound image.
MAX_ANISOTROPY = 3.0


def anisotropy_problem(mm_x: float, mm_y: float) -> str | None:
    """Why x/y scales this different cannot be trusted (None: within the 3:1 limit)."""
    worded = anisotropy_worded(mm_x, mm_y)
    return None if worded is None else str(worded)


def anisotropy_worded(mm_x: float, mm_y: float) -> Worded | None:
    """`anisotropy_problem` as a clause the GUI shows in its language."""
    lo, hi = sorted((abs(mm_x), abs(mm_y)))
    if lo > 0 and hi / lo <= MAX_ANISOTROPY:
        return None
    ratio: object = f"{hi / lo:.3g}:1" if lo > 0 else Worded(QT_TRANSLATE_NOOP("core", "infinitely"))
    return Worded(
        QT_TRANSLATE_NOOP(
            "core",
            "{x:.4g} mm × {y:.4g} mm per pixel is {ratio} anisotropic (the limit is {limit:g}:1 for any "
            "calibration)",
        ),
        {"x": mm_x, "y": mm_y, "ratio": ratio, "limit": MAX_ANISOTROPY},
    )


@dataclass(frozen=True)
class Calibration:
    """Millimetres per pixel along x (columns) and y (rows), and where that number came from."""

    mm_per_px_x: float
    mm_per_px_y: float
    source: CalibrationSource
    region_index: int | None = None  # which DICOM ultrasound region it came from, if any

    def __post_init__(self) -> None:
        for v in (self.mm_per_px_x, self.mm_per_px_y):
            if not (math.isfinite(v) and 1e-4 <= v <= 10.0):
                raise CalibrationError.of(
                    QT_TRANSLATE_NOOP(
                        "core",
                        "A calibration of {value:g} mm per pixel is not plausible for an ultrasound image "
                        "(expected between 0.0001 and 10 mm/px).",
                    ),
                    value=v,
                )
        problem = anisotropy_worded(self.mm_per_px_x, self.mm_per_px_y)
        if problem is not None:
            raise CalibrationError.of(
                QT_TRANSLATE_NOOP("core", "A calibration of {problem}."), problem=problem
            )

    @property
    def is_isotropic(self) -> bool:
        return abs(self.mm_per_px_x - self.mm_per_px_y) <= 1e-6 * max(self.mm_per_px_x, self.mm_per_px_y)

    @property
    def pixel_area_mm2(self) -> float:
        return self.mm_per_px_x * self.mm_per_px_y

    def label(self, tr: Translate = english) -> str:
        """Short human text for badges and reports, e.g. '0.255 mm/px · DICOM region' (`tr`: the GUI's
        translation; the CLI keeps English)."""
        names = {
            "dicom-us-region": QT_TRANSLATE_NOOP("calibration", "DICOM region"),
            "dicom-pixel-spacing": QT_TRANSLATE_NOOP("calibration", "DICOM pixel spacing"),
            "manual": QT_TRANSLATE_NOOP("calibration", "manual"),
            "depth-scale": QT_TRANSLATE_NOOP("calibration", "depth scale"),
        }
        if self.is_isotropic:
            scale = f"{self.mm_per_px_x:.3f} mm/px"
        else:
            scale = f"{self.mm_per_px_x:.3f} × {self.mm_per_px_y:.3f} mm/px"
        return f"{scale} · {tr('calibration', names.get(self.source, self.source))}"

    @classmethod
    def manual(cls, mm_per_px: float, mm_per_px_y: float | None = None) -> Calibration:
        """A typed mm/pixel (isotropic unless y is given)."""
        return cls(float(mm_per_px), float(mm_per_px if mm_per_px_y is None else mm_per_px_y), "manual")

    @classmethod
    def from_two_points(cls, p0: Sequence[float], p1: Sequence[float], distance_mm: float) -> Calibration:
        """Isotropic calibration from a line the user drew along the depth ruler."""
        length_px = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
        if length_px < 5:
            raise CalibrationError.of(
                QT_TRANSLATE_NOOP(
                    "core", "The calibration line is too short; draw it along at least 5 pixels."
                )
            )
        if not (math.isfinite(distance_mm) and distance_mm > 0):
            raise CalibrationError.of(
                QT_TRANSLATE_NOOP("core", "The known distance must be a positive number of millimetres.")
            )
        return cls.manual(distance_mm / length_px)

    def to_dict(self) -> dict[str, Any]:
        """The fields by name (the JSON of sidecars, results and `dlrs info`; `from_dict` reads it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(float(d["mm_per_px_x"]), float(d["mm_per_px_y"]), d["source"], d.get("region_index"))


@dataclass(frozen=True)
class UltrasoundRegion:
    """One item of DICOM SequenceOfUltrasoundRegions (pixel bounds inclusive, as DICOM writes them)."""

    index: int
    x0: int
    y0: int
    x1: int
    y1: int
    spatial_format: int  # 1 = 2D, 2 = M-mode, 3 = spectral, 4 = waveform, ...
    data_type: int  # 1 = tissue, 2 = colour flow, 3 = PW spectral Doppler, ...
    units_x: int  # 3 = cm, 4 = seconds, ...
    units_y: int
    delta_x: float  # physical units per pixel
    delta_y: float
    # False when the region's bounds lie outside the stored pixels: the image was resized or
    # cropped after the scanner wrote the region, so its deltas no longer describe these pixels.
    fits_image: bool = True

    @property
    def usable_for_mm(self) -> bool:
        """A 2D tissue region in cm whose bounds fit the stored image: its deltas can be trusted."""
        return self.is_2d_tissue_cm and self.fits_image

    @property
    def is_2d_tissue_cm(self) -> bool:
        """Usable for millimetre measurements (Cornerstone3D's rule), with plausible deltas.

        Deltas outside 1e-5..1 cm/px (0.0001..10 mm/px, what `Calibration` accepts) or more than 3:1
        anisotropic are damaged headers, not scales: such a region is never chosen for measurements.
        """
        return self.is_2d_tissue_cm_any_aspect and anisotropy_problem(self.delta_x, self.delta_y) is None

    @property
    def is_2d_tissue_cm_any_aspect(self) -> bool:
        """A 2D tissue region in cm with deltas of 1e-5..1 cm/px, whatever its anisotropy."""
        return (
            self.spatial_format == 1
            and self.data_type == 1
            and self.units_x == 3
            and self.units_y == 3
            and all(math.isfinite(d) and 1e-5 <= abs(d) <= 1.0 for d in (self.delta_x, self.delta_y))
        )

    def contains(self, points: np.ndarray) -> bool:
        """True if every (x, y) point lies inside the region's pixel rectangle."""
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        if pts.size == 0:
            return False
        x, y = pts[:, 0], pts[:, 1]
        return bool(np.all((x >= self.x0) & (x <= self.x1 + 1) & (y >= self.y0) & (y <= self.y1 + 1)))

    def calibration(self) -> Calibration:
        """mm/pixel of this region (cm deltas × 10). Only valid for 2D tissue regions in cm."""
        if not self.is_2d_tissue_cm:
            raise CalibrationError.of(
                QT_TRANSLATE_NOOP("core", "This ultrasound region is not a 2D tissue image in centimetres.")
            )
        if not self.fits_image:
            raise CalibrationError.of(
                QT_TRANSLATE_NOOP(
                    "core",
                    "This ultrasound region extends beyond the stored image: the image was resized or "
                    "cropped after acquisition, so its scale cannot be trusted.",
                )
            )
        return Calibration(abs(self.delta_x) * 10.0, abs(self.delta_y) * 10.0, "dicom-us-region", self.index)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def select_region(regions: Sequence[UltrasoundRegion], points: np.ndarray) -> UltrasoundRegion | None:
    """The region a set of points is measured in: it must contain all the points and be 2D tissue in cm.

    Taking "the first region" measures wrong on dual-view images and on images with a Doppler strip.
    """
    for region in regions:
        if region.usable_for_mm and region.contains(points):
            return region
    return None


@dataclass(frozen=True)
class Provenance:
    """Where the pixels came from, without patient identifiers."""

    path: str
    sha256: str
    # modality, manufacturer, model, transfer syntax, photometric interpretation, ...
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class UltrasoundImage:
    """One frame of an ultrasound image, ready for display and analysis.

    - `display`: RGB uint8 (H, W, 3), what the user sees;
    - `gray`: uint8 (H, W), what the analysis uses;
    - `scan_mask`: bool (H, W), True where the pixels are real tissue (not text, rulers, margins);
    - `calibration`: None means "not calibrated": the app says so and does not predict;
    - `views`: uint8 (H, W) or None: 0 outside the scan area, 1..n one label per view of a split
      (dual) image; None means one view, the whole scan mask.
    Arrays are made read-only by the loader.
    """

    display: np.ndarray
    gray: np.ndarray
    scan_mask: np.ndarray
    calibration: Calibration | None
    regions: tuple[UltrasoundRegion, ...]
    frame_count: int
    frame_index: int
    provenance: Provenance
    views: np.ndarray | None = None

    @property
    def height(self) -> int:
        return int(self.gray.shape[0])

    @property
    def width(self) -> int:
        return int(self.gray.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def sha256(self) -> str:
        return self.provenance.sha256

    def with_calibration(self, calibration: Calibration | None) -> UltrasoundImage:
        """The same pixels under another calibration (e.g. one the user made)."""
        return replace(self, calibration=calibration)

    @property
    def view_count(self) -> int:
        return 1 if self.views is None else int(self.views.max(initial=0))

    def view_labels(self, mask: np.ndarray, origin: tuple[int, int] = (0, 0)) -> dict[int, int]:
        """{view label: pixel count} under the True pixels of `mask` placed with its top-left at `origin`
        (x, y; the mask may reach past the image). Label 0 is outside the scan area."""
        x0, y0 = origin
        h, w = mask.shape
        ix0, iy0 = max(x0, 0), max(y0, 0)
        ix1, iy1 = min(x0 + w, self.width), min(y0 + h, self.height)
        if ix1 <= ix0 or iy1 <= iy0:
            return {}
        m = np.asarray(mask[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0], dtype=bool)
        labels = self.views if self.views is not None else self.scan_mask.view(np.uint8)
        values, counts = np.unique(labels[iy0:iy1, ix0:ix1][m], return_counts=True)
        return {int(k): int(c) for k, c in zip(values, counts, strict=True)}

    def view_of(self, mask: np.ndarray, origin: tuple[int, int] = (0, 0)) -> int | None:
        """The view most of `mask` lies in (None: the image has one view, or the mask is outside)."""
        if self.views is None:
            return None
        inside = {k: c for k, c in self.view_labels(mask, origin).items() if k > 0}
        return max(inside, key=lambda k: inside[k]) if inside else None

    def scan_crop(self, view: int | None, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """The scan area of one view (or all of it) in the image window [y0:y1, x0:x1]."""
        if self.views is None or view is None:
            return self.scan_mask[y0:y1, x0:x1]
        return self.views[y0:y1, x0:x1] == view

    def calibration_for(self, points: np.ndarray) -> Calibration | None:
        """Calibration valid for these points: the region that contains them if the image has regions."""
        if self.calibration is not None and self.calibration.source != "dicom-us-region":
            return self.calibration
        if self.regions:
            region = select_region(self.regions, points)
            return region.calibration() if region is not None else None
        return self.calibration


#: "Cannot open 'NAME': WHY", WHY a clause of its own (imaging/raster.py, imaging/dicom_reader.py)
CANNOT_OPEN_BECAUSE = QT_TRANSLATE_NOOP("core", "Cannot open '{name}': {why}")


def cannot_open(
    path: Path, why: str, error_type: type[ImageLoadError] = ImageLoadError, **values: object
) -> ImageLoadError:
    """The refusal of a file as an image: `why` a clause marked with `QT_TRANSLATE_NOOP("core", …)` where
    it is written, `values` its fields, `error_type` an `ImageLimitError` for a stated limit; the GUI
    shows the whole sentence in its language."""
    return error_type.of(CANNOT_OPEN_BECAUSE, name=path.name, why=Worded(why, values))
