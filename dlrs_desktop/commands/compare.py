"""`dlrs compare BASELINE [--contour A] FOLLOWUP [--contour B]`: one lesion's size change between two
exams by RECIST 1.1 size criteria, beside the model's probability at each.

Each `--contour`/`--spacing` belongs to the image just before it (BASELINE, FOLLOWUP,
`--baseline-view2 IMG` or `--followup-view2 IMG`); an image without `--contour` uses the contour
stored beside it, as `dlrs predict` does. Two views at a time point (radial + antiradial) add the
ellipsoid volume (roi/size.py says which caliper comes from which view). The probability is the
normal Predictor's on each time point's first view. `--export DIR` writes the follow-up's SEG, SR
(with the size change and the lesion's tracking UID) and PDF (with the timeline); `--pdf FILE` the PDF
alone. Exit codes: 0 done, 2 bad input (image, contour, calibration), 3 model problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dlrs_desktop.commands._case import as_spacing, load_case, spacing_arg
from dlrs_desktop.commands._common import add_model_arguments
from dlrs_desktop.commands.predict import find_contour
from dlrs_desktop.errors import CalibrationError, DlrsError
from dlrs_desktop.exchange.source import is_dicom_file
from dlrs_desktop.exchange.timeline import TimelineEntry
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.model.domain_text import is_outside
from dlrs_desktop.roi import compute_rois, validate_contour
from dlrs_desktop.roi import size as sz

HELP = (
    "compare a lesion's size at baseline and follow-up (RECIST 1.1 size criteria, not a diagnosis) "
    "beside the model's probability at each"
)
SLOTS = ("baseline", "followup", "baseline_view2", "followup_view2")


class _Image(argparse.Action):
    """An image argument: later --contour/--spacing options belong to it."""

    def __call__(self, parser: Any, ns: Any, values: Any, option_string: Any = None) -> None:
        setattr(ns, self.dest, values)
        ns.order = [*(getattr(ns, "order", None) or []), self.dest]


class _Attached(argparse.Action):
    """--contour/--spacing: stored for the image named just before it."""

    def __call__(self, parser: Any, ns: Any, values: Any, option_string: Any = None) -> None:
        order = getattr(ns, "order", None) or []
        if not order:
            parser.error(f"{option_string} must follow the image it belongs to")
        table = dict(getattr(ns, self.dest, None) or {})
        if order[-1] in table:
            parser.error(f"two {option_string} options for one image ({order[-1].replace('_', ' ')})")
        table[order[-1]] = values
        setattr(ns, self.dest, table)


def register(parser: argparse.ArgumentParser) -> None:

    parser.add_argument("baseline", action=_Image, metavar="BASELINE", help="the baseline image")
    parser.add_argument("followup", action=_Image, metavar="FOLLOWUP", help="the follow-up image")
    for when in ("baseline", "followup"):
        parser.add_argument(
            f"--{when}-view2", action=_Image, metavar="IMG", help=f"the orthogonal view at {when} (volume)"
        )
        parser.add_argument(
            f"--{when}-label", default=None, metavar="TEXT", help=f"time point name at {when}"
        )
        parser.add_argument(f"--{when}-date", default="", metavar="YYYYMMDD", help="exam date (DICOM: read)")
    parser.add_argument(
        "--contour", action=_Attached, metavar="FILE", help="contour of the image before it (JSON, sidecar, "
        "mask, SEG)"
    )  # fmt: skip
    parser.add_argument(
        "--spacing",
        action=_Attached,
        type=spacing_arg,
        metavar="MM_PER_PX",
        help="mm/px of the image before it",
    )
    parser.add_argument(
        "--not-measurable", action="store_true",
        help="the lesion is no longer measurable at follow-up (complete response by size)",
    )  # fmt: skip
    add_model_arguments(parser)
    parser.add_argument("--no-predict", action="store_true", help="sizes only, no model probability")
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    parser.add_argument("--pdf", metavar="FILE", help="write the follow-up's PDF report with the timeline")
    parser.add_argument("--export", metavar="DIR", help="write the follow-up's DICOM SEG, SR and PDF here")
    parser.add_argument(
        "--patient-id", default="", help="--export of a PNG/JPEG follow-up: its patient ID (links the lesion)"
    )
    parser.add_argument(
        "--lesion", default="lesion 1", help="the lesion's tracking identifier (default 'lesion 1')"
    )


def _load(slot: str, args: argparse.Namespace) -> Any:
    """(image, validated contour) of one slot, with its effective calibration; exit 2 on bad input."""

    path = Path(getattr(args, slot))
    if not path.is_file():
        raise DlrsError(f"'{path}' does not exist.")
    given = (args.contour or {}).get(slot)
    contour_file = Path(given) if given else find_contour(path)
    if contour_file is not None and not contour_file.exists():
        raise DlrsError(f"Contour file not found: {contour_file}")
    spacing = as_spacing((args.spacing or {}).get(slot))
    case = load_case(path, contour_file, spacing=spacing, beside=not given)
    if case.calibration.calibration is None:
        raise CalibrationError(
            f"{path.name} has no trustworthy millimetre calibration ({case.calibration.note}), so its lesion "
            "is not measured; give one with --spacing MM_PER_PX after it or calibrate it in the application."
        )
    return path, case.image, validate_contour(case.contour, case.image)


def _header(path: Path) -> tuple[str, str]:
    """(StudyDate, PatientID) of a DICOM file; empty for other images or an unreadable header."""

    if not is_dicom_file(path):
        return "", ""
    # lazy: pydicom (0.5 s) only when a DICOM date is read
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return str(ds.get("StudyDate", "") or ""), str(ds.get("PatientID", "") or "")
    except Exception:  # an unreadable header only loses the date; the image loader reported the rest
        return "", ""


def _time_point(when: str, args: argparse.Namespace, predictor: Any) -> dict[str, Any]:

    slots = [when] + ([f"{when}_view2"] if getattr(args, f"{when}_view2") else [])
    loaded = [_load(s, args) for s in slots]
    views = tuple(
        sz.view_size(contour, contour.calibration or image.calibration) for _, image, contour in loaded
    )
    label = getattr(args, f"{when}_label") or ("baseline" if when == "baseline" else "follow-up")
    date, patient = _header(loaded[0][0])
    tp = sz.TimePoint(views, label, getattr(args, f"{when}_date") or date)
    pred = None if predictor is None else predictor.predict(loaded[0][1], loaded[0][2])
    return {"point": tp, "loaded": loaded, "prediction": pred, "patient": patient}


def _probability(pred: Any) -> float | None:

    return None if pred is None or is_outside(pred) else float(pred.probability)


def _point_dict(
    tp: Any, loaded: list[Any] | None, pred: Any, label: str = "", date: str = ""
) -> dict[str, Any]:
    """One time point for --json; `label`/`date` stand in when the lesion was not measurable."""
    views = [
        {
            "image": path.name,
            "longest_mm": round(v.longest_mm, 2),
            "perpendicular_mm": round(v.perpendicular_mm, 2),
            "across_beam_mm": round(v.across_mm, 2),
            "depth_mm": round(v.depth_mm, 2),
            "mm_per_px": list(v.mm_per_px),
        }
        for (path, _, _), v in zip(loaded or [], tp.views if tp else (), strict=True)
    ]
    out: dict[str, Any] = {
        "label": tp.label if tp else (label or "follow-up"),
        "exam_date": tp.exam_date if tp else date,
        "views": views,
        "longest_mm": None if tp is None else round(tp.longest_mm, 2),
        "volume_mm3": None if tp is None or tp.volume_mm3 is None else round(tp.volume_mm3, 1),
        "probability": _probability(pred),
    }
    if pred is not None:  # outside the model's domain: no probability and no class, only the reason
        out.update(
            category=None if out["probability"] is None else pred.category,
            outcome=pred.outcome.short_name,
            model_id=pred.model_id,
            domain={"status": pred.domain.status, "reason": pred.domain.reason},
        )
    return out


def _entries(base: dict[str, Any], fu: dict[str, Any], change: Any, fu_label: str, fu_date: str) -> Any:

    b, f = base["point"], fu["point"]
    return (
        TimelineEntry(b.exam_date, b.label, b.longest_mm, probability=_probability(base["prediction"])),
        TimelineEntry(
            f.exam_date if f else fu_date,
            f.label if f else fu_label,
            None if f is None else f.longest_mm,
            change.change_mm,
            change.change_percent,
            change.category,
            _probability(fu["prediction"]),
        ),
    )


def _text(result: dict[str, Any]) -> str:
    c = result["change"]
    lines = []
    for key in ("baseline", "followup"):
        p = result[key]
        size = "not measurable" if p["longest_mm"] is None else f"longest {p['longest_mm']:.1f} mm"
        vol = "" if p["volume_mm3"] is None else f", volume {p['volume_mm3'] / 1000:.2f} ml"
        prob = "" if p["probability"] is None else f", probability {p['probability']:.3f}"
        lines.append(f"{p['label']:<12} {p['exam_date'] or 'date unknown':<10} {size}{vol}{prob}")
    lines.append(f"change       {c['change_percent']:+.1f} % ({c['change_mm']:+.1f} mm): {c['category']}")
    if c["volume_change_percent"] is not None:
        lines.append(f"volume       {c['volume_change_percent']:+.1f} %")
    lines += [f"note: {n}" for n in (*c["notes"], *result.get("warnings", ()))]
    lines.append(result["notice"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:

    if args.not_measurable and (args.followup_view2 or (args.contour or {}).get("followup")):
        raise DlrsError("--not-measurable says the follow-up lesion cannot be outlined; give it no contour.")
    predictor = None
    if not args.no_predict:
        # lazy: ONNX Runtime (0.3 s) only when a prediction is asked for
        from dlrs_desktop.model.predictor import Predictor

        predictor = Predictor(args.model, device=args.device, precision=args.precision)
    base = _time_point("baseline", args, predictor)
    if args.not_measurable:
        if not Path(args.followup).is_file():
            raise DlrsError(f"'{args.followup}' does not exist.")
        date, patient = _header(Path(args.followup))  # no contour, but the exam still has its date
        fu = {"point": None, "loaded": None, "prediction": None, "patient": patient, "date": date}
    else:
        fu = _time_point("followup", args, predictor)
    change = sz.compare(base["point"], fu["point"])
    notice = (
        "Size change by RECIST 1.1 size criteria: a measurement rule, not a diagnosis. Research use only."
    )
    fu_date = args.followup_date or fu.get("date", "")
    result = {
        "baseline": _point_dict(base["point"], base["loaded"], base["prediction"]),
        "followup": _point_dict(fu["point"], fu["loaded"], fu["prediction"], args.followup_label, fu_date),
        "change": change.to_dict(),
        "notice": notice,
    }
    if base["patient"] and fu["patient"] and base["patient"] != fu["patient"]:
        result["warnings"] = ["The two DICOM files carry different patient IDs: is this the same lesion?"]
    entries = _entries(base, fu, change, args.followup_label or "follow-up", fu_date)
    _write_outputs(args, fu, change, entries, result)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(_text(result))
    return 0


def _write_outputs(
    args: argparse.Namespace, fu: dict[str, Any], change: Any, entries: Any, result: Any
) -> None:
    """--pdf and --export: the follow-up's report and DICOM objects, carrying the comparison."""

    if not (args.pdf or args.export):
        return
    if fu["loaded"] is None:
        raise DlrsError("--pdf/--export report on the follow-up image, which needs a measurable lesion.")

    path, image, contour = fu["loaded"][0]
    rois = compute_rois(contour, image)
    measurements = contour.measurements()
    if args.pdf:
        # lazy: cv2/Pillow drawing only when a PDF is asked for
        from dlrs_desktop.exchange.pdf import render_report_pdf

        title = f"image {image.sha256[:12]}, frame {image.frame_index + 1}"
        pdf = render_report_pdf(image, rois, measurements, fu["prediction"], title, timeline=entries)
        result["pdf"] = str(atomic_write_bytes(Path(args.pdf), pdf))
    if args.export:
        # lazy: highdicom (0.7 s) only when DICOM objects are exported
        from dlrs_desktop.exchange.export import ExportRequest, export_case
        from dlrs_desktop.exchange.sr import SizeReport

        request = ExportRequest(
            image,
            rois,
            measurements,
            image_path=path,
            prediction=fu["prediction"],
            lesion=args.lesion,
            patient_id=args.patient_id,
            size=SizeReport(change, entries),
        )
        done = export_case(request, args.export)
        result["export"] = {k: str(p) for k, p in done.files.items()}
        result["export_notes"] = done.notes
