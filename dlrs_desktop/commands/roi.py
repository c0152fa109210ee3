"""`dlrs roi IMAGE --contour C | --mask M`: measurements and calibrated peritumoral rings from the shell.

The same `validate_contour` → `measurements` → `compute_rois` path the GUI and the model use, so a
script, a batch job or a reviewer sees exactly the numbers the application shows. A mask image
(non-zero = tumour) is accepted wherever a contour is, because that is what other tools export.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.commands._case import AUTO, add_image_arguments, load_case
from dlrs_desktop.errors import CalibrationError, ContourError, DlrsError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.limits import MAX_RING_RADIUS_MM, MAX_RINGS, ContourLimitError

HELP = "measure a tumour contour and write its calibrated 3/5/10 mm peritumoral ring masks"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="DICOM, PNG, JPEG, TIFF or BMP ultrasound image")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--contour", metavar="FILE", help="contour JSON (or a GUI sidecar, labelme file, mask PNG, DICOM SEG)"
    )
    src.add_argument("--mask", metavar="PNG", help="tumour mask image of the same size (non-zero = tumour)")
    add_image_arguments(
        parser,
        "manual calibration in mm per pixel (X or X,Y); overrides the file's calibration; 'auto': "
        "read the on-screen depth scale when the file has no scale (a DICOM region wins)",
    )
    parser.add_argument("--radii", default="3,5,10", metavar="MM", help="ring radii in mm (default 3,5,10)")
    parser.add_argument(
        "--clip-threshold",
        type=float,
        default=0.2,
        metavar="F",
        help="flag a ring when more than this fraction falls outside the scan area (default 0.2)",
    )
    parser.add_argument("--min-area", type=float, default=4.0, metavar="MM2", help="smallest tumour (mm²)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    parser.add_argument("--out", metavar="DIR", help="write the ROI masks (PNG) and the contour JSON here")


def _parse_spacing(text: str) -> Any:
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        values = [float(v) for v in text.replace("x", ",").split(",")]
    except ValueError:
        values = []
    if len(values) not in (1, 2):
        raise CalibrationError(
            f"--spacing must be a number of mm per pixel (e.g. 0.1 or 0.08,0.12) or auto, not {text!r}."
        )
    return Calibration.manual(*values)


def _parse_radii(text: str) -> list[float]:
    try:
        radii = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        radii = []
    if not radii or any(not (math.isfinite(r) and r > 0) for r in radii):
        raise ContourError(f"--radii must be positive millimetres separated by commas, not {text!r}.")
    if max(radii) > MAX_RING_RADIUS_MM or len(radii) > MAX_RINGS:
        raise ContourLimitError(
            f"--radii: at most {MAX_RINGS} rings of at most {MAX_RING_RADIUS_MM:g} mm (the limit), "
            f"not {text[:60]!r}."
        )
    return radii


def _check_fractions(args: argparse.Namespace) -> None:
    if not (math.isfinite(args.clip_threshold) and 0.0 <= args.clip_threshold <= 1.0):
        raise DlrsError(f"--clip-threshold must be a fraction between 0 and 1, not {args.clip_threshold:g}.")
    if not (math.isfinite(args.min_area) and 0.0 <= args.min_area <= 1e6):
        raise DlrsError(f"--min-area must be a number of mm² between 0 and 1000000, not {args.min_area:g}.")


def _png(mask: Any) -> bytes:
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    ok, buf = cv2.imencode(".png", mask.astype(np.uint8) * 255)
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise OSError("PNG encoding failed")
    return buf.tobytes()


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.commands._common import print_json
    from dlrs_desktop.roi import compute_rois, validate_contour

    manual = _parse_spacing(args.spacing) if args.spacing else None
    radii = _parse_radii(args.radii)
    _check_fractions(args)

    source = Path(args.mask or args.contour)
    case = load_case(Path(args.image), source, frame=args.frame, spacing=manual)
    image, drawn = case.image, case.contour
    if case.calibration.calibration is None:
        hint = ""
        if drawn.calibration is not None and drawn.calibration.source == "manual":
            c = drawn.calibration
            hint = f" (the contour was drawn at {c.mm_per_px_x:g},{c.mm_per_px_y:g} mm/px)"
        raise CalibrationError(
            f"{Path(args.image).name} has no trustworthy calibration (mm per pixel; "
            f"{case.calibration.note}), so rings in mm cannot be computed; give one with "
            f"--spacing MM_PER_PX{hint}."
        )

    contour = validate_contour(drawn, image, min_area_mm2=args.min_area)
    repaired = len(contour.points) != len(drawn.points) or not (contour.points == drawn.points).all()
    rois = compute_rois(contour, image, radii_mm=radii, clip_threshold=args.clip_threshold)
    written = _write_masks(Path(args.out), rois, contour) if args.out else []
    if args.json:
        print_json(_json(args, case, contour, rois, repaired, written))
    else:
        print(_text(args, case, contour, rois, repaired, written))
    return 0


def _write_masks(out: Path, rois: Any, contour: Any) -> list[str]:
    """Each ROI's mask (a ring also as its expanded disc) and the contour JSON; the names written."""
    written: list[str] = []
    try:
        for roi in rois:
            atomic_write_bytes(out / f"{roi.name}.png", _png(roi.full("annulus")))
            written.append(f"{roi.name}.png")
            if roi.radius_mm > 0:
                atomic_write_bytes(out / f"{roi.name}_expanded.png", _png(roi.full("expanded")))
                written.append(f"{roi.name}_expanded.png")
        contour.save(out / "contour.json")
        written.append("contour.json")
    except OSError as exc:
        raise DlrsError(f"Cannot write to {out}: {exc.strerror or exc}.") from exc
    return written


def _json(
    args: argparse.Namespace, case: Any, contour: Any, rois: Any, repaired: bool, written: list[str]
) -> dict[str, Any]:
    image = case.image
    return {
        "image": {
            "file": Path(args.image).name,
            "width": image.width,
            "height": image.height,
            "frame": image.frame_index,
            "frame_count": image.frame_count,
        },
        "calibration": {**rois.calibration.to_dict(), "origin": case.calibration.origin},
        "depth_scale": None if case.depth_scale is None else case.depth_scale.to_dict(),
        "contour": {
            "points": len(contour.points),
            "repaired": repaired,
            "region_index": contour.region_index,
            "content_hash": contour.content_hash(),
        },
        "measurements": contour.measurements().to_dict(),
        "clip_threshold": rois.clip_threshold,
        "rois": [r.summary() for r in rois],
        "flagged": rois.flagged,
        "out": str(Path(args.out)) if args.out else None,
        "files": written,
    }


def _text(
    args: argparse.Namespace, case: Any, contour: Any, rois: Any, repaired: bool, written: list[str]
) -> str:
    image, m = case.image, contour.measurements()
    lines = [
        f"image        {Path(args.image).name}  {image.width}×{image.height} px, "
        f"frame {image.frame_index + 1}/{image.frame_count}",
        f"calibration  {rois.calibration.label()}"
        + (f"  ({case.depth_scale.summary()})" if case.depth_scale is not None else ""),
        f"contour      {len(contour.points)} points"
        + ("  (repaired: a small self-crossing loop was cut off)" if repaired else ""),
        f"area         {m.area_mm2:.1f} mm²",
        f"perimeter    {m.perimeter_mm:.1f} mm",
        f"diameters    {m.max_diameter_mm:.1f} mm (longest) × "
        f"{m.perpendicular_diameter_mm:.1f} mm (perpendicular)",
        "",
        f"{'ROI':<14}{'area mm²':>10}{'outside scan area':>20}",
    ]
    for r in rois:
        flag = f"  FLAGGED (> {100 * rois.clip_threshold:g} % outside)" if r.flagged else ""
        lines.append(f"{r.name:<14}{r.area_mm2:>10.1f}{100 * r.clipped_fraction:>18.1f} %{flag}")
    if written:
        lines.append(f"\nwrote {len(written)} files to {args.out}")
    return "\n".join(lines)
