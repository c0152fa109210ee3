"""`dlrs predict IMAGE|FOLDER`: the GUI's prediction from the command line (same Predictor).

A contour comes from `--contour`/`--mask`, or sits beside the image: `<stem>.contour.json`,
`<stem>_mask.png`, or the GUI's sidecar `<name>.dlrs.json` (which may also hold a calibration the
user made). A folder predicts every image that has a contour and writes a CSV table.
Exit codes: 0 done, 2 bad input (image, contour, calibration), 3 model problem.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlrs_desktop.commands._case import add_image_arguments, as_spacing, scale_line
from dlrs_desktop.commands._case import load_case as load
from dlrs_desktop.commands._common import add_model_arguments
from dlrs_desktop.commands._trust import add_trust_arguments, policy_from_args
from dlrs_desktop.errors import CalibrationError, DlrsError, ModelError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.model import domain_text as dt
from dlrs_desktop.model.domain_text import is_outside, set_text
from dlrs_desktop.model.outcome import sentence_start
from dlrs_desktop.model.reading import blend_cam, class_text
from dlrs_desktop.textsafe import csv_cell, escape_controls

if TYPE_CHECKING:
    from dlrs_desktop.model.result import Prediction

HELP = (
    "predict the probability of the model's outcome (the bundled model: early response) for one image, "
    "or every contoured image in a folder"
)

IMAGE_SUFFIXES = {".dcm", ".dicom", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="IMAGE|FOLDER", help="an image file, or a folder of images")
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--contour", metavar="JSON", help="tumour contour (contour JSON, GUI sidecar, labelme or DICOM SEG)"
    )
    src.add_argument(
        "--mask", metavar="PNG", help="tumour mask image (non-zero = tumour), same size as the image"
    )
    add_image_arguments(
        parser, "manual calibration in mm per pixel, or 'auto': read the on-screen depth scale", typed=True
    )
    add_model_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON (a list for a folder)")
    parser.add_argument("--cam", metavar="OUTDIR", help="write class activation map images here")
    parser.add_argument("--csv", metavar="FILE", help="folder: write the table to FILE (default: stdout)")
    parser.add_argument("--no-sensitivity", action="store_true", help="skip the contour-sensitivity stage")

    add_trust_arguments(parser)


def find_contour(image_path: Path) -> Path | None:
    """The contour stored beside an image, by the documented naming conventions."""
    for cand in (
        image_path.with_name(image_path.stem + ".contour.json"),
        image_path.with_name(image_path.stem + "_mask.png"),
        image_path.with_name(image_path.name + ".dlrs.json"),
    ):
        if cand.is_file():
            return cand
    return None


def load_case(
    image_path: Path, args: argparse.Namespace, contour_file: Path | None, *, beside: bool = False
) -> tuple[Any, Any]:
    """(image carrying the effective calibration, contour): `effective_calibration`'s precedence,
    --spacing > the calibration saved with the GUI annotation > the file's own > the contour file's."""
    spacing = as_spacing(args.spacing)  # a number, or "auto": the on-screen depth scale
    case = load(image_path, contour_file, frame=args.frame, spacing=spacing, beside=beside)
    one_image = image_path == Path(getattr(args, "path", ""))  # a folder's CSV stays a table
    if case.depth_scale is not None and one_image and not getattr(args, "json", False):
        print(scale_line(case.depth_scale))
    if case.calibration.calibration is None:
        raise CalibrationError(
            f"{image_path.name} has no trustworthy millimetre calibration ({case.calibration.note}), so "
            "no prediction is made; give one with --spacing MM_PER_PX or calibrate it in the application."
        )
    return case.image, case.contour


def _summary(pred: Prediction) -> str:
    if dt.is_outside(pred):  # no class and no probability, only the reason
        lines = [dt.outside_text(pred), dt.domain_line(pred)]
        lines += [f"{f.severity.upper()}: {f.message}" for f in pred.flags]
        lines += [f"Model {pred.model_id} {pred.model_version} (bundle sha256 {pred.bundle_hash[:12]})",
                  pred.research_notice]  # fmt: skip
        return "\n".join(lines)
    lines = [
        f"{sentence_start(pred.outcome.probability_of)}: {pred.probability:.3f} "
        f"(threshold {pred.threshold:.3f}) -> {pred.category if dt.set_text(pred) else class_text(pred)}",
        *[x for x in (dt.caution_text(pred), dt.set_line(pred)) if x],
        *dt.evidence_lines(pred),  # the domain, and the contour sensitivity's state as evidence
        "Per-region evidence:",
    ]
    for r in pred.regions:
        clipped = f"  clipped {r.clipped_fraction:.0%}" if r.clipped_fraction else ""
        lines.append(
            f"  {r.name:<13} p={r.probability:.3f}  logit {r.logit:+.3f} x weight {r.coefficient:+.3f}"
            f"  area {r.area_mm2:.0f} mm2{clipped}"
        )
    for sig in pred.signatures:
        lines.append(
            f"  {sig.name:<13} p={sig.probability:.3f}  logit {sig.logit:+.3f} "
            f"x weight {sig.coefficient:+.3f}"
        )
    s = pred.sensitivity
    if s is not None and s.min is not None:
        lines.append(f"Contour sensitivity (offsets {', '.join(f'{d:+g}' for d in s.offsets_mm)} mm): "
                     f"{s.min:.3f} - {s.max:.3f}")  # fmt: skip
    for f in pred.flags:
        lines.append(f"{f.severity.upper()}: {f.message}")
    t = pred.timings_ms
    lines.append(
        f"Model {pred.model_id} {pred.model_version} (bundle sha256 {pred.bundle_hash[:12]}), "
        f"{pred.backend} on {pred.device} ({pred.precision}), {t.get('total', 0):.0f} ms"
        + (f" + {t['sensitivity']:.0f} ms sensitivity" if "sensitivity" in t else "")
    )
    if pred.device_note:
        lines.append(f"Note: {pred.device_note}")
    lines.append(pred.research_notice)
    return "\n".join(lines)


def write_cams(pred: Prediction, image: Any, out_dir: Path, stem: str) -> list[Path]:
    """One PNG per region: the image with the region's explanation map laid over it, coloured exactly as
    the workstation shows it (signed, diverging: orange = evidence for the positive class, blue = against)."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    written = []
    for cam in pred.cams or ():
        out = blend_cam(image.display, cam.full(tuple(image.shape)))
        ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2BGR))
        if ok:
            written.append(atomic_write_bytes(out_dir / f"{stem}_cam_{cam.name}.png", buf.tobytes()))
    return written


def _predict_one(
    predictor: Any,
    image_path: Path,
    args: argparse.Namespace,
    contour_file: Path | None,
    *,
    beside: bool = False,
) -> Any:
    image, contour = load_case(image_path, args, contour_file, beside=beside)
    pred = predictor.predict(image, contour, sensitivity=not args.no_sensitivity, cam=bool(args.cam))
    if args.cam:
        write_cams(pred, image, Path(args.cam), image_path.stem)
    return pred


def _is_image(p: Path) -> bool:
    name = p.name.lower()
    if name.endswith(("_mask.png", ".contour.json", ".dlrs.json")) or "_cam_" in name:
        return False
    if p.suffix.lower() in IMAGE_SUFFIXES:
        return True
    if p.suffix == "":
        try:
            with open(p, "rb") as fh:
                return fh.read(132)[128:132] == b"DICM"
        except OSError:
            return False
    return False


CSV_FIELDS = [
    "image", "status", "probability", "category", "threshold", "sensitivity_min", "sensitivity_max", "flags",
    "mm_per_px", "calibration_source", "model_id", "model_version", "bundle_hash", "contour_hash", "backend",
    "device", "time_ms", "outcome", "domain_status", "domain_score", "domain_reason", "prediction_set",
    "coverage", "research_notice",
]  # fmt: skip
FALLBACK_NOTICE = "Research use only; not a diagnosis."  # a failed row still carries the notice


def _row(name: str, pred: Prediction | None = None, error: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CSV_FIELDS, "")
    row["image"] = name
    row["research_notice"] = getattr(pred, "research_notice", "") or FALLBACK_NOTICE
    if pred is None:
        row["status"] = f"error: {error}"
        return row
    s = pred.sensitivity
    row.update(
        status="ok",
        probability=f"{pred.probability:.6f}",
        category=pred.category,
        threshold=f"{pred.threshold:.6f}",
        sensitivity_min="" if s is None or s.min is None else f"{s.min:.6f}",
        sensitivity_max="" if s is None or s.max is None else f"{s.max:.6f}",
        flags=";".join(f.code for f in pred.flags),
        mm_per_px=f"{pred.calibration['mm_per_px_x']:.6g}",
        calibration_source=pred.calibration["source"],
        **pred.provenance(),
        time_ms=f"{pred.timings_ms.get('total', 0):.1f}",
        outcome=pred.outcome.short_name,  # what `probability` is the probability of
    )
    for r in (*pred.regions, *pred.signatures):
        row[f"p_{r.name}"] = f"{r.probability:.6f}"
    return _domain_cells(row, pred)


def _domain_cells(row: dict[str, Any], pred: Prediction) -> dict[str, Any]:
    """The domain guard's columns; outside the domain the class and every probability are left empty."""
    dom = pred.domain
    row.update(
        domain_status=dom.status,
        domain_reason=dom.reason,
        domain_score="" if dom.score is None else f"{dom.score:.4f}",
        prediction_set=set_text(pred),
        coverage="" if pred.coverage is None else f"{pred.coverage:g}",
    )
    if is_outside(pred):
        for k in [k for k in row if k.startswith("p_")] + ["probability", "category", "sensitivity_min",
                                                            "sensitivity_max", "prediction_set"]:  # fmt: skip
            row[k] = ""
    return row


def _progress(i: int, n: int, name: str, verbose: bool = False) -> None:
    """A progress bar on a terminal; a line per image only with --verbose (stderr stays one line)."""
    name = escape_controls(name)
    if sys.stderr.isatty():
        width = 30
        done = int(width * i / n)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}")
        if i == n:
            sys.stderr.write("\n")
    elif verbose:
        sys.stderr.write(f"[{i}/{n}] {name}\n")
    sys.stderr.flush()


def _run_folder(predictor: Any, folder: Path, args: argparse.Namespace) -> int:
    if args.contour or args.mask:
        raise DlrsError("--contour/--mask name one image's contour; for a folder put one beside each image.")
    images = sorted(p for p in folder.iterdir() if p.is_file() and _is_image(p))
    cases = [(p, c) for p in images if (c := find_contour(p)) is not None]
    if not cases:
        raise DlrsError(
            f"No image in {folder} has a contour beside it (<stem>.contour.json or <stem>_mask.png)."
        )
    rows, dicts, failed, worst = [], [], 0, 2
    for i, (img, cfile) in enumerate(cases, 1):
        try:
            pred = _predict_one(predictor, img, args, cfile, beside=True)
            rows.append(_row(img.name, pred))
            dicts.append({"image": img.name, **pred.to_json_dict()})
        except Exception as exc:  # one bad file is a row of the table, never the end of the batch
            failed += 1
            if isinstance(exc, ModelError):
                worst = max(worst, 3)
            message = (
                str(exc) if isinstance(exc, DlrsError) else f"internal error: {type(exc).__name__}: {exc}"
            )
            rows.append(_row(img.name, error=escape_controls(message)))
            dicts.append({"image": img.name, "error": message})
        _progress(i, len(cases), img.name, getattr(args, "verbose", False))
    if args.json:
        json.dump(dicts, sys.stdout, indent=2)
        sys.stdout.write("\n")
    fields = CSV_FIELDS + sorted({k for r in rows for k in r if k.startswith("p_")})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
    if args.csv:
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.fileio import atomic_write_text

        atomic_write_text(args.csv, buf.getvalue())
    elif not args.json:
        sys.stdout.write(buf.getvalue())
    skipped = len(images) - len(cases)
    summary = (
        f"{len(cases) - failed} of {len(cases)} contoured images predicted"
        + (f", {skipped} without a contour skipped" if skipped else "")
        + (f"; table written to {args.csv}" if args.csv else "")
    )
    if failed:  # one line, and the exit code says that some failed
        print(
            escape_controls(f"error: {failed} of {len(cases)} images could not be predicted (see the status "
                            f"column); {summary}"),
            file=sys.stderr,
        )  # fmt: skip
        return worst
    print(escape_controls(summary), file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.predictor import Predictor

    path = Path(args.path)
    if not path.exists():
        raise DlrsError(f"'{path}' does not exist.")
    t0 = time.perf_counter()

    predictor = Predictor(
        args.model, device=args.device, trust=policy_from_args(args), precision=args.precision
    )
    if path.is_dir():
        return _run_folder(predictor, path, args)
    given = args.contour or args.mask
    contour_file = Path(given) if given else find_contour(path)
    if contour_file is not None and not contour_file.exists():
        raise DlrsError(f"Contour file not found: {contour_file}")
    pred = _predict_one(predictor, path, args, contour_file, beside=not given)
    if args.json:
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.model.reading import is_uncertain

        d = pred.to_json_dict()
        d["uncertain"] = is_uncertain(pred)
        d["image"] = path.name
        d["load_ms"] = round(predictor.load_ms, 1)
        json.dump(d, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(_summary(pred))
        if args.cam:
            print(f"{pred.outcome.cam_legend}; images in {args.cam}")
        print(f"(model load {predictor.load_ms:.0f} ms, wall {1e3 * (time.perf_counter() - t0):.0f} ms)")
    return 0
