"""The lesion's timeline from the worklist's grouping: one entry per exam of the open image's patient.

Why a module of its own: the rules that make the numbers trustworthy live here, apart from the dock.
Each exam is measured from the contour saved in its image's sidecar (the open image: the live contour)
with roi/size.py, both views when the exam has an orthogonal pair (the ellipsoid volume). A
probability is shown only when the saved result belongs to exactly that image, contour, calibration and
the loaded model (`Document.result_is_stale`, the rule the result panel uses): a stale one is named as
stale and never shown as a number. Nothing is measured without a trustworthy mm/px.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.exchange.timeline import TimelineEntry
from dlrs_desktop.imaging import load_image
from dlrs_desktop.model.domain_text import is_outside
from dlrs_desktop.roi import size as sz
from dlrs_desktop.store.annotation import beside_path
from dlrs_desktop.ui.document import Document
from dlrs_desktop.ui.patients import Exam, Patient, same_patient

translate = QCoreApplication.translate  # a literal context in every call, so pyside6-lupdate finds it


@dataclass(frozen=True)
class Measured:
    """One image of an exam: its view size (None without a usable contour) and its result's state."""

    view: sz.ViewSize | None
    state: str  # "none", "current", "saved" (read from a file, not re-computed), "stale", "outside"
    probability: float | None = None
    calibrated: bool = True


@dataclass
class Timeline:
    """What the dock shows: the entries, notes under them, or one refusal line instead."""

    entries: tuple[TimelineEntry, ...] = ()
    notes: list[str] = field(default_factory=list)
    refusal: str = ""


def measure_doc(doc: Document) -> Measured:
    """The contour and result of a document (the open one, or one loaded from an exam's sidecar)."""
    if doc.contour is None or len(doc.contour.points) < 3:
        return Measured(None, "none")
    cal = doc.calibration
    if cal is None:
        return Measured(None, "none", calibrated=False)
    try:
        view = sz.view_size(doc.contour, doc.contour.calibration or cal)
    except DlrsError:  # a degenerate contour has no diameters
        return Measured(None, "none")
    if doc.result is None:
        return Measured(view, "none")
    if doc.result_is_stale:
        return Measured(view, "stale")
    pred = doc.result.prediction
    if is_outside(pred):
        return Measured(view, "outside")
    state = "current" if doc.result_state == "current" else "saved"
    return Measured(view, state, pred.probability)


def measure_file(store: Any, path: Path, model_sha256: str | None) -> Measured:
    """An exam's image as saved: decoded (for its calibration and hash), its sidecar applied."""
    ann = store.status_of(None, path)
    if ann is None or ann.contour is None:
        return Measured(None, "none")
    try:
        image = load_image(path, ann.frame or 0)
        ann = store.status_of(image.sha256, path)  # the copy that belongs to these very pixels
        if ann is None:
            return Measured(None, "none")
        doc = Document()
        doc.open(image, path)
        doc.model_sha256 = model_sha256
        doc.apply_annotation(ann)
    except DlrsError:  # unreadable image or an annotation of other pixels: nothing to measure
        return Measured(None, "none")
    return measure_doc(doc)


class TimelineBuilder:
    """Entries for the open image's patient; other exams' measurements cached by file state."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._cache: dict[tuple[Any, ...], Measured] = {}

    def _key(self, path: Path, model: str | None) -> tuple[Any, ...]:

        stamps = []
        for p in (path, beside_path(path)):
            try:
                st = p.stat()
                stamps.append((st.st_size, st.st_mtime_ns))
            except OSError:
                stamps.append(None)
        ann = self.store.status_of(None, path)
        return (str(path), *stamps, None if ann is None else ann.saved_at, model)

    def measured(self, path: Path, doc: Document) -> Measured:
        if doc.path is not None and path == doc.path:
            return measure_doc(doc)  # the live contour and result
        key = self._key(path, doc.model_sha256)
        if key not in self._cache:
            self._cache[key] = measure_file(self.store, path, doc.model_sha256)
        return self._cache[key]

    def views_of(self, exam: Exam, doc: Document) -> list[tuple[Path, Measured]]:
        """The lesion's image of this exam (the open one, else the first with a contour) and its pair."""
        paths = list(exam.paths)
        first = doc.path if doc.path in paths else None
        if first is None:
            first = next((p for p in paths if self.measured(p, doc).view is not None), None)
        if first is None:
            return [(paths[0], self.measured(paths[0], doc))] if paths else []
        out = [(first, self.measured(first, doc))]
        pair = self._pair_path(first, paths, doc)
        if pair is not None:
            m = self.measured(pair, doc)
            if m.view is not None or not m.calibrated:
                out.append((pair, m))
        return out

    def _pair_path(self, path: Path, paths: list[Path], doc: Document) -> Path | None:
        exam = doc.exam if path == doc.path else getattr(self.store.status_of(None, path), "exam", None)
        pair = (exam or {}).get("pair")
        if not pair:
            return None
        for p in paths:
            if p == path:
                continue
            sha = doc.base_image.sha256 if p == doc.path and doc.base_image else self.store.known_sha(p)
            ann = self.store.status_of(None, p)
            if pair in (sha, getattr(ann, "image_sha256", None)):
                return p
        return None

    def build(self, patients: list[Patient], doc: Document, *, verified_only: bool = False) -> Timeline:
        """`verified_only` (the PDF report): only probabilities the model computed in this session, the
        report's own rule for a result read from a file."""
        if doc.path is None:
            return Timeline()
        patient = same_patient(patients, doc.path)
        if patient is None or len(patient.exams) < 2:
            return Timeline()
        exams = patient.exams
        base_i = next((i for i, e in enumerate(exams) if e.label.strip().lower() == "baseline"), 0)
        out = Timeline()
        if base_i:
            out.notes.append(
                translate("TimelineWiring", "Exams before the one labelled baseline are not compared.")
            )
        points: list[tuple[Exam, sz.TimePoint, list[Measured]]] = []
        for n, exam in enumerate(exams[base_i:]):
            name = exam_name(exam, base_i + n)
            views = self.views_of(exam, doc)
            if any(not m.calibrated for _, m in views):
                out.refusal = translate(
                    "TimelineWiring",
                    "The exam {exam} has no trustworthy millimetre calibration, so the size over time is "
                    "not measured. Calibrate it (Calibrate tool, K, or Edit → Type a known scale).",
                ).format(exam=name)
                return out
            measured = [m for _, m in views if m.view is not None]
            if not measured:
                if n == 0:
                    out.refusal = translate(
                        "TimelineWiring",
                        "The baseline exam ({exam}) has no saved contour: draw the lesion there first.",
                    ).format(exam=name)
                    return out
                out.notes.append(
                    translate("TimelineWiring", "{exam}: no contour saved, so it is left out.").format(
                        exam=name
                    )
                )
                continue
            tp = sz.TimePoint(tuple(m.view for m in measured if m.view), name, exam.date)
            points.append((exam, tp, measured))
        changes = [None, *sz.series([tp for _, tp, _ in points])]
        entries = []
        for (_, tp, measured), change in zip(points, changes, strict=True):
            first = measured[0]
            shown = ("current",) if verified_only else ("current", "saved")
            prob = first.probability if first.state in shown else None
            if change is None:
                entries.append(TimelineEntry(tp.exam_date, tp.label, tp.longest_mm, probability=prob))
            else:
                entries.append(
                    TimelineEntry(
                        tp.exam_date,
                        tp.label,
                        tp.longest_mm,
                        change.change_mm,
                        change.change_percent,
                        change.category,
                        prob,
                    )
                )
            out.notes.extend(_notes(tp, first, change))
        out.entries = tuple(entries)
        return out


def exam_name(exam: Exam, index: int) -> str:
    """The user's label, else the exam date, else its place in the patient's list."""
    return exam.label or exam.date or translate("TimelineWiring", "exam {n}").format(n=index + 1)


# Why an exam's probability is not shown as current (the number belongs to the contour on screen).
_STATE_NOTES = {
    "stale": QT_TRANSLATE_NOOP(
        "TimelineWiring",
        "{exam}: the saved result belongs to an earlier contour or model (stale); no probability "
        "is shown. Press Predict on that image.",
    ),
    "saved": QT_TRANSLATE_NOOP(
        "TimelineWiring",
        "{exam}: probability read from the annotation file; it belongs to this contour but was not "
        "re-computed in this session.",
    ),
    "outside": QT_TRANSLATE_NOOP(
        "TimelineWiring", "{exam}: outside the model's training domain, no probability."
    ),
}


def _notes(tp: sz.TimePoint, first: Measured, change: sz.SizeChange | None) -> list[str]:
    notes = []
    if first.state in _STATE_NOTES:
        notes.append(translate("TimelineWiring", _STATE_NOTES[first.state]).format(exam=tp.label))
    if change is not None:  # roi/size.py's own notes: a baseline under 10 mm, unlike numbers of views
        notes += [f"{tp.label}: {QCoreApplication.translate('size', n)}" for n in change.notes]
    if tp.volume_mm3 is not None:
        vol = translate("TimelineWiring", "{exam}: two-view volume {volume} mm³").format(
            exam=tp.label, volume=f"{tp.volume_mm3:.0f}"
        )
        if change is not None and change.volume_change_percent is not None:
            vol += f" ({change.volume_change_percent:+.1f} %)"
        notes.append(vol)
    return notes
