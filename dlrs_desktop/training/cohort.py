"""Cohort CSV: reading, checking, and turning each case into network inputs.

Format (paths relative to the CSV; documented in docs/TRAINING.md):

    case_id,image,contour,label,centre,split[,mm_per_px][,patient_id]

* `image`: DICOM (calibration from its ultrasound regions / pixel spacing) or PNG/JPEG/TIFF;
* `contour`: a contour JSON (schema dlrs-contour) or a mask PNG (non-zero = tumour);
* `label`: 0 or 1 (1 = early responder); `split`: train | internal | external;
* `mm_per_px`: used only for images that carry no calibration of their own;
* `patient_id`: groups several images of one patient in the same cross-validation fold
  (defaults to case_id).

Every problem is collected first and reported together, before any training starts
(`CohortError`), because a run that dies after an hour on case 301 wastes the user's afternoon.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.imaging import effective_calibration, load_image
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.limits import MAX_TABLE_BYTES, check_regular_file
from dlrs_desktop.roi import Contour

REQUIRED_COLUMNS = ("case_id", "image", "contour", "label", "centre", "split")
SPLITS = ("train", "internal", "external")


@dataclass(frozen=True)
class CohortCase:
    case_id: str
    patient_id: str
    image: Path
    contour: Path
    label: int
    centre: str
    split: str
    mm_per_px: float | None
    row: int  # 1-based data row in the CSV (for messages)


def _fail(path: Path, problems: list[str]) -> CohortError:
    shown = "; ".join(problems[:5])
    more = f" (and {len(problems) - 5} more problems)" if len(problems) > 5 else ""
    return CohortError(f"The cohort {path.name} cannot be used: {shown}{more}.")


def read_cohort(path: str | Path, *, require_train: bool = True) -> list[CohortCase]:
    """Parse and check the CSV itself (columns, labels, splits, files exist, classes present).

    `require_train=False` for evaluation: any split may be present, one class is allowed.
    """
    path = Path(path)
    rows = _read_rows(path)
    problems: list[str] = []
    cases: list[CohortCase] = []
    seen: set[str] = set()
    for i, r in enumerate(rows, start=1):
        cases.append(_case(r, i, path.parent, seen, problems))
    if problems:
        raise _fail(path, problems)
    if require_train:
        _check_training_split(path, cases)
    return cases


def _read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows (keys and values stripped); CohortError for a missing, unreadable or empty table."""
    if not os.path.lexists(path):
        raise CohortError(f"The cohort file {path} does not exist.")
    try:
        check_regular_file(path, "cohort file", MAX_TABLE_BYTES)
    except DlrsError as exc:
        raise CohortError(str(exc)) from None
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            rows = [
                {
                    (k or "").strip(): v.strip()
                    for k, v in r.items()
                    if isinstance(k, str) and isinstance(v, str)
                }
                for r in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CohortError(f"The cohort file {path.name} cannot be read as CSV: {exc}.") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CohortError(
            f"The cohort {path.name} lacks the column(s) {', '.join(missing)} "
            f"(expected {', '.join(REQUIRED_COLUMNS)}[, mm_per_px, patient_id])."
        )
    if not rows:
        raise CohortError(f"The cohort {path.name} has no cases.")
    return rows


def _case(r: dict[str, str], i: int, base: Path, seen: set[str], problems: list[str]) -> CohortCase:
    """One row as a case; what is wrong with it is added to `problems` (all rows are checked first)."""
    cid = r["case_id"]
    where = f"row {i} ({cid or 'no case_id'})"
    if not cid:
        problems.append(f"{where}: empty case_id")
    elif cid in seen:
        problems.append(f"{where}: case_id repeated")
    seen.add(cid)
    if r["label"] not in ("0", "1"):
        problems.append(f"{where}: label is {r['label']!r}, must be 0 or 1")
    if r["split"] not in SPLITS:
        problems.append(f"{where}: split is {r['split']!r}, must be one of {', '.join(SPLITS)}")
    img, con = base / r["image"], base / r["contour"]
    if not r["image"] or not img.is_file():
        problems.append(f"{where}: image file {r['image']!r} not found")
    if not r["contour"] or not con.is_file():
        problems.append(f"{where}: contour file {r['contour']!r} not found")
    mmpp: float | None = None
    if r.get("mm_per_px"):
        try:
            mmpp = float(r["mm_per_px"])
            if not (math.isfinite(mmpp) and 0.001 <= mmpp <= 5):
                raise ValueError
        except ValueError:
            problems.append(f"{where}: mm_per_px {r['mm_per_px']!r} is not a plausible number")
            mmpp = None
    label = int(r["label"]) if r["label"] in ("0", "1") else -1
    patient = r.get("patient_id") or cid
    return CohortCase(cid, patient, img, con, label, r["centre"] or "?", r["split"], mmpp, i)


def _check_training_split(path: Path, cases: list[CohortCase]) -> None:
    """A model needs a training split with at least two cases of each class."""
    train = [c.label for c in cases if c.split == "train"]
    if not train:
        raise CohortError(f"The cohort {path.name} has no case with split 'train'.")
    if len(set(train)) < 2:
        only = "responders (1)" if train[0] == 1 else "non-responders (0)"
        raise CohortError(
            f"The training split of {path.name} holds only {only}; a model needs both classes to learn."
        )
    if min(train.count(0), train.count(1)) < 2:
        raise CohortError(f"The training split of {path.name} needs at least two cases of each class.")


def load_case(case: CohortCase) -> tuple[Any, Any]:
    """The case's UltrasoundImage (calibrated) and Contour; DlrsError with the case named if unusable."""
    try:
        image = load_image(case.image)
        if case.contour.suffix.lower() == ".json":
            contour = Contour.load(case.contour)
        else:
            contour = Contour.load_any(case.contour, image.shape)
        column = Calibration.manual(case.mm_per_px) if case.mm_per_px is not None else None
        # The one rule the GUI and the CLI use: the mm_per_px column only when the file has no scale.
        image = effective_calibration(image, contour.points, fallback=column).image
    except DlrsError as exc:
        raise CohortError(f"case {case.case_id}: {exc}") from None
    pts = np.asarray(contour.points, dtype=float)
    h, w = image.shape
    if pts.size == 0 or pts[:, 0].max() > w or pts[:, 1].max() > h or pts.min() < 0:
        raise CohortError(
            f"case {case.case_id}: the contour does not fit its image ({w}×{h} px); "
            "check that the contour belongs to this image"
        )
    if image.calibration_for(pts) is None:
        raise CohortError(
            f"case {case.case_id}: the image has no millimetre calibration; add a mm_per_px column value"
        )
    if contour.calibration is None or contour.calibration != image.calibration_for(pts):
        contour = Contour(pts, calibration=image.calibration_for(pts), frame=contour.frame)
    return image, contour


def check_cases(cases: list[CohortCase], path: str | Path) -> None:
    """Load every image and contour once; report all unusable cases together."""
    problems = []
    for c in cases:
        try:
            load_case(c)
        except CohortError as exc:
            problems.append(str(exc))
    if problems:
        raise _fail(Path(path), problems)
