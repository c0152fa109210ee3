"""Builders for model tests: small randomly initialised bundles (through the real writer) and
synthetic B-mode cases whose pixels, scan area and calibration the test controls.

Nothing here fabricates a probability: bundles hold random weights and every number a test reads
comes out of the real predictor.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.imaging.types import Calibration, Provenance, UltrasoundImage
from dlrs_desktop.roi import Contour
from tests.roi_factory import manual_calibration

_CACHE_DIR: Path | None = None


def make_bundle(
    out_dir: Path,
    *,
    input_size: int = 64,
    arch: str = "resnet18",
    shared_backbone: bool = True,
    seed: int = 0,
    spec_overrides: dict[str, Any] | None = None,
    tumour_area_mm2_range: tuple[float, float] | None = (20.0, 2000.0),
    coefficients: tuple[float, ...] = (1.0, 0.6, 0.4, 0.2),
    intercept: float = 0.1,
    head_weight: np.ndarray | None = None,
    head_bias: np.ndarray | None = None,
    zip_path: Path | None = None,
    members: int = 1,
    radiomics: bool = False,
    outcome: dict[str, str] | None = None,
) -> Path:
    """A bundle with randomly initialised weights, written by `write_bundle` (same code as training).

    `members` > 1: that many random networks averaged by `network.ensemble_of` (as `dlrs train`
    ships the final and fold networks), with member standardisation (mean m/10, SD 1 + m/2).
    `radiomics`: a radiomics signature per fusion row (random weights); stacking weight 0.5 each, the
    last 0.
    """
    import torch

    from dlrs_desktop.model.bundle_write import write_bundle
    from dlrs_desktop.model.contents import BundleContents
    from dlrs_desktop.model.manifest import Stacking
    from dlrs_desktop.model.network import FusionNet
    from dlrs_desktop.model.preprocess import PreprocessSpec

    torch.manual_seed(seed)
    spec = PreprocessSpec(input_size=input_size, **(spec_overrides or {}))
    net = FusionNet(
        arch, n_regions=len(spec.regions), shared_backbone=shared_backbone, in_channels=spec.in_channels
    )
    with torch.no_grad():
        # Random heads large enough that the per-region logits differ visibly between inputs.
        net.head.weight.normal_(0.0, 0.05)
        net.head.bias.zero_()
        if head_weight is not None:
            net.head.weight.copy_(torch.as_tensor(head_weight, dtype=torch.float32))
        if head_bias is not None:
            net.head.bias.copy_(torch.as_tensor(head_bias, dtype=torch.float32))
    training_data: dict[str, Any] = {
        "kind": "synthetic",
        "description": "none: randomly initialised weights for tests",
        "centres": ["test"],
        "splits": {"train": 0, "internal": 0, "external": 0},
    }
    if members > 1:
        from dlrs_desktop.model.network import ensemble_of

        nets = [net]
        for _ in range(members - 1):
            extra = FusionNet(arch, n_regions=len(spec.regions), in_channels=spec.in_channels)
            with torch.no_grad():
                extra.head.weight.normal_(0.0, 0.05)
            nets.append(extra)
        r = len(spec.regions)
        mean = np.array([[m / 10.0] * r for m in range(members)])
        net = ensemble_of(nets, mean, 1.0 + mean * 5.0)
    if tumour_area_mm2_range is not None:
        training_data["tumour_area_mm2_range"] = list(tumour_area_mm2_range)
    coef, extra_manifest = tuple(coefficients[: len(spec.regions)]), {}
    if radiomics:
        rad = random_radiomics(spec.region_names, seed)
        coef += (0.5,) * (len(rad.signatures) - 1) + (0.0,)  # the last one unused, as other rows' are
        extra_manifest["radiomics"] = rad.to_dict()
    contents = BundleContents(
        spec=spec,
        stacking=Stacking(coef, intercept, len(extra_manifest.get("radiomics", {}).get("signatures", ()))),
        extra=extra_manifest,
        threshold=0.5,
        model_id="test-random",
        version="0.0.1",
        training_data=training_data,
        metrics=[{"split": "none", "region": "fusion", "auc": None}],
        threshold_rule="fixed at 0.5 for tests",
        outcome=outcome,
    )
    return write_bundle(out_dir, net, contents, zip_path=zip_path, overwrite=True)


def random_radiomics(region_names: tuple[str, ...], seed: int = 0):
    """A `Radiomics` with one signature per fusion row and random weights (as `dlrs train` lays them out)."""
    from dlrs_desktop.model.radiomics import (
        Radiomics,
        Signature,
        feature_names,
        signature_columns,
        signature_name,
    )
    from dlrs_desktop.training.stacking import row_specs

    names = feature_names(region_names)
    rng = np.random.default_rng(seed)
    sigs = []
    for key, _label, regions, kind in row_specs(region_names):
        if kind != "fusion":
            continue
        cols = signature_columns(region_names, regions)
        sigs.append(
            Signature(
                signature_name(key),
                f"Radiomics: {' + '.join(regions)}",
                tuple(regions),
                tuple(cols),
                (0.0,) * len(cols),
                (1.0,) * len(cols),
                tuple(float(v) for v in rng.normal(0, 0.2, len(cols))),
                0.0,
            )
        )
    return Radiomics(tuple(names), tuple(sigs))


def cached_bundle(**kwargs: Any) -> Path:
    """`make_bundle` once per set of arguments per test session (writing one takes a few seconds)."""
    global _CACHE_DIR
    if _CACHE_DIR is None:
        _CACHE_DIR = Path(tempfile.mkdtemp(prefix="dlrs-test-bundles-"))
        atexit.register(shutil.rmtree, _CACHE_DIR, True)
    key = json.dumps(kwargs, sort_keys=True, default=_jsonable)
    out = _CACHE_DIR / hashlib.sha256(key.encode()).hexdigest()[:16]
    if not (out / "manifest.json").exists():
        make_bundle(out, **kwargs)
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if hasattr(v, "to_dict"):
        return v.to_dict()
    raise TypeError(f"cannot key a cached bundle on {type(v).__name__}")


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int = 96) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def bmode_case(
    shape: tuple[int, int] = (360, 440),
    mm_per_px: float | tuple[float, float] | None = 0.1,
    centre: tuple[float, float] | None = None,
    radius_mm: float = 6.0,
    seed: int = 0,
    margin: int = 20,
    rgb: np.ndarray | None = None,
) -> tuple[UltrasoundImage, Contour]:
    """Speckle-textured tissue inside a rectangular scan area (black margins), a dark elliptic tumour,
    and its contour. `rgb` replaces the display pixels (gray is then their BT.601 luma)."""
    h, w = shape
    rng = np.random.default_rng(seed)
    speckle = rng.rayleigh(0.5, size=(h, w)) * 90 + 40
    yy, xx = np.mgrid[0:h, 0:w]
    sx, sy = (mm_per_px, mm_per_px) if not isinstance(mm_per_px, tuple) else mm_per_px
    sx, sy = sx or 0.1, sy or 0.1
    cx, cy = centre or (w / 2, h / 2)
    rx, ry = radius_mm / sx, 0.8 * radius_mm / sy
    inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    gray = np.where(inside, speckle * 0.35, speckle)
    scan = np.zeros((h, w), bool)
    scan[margin : h - margin, margin : w - margin] = True
    gray = np.clip(np.where(scan, gray, 0), 0, 255).astype(np.uint8)
    display = np.repeat(gray[:, :, None], 3, axis=2)
    if rgb is not None:
        display = np.asarray(rgb, np.uint8)
        gray = np.round(display @ np.array([0.299, 0.587, 0.114])).clip(0, 255).astype(np.uint8)
    cal = manual_calibration(mm_per_px)
    image = make_image(gray, display, scan, cal)
    contour = Contour(ellipse_points(cx, cy, rx, ry), calibration=cal)
    return image, contour


def make_image(
    gray: np.ndarray, display: np.ndarray, scan: np.ndarray, cal: Calibration | None
) -> UltrasoundImage:
    """An UltrasoundImage built directly (no loader): the scan mask is exactly the one given."""
    arrays = [np.ascontiguousarray(gray), np.ascontiguousarray(display), np.asarray(scan, bool)]
    for a in arrays:
        a.setflags(write=False)
    sha = hashlib.sha256(arrays[1].tobytes()).hexdigest()
    return UltrasoundImage(
        display=arrays[1],
        gray=arrays[0],
        scan_mask=arrays[2],
        calibration=cal,
        regions=(),
        frame_count=1,
        frame_index=0,
        provenance=Provenance(path="<test>", sha256=sha),
    )


def with_pixels(image: UltrasoundImage, display: np.ndarray) -> UltrasoundImage:
    """The same case with other display pixels (gray recomputed as BT.601 luma)."""
    gray = (
        np.round(display.astype(np.float64) @ np.array([0.299, 0.587, 0.114])).clip(0, 255).astype(np.uint8)
    )
    return replace(make_image(gray, display, image.scan_mask, image.calibration))
