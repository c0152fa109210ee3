"""Export one case as DICOM: [Secondary Capture,] SEG, Comprehensive SR (TID 1500), Encapsulated PDF.

The same function serves `dlrs dicom export` and File → Export to DICOM: the caller brings the image,
the validated contour, its RoiSet and (optionally) a Prediction for that same contour, plus the PDF
bytes when it has its own (the GUI); the objects reference the source image's UIDs and copy its
patient and study modules.

Before writing, every object's text is made to conform (`exchange.values`: VR length limits, no
control characters, ISO_IR 192 when any value is not ASCII), with a note per cleaned attribute; an
existing file in the output folder is never replaced: the new object gets the next free name
(`STEM.seg-2.dcm`) and a note says so.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.exchange import net_text as T

_LOG = logging.getLogger(__name__)


@dataclass
class ExportedObjects:
    """What was written, by kind ("sc", "seg", "sr", "pdf")."""

    files: dict[str, Path] = field(default_factory=dict)
    datasets: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return list(self.files.values())


def dataset_bytes(ds: Any) -> bytes:
    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    import pydicom

    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def write_new(path: Path, data: bytes) -> Path:
    """Write `data` at `path`, or at `path` with -2, -3, … when a file is there: never over one.

    Written to a private temporary file, fsynced, then hard-linked to the first free name (a link
    fails on an existing name, so two exports at once cannot overwrite each other either).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)  # fileio's naming: a later start removes it if this process dies here
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        base, suffix = path.name[: -len(".dcm")], ".dcm"
        for n in range(1, 1000):
            target = path if n == 1 else path.with_name(f"{base}-{n}{suffix}")
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                continue
        raise DlrsError.of(T.TOO_MANY_VERSIONS, folder=str(path.parent), name=path.name)
    finally:
        tmp.unlink(missing_ok=True)


def _stem(path: str | os.PathLike[str] | None) -> str:
    name = Path(path).stem if path else "image"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "image"


@dataclass(frozen=True)
class ExportRequest:
    """What one export is of: the image with its ROIs and measurements, and what the objects may add.

    `lesion` names the tracked lesion in the SR (its tracking UID follows the patient, `exchange.sr`);
    `size` (sr.SizeReport) adds the change from baseline to the SR and the timeline to the CLI's PDF;
    `pdf` is a report already rendered (the GUI's), else the CLI's Pillow PDF is drawn;
    `patient_id`/`patient_name` are for a non-DICOM image's Secondary Capture only.
    """

    image: Any
    rois: Any
    measurements: Any
    image_path: str | os.PathLike[str] | None = None
    prediction: Any = None
    pdf: bytes | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    lesion: str | None = None
    size: Any = None


def export_case(req: ExportRequest, out_dir: str | os.PathLike[str]) -> ExportedObjects:
    """Build and write the objects; returns their paths. Raises DlrsError in plain words."""
    # lazy: pydicom/highdicom (~1.2 s) load only when DICOM objects are exported
    from dlrs_desktop.exchange.source import is_dicom_file, read_source, secondary_capture

    image, rois = req.image, req.rois
    if req.prediction is not None and req.prediction.contour_hash != rois.contour_hash:
        raise DlrsError.of(T.STALE_PREDICTION)
    done = ExportedObjects()
    if req.image_path is not None and is_dicom_file(req.image_path):
        source = read_source(req.image_path)
    else:
        cal = rois.calibration
        source = secondary_capture(
            image.display,
            patient_id=req.patient_id,
            patient_name=req.patient_name,
            mm_per_px=(cal.mm_per_px_x, cal.mm_per_px_y) if cal is not None else None,
        )
        done.datasets["sc"] = source
    if (int(source.Rows), int(source.Columns)) != (image.height, image.width):
        raise DlrsError.of(T.SIZE_DIFFERS)
    try:  # a source header can be malformed in ways only highdicom notices: one plain line, not a bug
        _build_objects(req, source, done)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DlrsError.of(T.CANNOT_BUILD, detail=str(exc)) from exc
    _write_objects(done, _stem(req.image_path), Path(out_dir))
    return done


def _build_objects(req: ExportRequest, source: Any, done: ExportedObjects) -> None:
    """SEG, SR and the Encapsulated PDF referencing `source` (the DICOM image or its Secondary Capture)."""
    # lazy: highdicom (~0.7 s) only when DICOM objects are exported
    from dlrs_desktop.exchange.pdf import build_encapsulated_pdf, render_report_pdf
    from dlrs_desktop.exchange.seg import build_seg
    from dlrs_desktop.exchange.sr import DEFAULT_LESION, build_sr, lesion_tracking_uid

    image, rois, size = req.image, req.rois, req.size
    seg = build_seg(source, rois, frame_index=image.frame_index)
    done.datasets["seg"] = seg
    lesion = req.lesion or DEFAULT_LESION
    sr = build_sr(source, seg, rois, req.measurements, req.prediction, lesion=lesion, size=size)
    done.datasets["sr"] = sr
    if lesion_tracking_uid(str(source.get("PatientID", "")), "", lesion) is None:
        done.notes.append("SR: no patient ID, so the lesion's tracking UID will not link to other exams")
    # Like the GUI's report, the PDF names the image by its hash, never by file name or patient fields.
    title = f"image {image.sha256[:12]}, frame {image.frame_index + 1}"
    timeline = size.entries if size is not None else None
    report = req.pdf
    if report is None:
        report = render_report_pdf(image, rois, req.measurements, req.prediction, title, timeline=timeline)
    done.datasets["pdf"] = build_encapsulated_pdf(source, report)


def _write_objects(done: ExportedObjects, stem: str, out: Path) -> None:
    """Conformance notes, then each object written as a new file (an existing one is left alone)."""
    # lazy: pydicom (~0.55 s) only when DICOM objects are exported
    from dlrs_desktop.exchange.values import conform

    for kind, ds in done.datasets.items():
        for note in conform(ds):
            done.notes.append(f"{kind.upper()}: {note}")
    try:
        for kind, ds in done.datasets.items():
            wanted = out / f"{stem}.{kind}.dcm"
            done.files[kind] = write_new(wanted, dataset_bytes(ds))
            if done.files[kind] != wanted:
                done.notes.append(f"{wanted.name} exists and was left alone; wrote {done.files[kind].name}")
    except OSError as exc:
        raise DlrsError.of(T.CANNOT_WRITE, path=str(out), why=exc.strerror or str(exc)) from exc
    for note in done.notes:
        _LOG.warning("DICOM export: %s", note)
