"""The PDF report as a DICOM Encapsulated PDF, and a Qt-free PDF for the command line.

The GUI hands over the PDF it already makes (QPdfWriter, with its chart); `dlrs dicom export` has no
Qt, so it renders a one-page report with Pillow (the image with contour and rings, the measurements,
the model output and the research-use statement). Given a comparison with baseline, the page also
carries the lesion's timeline table (`exchange.timeline.timeline_table`, the rows the GUI draws too).
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Any

import numpy as np

from dlrs_desktop.exchange.source import MANUFACTURER, MODEL_NAME, SOFTWARE_VERSION
from dlrs_desktop.exchange.sr import RESEARCH_STATEMENT, latin1
from dlrs_desktop.exchange.timeline import timeline_table
from dlrs_desktop.model import domain_text as dt
from dlrs_desktop.model.outcome import sentence_start
from dlrs_desktop.wording import CJK_FONT

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
_COPIED = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDsSequence",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyDescription",
)
_RING_COLOURS = [(255, 210, 0), (0, 200, 255), (255, 120, 255), (120, 255, 120)]


def _fonts() -> tuple[Any, Any, Any]:
    """The shipped CJK subset (Latin and Chinese glyphs: a Chinese patient name renders, not "?"),
    else Pillow's default font."""
    # lazy: Pillow only when this runs, not at start-up
    from PIL import ImageFont

    try:
        font = str(CJK_FONT)
        return ImageFont.truetype(font, 32), ImageFont.truetype(font, 21), ImageFont.truetype(font, 17)
    except (OSError, ImportError):
        pass
    try:
        return (
            ImageFont.load_default(size=34),
            ImageFont.load_default(size=22),
            ImageFont.load_default(size=18),
        )
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default(), ImageFont.load_default(), ImageFont.load_default()


def render_report_pdf(
    image: Any,
    rois: Any,
    measurements: Any,
    prediction: Any,
    title: str,
    patient: str = "",
    *,
    timeline: Any = None,
) -> bytes:
    """A one-page A4 PDF (150 dpi raster) made with Pillow: no Qt, works in the CLI. The report is
    English; `patient` (only when the caller includes identifiers) is printed as written, in any script.

    `timeline`: TimelineEntry items (baseline first) drawn as a table under the image."""
    # lazy: cv2 (~0.45 s) only when this runs, not at start-up
    import cv2

    # lazy: Pillow only when this runs, not at start-up
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    big, small, tiny = _fonts()
    draw.text((80, 60), "DLRS Desktop report", fill="black", font=big)
    draw.text((80, 110), f"{title} · patient {patient}" if patient else title, fill=(60, 60, 60), font=small)
    view = np.ascontiguousarray(image.display.copy())
    for k, roi in enumerate(rois):
        colour = (255, 40, 40) if roi.radius_mm == 0 else _RING_COLOURS[(k - 1) % len(_RING_COLOURS)]
        for outline in roi.outlines:
            pts = np.round(np.asarray(outline)).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(view, [pts], True, colour, 2)
    thumb = Image.fromarray(view)
    thumb.thumbnail((1080, 600 if timeline else 760))
    page.paste(thumb, (80, 160))
    y = 180 + thumb.height
    if timeline:
        y = draw_timeline(draw, 80, y, timeline, tiny) + 16
    m = measurements
    lines = [
        f"Tumour area {m.area_mm2:.1f} mm2, perimeter {m.perimeter_mm:.1f} mm",
        f"Diameters {m.max_diameter_mm:.1f} mm (longest) x {m.perpendicular_diameter_mm:.1f} mm (perp.)",
        f"Calibration {rois.calibration.label()}",
    ]
    lines += [
        f"{'Tumour' if r.radius_mm == 0 else f'Ring {r.radius_mm:g} mm'}: area {r.area_mm2:.1f} mm2, "
        f"outside scan area {100 * r.clipped_fraction:.1f} %" + ("  FLAGGED" if r.flagged else "")
        for r in rois
    ]
    if prediction is not None:
        p = prediction
        outside = dt.is_outside(p)  # no class and no probability, only the reason
        lines += [
            "",
            dt.outside_text(p)
            if outside
            else f"{sentence_start(p.outcome.probability_of)} {p.probability:.3f} "
            f"(threshold {p.threshold:.3f}): {p.category}",
            *[x for x in (dt.caution_text(p), dt.set_line(p)) if x],
            *dt.evidence_lines(p),
            f"Model {p.model_id} {p.model_version}, bundle sha256 {p.bundle_hash[:16]}...",
        ]
        if p.sensitivity is not None and p.sensitivity.min is not None and not outside:
            lines.append(f"Contour sensitivity {p.sensitivity.min:.3f} - {p.sensitivity.max:.3f}")
        lines += [f"{f.severity.upper()}: {f.message}" for f in p.flags]
        lines.append(p.research_notice)
    else:
        lines += ["", "No prediction was made for this contour.", RESEARCH_STATEMENT]
    for line in lines:
        for chunk in _wrap(latin1(line), 95):
            draw.text((80, y), chunk, fill="black", font=small)
            y += 32
    buf = io.BytesIO()
    extra = {}
    if timeline:  # the raster page has no text layer: the table is also in the PDF's Subject, searchable
        extra["subject"] = latin1(" / ".join(" | ".join(r) for r in timeline_table(list(timeline))[1:]))
    page.save(buf, format="PDF", resolution=150.0, title="DLRS Desktop report", **extra)
    return buf.getvalue()


def draw_timeline(draw: Any, x: int, y: int, entries: Any, font: Any) -> int:
    """The timeline table at (x, y) on a Pillow page; returns the y under it."""
    rows = [[latin1(c) for c in r] for r in timeline_table(list(entries))]
    widths = [max(int(draw.textlength(r[k], font=font)) for r in rows) + 18 for k in range(len(rows[0]))]
    draw.text(
        (x, y), "Lesion timeline (size by RECIST 1.1 size criteria, not a diagnosis)", fill="black", font=font
    )
    y += 30
    for i, row in enumerate(rows):
        cx = x
        for k, cell in enumerate(row):
            draw.text((cx + 6, y + 4), cell, fill="black" if i else (60, 60, 60), font=font)
            cx += widths[k]
        draw.line((x, y + 28, cx, y + 28), fill=(150, 150, 150) if i else "black", width=1)
        y += 30
    return y


def _wrap(text: str, width: int) -> list[str]:
    words, out, cur = text.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    return [*out, cur]


def build_encapsulated_pdf(source: Any, pdf: bytes, *, title: str = "DLRS Desktop report") -> Any:
    """An Encapsulated PDF instance in the source's study (patient and study modules copied)."""
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    import pydicom

    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.dataset import Dataset, FileMetaDataset

    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.uid import ExplicitVRLittleEndian

    if not pdf.startswith(b"%PDF"):
        raise ValueError("not a PDF document")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ENCAPSULATED_PDF
    meta.MediaStorageSOPInstanceUID = hd.UID()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    for key in _COPIED:
        if key in source:
            ds[key] = source[key]
    for key in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyDate",
        "StudyTime",
        "ReferringPhysicianName",
        "StudyID",
        "AccessionNumber",
    ):
        if key not in ds:
            setattr(ds, key, "")
    now = _dt.datetime.now()
    ds.SOPClassUID = ENCAPSULATED_PDF
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SpecificCharacterSet = getattr(source, "SpecificCharacterSet", "ISO_IR 100")
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = hd.UID()
    ds.SeriesNumber = 903
    ds.SeriesDescription = "DLRS report (PDF)"
    ds.ConversionType = "WSD"
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = SOFTWARE_VERSION
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    # Our reports name the image by its hash, never by patient fields (the header carries those).
    ds.BurnedInAnnotation = "NO"
    ds.DocumentTitle = title[:64]
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ref = Dataset()
    ref.ReferencedSOPClassUID = source.SOPClassUID
    ref.ReferencedSOPInstanceUID = source.SOPInstanceUID
    ds.SourceInstanceSequence = [ref]
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    return ds
