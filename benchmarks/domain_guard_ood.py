"""Images a breast-ultrasound model never learned, through the domain guard (issue 26 acceptance).

    python benchmarks/domain_guard_ood.py --model DIR [--synth-cohort CSV] [--spacing 0.1]

Sets (each printed with its inside / unusual / outside / refused counts):
- non-breast ultrasound: the real scanner DICOMs of tests/data/real (Philips obstetric, Aloka pelvis)
  and every ultrasound file pydicom ships in its own package (no download);
- colour Doppler: the GE power-Doppler lymph-node frame (tests/data/real/scan_US1_UNCR.dcm) and
  pydicom's RGB ultrasound examples;
- phantom-like: quality-assurance phantom images drawn here (uniform speckle, anechoic cylinders,
  bright wire targets), several seeds;
- synthetic: a `dlrs synth` cohort (`--synth-cohort`), each case with its own contour;
- `--folder LABEL=DIR` (repeatable): every PNG/JPEG/BMP/DICOM file of DIR as a set of its own, e.g.
  real non-breast ultrasound from public datasets (their provenance is the folder's business: say it
  in the record).
A lesion contour is what the guard judges together with the image, so where the set has none a
fixed rule places one: a 7 mm-radius circle at the centre of the scan area (never tuned to a set).
Files without a millimetre scale get `--spacing` (stated). Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402
from domain_guard_check import fractions  # noqa: E402

REAL = REPO / "tests" / "data" / "real"
CIRCLE_MM = 7.0


def _pydicom_us() -> list[Path]:
    import pydicom

    root = Path(pydicom.__file__).parent / "data" / "test_files"
    out = []
    for f in sorted(root.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:
            continue
        if getattr(ds, "Modality", "") == "US":
            out.append(f)
    return out


def phantom(seed: int, size: int = 480) -> np.ndarray:
    """A QA-phantom-like B-mode picture: Rayleigh speckle, anechoic cylinders, bright wire dots."""
    import cv2

    rng = np.random.default_rng(seed)
    speckle = rng.rayleigh(1.0, (size, size))
    speckle = cv2.GaussianBlur(speckle, (0, 0), 1.2)
    img = 90.0 * speckle * np.exp(-np.linspace(0, 0.8, size))[:, None]
    yy, xx = np.mgrid[:size, :size]
    for cx, cy, r in (
        (size * 0.3, size * 0.45, 20),
        (size * 0.55, size * 0.45, 30),
        (size * 0.75, size * 0.7, 15),
    ):
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] *= 0.08
    for k in range(8):
        img[int(size * 0.1 + k * size * 0.1) - 2 :, :][:4, size // 2 - 2 : size // 2 + 2] = 255
    return np.clip(img, 0, 255).astype(np.uint8)


def _centre(image) -> tuple[float, float]:
    """Centre of the scan area; of its first view when the image holds several side by side."""
    area = image.scan_mask if image.views is None else image.views == 1
    ys, xs = np.nonzero(area)
    return (float(xs.mean()), float(ys.mean())) if xs.size else (image.width / 2, image.height / 2)


def circle_contour(image, cal, centre: tuple[float, float]):
    """A CIRCLE_MM-radius circle (in mm: an ellipse in pixels if anisotropic) round `centre`."""
    from dlrs_desktop.roi import Contour

    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    rx, ry = CIRCLE_MM / cal.mm_per_px_x, CIRCLE_MM / cal.mm_per_px_y
    return Contour(np.c_[centre[0] + rx * np.cos(t), centre[1] + ry * np.sin(t)])


def judge(predictor, image, spacing: float, counts: Counter, name: str) -> None:
    from dlrs_desktop.errors import DlrsError
    from dlrs_desktop.imaging import effective_calibration
    from dlrs_desktop.imaging.types import Calibration

    try:
        fallback = Calibration.manual(spacing)
        centre = _centre(image)
        image = effective_calibration(image, np.array([centre]), fallback=fallback).image
        cal = image.calibration_for(np.array([centre])) or fallback
        pred = predictor.predict(image, circle_contour(image, cal, centre), sensitivity=False)
    except DlrsError as exc:
        counts["refused"] += 1
        print(f"  {name}: refused ({str(exc)[:90]})")
        return
    counts[pred.domain.status] += 1
    print(f"  {name}: {pred.domain.status} score {pred.domain.score:.1f} ({pred.domain.reason[:80]})")


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".dcm"}


def folder_images(folder: Path) -> list[Path]:
    """Every image file under `folder`, sorted (masks, named *mask*, left out)."""
    return sorted(
        f for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and "mask" not in f.name.lower()
    )


def _judge_file(predictor, f: Path, spacing: float, counts: Counter) -> None:
    from dlrs_desktop.imaging import load_image

    try:
        image = load_image(f)
    except Exception as exc:
        counts["refused"] += 1
        print(f"  {f.name}: not loadable ({str(exc)[:80]})")
        return
    judge(predictor, image, spacing, counts, f.name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--synth-cohort", default=None)
    ap.add_argument("--spacing", type=float, default=0.1)
    ap.add_argument("--phantoms", type=int, default=6)
    ap.add_argument("--folder", action="append", default=[], metavar="LABEL=DIR")
    ap.add_argument("--only-folders", action="store_true", help="skip the built-in sets")
    args = ap.parse_args()
    from dlrs_desktop.imaging.loader import image_from_array
    from dlrs_desktop.model.predictor import Predictor

    print(machine_line())
    predictor = Predictor(args.model, device="cpu", backend="onnx", threads=1)
    print(
        f"model {predictor.bundle.id} {predictor.bundle.version}, manifest {predictor.bundle.manifest_sha256}"
    )
    sets: dict[str, Counter] = {}
    doppler = {"scan_US1_UNCR.dcm", "examples_rgb_color.dcm", "examples_ybr_color.dcm", "examples_jpeg2k.dcm"}
    files = [
        REAL / "scan_OBXXXX1A.dcm",
        REAL / "scan_ALOKA_dual.dcm",
        REAL / "scan_US1_UNCR.dcm",
        *_pydicom_us(),
    ]
    for f in [] if args.only_folders else files:
        key = "colour Doppler / colour ultrasound" if f.name in doppler else "non-breast ultrasound (grey)"
        _judge_file(predictor, f, args.spacing, sets.setdefault(key, Counter()))
    for seed in range(0 if args.only_folders else args.phantoms):
        image = image_from_array(phantom(seed), path=f"<phantom {seed}>")
        judge(predictor, image, args.spacing, sets.setdefault("phantom-like", Counter()), f"phantom {seed}")
    if args.synth_cohort:
        from dlrs_desktop.errors import DlrsError
        from dlrs_desktop.training.cohort import load_case, read_cohort

        c = sets.setdefault("synthetic (dlrs synth)", Counter())
        for case in read_cohort(args.synth_cohort, require_train=False):
            try:
                image, contour = load_case(case)
                c[predictor.predict(image, contour, sensitivity=False).domain.status] += 1
            except DlrsError:
                c["refused"] += 1
    for spec in args.folder:
        label, _, folder = spec.partition("=")
        for f in folder_images(Path(folder)):
            _judge_file(predictor, f, args.spacing, sets.setdefault(label, Counter()))
    print()
    for key, counts in sets.items():
        print(f"{key}: {fractions(counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
