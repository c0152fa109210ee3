"""`dlrs outline IMAGE --box X0 Y0 X1 Y1`: a proposed tumour outline from the shell (pre-contouring a folder).

The same `propose_box` / `propose_click` / `propose_diameter` / `propose_corrected` (a box with
`--include` / `--exclude` corrective clicks) / `propose_local_correction` (`--edit CONTOUR` with
clicks: an outline drawn or edited by hand, changed near each click only) / `snap_to_edges` the GUI's
assist tool and snap action call, so a batch pre-contouring run gives what a user would get by hand.
The result is an ordinary contour JSON (and optionally a mask PNG) that the GUI, `dlrs roi` and
`dlrs predict` read.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from dlrs_desktop.commands._case import AUTO, add_image_arguments, read_scale, scale_line
from dlrs_desktop.commands._trust import add_trust_arguments, policy_from_args
from dlrs_desktop.commands.roi import _parse_spacing
from dlrs_desktop.errors import ContourError, DlrsError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.dicom_seg import ImageRef

HELP = "propose a tumour outline from a box, a click or a diameter (or snap a contour to the lesion's edges)"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="DICOM, PNG, JPEG, TIFF or BMP ultrasound image")
    parser.add_argument(
        "--box",
        nargs=4,
        type=float,
        metavar=("X0", "Y0", "X1", "Y1"),
        help="box around the lesion (image px)",
    )
    parser.add_argument("--click", nargs=2, type=float, metavar=("X", "Y"), help="a point inside the lesion")
    parser.add_argument(
        "--diameter",
        nargs=4,
        type=float,
        metavar=("X1", "Y1", "X2", "Y2"),
        help="the two ends of the lesion's longest diameter (image px), as calipers are placed",
    )
    corrections = (("--include", "take in (repeatable; learned model 2.1.0 on)"), ("--exclude", "leave out"))
    for flag, what in corrections:
        parser.add_argument(
            flag,
            nargs=2,
            type=float,
            action="append",
            metavar=("X", "Y"),
            help=f"with --box or --edit: a corrective click the outline must {what}",
        )
    parser.add_argument(
        "--snap",
        metavar="CONTOUR",
        help="snap this contour (JSON, sidecar, mask PNG, DICOM SEG) to the lesion's edges, not a proposal",
    )
    parser.add_argument(
        "--edit",
        metavar="CONTOUR",
        help="correct this hand-drawn contour (JSON, sidecar, mask PNG, DICOM SEG) near each --include / "
        "--exclude click only, keeping the rest of it (includes first, then excludes)",
    )
    parser.add_argument(
        "--method",
        choices=("auto", "learned", "classical"),
        default="auto",
        help="auto (default): the learned model trained on real breast ultrasound when its bundle is "
        "installed, else the classical method; learned: fail (exit 3) without the model; classical",
    )
    parser.add_argument(
        "--assist-model",
        metavar="BUNDLE_DIR",
        help="learned contour-assist bundle (default: the one shipped in resources/models/dlrs-assist)",
    )

    add_trust_arguments(parser)
    parser.add_argument(
        "--max-distance",
        type=float,
        default=1.5,
        metavar="MM",
        help="farthest a vertex may snap (default 1.5 mm)",
    )
    add_image_arguments(
        parser,
        "manual calibration in mm per pixel (X or X,Y) if the file has none; 'auto': read the "
        "on-screen depth scale",
    )
    parser.add_argument(
        "--out", metavar="JSON", help="write the contour here (default: print a summary only)"
    )
    parser.add_argument("--mask-out", metavar="PNG", help="write the tumour mask (255 = tumour) here")
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.commands._common import print_json

    given = [n for n in ("box", "click", "diameter", "snap", "edit") if getattr(args, n) is not None]
    if len(given) != 1:
        raise ContourError(
            "Give exactly one of --box X0 Y0 X1 Y1, --click X Y, --diameter X1 Y1 X2 Y2, --snap CONTOUR "
            "or --edit CONTOUR."
        )
    include, exclude = args.include or [], args.exclude or []
    if (include or exclude) and args.box is None and args.edit is None:
        raise ContourError(
            "--include and --exclude correct a box's outline or an edited one: give --box X0 Y0 X1 Y1 or "
            "--edit CONTOUR too."
        )
    if args.edit is not None and not (include or exclude):
        raise ContourError("--edit corrects a contour at clicks: give --include X Y and/or --exclude X Y.")
    manual = _parse_spacing(args.spacing) if args.spacing else None
    numbers = [*(args.box or ()), *(args.click or ()), *(args.diameter or ()), args.max_distance]
    numbers += [v for p in (*include, *exclude) for v in p]
    if not all(math.isfinite(v) and abs(v) <= 1e7 for v in numbers):
        raise ContourError(
            "--box, --click, --diameter, --include, --exclude and --max-distance must be finite numbers "
            "of pixels / mm."
        )
    if not 0 < args.max_distance <= 20:
        raise ContourError("--max-distance must be between 0 and 20 mm.")
    image = _load(args, manual)
    t0 = time.perf_counter()
    contour, method, detail, how = _outline(args, image)
    ms = 1000 * (time.perf_counter() - t0)
    written = _write(args, contour, image.shape)
    cal = contour.calibration
    m = contour.measurements() if cal is not None else None
    if args.json:
        print_json(
            {
                "image": Path(args.image).name,
                "source": how,
                "method": method,
                "method_detail": detail,
                "points": len(contour.points),
                "calibration": cal.to_dict() if cal else None,
                "area_mm2": m.area_mm2 if m else None,
                "max_diameter_mm": m.max_diameter_mm if m else None,
                "seconds": round(ms / 1000, 3),
                "files": written,
            }
        )
        return 0
    size = (
        f"{m.area_mm2:.1f} mm², {m.max_diameter_mm:.1f} × {m.perpendicular_diameter_mm:.1f} mm"
        if m
        else f"{contour.area_px():.0f} px² (no calibration: no millimetres)"
    )
    print(f"outline  {len(contour.points)} points from {how} in {ms:.0f} ms: {size}")
    print(f"method   {method}: {detail}")
    for f in written:
        print(f"wrote    {f}")
    if not written:
        print("(nothing written: add --out annotation.json and/or --mask-out tumour.png)")
    return 0


def _load(args: argparse.Namespace, manual: Any) -> Any:
    """The image (the frame a SEG to snap names), with --spacing's calibration or the read depth scale."""
    frame = args.frame
    drawn = args.snap if args.snap is not None else args.edit
    if frame is None and drawn is not None:
        # lazy: highdicom (~0.7 s) only when a SEG is snapped or edited
        from dlrs_desktop.imaging.dicom_seg import seg_source_frame

        frame = seg_source_frame(drawn)  # a SEG of a cine loop names its frame
    image = load_image(args.image, frame=frame)
    if manual == AUTO:  # the on-screen depth scale, only when the file has no scale of its own
        if image.calibration is None and not any(r.usable_for_mm for r in image.regions):
            reading = read_scale(image, Path(args.image).name)
            image = image.with_calibration(reading.calibration())
            if not args.json:
                print(scale_line(reading))
    elif manual is not None:
        image = image.with_calibration(manual)
    return image


def _outline(args: argparse.Namespace, image: Any) -> tuple[Any, str, str, str]:
    """(contour, method, method detail, what it was made from) for --box, --click, --diameter or --snap."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.roi.assist import propose_box, propose_click, propose_corrected, propose_diameter
    from dlrs_desktop.roi.snap import snap_to_edges

    if args.edit is not None:
        return _edited(args, image)

    engine = {"engine": args.method, "bundle": args.assist_model, "trust": policy_from_args(args)}
    if args.box is not None:
        how = "box " + " ".join(f"{v:g}" for v in args.box)
        if args.include or args.exclude:
            include, exclude = args.include or [], args.exclude or []
            proposal = propose_corrected(image, args.box, include, exclude, **engine)
            how += f" + {len(include)} include / {len(exclude)} exclude clicks"
        else:
            proposal = propose_box(image, args.box, **engine)
        return proposal.contour, proposal.method, str(proposal.detail), how
    if args.click is not None:
        proposal = propose_click(image, args.click, **engine)
        how = "click " + " ".join(f"{v:g}" for v in args.click)
        return proposal.contour, proposal.method, str(proposal.detail), how
    if args.diameter is not None:
        d = args.diameter
        proposal = propose_diameter(image, (d[:2], d[2:]), **engine)
        how = "diameter " + " ".join(f"{v:g}" for v in d)
        return proposal.contour, proposal.method, str(proposal.detail), how
    contour = snap_to_edges(image, _drawn(args, image, args.snap), args.max_distance)
    return contour, "snap", "edge evidence", f"snapped {Path(args.snap).name} (≤ {args.max_distance:g} mm)"


def _drawn(args: argparse.Namespace, image: Any, path: str) -> Any:
    """A contour file (JSON, sidecar, mask PNG, DICOM SEG) on this image."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.roi import Contour

    return Contour.load_any(
        path,
        image.shape,
        calibration=image.calibration,
        frame=image.frame_index,
        image_ref=ImageRef.of(args.image),  # a SEG must reference this very image
    )


def _edited(args: argparse.Namespace, image: Any) -> tuple[Any, str, str, str]:
    """--edit CONTOUR: each click applied near itself only, includes first (the GUI's Ctrl+click on an
    outline drawn by hand)."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.roi.assist import propose_local_correction

    engine = {"engine": args.method, "bundle": args.assist_model, "trust": policy_from_args(args)}
    contour = _drawn(args, image, args.edit)
    clicks = [(p, True) for p in args.include or []] + [(p, False) for p in args.exclude or []]
    for xy, include in clicks:
        proposal = propose_local_correction(image, contour, xy, include, **engine)
        contour = proposal.contour
    n_in, n_out = len(args.include or []), len(args.exclude or [])
    how = f"{Path(args.edit).name} + {n_in} include / {n_out} exclude clicks, each applied near itself"
    return contour, proposal.method, str(proposal.detail), how


def _write(args: argparse.Namespace, contour: Any, shape: tuple[int, int]) -> list[str]:
    """--out (contour JSON) and --mask-out (PNG); the paths written."""
    # lazy: cv2 (~0.45 s) stays out of the GUI's start-up
    import cv2

    written: list[str] = []
    try:
        if args.out:
            contour.save(args.out)
            written.append(str(args.out))
        if args.mask_out:
            ok, png = cv2.imencode(".png", contour.to_mask(shape).astype("uint8") * 255)
            if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
                raise OSError("PNG encoding failed")
            atomic_write_bytes(args.mask_out, png.tobytes())
            written.append(str(args.mask_out))
    except OSError as exc:
        raise DlrsError(f"Cannot write the outline: {exc.strerror or exc}.") from exc
    return written
