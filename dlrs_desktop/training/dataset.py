"""Network inputs for a whole cohort, computed once with the model's own `prepare_inputs`.

Contour jitter (a sonographer never draws the same outline twice) changes the ROIs, so it cannot
be done on the crops: each training case is prepared `1 + jitter_variants` times, with the drawn
contour and with randomly perturbed copies, and an epoch picks one variant per case. With
`jitter_offset_mm` each copy is first moved in or out by up to that many mm (`Contour.offset`): the
tighter or looser outline another sonographer draws is smoothed, not a scaled copy of this tracing,
and the networks are to read it alike. Photometric and small geometric augmentations are applied
later, on the fly, in torch (`augment.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.model.preprocess import prepare_inputs
from dlrs_desktop.model.radiomics import DEFAULT_FEATURES, FeatureSettings, case_features
from dlrs_desktop.roi import Contour
from dlrs_desktop.training.cohort import CohortCase, _fail, load_case

MAX_JITTER_OFFSET_MM = 5.0  # a wider move is another lesion's outline, not another sonographer's


@dataclass
class PreparedCohort:
    cases: list[CohortCase]
    x: np.ndarray  # float16 (N, V, R, C, S, S): V contour variants (variant 0 = as drawn)
    y: np.ndarray  # int (N,)
    tumour_area_mm2: np.ndarray  # (N,)
    radiomics: np.ndarray | None = None  # float64 (N, F): model/radiomics.py features of the drawn contour

    def subset(self, split: str) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.cases) if c.split == split], dtype=int)


def check_jitter_offset(offset_mm: float) -> float:
    """The offset, or one line (CohortError) for a move no other sonographer's outline makes (or NaN)."""
    if not 0.0 <= offset_mm <= MAX_JITTER_OFFSET_MM:
        raise CohortError(f"--jitter-offset-mm must be 0–{MAX_JITTER_OFFSET_MM:g} mm.")
    return offset_mm


def _moved(contour: Contour, offset_mm: float, rng: np.random.Generator) -> np.ndarray:
    """The outline's points moved in or out by a uniform random distance up to `offset_mm` (none drawn
    when 0, so a recipe without it keeps its random stream); as drawn where it cannot shrink that far."""
    if offset_mm <= 0:
        return np.asarray(contour.points)
    try:
        return np.asarray(contour.offset(rng.uniform(-offset_mm, offset_mm)).points)
    except DlrsError:
        return np.asarray(contour.points)


def jitter_contour(points: np.ndarray, mm_per_px: float, rng: np.random.Generator) -> np.ndarray:
    """Sonographer-like variation: ±4 % size, ~0.3 mm smooth radial wobble, small shift."""
    pts = np.asarray(points, dtype=float)
    c = pts.mean(axis=0)
    d = pts - c
    ang = np.arctan2(d[:, 1], d[:, 0])
    wob = sum(rng.normal(0, 0.2) * np.cos(k * ang + rng.uniform(0, 6.3)) for k in (2, 3, 5))
    r = np.linalg.norm(d, axis=1)
    scale = 1 + rng.normal(0, 0.04)
    new_r = r * scale + wob / mm_per_px
    new_r = np.maximum(new_r, 0.5 * r)
    shift = rng.normal(0, 0.3 / mm_per_px, size=2)
    return c + shift + np.stack([np.cos(ang), np.sin(ang)], axis=1) * new_r[:, None]


def prepare_cohort(
    cases: list[CohortCase],
    spec,
    *,
    jitter_variants: int = 0,
    seed: int = 0,
    csv_path: str | Path = "cohort.csv",
    progress: Callable[[int, int], None] | None = None,
    feature_settings: FeatureSettings = DEFAULT_FEATURES,
    jitter_offset_mm: float = 0.0,
) -> PreparedCohort:
    """Load and preprocess every case; all unusable cases are reported together (CohortError)."""
    check_jitter_offset(jitter_offset_mm)
    xs: list[np.ndarray] = []
    areas: list[float] = []
    features: list[np.ndarray] = []
    problems: list[str] = []
    for k, case in enumerate(cases):
        try:
            image, contour = load_case(case)
            x0, info = prepare_inputs(image, contour, spec)
            pts = np.asarray(info.contour.points)
            regions = spec.region_names
            f = case_features(image.gray, image.scan_mask, info.roiset, pts, regions, feature_settings)
            variants = [x0]
            if case.split == "train" and jitter_variants:
                rng = np.random.default_rng([seed, k, 7])
                cal = info.calibration
                mmpp = float(np.sqrt(cal.mm_per_px_x * cal.mm_per_px_y))
                for _ in range(jitter_variants):
                    pts = jitter_contour(_moved(info.contour, jitter_offset_mm, rng), mmpp, rng)
                    try:
                        xj, _ = prepare_inputs(
                            image, Contour(pts, calibration=cal, frame=contour.frame), spec
                        )
                    except DlrsError:
                        xj = x0  # a jitter that leaves the image: keep the drawn contour
                    variants.append(xj)
            elif jitter_variants:
                variants += [x0] * jitter_variants
            xs.append(np.stack(variants).astype(np.float16))
            areas.append(float(info.roiset.tumour.area_mm2))
            features.append(f)
        except CohortError as exc:
            problems.append(str(exc))
        except DlrsError as exc:
            problems.append(f"case {case.case_id}: {exc}")
        if progress:
            progress(k + 1, len(cases))
    if problems:
        raise _fail(Path(csv_path), problems)
    y = np.array([c.label for c in cases])
    return PreparedCohort(cases, np.stack(xs), y, np.array(areas), np.stack(features))
