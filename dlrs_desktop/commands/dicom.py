"""`dlrs dicom export|echo|send|listen`: results into the hospital's DICOM world, from the shell.

export: SEG (tumour + rings), Comprehensive SR (TID 1500) and Encapsulated PDF referencing the image
(a Secondary Capture is made first for PNG/JPEG sources). echo/send: C-ECHO and C-STORE to a PACS.
listen: a C-STORE SCP filing incoming images into a folder. Exit codes: 0 done, 2 bad input or a
network failure (one line), 3 model problem; `send` exits 2 when any file was not stored.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from dlrs_desktop.commands._case import spacing_arg
from dlrs_desktop.commands._trust import add_trust_arguments
from dlrs_desktop.commands.predict import find_contour, load_case
from dlrs_desktop.errors import DlrsError

HELP = "DICOM export (SEG, SR, PDF), C-ECHO, C-STORE send and a C-STORE listener"


def _node_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", required=True, help="the PACS host name or address")
    p.add_argument("--port", type=int, required=True, help="the PACS DICOM port")
    p.add_argument("--called-aet", required=True, metavar="AET", help="the PACS AE title")
    p.add_argument("--calling-aet", default="DLRS", metavar="AET", help="our AE title (default DLRS)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="network timeout (default 10 s)")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ex = sub.add_parser("export", help="write SEG, SR and Encapsulated PDF for one contoured image")
    ex.add_argument("image", help="the image (DICOM, or PNG/JPEG: a Secondary Capture is made first)")
    src = ex.add_mutually_exclusive_group()
    src.add_argument("--contour", metavar="FILE", help="contour JSON, GUI sidecar or DICOM SEG")
    src.add_argument("--mask", metavar="PNG", help="tumour mask image (non-zero = tumour)")
    ex.add_argument(
        "--spacing", type=spacing_arg, metavar="MM_PER_PX", help="mm per pixel, or 'auto' (the depth scale)"
    )
    ex.add_argument("--frame", type=int, default=None, help="frame of a cine loop (0 = first)")
    ex.add_argument("--model", metavar="DIR", help="model bundle (default: the bundled model)")
    ex.add_argument("--no-predict", action="store_true", help="export the contour and measurements only")
    ex.add_argument("--patient-id", default="", help="PNG/JPEG sources: the patient ID (default ANONYMOUS)")
    ex.add_argument("--patient-name", default="", help="PNG/JPEG sources: the patient name (Family^Given)")
    ex.add_argument(
        "--lesion",
        default="lesion 1",
        help="the lesion's name in the SR; with the patient ID it makes the tracking UID linking its exams",
    )
    ex.add_argument("--out", required=True, metavar="DIR", help="folder for the DICOM files")

    add_trust_arguments(ex)
    e = sub.add_parser("echo", help="C-ECHO a PACS (is it reachable, are the AE titles right?)")
    _node_args(e)
    s = sub.add_parser("send", help="C-STORE files (or every DICOM file in folders) to a PACS")
    s.add_argument("paths", nargs="+", metavar="FILE|FOLDER")
    _node_args(s)
    li = sub.add_parser("listen", help="receive images (C-STORE SCP) into a folder until Ctrl-C")
    li.add_argument("--port", type=int, required=True)
    li.add_argument("--aet", default="DLRS", help="our AE title (default DLRS)")
    li.add_argument("--out", required=True, metavar="DIR", help="folder the received files go to")
    li.add_argument(
        "--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    li.add_argument(
        "--allow-aet",
        action="append",
        default=[],
        metavar="AET",
        help="a calling AE title allowed to store (repeatable); required unless --bind is a loopback address",
    )
    li.add_argument("--max-size", type=int, default=2048, metavar="MB", help="largest dataset (default 2048)")
    li.add_argument(
        "--min-free", type=int, default=1024, metavar="MB", help="free disk space kept (default 1024)"
    )
    li.add_argument("--count", type=int, default=0, help="stop after this many files (default: never)")


def _node(args: argparse.Namespace) -> Any:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.exchange.net import Node

    return Node(args.called_aet, args.host, args.port, args.calling_aet, args.timeout)


def _export(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.exchange.export import ExportRequest, export_case
    from dlrs_desktop.roi import compute_rois, validate_contour

    path = Path(args.image)
    if not path.is_file():
        raise DlrsError(f"'{path}' does not exist.")
    given = args.contour or args.mask
    contour_file = Path(given) if given else find_contour(path)
    if contour_file is not None and not contour_file.exists():
        raise DlrsError(f"Contour file not found: {contour_file}")
    image, drawn = load_case(path, args, contour_file)
    contour = validate_contour(drawn, image)
    rois = compute_rois(contour, image)
    prediction = None
    if not args.no_predict:
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.commands._trust import policy_from_args
        from dlrs_desktop.model.predictor import Predictor

        prediction = Predictor(args.model, trust=policy_from_args(args)).predict(image, contour)
    request = ExportRequest(
        image,
        rois,
        contour.measurements(),
        image_path=path,
        prediction=prediction,
        patient_id=args.patient_id,
        patient_name=args.patient_name,
        lesion=args.lesion,
    )
    done = export_case(request, args.out)
    for note in done.notes:
        print(f"note: {note}")
    for kind, p in done.files.items():
        print(f"{kind:<4} {p}")
    if prediction is not None:
        what = prediction.outcome.probability_of
        print(f"{what} {prediction.probability:.3f} ({prediction.research_notice})")
    return 0


def _send(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.exchange.net import dicom_files, send

    node = _node(args)
    files = dicom_files(args.paths)
    if not files:
        raise DlrsError("No DICOM files to send.")

    def show(o: Any) -> None:
        print(f"{'ok  ' if o.ok else 'FAIL'} {o.path}: {o.message}", flush=True)

    outcomes = send(node, files, progress=show)
    bad = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - bad} of {len(outcomes)} files stored on {node.label()}")
    return 2 if bad else 0


def _listen(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.exchange.listener import MB, ListenerPolicy, start_listener

    received: list[Path] = []

    def got(p: Path) -> None:
        received.append(p)
        print(f"received {p}", flush=True)

    def note(text: str) -> None:
        print(f"note: {text}", flush=True)

    policy = ListenerPolicy(
        bind=args.bind,
        allow_aets=tuple(args.allow_aet),
        max_dataset_bytes=max(args.max_size, 0) * MB,
        min_free_bytes=max(args.min_free, 0) * MB,
    )
    server = start_listener(args.port, args.aet, args.out, policy=policy, on_file=got, on_note=note)
    who = ", ".join(policy.allow_aets) or "any (this machine only)"
    print(
        f"listening as {args.aet} on {args.bind}:{args.port}, filing into {args.out}; "
        f"calling AE titles allowed: {who} (Ctrl-C stops)",
        flush=True,
    )
    try:
        while not args.count or len(received) < args.count:
            time.sleep(0.2)
    finally:
        server.shutdown()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "export":
        return _export(args)
    if args.action == "echo":
        # lazy: `dlrs --help` imports every command; the core loads when it runs
        from dlrs_desktop.exchange.net import echo

        node = _node(args)
        echo(node)
        print(f"{node.label()} answered the echo")
        return 0
    if args.action == "send":
        return _send(args)
    if args.action == "listen":
        return _listen(args)
    print(f"unknown action {args.action}", file=sys.stderr)  # pragma: no cover - argparse enforces it
    return 2
