"""The predictor: one pipeline function for the GUI, the CLI and the tests.

CPU default backend: ONNX Runtime running the bundle's ONNX export, with intra-op threads =
physical cores, one inter-op thread and spinning off (its spinning threads fight over a 2-core
laptop and double the latency). This path never imports torch (3–6 s and ~800 MB at start-up).
Memory (issue 29, point 5): one session per bundle in a process (`_ort_backend`); once it holds
the network the predictor lets go of the bundle's ONNX and weight bytes (`_without_files`).
torch is the reference backend (`backend="torch"`) and the GPU path (CUDA, or MPS on macOS); any
GPU failure falls back to the CPU and the result says so.
Two helper threads (issue 29): a contour's radiomics features are computed while the network runs,
and the sensitivity stage prepares its offset contours two at a time (ONNX Runtime, OpenCV and
numpy's large operations release the GIL; on a 2-core laptop these steps were a third of the time).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlrs_desktop.errors import DlrsError, ModelError
from dlrs_desktop.extras import install_hint, missing_modules, require
from dlrs_desktop.model import anatomy
from dlrs_desktop.model import domain as dm
from dlrs_desktop.model import precision as prec
from dlrs_desktop.model.backends import (  # noqa: F401  (re-exported: quantize, tests)
    _ort_backend,
    _OrtBackend,
    _TorchBackend,
    _without_files,
    gpu_hint,
    physical_cores,
)
from dlrs_desktop.model.bundle import Bundle, load_bundle
from dlrs_desktop.model.cams import crop_to_image
from dlrs_desktop.model.preprocess import (
    PrepInfo,
    mask_kind,
    prepare_inputs,
    validated_contour,
)
from dlrs_desktop.model.quality import check_refusals, quality_flags
from dlrs_desktop.model.radiomics import case_features
from dlrs_desktop.model.result import (
    Prediction,
    QualityFlag,
    RegionCam,
    RegionResult,
    Sensitivity,
    SignatureResult,
)
from dlrs_desktop.regions import ring_name

if TYPE_CHECKING:
    from dlrs_desktop.bundle_signature import TrustPolicy
    from dlrs_desktop.imaging.types import UltrasoundImage
    from dlrs_desktop.roi import Contour

SENSITIVITY_OFFSETS_MM = (-1.0, -0.5, 0.5, 1.0)


def _signed(bundle: Bundle, trust: TrustPolicy | None) -> Bundle:
    """The bundle labelled with its signature status; refused when `trust` does not allow it.

    `trust` None (library use, training, tests): never refused, but an untrusted bundle is still
    labelled "unsigned model" in every result. The CLI and GUI pass the user's policy.
    """
    # lazy: cryptography only when a bundle is loaded
    from dlrs_desktop import bundle_signature as signing

    policy = trust or signing.TrustPolicy(allow_unsigned=True)
    status = signing.status_of(bundle, policy.keys)
    signing.admit(status, policy)
    return replace(bundle, trust_note=status.note) if status.note else bundle


class Predictor:
    """Loads a bundle once; `predict` is safe to call from worker threads.

    device: "auto" (GPU if one is usable, else CPU), "cpu" or "gpu" (CPU fallback, noted).
    backend: None (ONNX Runtime on CPU, torch on GPU), "onnx" or "torch" (reference backend).
    precision: "auto" (the bundle's int8 model where the CPU runs int8 fast), "float" or "int8"
    (model/precision.py); only the ONNX Runtime path runs int8, torch is always float32.
    """

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike[str] | None = None,
        device: str = "auto",
        *,
        backend: str | None = None,
        threads: int | None = None,
        trust: TrustPolicy | None = None,
        precision: str = "auto",
    ) -> None:
        if device not in ("auto", "cpu", "gpu"):
            raise ModelError(f"Unknown device {device!r} (use auto, cpu or gpu).")
        if backend not in (None, "onnx", "torch"):
            raise ModelError(f"Unknown backend {backend!r} (use onnx or torch).")
        t0 = time.perf_counter()
        self.bundle = _signed(bundle if isinstance(bundle, Bundle) else load_bundle(bundle), trust)
        self._threads = threads
        self._lock = threading.Lock()
        self._helpers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dlrs-predict")  # lazy threads
        self._cpu: _OrtBackend | _TorchBackend | None = None
        self.device_note: str | None = None
        self._head_w, self._head_b = self.bundle.head_arrays()
        self._int8, self._precision_note = prec.choose(self.bundle.manifest, precision)
        self._backend = self._choose(device, backend)
        if self._backend is self._cpu:  # the session holds the network; a GPU backend keeps the ONNX
            onnx = [n for n, e in self.bundle.manifest["files"].items() if e.get("role") == "onnx"]
            self.bundle = _without_files(self.bundle, *onnx)
        self.load_ms = (time.perf_counter() - t0) * 1000.0

    # --- backends -----------------------------------------------------------------------------
    def _choose(self, device: str, backend: str | None) -> _OrtBackend | _TorchBackend:
        want_gpu = device == "gpu" or (device == "auto" and backend != "onnx")
        hint = gpu_hint() if want_gpu else None
        if want_gpu and hint is None and device == "gpu":
            self.device_note = "A GPU was requested but none is usable here; ran on the CPU."
            if missing_modules(["torch"]):
                self.device_note = (
                    "A GPU was requested but the GPU path needs torch (the [gpu] extra; "
                    f"{install_hint('gpu')}); ran on the CPU."
                )
        elif device == "gpu" and backend == "onnx":
            self.device_note = "The ONNX backend runs on the CPU only here; ran on the CPU."
        if want_gpu and hint is not None and backend != "onnx":
            try:
                return _TorchBackend(self.bundle, hint)
            except Exception as exc:  # no CUDA build, driver mismatch, out of memory...
                if device == "gpu":
                    self.device_note = f"GPU unavailable ({exc}); ran on the CPU."
        if backend == "torch":
            require("gpu", "The torch backend", modules=("torch", "torchvision"))
            return _TorchBackend(self.bundle, "cpu")
        # ONNX Runtime only from here on: the torch weights (the ONNX's twin) are let go before the session
        # is made, so they do not add to the peak.
        self.bundle = _without_files(self.bundle, self.bundle.manifest["architecture"]["weights_file"])
        return self._cpu_backend()

    def _cpu_backend(self) -> _OrtBackend:
        if not isinstance(self._cpu, _OrtBackend):
            if self._int8 == prec.INT8:
                try:  # quantized by a newer ONNX Runtime than this one: the float model still runs
                    self._cpu = _ort_backend(
                        self.bundle, self._threads, str(prec.int8_file(self.bundle.manifest))
                    )
                except ModelError as exc:
                    self._int8, self._precision_note = (
                        prec.FLOAT32,
                        f"The int8 model does not run here ({exc}); ran the float model.",
                    )
            if not isinstance(self._cpu, _OrtBackend):
                self._cpu = _ort_backend(self.bundle, self._threads)
            if self._precision_note:
                self.device_note = self._precision_note
        return self._cpu

    @property
    def device(self) -> str:
        return self._backend.device

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def precision(self) -> str:
        """ "int8" when the bundle's int8 graph runs, else "float32" (torch, GPU, no int8 model)."""
        return self._int8 if self._backend is self._cpu else prec.FLOAT32

    def run_crops(self, x: np.ndarray, features: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Network on prepared crops (B, R, C, S, S) → region logits (B, R) [+ feature maps]."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not np.all(np.isfinite(x)):
            raise ModelError("The model's input is not finite (the preprocessing in the manifest is broken).")
        with self._lock:
            try:
                logits, feats = self._backend.run(x, features)
            except Exception as exc:
                if self._backend.device == "cpu":
                    raise ModelError(f"The model failed to run ({type(exc).__name__}: {exc}).") from None
                self.device_note = f"The GPU failed ({type(exc).__name__}: {exc}); switched to the CPU."
                self._backend = self._cpu_backend()
                logits, feats = self._backend.run(x, features)
        expected = (x.shape[0], len(self.bundle.spec.regions))
        if np.shape(logits) != expected or not np.all(np.isfinite(logits)):
            raise ModelError(
                "The model gave no finite answer (NaN, infinite or wrongly shaped outputs): its weights or "
                "manifest are broken; no result is shown."
            )
        return logits, feats

    # --- prediction ---------------------------------------------------------------------------
    def predict(
        self, image: UltrasoundImage, contour: Contour, *, sensitivity: bool = True, cam: bool = False
    ) -> Prediction:
        """Fused probability with per-region evidence, quality flags and (optionally) sensitivity and CAM.

        The two stages in sequence (`predict_fast`, then `add_sensitivity`): the GUI runs them apart so
        the probability shows before the band; the CLI calls this and gets the same result.
        Raises CalibrationError / ContourError (refusals) or ModelError.
        """
        result = self.predict_fast(image, contour, cam=cam)
        return self.add_sensitivity(result, image, contour) if sensitivity else result

    def predict_fast(self, image: UltrasoundImage, contour: Contour, *, cam: bool = False) -> Prediction:
        """First stage: probability, per-region evidence, class, domain, conformal set and CAM.

        One network pass (the domain guard and the maps reuse its features: a few ms); the result has no
        contour sensitivity yet (`add_sensitivity` is the slow stage: four more contours).
        """
        t0 = time.perf_counter()
        started = []  # the radiomics features start as soon as the regions exist, beside crops and network

        def features(valid: Contour, roiset: Any) -> None:
            started.append(self._helpers.submit(self._signatures, image, valid, roiset))

        x, info = prepare_inputs(image, contour, self.bundle.spec, features)
        check_refusals(info)
        flags = quality_flags(info, self.bundle)
        t1 = time.perf_counter()
        signatures = started[0] if started else self._helpers.submit(self.signature_logits, image, info)
        logits, feats = self.run_crops(x[None], features=cam or self.bundle.domain is not None)
        t2 = time.perf_counter()
        # the guard's image statistics here, while the helper still computes the radiomics (the longer job)
        stats = dm.image_stats(image, info) if self.bundle.domain is not None else None
        texture = dm.texture_of(self.bundle.domain, image, info)
        t_measure = time.perf_counter() - t2  # the guard's image statistics and texture
        z = np.r_[logits[0].astype(np.float64), signatures.result()]
        with np.errstate(all="ignore"):
            p = float(self.bundle.stacking.fuse(z))
        if not (np.isfinite(p) and 0.0 <= p <= 1.0):
            raise ModelError("The model's fused probability is not a finite number; no result is shown.")
        t3 = time.perf_counter()
        guard = self._guard(z, feats[0] if feats is not None else None, stats, texture)
        ruled_out = anatomy.header_reason(image.provenance.metadata, self.bundle.body_part)
        if ruled_out:  # the DICOM header names another modality or body part: outside, whatever the score
            guard["domain"] = dm.header_outside(guard.get("domain"), ruled_out)
        t3 += (t_guard := time.perf_counter() - t3)
        cams = self._cams(feats[0], info, image.shape) if cam and feats is not None else None
        t4 = time.perf_counter()
        timings = {**{f"preprocess.{k}": v for k, v in info.timings_ms.items()}}
        timings.update(
            preprocess=(t1 - t0) * 1e3,
            inference=(t2 - t1) * 1e3,
            fusion=(t3 - t2) * 1e3,
            total=(t4 - t0) * 1e3,
        )
        if cams is not None:
            timings["cam"] = (t4 - t3) * 1e3
        timings["domain"] = (t_measure + t_guard) * 1e3  # what the guard adds: its measurements and scoring
        return replace(self._result(p, z, info, flags, timings, contour, image, cams), **guard)

    def add_sensitivity(self, result: Prediction, image: UltrasoundImage, contour: Contour) -> Prediction:
        """Second stage: `result` (from `predict_fast` on this image and contour) with its contour
        sensitivity. Raises ModelError when the model ignores its input (then no result may be shown).

        Refuses another contour or image than the result's, so a band never lands on a result it
        was not computed for."""
        if contour.content_hash() != result.contour_hash or image.sha256 != result.image_sha256:
            raise ValueError(
                "add_sensitivity: the contour or image is not the one the result was computed for"
            )
        sens = self.predict_sensitivity(image, contour)
        shifted = [q for q in sens.probabilities if q is not None]
        if len(shifted) >= 2 and all(q == result.probability for q in shifted):
            raise ModelError(
                "The model gives exactly the same output for different contours: it ignores its input "
                "(broken weights); no result is shown. Check the bundle with `dlrs model verify`."
            )
        return result.with_sensitivity(sens)

    def _result(
        self,
        p: float,
        z: np.ndarray,
        info: PrepInfo,
        flags: list[QualityFlag],
        timings: dict[str, float],
        contour: Contour,
        image: UltrasoundImage,
        cams: tuple[RegionCam, ...] | None,
    ) -> Prediction:
        b = self.bundle
        outcome = b.outcome
        regions = []
        for i, spec in enumerate(b.spec.regions):
            roi = info.roiset.tumour if spec.radius_mm <= 0 else info.roiset[ring_name(spec.radius_mm)]
            coef = b.stacking.coefficients[i]
            regions.append(
                RegionResult(
                    name=spec.name,
                    radius_mm=spec.radius_mm,
                    kind=spec.kind,
                    logit=float(z[i]),
                    probability=float(1.0 / (1.0 + np.exp(-z[i]))),
                    coefficient=float(coef),
                    contribution=float(coef * z[i]),
                    area_mm2=float(roi.area_mm2),
                    clipped_fraction=float(roi.clipped_fraction),
                )
            )
        n = len(b.spec.regions)
        signatures = tuple(
            SignatureResult(
                name=sig.name,
                label=sig.label,
                regions=sig.regions,
                logit=float(z[n + j]),
                probability=float(1.0 / (1.0 + np.exp(-z[n + j]))),
                coefficient=float(b.stacking.coefficients[n + j]),
                contribution=float(b.stacking.coefficients[n + j] * z[n + j]),
            )
            for j, sig in enumerate(b.radiomics.signatures if b.radiomics else ())
        )
        positive = p >= b.threshold
        return Prediction(
            probability=p,
            threshold=b.threshold,
            category=outcome.label(bool(positive)),
            positive=bool(positive),
            intercept=b.stacking.intercept,
            regions=tuple(regions),
            flags=tuple(flags),
            sensitivity=None,
            timings_ms=timings,
            device=self.device,
            backend=self.backend,
            device_note=self.device_note,
            precision=self.precision,
            model_id=b.id,
            model_version=b.version,
            bundle_hash=b.manifest_sha256,
            contour_hash=contour.content_hash(),
            calibration=info.calibration.to_dict(),
            image_sha256=image.sha256,
            research_notice=b.research_notice,
            cams=cams,
            signatures=signatures,
            outcome=outcome,
        )

    def _guard(
        self, z: np.ndarray, feats: np.ndarray | None, stats: np.ndarray | None, texture: np.ndarray | None
    ) -> dict[str, Any]:
        """Domain status and conformal prediction set (model/domain.py) from the fusion inputs `z`, the
        network's features, the image statistics and the speckle texture; numpy only."""
        b = self.bundle
        fused = float(b.stacking.intercept + np.dot(b.stacking.coefficients, z))
        p = float(1.0 / (1.0 + np.exp(-fused)))
        conformal = b.manifest.get("conformal")
        out: dict[str, Any] = {
            "prediction_set": dm.prediction_set(p, conformal, dm.class_names(b.manifest)),
            "coverage": float(conformal["coverage"]) if conformal else None,
        }
        ref = b.domain
        if ref is None or feats is None or stats is None:
            return out
        values = dm.reference_values(ref, b.input_names, dm.pooled_features(feats), z, fused, stats, texture)
        out["domain"] = dm.score_values(ref, values)
        return out

    def _cams(self, feats: np.ndarray, info: PrepInfo, shape: tuple[int, int]) -> tuple[RegionCam, ...]:
        """Exact CAM per region: head weights · last feature maps (+ bias), mapped onto the image."""
        maps = np.einsum("rkhw,rk->rhw", feats.astype(np.float32), self._head_w) + self._head_b[:, None, None]
        out = []
        for i, (crop, spec) in enumerate(zip(info.crops, self.bundle.spec.regions, strict=True)):
            values, bbox = crop_to_image(maps[i], crop, shape)
            roi = info.roiset.tumour if spec.radius_mm <= 0 else info.roiset[ring_name(spec.radius_mm)]
            full = roi.full(mask_kind(spec.kind), shape)
            mask = full[bbox[1] : bbox[3], bbox[0] : bbox[2]] & np.isfinite(values)
            out.append(RegionCam(spec.name, bbox, values, mask))
        return tuple(out)

    def predict_sensitivity(
        self,
        image: UltrasoundImage,
        contour: Contour,
        offsets_mm: tuple[float, ...] = SENSITIVITY_OFFSETS_MM,
    ) -> Sensitivity:
        """Second stage: the fused probability with the contour offset by each of `offsets_mm`.

        All usable offset contours go through the network in one batch.
        """
        t0 = time.perf_counter()
        base = validated_contour(image, contour)  # carries the calibration the offsets are made in

        def prepared(d: float) -> tuple[np.ndarray, np.ndarray] | str:
            try:
                x, info = prepare_inputs(image, base.offset(d), self.bundle.spec)
                return x, self.signature_logits(image, info)
            except DlrsError as exc:
                return f"{d:+g} mm: {exc}"

        xs, sigs, idx, skipped = [], [], [], []
        for i, done in enumerate(self._helpers.map(prepared, offsets_mm)):  # two contours at a time
            if isinstance(done, str):
                skipped.append(done)
                continue
            xs.append(done[0])
            sigs.append(done[1])
            idx.append(i)
        probs: list[float | None] = [None] * len(offsets_mm)
        if xs:
            logits, _ = self.run_crops(np.stack(xs))
            inputs = np.concatenate([logits.astype(np.float64), np.stack(sigs)], axis=1)
            with np.errstate(all="ignore"):
                fused = self.bundle.stacking.fuse(inputs)
            if not np.all(np.isfinite(fused)):
                raise ModelError("The model's fused probability is not a finite number; no result is shown.")
            for j, i in enumerate(idx):
                probs[i] = float(fused[j])
        return Sensitivity(tuple(offsets_mm), tuple(probs), tuple(skipped), (time.perf_counter() - t0) * 1e3)

    def signature_logits(self, image: UltrasoundImage, info: PrepInfo) -> np.ndarray:
        """The bundle's radiomics signature logits (S,) for the prepared contour; empty without them."""
        return self._signatures(image, info.contour, info.roiset)

    def _signatures(self, image: UltrasoundImage, contour: Contour, roiset: Any) -> np.ndarray:
        rad = self.bundle.radiomics
        if rad is None:
            return np.zeros(0)
        pts = np.asarray(contour.points)
        names = self.bundle.region_names
        f = case_features(image.gray, image.scan_mask, roiset, pts, names, rad.settings)
        with np.errstate(all="ignore"):
            z = rad.logits(f)
        if not np.all(np.isfinite(z)):
            raise ModelError(
                "The radiomics signatures gave no finite answer (broken manifest); no result is shown."
            )
        return z

    def info(self) -> dict[str, Any]:
        """What runs where (for logs, `dlrs model info`, the GUI's status bar)."""
        return {
            "model_id": self.bundle.id,
            "model_version": self.bundle.version,
            "bundle_hash": self.bundle.manifest_sha256,
            "source": str(Path(self.bundle.source)),
            "backend": self.backend,
            "device": self.device,
            "precision": self.precision,
            "device_note": self.device_note,
            "load_ms": round(self.load_ms, 1),
        }
