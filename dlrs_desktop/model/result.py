"""What a prediction returns: plain data the GUI, the CLI, the store and reports all read.

Frozen dataclasses (safe to hand from a worker thread to the GUI). `to_dict()` is JSON-ready;
class activation maps stay out of it (they are arrays; the CLI writes them as images).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dlrs_desktop.model.domain import NO_DOMAIN, DomainResult
from dlrs_desktop.model.outcome import DEFAULT, Outcome


@dataclass(frozen=True)
class QualityFlag:
    """A reason to read the result with care (`severity="warning"`) or a note (`"info"`)."""

    code: str  # stable identifier, e.g. "ring_clipped", "tumour_size", "doppler", "marks_inpainted"
    message: str  # plain words for the user
    severity: str = "warning"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "severity": self.severity}


@dataclass(frozen=True)
class RegionResult:
    """The evidence of one region: its own probability and its weight in the fused result."""

    name: str
    radius_mm: float
    kind: str
    logit: float
    probability: float  # σ(logit): this region's head on its own
    coefficient: float  # stacking coefficient
    contribution: float  # coefficient × logit (fused logit = intercept + Σ contributions)
    area_mm2: float
    clipped_fraction: float

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SignatureResult:
    """The evidence of one radiomics signature (model/radiomics.py) in the fused result."""

    name: str  # e.g. "radiomics_ring_10mm"
    label: str  # e.g. "Radiomics: intratumoral + ring_10mm"
    regions: tuple[str, ...]
    logit: float
    probability: float  # σ(logit): the signature on its own
    coefficient: float
    contribution: float  # coefficient × logit

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["regions"] = list(self.regions)
        return d


@dataclass(frozen=True)
class Sensitivity:
    """The fused probability when the contour is offset outwards (+) or inwards (−) by a few mm."""

    offsets_mm: tuple[float, ...]
    probabilities: tuple[float | None, ...]  # None where the offset contour was not usable
    skipped: tuple[str, ...]  # plain-words reasons for the None entries
    time_ms: float

    @property
    def valid(self) -> tuple[float, ...]:
        return tuple(p for p in self.probabilities if p is not None)

    @property
    def min(self) -> float | None:
        return min(self.valid) if self.valid else None

    @property
    def max(self) -> float | None:
        return max(self.valid) if self.valid else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "offsets_mm": list(self.offsets_mm),
            "probabilities": list(self.probabilities),
            "min": self.min,
            "max": self.max,
            "skipped": list(self.skipped),
            "time_ms": round(self.time_ms, 2),
        }


@dataclass(frozen=True, eq=False)
class RegionCam:
    """Class activation map of one region on the image: `values[y - y0, x - x0]` for image pixel (x, y).

    Values are in logit units (positive = evidence for the positive class); NaN outside the crop; `mask` is
    True on the region's own pixels (the ring, or the tumour).
    """

    name: str
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in image pixels
    values: np.ndarray  # float32 (y1 - y0, x1 - x0)
    mask: np.ndarray  # bool, same shape

    def full(self, shape: tuple[int, int], outside: float = float("nan")) -> np.ndarray:
        """The map on the whole image (H, W), `outside` beyond the crop and the region."""
        out = np.full(shape, outside, np.float32)
        x0, y0, x1, y1 = self.bbox
        out[y0:y1, x0:x1] = np.where(self.mask, self.values, outside)
        return out

    def peak_xy(self) -> tuple[int, int] | None:
        """Image pixel (x, y) of the strongest evidence inside the region."""
        v = np.where(self.mask & np.isfinite(self.values), self.values, -np.inf)
        if not np.isfinite(v).any():
            return None
        iy, ix = np.unravel_index(int(np.argmax(v)), v.shape)
        return int(ix + self.bbox[0]), int(iy + self.bbox[1])


@dataclass(frozen=True, eq=False)
class Prediction:
    """One result, tied to the exact model, image, contour and calibration it was computed for."""

    probability: float  # fused probability of the bundle's outcome (`outcome.short_name`)
    threshold: float
    category: str  # the manifest's positive/negative label
    positive: bool
    intercept: float
    regions: tuple[RegionResult, ...]
    flags: tuple[QualityFlag, ...]
    sensitivity: Sensitivity | None
    timings_ms: dict[str, float]
    device: str  # "cpu", "cuda:0", "mps"
    backend: str  # "onnxruntime" | "torch"
    device_note: str | None  # e.g. why a GPU request ran on the CPU
    model_id: str
    model_version: str
    bundle_hash: str  # sha256 of the bundle's manifest (pins every weight file)
    contour_hash: str  # `Contour.content_hash()` of the contour given to `predict`
    calibration: dict[str, Any]  # the calibration used (mm/px and where it came from)
    image_sha256: str
    research_notice: str
    cams: tuple[RegionCam, ...] | None = field(default=None, repr=False)
    signatures: tuple[SignatureResult, ...] = ()  # radiomics signatures the fusion stacks (if any)
    outcome: Outcome = DEFAULT  # what the probability is of, in the bundle's words
    domain: DomainResult = NO_DOMAIN  # the domain guard (model/domain.py)
    prediction_set: tuple[str, ...] = ()  # conformal set at `coverage` (empty: no calibration)
    coverage: float | None = None

    @property
    def region(self) -> dict[str, RegionResult]:
        return {r.name: r for r in self.regions}

    def with_sensitivity(self, sensitivity: Sensitivity) -> Prediction:
        """The same result with its second-stage contour sensitivity attached."""
        timings = {**self.timings_ms, "sensitivity": sensitivity.time_ms}
        return replace(self, sensitivity=sensitivity, timings_ms=timings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability": self.probability,
            "threshold": self.threshold,
            "category": self.category,
            "positive": self.positive,
            "intercept": self.intercept,
            "regions": [r.to_dict() for r in self.regions],
            **({"signatures": [s.to_dict() for s in self.signatures]} if self.signatures else {}),
            "flags": [f.to_dict() for f in self.flags],
            "sensitivity": self.sensitivity.to_dict() if self.sensitivity else None,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "device": self.device,
            "backend": self.backend,
            "device_note": self.device_note,
            "model": {"id": self.model_id, "version": self.model_version, "bundle_hash": self.bundle_hash},
            "contour_hash": self.contour_hash,
            "calibration": self.calibration,
            "image_sha256": self.image_sha256,
            "research_notice": self.research_notice,
            "outcome": self.outcome.to_dict(),
            "domain": self.domain.to_dict(),
            "prediction_set": list(self.prediction_set) if self.coverage is not None else None,
            "coverage": self.coverage,
        }
