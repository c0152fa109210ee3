"""What a prediction returns: the typed result the GUI, the CLI, the store and reports all read.

Frozen dataclasses with one validator (`check_finite`, run at construction), not pydantic: pydantic
is not a dependency of the default install, and these few flat records need only "every number is
finite". Frozen, so a result is safe to hand from a worker thread to the GUI. `to_json_dict()` is the
JSON the CLI prints and the sidecar stores; `Prediction.from_json_dict` reads it back (a saved result,
possibly from an older version, so missing fields take their defaults). Class activation maps stay out
of the JSON (they are arrays; the CLI writes them as images).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.outcome import DEFAULT, Outcome


def _finite_or_none(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelError(f"The result's {where} is not a finite number; no result is shown.")
    if isinstance(value, tuple | list):
        for i, v in enumerate(value):
            _finite_or_none(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            _finite_or_none(v, f"{where}.{k}")


def check_finite(record: Any) -> None:
    """The one validator: every float a result record holds (also inside tuples and dicts) is finite.

    Nested records check themselves when they are built; arrays (class activation maps) are NaN
    outside their region by design and are not checked."""
    assert is_dataclass(record)
    for f in fields(record):
        value = getattr(record, f.name)
        if not is_dataclass(value) and not isinstance(value, np.ndarray):
            _finite_or_none(value, f.name)


def _number(d: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = d.get(key)
    return default if value is None else float(value)


NO_REFERENCE = "no domain reference in this bundle"


@dataclass(frozen=True)
class DomainResult:
    """The domain guard's verdict on one image (model/domain.py computes it)."""

    status: str  # "inside" | "unusual" | "outside" | "unknown" (no reference)
    score: float | None
    unusual_above: float | None
    outside_above: float | None
    reason: str
    factors: tuple[tuple[str, float], ...] = ()  # (check name, z), largest first (top 3)

    def __post_init__(self) -> None:
        check_finite(self)

    def to_dict(self) -> dict[str, Any]:
        """The saved domain block: every field but `factors` (`from_json_dict` reads it back)."""
        return {k: v for k, v in asdict(self).items() if k != "factors"}

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> DomainResult:
        """A saved domain block (`to_dict()`); an unknown status reads as not checked."""
        if d.get("status") not in ("inside", "unusual", "outside", "unknown"):
            return NO_DOMAIN

        def number(key: str) -> float | None:
            return None if d.get(key) is None else float(d[key])

        return cls(str(d["status"]), number("score"), number("unusual_above"), number("outside_above"),
                   str(d.get("reason") or NO_REFERENCE))  # fmt: skip


NO_DOMAIN = DomainResult("unknown", None, None, None, NO_REFERENCE)


@dataclass(frozen=True)
class QualityFlag:
    """A reason to read the result with care (`severity="warning"`) or a note (`"info"`)."""

    code: str  # stable identifier, e.g. "ring_clipped", "tumour_size", "doppler", "marks_inpainted"
    message: str  # plain words for the user
    severity: str = "warning"

    def to_json_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "severity": self.severity}

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> QualityFlag:
        return cls(str(d.get("code") or ""), str(d.get("message") or ""), str(d.get("severity") or "warning"))


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

    def __post_init__(self) -> None:
        check_finite(self)

    def to_json_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> RegionResult:
        numbers = ("radius_mm", "logit", "probability", "coefficient", "contribution", "area_mm2",
                   "clipped_fraction")  # fmt: skip
        return cls(name=str(d.get("name") or ""), kind=str(d.get("kind") or ""),
                   **{k: _number(d, k) for k in numbers})  # fmt: skip


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

    def __post_init__(self) -> None:
        check_finite(self)

    def to_json_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["regions"] = list(self.regions)
        return d

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> SignatureResult:
        numbers = ("logit", "probability", "coefficient", "contribution")
        return cls(name=str(d.get("name") or ""), label=str(d.get("label") or ""),
                   regions=tuple(str(r) for r in d.get("regions") or ()),
                   **{k: _number(d, k) for k in numbers})  # fmt: skip


@dataclass(frozen=True)
class Sensitivity:
    """The fused probability when the contour is offset outwards (+) or inwards (−) by a few mm."""

    offsets_mm: tuple[float, ...]
    probabilities: tuple[float | None, ...]  # None where the offset contour was not usable
    skipped: tuple[str, ...]  # plain-words reasons for the None entries
    time_ms: float

    def __post_init__(self) -> None:
        check_finite(self)

    @property
    def valid(self) -> tuple[float, ...]:
        return tuple(p for p in self.probabilities if p is not None)

    @property
    def min(self) -> float | None:
        return min(self.valid) if self.valid else None

    @property
    def max(self) -> float | None:
        return max(self.valid) if self.valid else None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "offsets_mm": list(self.offsets_mm),
            "probabilities": list(self.probabilities),
            "min": self.min,
            "max": self.max,
            "skipped": list(self.skipped),
            "time_ms": round(self.time_ms, 2),
        }

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> Sensitivity:
        probs = tuple(None if p is None else float(p) for p in d.get("probabilities") or ())
        offsets = tuple(float(o) for o in d.get("offsets_mm") or ())
        return cls(offsets, probs, tuple(str(x) for x in d.get("skipped") or ()), _number(d, "time_ms"))


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


#: The fields of a Prediction that tie it to the exact model, contour and device (see `provenance`).
PROVENANCE = ("model_id", "model_version", "bundle_hash", "contour_hash", "backend", "device")


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
    precision: str = "float32"  # "int8" when the bundle's int8 graph ran (model/precision.py)

    def __post_init__(self) -> None:
        check_finite(self)

    @property
    def region(self) -> dict[str, RegionResult]:
        return {r.name: r for r in self.regions}

    def provenance(self) -> dict[str, str]:
        """Which model, contour and device made this result, under its own field names (the CSV's columns)."""
        return {k: getattr(self, k) for k in PROVENANCE}

    def with_sensitivity(self, sensitivity: Sensitivity) -> Prediction:
        """The same result with its second-stage contour sensitivity attached."""
        timings = {**self.timings_ms, "sensitivity": sensitivity.time_ms}
        return replace(self, sensitivity=sensitivity, timings_ms=timings)

    def to_json_dict(self) -> dict[str, Any]:
        """What `dlrs predict --json` prints and a sidecar stores (keys and values fixed: scripts read it)."""
        return {
            "probability": self.probability,
            "threshold": self.threshold,
            "category": self.category,
            "positive": self.positive,
            "intercept": self.intercept,
            "regions": [r.to_json_dict() for r in self.regions],
            **({"signatures": [s.to_json_dict() for s in self.signatures]} if self.signatures else {}),
            "flags": [f.to_json_dict() for f in self.flags],
            "sensitivity": self.sensitivity.to_json_dict() if self.sensitivity else None,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "device": self.device,
            "backend": self.backend,
            "precision": self.precision,
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

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> Prediction:
        """A saved result (`to_json_dict()`, perhaps written by an older version) as a typed one.

        Missing fields take their defaults; a non-finite number raises ModelError (the sidecar
        schema, store/schema.py, has checked the types already)."""
        model = d.get("model") if isinstance(d.get("model"), dict) else {}
        sens = d.get("sensitivity")
        dom = d.get("domain")
        coverage = d.get("coverage")
        return cls(
            probability=_number(d, "probability"),
            threshold=_number(d, "threshold", 0.5),
            category=str(d.get("category") or ""),
            positive=bool(d.get("positive")),
            intercept=_number(d, "intercept"),
            regions=tuple(RegionResult.from_json_dict(r) for r in d.get("regions") or ()),
            flags=tuple(QualityFlag.from_json_dict(f) for f in d.get("flags") or ()),
            sensitivity=Sensitivity.from_json_dict(sens) if isinstance(sens, dict) else None,
            timings_ms={str(k): float(v) for k, v in (d.get("timings_ms") or {}).items() if v is not None},
            device=str(d.get("device") or ""),
            backend=str(d.get("backend") or ""),
            device_note=None if d.get("device_note") is None else str(d["device_note"]),
            model_id=str(model.get("id") or ""),
            model_version=str(model.get("version") or ""),
            bundle_hash=str(model.get("bundle_hash") or ""),
            contour_hash=str(d.get("contour_hash") or ""),
            calibration=dict(d.get("calibration") or {}),
            image_sha256=str(d.get("image_sha256") or ""),
            research_notice=str(d.get("research_notice") or ""),
            signatures=tuple(SignatureResult.from_json_dict(x) for x in d.get("signatures") or ()),
            outcome=Outcome.from_dict(d.get("outcome")) if d.get("outcome") is not None else DEFAULT,
            domain=DomainResult.from_json_dict(dom) if isinstance(dom, dict) else NO_DOMAIN,
            prediction_set=tuple(str(c) for c in d.get("prediction_set") or ()),
            coverage=None if coverage is None else float(coverage),
            precision=str(d.get("precision") or "float32"),
        )


@dataclass(frozen=True)
class ResultIdentity:
    """What a shown result belongs to: it is current only when all four still match."""

    image_sha256: str | None = None
    contour_hash: str | None = None
    calibration: dict[str, Any] | None = None
    model_sha256: str | None = None

    def __post_init__(self) -> None:
        check_finite(self)


@dataclass(frozen=True)
class ResultModel:
    """The model that made a result, as the result records it (a sidecar outlives the loaded model)."""

    id: str = ""
    version: str = ""
    bundle_hash: str = ""
    notice: str = ""
    region_thresholds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_finite(self)


@dataclass(frozen=True, eq=False)
class SavedResult:
    """A prediction as the workstation shows and stores it (the sidecar's `result` block): the typed
    `Prediction`, the contour and model it belongs to, and how long the user waited.

    `to_json_dict()` is the sidecar block, keys as before the result was typed; `from_json_dict` reads
    one back (store/schema.py has checked its types; older files lack `waited_ms` and `identity`)."""

    prediction: Prediction
    contour_hash: str
    model: ResultModel = field(default_factory=ResultModel)
    waited_ms: float | None = None
    identity: ResultIdentity | None = None

    def __post_init__(self) -> None:
        check_finite(self)

    @property
    def model_sha256(self) -> str | None:
        """The bundle that computed it: the identity's, else the model block's (older sidecars)."""
        sha = self.identity.model_sha256 if self.identity is not None else None
        return sha or self.model.bundle_hash or None

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prediction": self.prediction.to_json_dict()}
        out["contour_hash"] = self.contour_hash
        if self.waited_ms is not None:
            out["waited_ms"] = self.waited_ms
        if self.identity is not None:
            out["identity"] = {k: getattr(self.identity, k) for k in self.identity.__dataclass_fields__}
        m = self.model
        out["model"] = {"id": m.id, "version": m.version, "bundle_hash": m.bundle_hash, "notice": m.notice,
                        "region_thresholds": dict(m.region_thresholds)}  # fmt: skip
        return out

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> SavedResult:
        model = d.get("model") if isinstance(d.get("model"), dict) else {}
        ident = d.get("identity")
        identity = None
        if isinstance(ident, dict):
            identity = ResultIdentity(
                **{k: ident.get(k) for k in ("image_sha256", "contour_hash", "calibration", "model_sha256")}
            )
        thresholds = model.get("region_thresholds") or {}
        return cls(
            prediction=Prediction.from_json_dict(d.get("prediction") or {}),
            contour_hash=str(d.get("contour_hash") or ""),
            model=ResultModel(
                *(str(model.get(k) or "") for k in ("id", "version", "bundle_hash", "notice")),
                region_thresholds={str(k): float(v) for k, v in thresholds.items()},
            ),
            waited_ms=None if d.get("waited_ms") is None else float(d["waited_ms"]),
            identity=identity,
        )
