"""Lesion size over time by the rules clinicians use: diameters, ellipsoid volume, RECIST 1.1 size category.

Per view (one contoured image) we take the longest diameter and the longest chord perpendicular to it,
in millimetres, from `Contour.measurements` (the same calipers the measurement panel shows). Nothing is
measured without a trustworthy mm/px: a missing calibration is a CalibrationError, never a default.

Volume (two orthogonal views of one lesion at one time point, e.g. radial and antiradial): the
ellipsoid formula V = pi/6 * d1 * d2 * d3. The probe turns about its beam, so the two planes share
the depth axis and each adds one horizontal axis. In each view the diameter closer to the beam
(image vertical, in mm) is that view's *depth*, the other its *across-beam* diameter; this holds for
wider-than-tall and for taller-than-wide lesions alike. d1 = across-beam of view 1 (radial length),
d2 = across-beam of view 2 (antiradial width), d3 = the mean of the two depths (the same axis seen
twice, so averaging halves the caliper error instead of picking one view).

Change: the longest diameter of the lesion at each time point (the larger of its views' longest
diameters, as RECIST takes the longest diameter in any plane) compared with baseline, in mm and %.
RECIST 1.1 size category (Eisenhauer 2009, target-lesion rules applied to this one lesion): partial
response at <= -30 % from baseline, progressive disease at >= +20 % *and* >= 5 mm absolute increase over
the nadir (the smallest diameter so far; the baseline when there are two exams), complete response only
when the caller states the lesion is no longer measurable, otherwise stable disease.
Always labelled "(size criteria)": a size rule, not a diagnosis and not the model's output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dlrs_desktop.errors import CalibrationError, ContourError
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.roi import contour_text as T
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.wording import Worded

SUFFIX = " (size criteria)"
PARTIAL_RESPONSE = "partial response" + SUFFIX
PROGRESSIVE_DISEASE = "progressive disease" + SUFFIX
STABLE_DISEASE = "stable disease" + SUFFIX
COMPLETE_RESPONSE = "complete response" + SUFFIX
CATEGORIES = (COMPLETE_RESPONSE, PARTIAL_RESPONSE, STABLE_DISEASE, PROGRESSIVE_DISEASE)
CRITERIA = "RECIST 1.1 size criteria on the longest diameter (not a diagnosis)"

PR_PERCENT = -30.0
PD_PERCENT = 20.0
PD_MIN_INCREASE_MM = 5.0
MEASURABLE_MIN_MM = 10.0  # RECIST 1.1's smallest measurable lesion; smaller baselines get a note
_EPS = 1e-9  # -30 % computed as (14 - 20) / 20 is -30.000000000000004: rules compare with this slack

Point = tuple[float, float]


def _finite(name: str, value: float, *, positive: bool = False) -> float:
    """`value` if it is a finite measurement; `name` (a marked word) says which one it is."""
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0) or v < 0:
        raise ContourError.of(T.NOT_A_MEASUREMENT, name=Worded(name), value=repr(value))
    return v


@dataclass(frozen=True)
class ViewSize:
    """One view of the lesion: its two calipers in mm and which of them lies along the beam."""

    longest_mm: float
    perpendicular_mm: float
    longest_endpoints_px: tuple[Point, Point]
    perpendicular_endpoints_px: tuple[Point, Point]
    longest_along_beam: bool  # the longest caliper is closer to vertical (a taller-than-wide lesion)
    mm_per_px: tuple[float, float]

    def __post_init__(self) -> None:
        _finite(T.LONGEST, self.longest_mm, positive=True)
        _finite(T.PERPENDICULAR, self.perpendicular_mm)
        if self.perpendicular_mm > self.longest_mm * (1 + 1e-9):
            raise ContourError.of(T.PERPENDICULAR_LONGER)

    @property
    def depth_mm(self) -> float:
        """The caliper closer to the beam axis: the depth both orthogonal views share."""
        return self.longest_mm if self.longest_along_beam else self.perpendicular_mm

    @property
    def across_mm(self) -> float:
        """The caliper across the beam: radial length in one view, antiradial width in the other."""
        return self.perpendicular_mm if self.longest_along_beam else self.longest_mm


def view_size(contour: Contour, calibration: Calibration | None) -> ViewSize:
    """The calipers of one contoured view; CalibrationError without a trustworthy mm/px."""
    if calibration is None:
        raise CalibrationError.of(T.SIZE_UNCALIBRATED)
    m = contour.measurements(calibration)
    sx, sy = float(calibration.mm_per_px_x), float(calibration.mm_per_px_y)
    (ax, ay), (bx, by) = m.max_diameter_endpoints_px
    along = abs((by - ay) * sy) > abs((bx - ax) * sx)
    return ViewSize(
        longest_mm=m.max_diameter_mm,
        perpendicular_mm=m.perpendicular_diameter_mm,
        longest_endpoints_px=m.max_diameter_endpoints_px,
        perpendicular_endpoints_px=m.perpendicular_endpoints_px,
        longest_along_beam=along,
        mm_per_px=(sx, sy),
    )


def ellipsoid_volume_mm3(radial: ViewSize, antiradial: ViewSize) -> float:
    """pi/6 * length * width * mean depth, from two orthogonal views of one lesion (module docstring)."""
    depth = (radial.depth_mm + antiradial.depth_mm) / 2.0
    return math.pi / 6.0 * radial.across_mm * antiradial.across_mm * depth


@dataclass(frozen=True)
class TimePoint:
    """The lesion at one exam: one or two orthogonal views, with the exam's label and date."""

    views: tuple[ViewSize, ...]
    label: str = ""
    exam_date: str = ""  # YYYYMMDD when known

    def __post_init__(self) -> None:
        if not 1 <= len(self.views) <= 2:
            raise ContourError(f"A time point has one or two views of the lesion, not {len(self.views)}.")

    @property
    def longest_mm(self) -> float:
        return max(v.longest_mm for v in self.views)

    @property
    def volume_mm3(self) -> float | None:
        return ellipsoid_volume_mm3(*self.views) if len(self.views) == 2 else None


@dataclass(frozen=True)
class SizeChange:
    """Follow-up against baseline: the longest diameter's change and its RECIST 1.1 size category."""

    baseline_mm: float
    followup_mm: float  # 0 when the caller stated the lesion is no longer measurable
    change_mm: float
    change_percent: float
    category: str
    volume_change_percent: float | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("baseline_mm", "followup_mm", "change_mm", "change_percent"):
            if not math.isfinite(getattr(self, name)):
                raise ContourError(f"The size change has a non-finite {name}.")
        if self.category not in CATEGORIES:
            raise ContourError(f"Unknown size category {self.category!r}.")

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline_longest_mm": round(self.baseline_mm, 2),
            "followup_longest_mm": round(self.followup_mm, 2),
            "change_mm": round(self.change_mm, 2),
            "change_percent": round(self.change_percent, 1),
            "volume_change_percent": None
            if self.volume_change_percent is None
            else round(self.volume_change_percent, 1),
            "category": self.category,
            "criteria": CRITERIA,
            "notes": list(self.notes),
        }


def size_category(
    baseline_mm: float, followup_mm: float, *, nadir_mm: float | None = None, not_measurable: bool = False
) -> str:
    """RECIST 1.1's size category for one lesion's longest diameter (module docstring).

    Response is judged against baseline, progression against the nadir: the smallest diameter on study
    before this exam (baseline included; with two exams it is the baseline)."""
    base = _finite(T.BASELINE, baseline_mm, positive=True)
    if not_measurable:
        return COMPLETE_RESPONSE
    fu = _finite(T.FOLLOW_UP, followup_mm, positive=True)
    nadir = base if nadir_mm is None else min(base, _finite(T.NADIR, nadir_mm, positive=True))
    if 100.0 * (fu - nadir) / nadir >= PD_PERCENT - _EPS and fu - nadir >= PD_MIN_INCREASE_MM - _EPS:
        return PROGRESSIVE_DISEASE
    if 100.0 * (fu - base) / base <= PR_PERCENT + _EPS:
        return PARTIAL_RESPONSE
    return STABLE_DISEASE


def compare(baseline: TimePoint, followup: TimePoint | None, *, nadir_mm: float | None = None) -> SizeChange:
    """Follow-up against baseline; `followup=None` means the caller states the lesion is no longer
    measurable (complete response by size) — never inferred from a missing contour. `nadir_mm`: the
    smallest longest diameter of the exams between baseline and this one (`series` passes it)."""
    base = baseline.longest_mm
    notes = []
    if base < MEASURABLE_MIN_MM:
        notes.append(f"Baseline longest diameter {base:.1f} mm is below RECIST's 10 mm measurable size.")
    if followup is None:
        return SizeChange(base, 0.0, -base, -100.0, size_category(base, 0.0, not_measurable=True), None,
                          tuple(notes))  # fmt: skip
    fu = followup.longest_mm
    if len(baseline.views) != len(followup.views):
        notes.append("The time points have different numbers of views; compare like with like.")
    vol = None
    if baseline.volume_mm3 is not None and followup.volume_mm3 is not None:
        vol = 100.0 * (followup.volume_mm3 - baseline.volume_mm3) / baseline.volume_mm3
    return SizeChange(
        baseline_mm=base,
        followup_mm=fu,
        change_mm=fu - base,
        change_percent=100.0 * (fu - base) / base,
        category=size_category(base, fu, nadir_mm=nadir_mm),
        volume_change_percent=vol,
        notes=tuple(notes),
    )


def series(points: list[TimePoint] | tuple[TimePoint, ...]) -> list[SizeChange]:
    """Each exam after the first against the first (baseline), progression judged against the nadir so
    far: a lesion that shrank to 10 mm and regrew to 15 mm has progressed, though still below baseline."""
    if len(points) < 2:
        return []
    out = []
    nadir = points[0].longest_mm
    for tp in points[1:]:
        out.append(compare(points[0], tp, nadir_mm=nadir))
        nadir = min(nadir, tp.longest_mm)
    return out
