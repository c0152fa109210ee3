"""`dlrs info IMAGE`: what the application sees in a file (size, frames, colour, calibration, regions).

The quickest way for a user or a script to check, before contouring, whether an image carries a
trustworthy millimetre scale and where it comes from.
"""

from __future__ import annotations

import argparse
from typing import Any

from dlrs_desktop.imaging import load_image

HELP = "show size, frames, colour encoding, calibration and ultrasound regions of an image"

_SPATIAL = {0: "none", 1: "2D", 2: "M-mode", 3: "spectral", 4: "waveform", 5: "graphics"}
_DATA = {
    0: "none",
    1: "tissue",
    2: "colour flow",
    3: "PW Doppler",
    4: "CW Doppler",
    5: "Doppler mean trace",
    6: "Doppler mode trace",
    7: "Doppler max trace",
    8: "volume trace",
    10: "ECG trace",
    11: "pulse trace",
    12: "phonocardiogram",
    13: "gray bar",
    14: "colour bar",
    15: "integrated backscatter",
    16: "area trace",
    17: "d(area)/dt",
    18: "other",
}
_UNITS = {0: "none", 1: "%", 2: "dB", 3: "cm", 4: "s", 5: "Hz", 6: "dB/s", 7: "cm/s", 8: "cm²", 9: "cm²/s",
          10: "cm³", 11: "cm³/s", 12: "deg"}  # fmt: skip


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="DICOM, PNG, JPEG, TIFF or BMP file")
    parser.add_argument("--frame", type=int, default=None, help="frame of a cine loop (0 = first)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")


def region_dict(region: Any) -> dict[str, Any]:
    d = region.to_dict()
    d["spatial_format_name"] = _SPATIAL.get(region.spatial_format, f"code {region.spatial_format}")
    d["data_type_name"] = _DATA.get(region.data_type, f"code {region.data_type}")
    d["units_x_name"] = _UNITS.get(region.units_x, f"code {region.units_x}")
    d["units_y_name"] = _UNITS.get(region.units_y, f"code {region.units_y}")
    d["usable_for_mm"] = region.usable_for_mm
    d["mm_per_px"] = [abs(region.delta_x) * 10, abs(region.delta_y) * 10] if region.usable_for_mm else None
    return d


def describe(image: Any) -> dict[str, Any]:
    """The JSON object `dlrs info --json` prints (also used by the tests)."""
    meta = image.provenance.metadata
    cal = image.calibration
    return {
        "file": image.provenance.path,
        "sha256": image.sha256,
        "format": meta.get("format"),
        "width": image.width,
        "height": image.height,
        "frames": image.frame_count,
        "frame": image.frame_index,
        "photometric_interpretation": meta.get("photometric_interpretation"),
        "transfer_syntax": meta.get("transfer_syntax"),
        "calibration": None if cal is None else {**cal.to_dict(), "label": cal.label()},
        "calibration_note": meta.get("calibration_note"),
        "regions": [region_dict(r) for r in image.regions],
        "scan_area_fraction": round(float(image.scan_mask.mean()), 4),
        "scan_area_method": meta.get("scan_mask"),
        "views": image.view_count,
        "metadata": meta,
    }


def _text(d: dict[str, Any]) -> str:
    meta = d["metadata"]
    kind = (d["format"] or "?").upper()
    if kind == "DICOM":
        parts = [meta.get("modality"), meta.get("manufacturer"), meta.get("model_name")]
        who = " ".join(p for p in parts if p)
        kind = f"DICOM{f' ({who})' if who else ''} · {d['transfer_syntax']}"
    lines = [
        f"File:         {d['file']}",
        f"Format:       {kind}",
        f"Size:         {d['width']} x {d['height']} px",
        f"Frames:       {d['frames']} (showing frame {d['frame']})",
        f"Photometric:  {d['photometric_interpretation'] or '-'}",
    ]
    if kind.startswith("DICOM"):  # what the domain guard's header check reads (model/anatomy.py)
        region = f" (anatomic region {meta['anatomic_region']})" if meta.get("anatomic_region") else ""
        described = ", ".join(meta.get("described_body_parts") or ())
        described = f" (descriptions name {described})" if described else ""
        lines.append(f"Body part:    {meta.get('body_part') or '-'}{region}{described}")
    if d["calibration"]:
        lines.append(f"Calibration:  {d['calibration']['label']}")
    elif any(r["usable_for_mm"] for r in d["regions"]):
        lines.append("Calibration:  per region (the region containing the contour gives the mm/px)")
    else:
        lines.append("Calibration:  none (not calibrated: calibrate on the depth ruler before predicting)")
    if d["calibration_note"]:
        lines.append(f"              {d['calibration_note']}")
    lines.append(f"Regions:      {len(d['regions']) or 'none'}")
    for r in d["regions"]:
        scale = (
            f"{r['mm_per_px'][0]:.4f} x {r['mm_per_px'][1]:.4f} mm/px"
            if r["mm_per_px"]
            else f"{r['delta_x']:g} {r['units_x_name']} x {r['delta_y']:g} {r['units_y_name']} (not for mm)"
        )
        lines.append(
            f"  #{r['index']}  x {r['x0']}-{r['x1']}, y {r['y0']}-{r['y1']}  "
            f"{r['spatial_format_name']} {r['data_type_name']}  {scale}"
        )
    lines.append(
        f"Scan area:    {100 * d['scan_area_fraction']:.0f} % of the frame ({d['scan_area_method']})"
        + (f", {d['views']} views" if d.get("views", 1) > 1 else "")
    )
    lines.append(f"SHA-256:      {d['sha256']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.commands._common import print_json

    image = load_image(args.image, frame=args.frame)
    d = describe(image)
    if args.json:
        print_json(d)
    else:
        print(_text(d))
    return 0
