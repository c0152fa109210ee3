"""Patients and time points: which patient and which exam each image of a worklist belongs to.

A DICOM says it itself (PatientID; the exam is the StudyDate, else the StudyInstanceUID); a PNG or
JPEG belongs to its folder unless the user assigned a patient and an exam date in the GUI. The user's
own words for a time point ("baseline", "after cycle 2") and those assignments live in the image's
annotation sidecar (`exam`, store/schema.py); the DICOM identifiers are read from the file each time
and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER_TAGS = (
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "StudyDate",
    "StudyTime",
    "StudyInstanceUID",
    "AccessionNumber",
)


@dataclass(frozen=True)
class ExamHeader:
    """The patient and study fields of a DICOM file (empty for other formats)."""

    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    study_date: str = ""  # YYYY-MM-DD
    study_uid: str = ""
    accession: str = ""


def _iso_date(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


def read_header(path: Path) -> ExamHeader:
    """Only the header (stop_before_pixels, the few tags needed): cheap enough for a whole folder."""
    if path.suffix.lower() not in (".dcm", ".dicom", ""):
        return ExamHeader()
    try:
        # lazy: pydicom (~0.55 s) only when a folder's DICOM headers are read, not at start-up
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(HEADER_TAGS))
    except Exception:  # not DICOM or unreadable: the worklist's scan says why
        return ExamHeader()

    def get(tag: str) -> str:
        return str(getattr(ds, tag, "") or "").replace("^", " ").strip()

    return ExamHeader(
        patient_id=get("PatientID"),
        patient_name=get("PatientName"),
        birth_date=_iso_date(get("PatientBirthDate")),
        study_date=_iso_date(get("StudyDate")),
        study_uid=get("StudyInstanceUID"),
        accession=get("AccessionNumber"),
    )


@dataclass(frozen=True)
class Placement:
    """Where one image goes: its patient key, its exam key, the exam date and the user's label."""

    patient: str
    exam: str
    date: str
    label: str
    header: ExamHeader


def place(path: Path, header: ExamHeader, exam: dict[str, Any] | None) -> Placement:
    """The user's assignment wins over the file's own fields; a plain image falls back to its folder."""
    exam = exam or {}
    patient = str(exam.get("patient") or header.patient_id or f"folder:{path.parent}")
    date = str(exam.get("date") or header.study_date or "")
    key = (
        f"date:{date}"
        if date
        else (f"uid:{header.study_uid}" if header.study_uid else f"folder:{path.parent}")
    )
    return Placement(patient, key, date, str(exam.get("label") or ""), header)


@dataclass
class Exam:
    key: str
    date: str
    label: str = ""
    paths: list[Path] = field(default_factory=list)


@dataclass
class Patient:
    key: str
    header: ExamHeader
    exams: list[Exam] = field(default_factory=list)


def group(placements: dict[Path, Placement]) -> list[Patient]:
    """Patients in key order, their exams by date (then key), images by name within an exam."""
    patients: dict[str, Patient] = {}
    for path in sorted(placements, key=lambda p: p.name.lower()):
        pl = placements[path]
        patient = patients.setdefault(pl.patient, Patient(pl.patient, pl.header))
        exam = next((e for e in patient.exams if e.key == pl.exam), None)
        if exam is None:
            exam = Exam(pl.exam, pl.date)
            patient.exams.append(exam)
        exam.label = exam.label or pl.label
        exam.paths.append(path)
    out = sorted(patients.values(), key=lambda p: p.key)
    for p in out:
        p.exams.sort(key=lambda e: (e.date or "9999", e.key))
    return out


def group_images(store: Any, images: list[Path]) -> list[Patient]:
    """`store`: the AnnotationStore whose sidecars hold the user's labels and assignments."""
    placements = {}
    for p in images:
        ann = store.status_of(None, p)
        placements[p] = place(p, read_header(p), ann.exam if ann is not None else None)
    return group(placements)


def needs_headers(patients: list[Patient]) -> bool:
    """Group rows only where they say something: several patients or exams, or a labelled exam."""
    exams = [e for p in patients for e in p.exams]
    return len(patients) > 1 or len(exams) > 1 or any(e.label for e in exams)


def same_patient(patients: list[Patient], path: Path) -> Patient | None:
    return next((p for p in patients for e in p.exams if path in e.paths), None)


def exam_of(patients: list[Patient], path: Path) -> Exam | None:
    return next((e for p in patients for e in p.exams if path in e.paths), None)
