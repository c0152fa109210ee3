"""The one-page PDF report (Qt's own PDF writer): what a sonographer files in the patient's chart.

De-identified by default (privacy rule): the image is named by a short hash. Patient name and ID,
accession, study date and operator are printed only when the user ticks "Include patient identifiers"
in the export dialog. App version, model id and sha256 pin what produced the numbers; every time is
local. A stale result is printed as stale; an uncertain one says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QBuffer, QCoreApplication, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

from dlrs_desktop import __version__
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.exchange.timeline import TimelineEntry
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.model.domain_text import headline, is_outside
from dlrs_desktop.model.outcome import Outcome, sentence_start
from dlrs_desktop.regions import ring_names
from dlrs_desktop.textsafe import escape_terminal
from dlrs_desktop.ui import i18n
from dlrs_desktop.ui.bars import bar_rows, format_probability, paint_bars, result_lines
from dlrs_desktop.ui.style import region_label
from dlrs_desktop.ui.timeline_paint import paint_timeline
from dlrs_desktop.ui.worker import ModelInfo

if TYPE_CHECKING:
    from dlrs_desktop.ui.document import Document

translate = QCoreApplication.translate
# Shown until a model is known; the model's own notice (demo or not, synthetic or real) replaces it.
NOTICE = QT_TRANSLATE_NOOP("report", "Research use only")
#: (key, label); labels are translated where shown (`translate("report", label)`).
IDENTIFIER_FIELDS = (
    ("patient_name", QT_TRANSLATE_NOOP("report", "Patient name")),
    ("patient_id", QT_TRANSLATE_NOOP("report", "Patient ID")),
    ("accession", QT_TRANSLATE_NOOP("report", "Accession number")),
    ("study_date", QT_TRANSLATE_NOOP("report", "Study date")),
    ("operator", QT_TRANSLATE_NOOP("report", "Operator")),
)
REVIEW_WORDS = {  # Document.review.status as printed
    "reviewed": QT_TRANSLATE_NOOP("report", "reviewed"),
    "draft": QT_TRANSLATE_NOOP("report", "draft"),
    "unreviewed": QT_TRANSLATE_NOOP("report", "unreviewed"),
}
WARN = QColor(213, 94, 0)


@dataclass
class ReportOptions:
    include_identifiers: bool = False  # off by default: no identifiers in exports unless asked
    identifiers: dict[str, str] = field(default_factory=dict)
    cam_region: str = ""  # the explanation map drawn on the report's image ("" = none)
    institution: str = ""  # Preferences → Institution, printed in the header
    reviewer: str = ""  # Preferences → Reviewer name, printed above the signature line
    # The patient's exams, baseline first (ui/timeline_entries.py); a table when there are two or more.
    timeline: tuple[TimelineEntry, ...] = ()


def identified_name(ids: dict[str, str]) -> str:
    """The PDF name "dlrs-<patient ID>-<exam date>", file-name-safe; "" without a patient ID."""

    def safe(s: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", s.strip()).strip("._")[:40]

    pid, date = safe(ids.get("patient_id", "")), safe(ids.get("study_date", ""))
    return "-".join(x for x in ("dlrs", pid, date) if x) if pid else ""


def local_time(iso: str | None) -> str:
    """An ISO timestamp (the store writes UTC) as local time, minutes, with the zone."""
    if not iso:
        return "–"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    except ValueError:
        return iso


def dicom_identifiers(path: Path | None) -> dict[str, str]:
    """Patient fields of a DICOM file, read only when the user asks for them (never stored)."""
    if path is None or not path.is_file():
        return {}
    try:
        # lazy: pydicom (~0.55 s) only when the user asks for the file's patient fields
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True, force=False)
    except Exception:  # not DICOM, unreadable: the user types the fields
        return {}

    def get(tag: str) -> str:
        return str(getattr(ds, tag, "") or "").replace("^", " ").strip()

    date = get("StudyDate")
    if len(date) == 8 and date.isdigit():
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return {
        "patient_name": get("PatientName"),
        "patient_id": get("PatientID"),
        "accession": get("AccessionNumber"),
        "study_date": date,
        "operator": get("OperatorsName"),
    }


def _pdf_writer(target: Any) -> QPdfWriter:
    """A4, 12 mm margins, 150 dpi: the report's page, on a file name or an in-memory buffer."""
    writer = QPdfWriter(target)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    writer.setTitle(translate("report", "DLRS Desktop report"))
    writer.setCreator(f"DLRS Desktop {__version__}")
    return writer


def write_pdf(
    path: str | Path,
    doc: Document,
    view: QImage,
    options: ReportOptions,
    model_info: ModelInfo | None = None,
) -> Path:
    if doc.image is None:
        raise DlrsError(translate("report", "Open an image before exporting a report."))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    # A trial run in memory measures the text: the image shrinks so the report stays on one page
    # (taller CJK lines, an institution, a long result); text beyond even that goes on a second page.
    probe_data = QBuffer()
    probe_data.open(QIODevice.OpenModeFlag.WriteOnly)
    probe = _pdf_writer(probe_data)
    page = QRectF(0, 0, probe.width(), probe.height())
    p = QPainter(probe)
    try:
        end = _paint_report(p, doc, view, options, model_info or ModelInfo(), page, None)
    finally:
        p.end()
    box_h = max(page.height() * 0.2, page.height() * 0.35 - max(0.0, end + 4 - page.height()))
    writer = _pdf_writer(str(tmp))
    p = QPainter(writer)
    try:
        _paint_report(p, doc, view, options, model_info or ModelInfo(), page, writer, box_h)
    finally:
        p.end()
    data = tmp.read_bytes()
    tmp.unlink(missing_ok=True)
    return atomic_write_bytes(path, data)


class _Writer:
    """Flowing text down the page."""

    def __init__(
        self, p: QPainter, width: float, height: float = 0.0, writer: QPdfWriter | None = None
    ) -> None:
        self.p, self.w, self.y = p, width, 0.0
        self.h, self.writer = height, writer

    def room(self, height: float) -> None:
        """A new page when `height` more would run off this one (taller CJK lines, a long result)."""
        if self.writer is not None and self.y > 0 and self.y + height > self.h:
            self.writer.newPage()
            self.y = 0.0

    def text(
        self, s: str, size: int = 10, bold: bool = False, color: QColor | None = None, *, exact: bool = False
    ) -> None:
        """`exact`: no ligatures (a hash must copy out as typed: "ff" is not "ﬀ")."""
        s = escape_terminal(s)  # text from files (model id, labels) never carries control characters
        f = i18n.font("Sans Serif", size)  # the CJK subset behind it: Chinese labels and patient names
        f.setBold(bold)
        if exact:
            f.setStyleStrategy(QFont.StyleStrategy.PreferNoShaping)
        self.p.setFont(f)
        self.p.setPen(color or QColor(0, 0, 0))
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
        needed = self.p.boundingRect(QRectF(0, self.y, self.w, 10000), flags, s).height()
        height = needed + size * 150 / 72 * 0.4
        self.room(height)
        self.p.drawText(QRectF(0, self.y, self.w, height), flags, s)
        self.y += height


def _paint_report(
    p: QPainter, doc: Document, view: QImage, options: ReportOptions, model: ModelInfo, page: QRectF,
    writer: QPdfWriter | None = None, box_h: float | None = None,
) -> float:  # fmt: skip
    """Paint the report; returns where the text ended (beyond the page height: it would not fit)."""
    out = _Writer(p, page.width(), page.height(), writer)
    base = doc.base_image
    assert base is not None
    # the outcome the result names, else the loaded model's (its manifest), else early response
    outcome = model.reading.outcome if doc.result is None else doc.result.prediction.outcome
    short = translate("outcome", outcome.short_name)
    out.text(translate("report", "DLRS Desktop — {outcome} report").format(outcome=short), 16, True)
    if options.institution:
        out.text(options.institution, 11, True)
    notice = i18n.notice(model.notice) or translate("report", NOTICE)
    out.text(
        translate("report", "{notice}. Not a diagnosis.").format(notice=notice.rstrip(".。")), 10, True, WARN
    )
    if options.include_identifiers:
        ids = options.identifiers
        field = translate("report", "{label}: {value}")
        out.text(
            " · ".join(field.format(label=translate("report", label), value=ids.get(key) or "–")
                       for key, label in IDENTIFIER_FIELDS),
            10,  # regular weight: a name's characters are in the Regular subset only (no synthetic bold)
        )  # fmt: skip
    cal = doc.calibration
    made = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    line = translate("report", "Image {hash} · frame {frame}/{frames} · {calibration} · report made {made}")
    out.text(
        line.format(
            hash=base.sha256[:12], frame=doc.frame + 1, frames=base.frame_count, made=made,
            calibration=cal.label(translate) if cal else translate("report", "not calibrated"),
        ),
        9,
    )  # fmt: skip
    used = doc.result.model if doc.result is not None else None  # the result's model, else the loaded one
    model_id = (used and used.id) or model.name or "–"
    version = (used and used.version) or model.version
    sha = (used and used.bundle_hash) or model.sha256 or "–"
    out.text(
        translate(
            "report", "DLRS Desktop {app_version} · model {model} {version} · model sha256 {sha}"
        ).format(app_version=__version__, model=model_id, version=version, sha=sha),
        8,
        exact=True,
    )
    box_h = box_h or page.height() * 0.35  # write_pdf shrinks it when the text needs the room
    scale = min(page.width() / max(view.width(), 1), box_h / max(view.height(), 1))
    target = QRectF(0, out.y + 6, view.width() * scale, view.height() * scale)
    p.drawImage(target, view)
    out.y = target.bottom() + 18
    rings = " · ".join(f"{region_label(n)}" for n in ring_names(doc.ring_radii_mm))
    out.text(
        translate("report", "Contour (yellow) · rings: {rings} (blue, orange, purple)").format(rings=rings),
        8,
        color=QColor(90, 90, 90),
    )
    _paint_measurements(out, doc)
    _paint_prediction(p, out, doc, options, outcome, page)
    if len(options.timeline) > 1:
        out.y = paint_timeline(p, 0, out.y + 6, page.width(), options.timeline)
        out.text(
            translate(
                "report",
                "Probability: only where the model computed it in this session for the exam's present "
                "contour; '-' otherwise (a result read from a file is not reported).",
            ),
            8,
            color=QColor(90, 90, 90),
        )
    _paint_signature(out, options)
    return out.y


def _paint_signature(out: _Writer, options: ReportOptions) -> None:
    """Who reviewed, and a line to sign on: the report is ready for the chart."""
    out.y += 10
    blank = "________________________"
    out.text(translate("Report", "Reviewer: {name}").format(name=options.reviewer or blank), 10)
    line = translate("Report", "Signature: {line}    Date: {date}")
    out.text(line.format(line=blank + "______", date="______________"), 10)


def _paint_prediction(
    p: QPainter, out: _Writer, doc: Document, options: ReportOptions, outcome: Outcome, page: QRectF
) -> None:
    out.text(translate("report", "Prediction"), 12, True)
    if doc.result is None:
        out.text(translate("report", "No prediction was made for this contour."), 10)
        return
    if doc.result_state == "unverified":
        out.text(
            translate(
                "report",
                "No verified prediction: the result stored in the annotation file was not re-computed on "
                "this computer, so it is not reported. Press Predict, then export again.",
            ),
            10,
            True,
            WARN,
        )
        return
    pred = doc.result.prediction
    stale = doc.result_is_stale
    if stale:
        out.text(
            translate(
                "report",
                "STALE: computed with another model than the one loaded now; press Predict for this model.",
            )
            if doc.result_model_changed
            else translate(
                "report",
                "STALE: the contour changed after this prediction; it does not describe the contour shown.",
            ),
            10,
            True,
            WARN,
        )
    prob = pred.probability
    grey = QColor(120, 120, 120) if stale else None
    outside = is_outside(pred)  # no class and no probability: only the reason
    out.text(
        translate("report", "Outside the model's training domain: no class is shown")
        if outside
        else translate("report", "{probability_of}: {value}").format(
            probability_of=sentence_start(outcome.probability_of_in(translate)),
            value=format_probability(prob, pred.threshold),
        ),
        18,
        True,
        grey,
    )
    head, warn = headline(pred, translate)
    for line in head.split("\n"):
        out.text(line, 11, warn, WARN if warn else None)
    rows = [] if outside else bar_rows(doc.result)
    if rows:
        p.setFont(i18n.font("Sans Serif", 9))
        p.setPen(QColor(0, 0, 0))
        out.room(40.0 * len(rows))
        rect = QRectF(0, out.y, page.width() * 0.85, 40.0 * len(rows))
        paint_bars(p, rect, rows, stale)
        out.y = rect.bottom() + 8
    for line in result_lines(doc.result):
        out.text(line, 9)
    if options.cam_region and not stale:
        out.text(
            translate("report", "Image shows the explanation map of {region}. {legend}.").format(
                region=region_label(options.cam_region), legend=outcome.cam_legend_in(translate)
            ),
            8,
        )
    notice = doc.result.model.notice or pred.research_notice
    if notice:
        out.text(i18n.notice(notice), 9, True, WARN)


def _paint_measurements(out: _Writer, doc: Document) -> None:
    out.text(translate("report", "Tumour and rings"), 12, True)
    c, cal = doc.contour, doc.calibration
    if c is not None and cal is not None:
        try:
            m = c.measurements()
            out.text(
                translate(
                    "report",
                    "Area {area} mm² · longest diameter {longest} mm · perpendicular {perpendicular} mm · "
                    "perimeter {perimeter} mm",
                ).format(
                    area=f"{m.area_mm2:.1f}", longest=f"{m.max_diameter_mm:.1f}",
                    perpendicular=f"{m.perpendicular_diameter_mm:.1f}", perimeter=f"{m.perimeter_mm:.1f}",
                ),
                10,
            )  # fmt: skip
        except DlrsError as exc:
            out.text(i18n.core_text(exc), 10)
    rois, err = doc.rois()
    if rois is not None:
        for r in rois.rings:
            line = (
                translate(
                    "report", "{ring}: {area} mm², {outside} % outside the scan area  ⚠ leaves the scan area"
                )
                if r.flagged
                else translate("report", "{ring}: {area} mm², {outside} % outside the scan area")
            )
            out.text(
                line.format(
                    ring=region_label(r.name),
                    area=f"{r.area_mm2:.1f}",
                    outside=f"{100 * r.clipped_fraction:.0f}",
                ),
                9,
            )
    elif err:
        out.text(err, 9)
    review = doc.review
    status = translate("report", REVIEW_WORDS.get(review.status, review.status))
    if review.status == "reviewed":
        text = translate("report", "Review: {status} by {reviewer} at {time}").format(
            status=status, reviewer=review.reviewer, time=local_time(review.time)
        )
    else:
        text = translate("report", "Review: {status}").format(status=status)
    out.text(text, 9)
