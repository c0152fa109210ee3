"""Public breast-ultrasound datasets turned into the `cohort.csv` that `dlrs train` reads.

The real-data study (docs/evaluation/real-bus/) trains on BUS-BRA (Brazil) and BUSI (Egypt) and
validates externally on BrEaST-Lesions_USG (Poland), each read from its official folder layout:

- BUS-BRA and BUSI exactly as the learned contour assist reads them (`assist_data.find_busbra`,
  `find_busi`): patient = BUS-BRA's `Case`; BUSI has no patient ids, so each picture is its own
  group and near-duplicates are removed first.
- BrEaST: `BrEaST-Lesions_USG-images_and_masks/caseNNN.png` + `caseNNN_tumor.png` and the clinical
  sheet (`.xlsx` as published, or the same table saved as `.csv`); `Pixel_size` is in
  **centimetres** per pixel; `Classification` benign | malignant | normal.

Label 1 = malignant. One lesion per image: an image with several lesion masks (BUSI `_mask_1`,
BrEaST `_other*`, or a second connected component ≥ 5 % of the largest) is dropped and counted, as
are empty masks, masks of another size than their image, BrEaST "normal" cases, near-duplicate
pictures (kept: the first in sorted order) and pictures that appear under both labels (both
dropped: their label is unknowable). Every file read is listed with its sha256 in `files.csv`.

Millimetres: BrEaST records its pixel size (used as recorded). BUSI and BUS-BRA do not, and their
published images are crops without an on-screen scale, so the importer writes a *nominal* value
(`--nominal-mm-per-px`, default 0.1) and says so in the data card: an assumption, not a measurement.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dlrs_desktop.errors import CohortError
from dlrs_desktop.fileio import atomic_write_text
from dlrs_desktop.imaging.loader import file_sha256
from dlrs_desktop.training.assist_data import (
    DUPLICATE_HAMMING,
    Case,
    _usable,
    dhash,
    find_busbra,
    find_busi,
    lesion_mask,
    read_grey,
    relative_path,
)
from dlrs_desktop.training.safe_inputs import find_folder, read_table, walk_files

BREAST_IMAGES = "BrEaST-Lesions_USG-images_and_masks"
DEFAULT_NOMINAL_MM_PER_PX = 0.1
LICENCES = {
    "BUS-BRA": "permissive, citation required (BUSBRA/LICENSE.txt)",
    "BUSI": "CC0 1.0 (as listed by the authors)",
    "BrEaST": "CC BY 4.0",
}
CITATIONS = {
    "BUS-BRA": "Gómez-Flores W, Gregorio-Calas MJ, Coelho de Albuquerque Pereira W. Med Phys "
    "2024;51(4):3110-3123, doi:10.1002/mp.16812",
    "BUSI": "Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Data in Brief 2020;28:104863, "
    "doi:10.1016/j.dib.2019.104863",
    "BrEaST": "Pawłowska A, Ćwierz-Pieńkowska A, Domalik A, et al. Sci Data 2024;11:148, "
    "doi:10.1038/s41597-024-02984-z",
}


@dataclass
class ImportedCase:
    """One usable image: its lesion mask (cleaned), label, centre, spacing and where it came from."""

    case: Case
    centre: str
    mm_per_px: float
    spacing_source: str  # "recorded" | "nominal"
    mask: np.ndarray = field(repr=False)
    split: str = ""


@dataclass
class ImportReport:
    cases: list[ImportedCase]
    excluded: dict[str, list[str]]


def _read_sheet(path: Path) -> list[dict[str, str]]:
    """The BrEaST clinical sheet as rows of strings (xlsx via openpyxl, or csv)."""
    if path.suffix.lower() == ".csv":
        return read_table(path, ("Image_filename", "Classification"), "BrEaST clinical sheet")
    try:
        # lazy: optional [train] extra; extras.require names the install
        import openpyxl
    except ImportError as exc:  # pragma: no cover - the [train] extra installs it
        raise CohortError(
            "Reading the BrEaST clinical sheet (.xlsx) needs openpyxl: pip install 'dlrs-desktop[train]'."
        ) from exc
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    if not rows:
        return []
    head = [str(h or "").strip() for h in rows[0]]
    return [
        {h: "" if v is None else str(v).strip() for h, v in zip(head, r, strict=False) if h} for r in rows[1:]
    ]


def find_breast(root: Path) -> tuple[list[Case], dict[str, float], list[str], list[str]]:
    """BrEaST cases, their recorded mm/px, ids with other findings, and 'normal' ids."""
    sheets = walk_files(  # links only inside the folder, no loops, pipes refused (safe_inputs)
        root,
        lambda n: n.startswith("BrEaST-Lesions-USG-clinical-data") and n.lower().endswith((".xlsx", ".csv")),
    )
    cases: list[Case] = []
    spacing: dict[str, float] = {}
    other: list[str] = []
    normal: list[str] = []
    for sheet in sheets[:1]:
        folder = find_folder(sheet.parent, BREAST_IMAGES)
        if folder is None:
            continue
        for row in _read_sheet(sheet):
            name = row.get("Image_filename", "")
            tumour = row.get("Mask_tumor_filename", "")
            cls = row.get("Classification", "").lower()
            cid = f"breast/{Path(name).stem}"
            if cls not in ("benign", "malignant"):
                normal.append(cid)
                continue
            if row.get("Mask_other_filename", "") not in ("", "None"):
                other.append(cid)
                continue
            img, mask = folder / name, folder / tumour
            if not name or not tumour or not _usable(img, root) or not _usable(mask, root):
                continue
            cases.append(Case(cid, "BrEaST", cls, f"breast:{row.get('CaseID', name)}", img, mask))
            with contextlib.suppress(ValueError):  # no number: refused below ("no pixel size")
                spacing[cid] = float(row.get("Pixel_size", "")) * 10.0  # cm → mm
    return cases, spacing, other, normal


def collect(data: Path, nominal_mm_per_px: float) -> ImportReport:
    """Every usable case under `data` (any of the three datasets), de-duplicated, with exclusions."""
    bb = find_busbra(data)
    busi, busi_multi = find_busi(data)
    breast, breast_mm, breast_other, breast_normal = find_breast(data)
    if not (bb or busi or breast):
        raise CohortError(
            f"No BUS-BRA (bus_data.csv + Images/ + Masks/), BUSI ('benign (N)_mask.png') or BrEaST "
            f"({BREAST_IMAGES}/ + clinical sheet) data under {data}."
        )
    excluded: dict[str, list[str]] = {
        "several_lesions": busi_multi + breast_other,
        "normal_no_lesion": breast_normal,
        "empty_or_size": [],
        "no_pixel_size": [],
        "duplicate": [],
        "label_conflict": [],
    }
    kept: list[ImportedCase] = []
    hashes: list[tuple[int, int]] = []
    for case in bb + busi + breast:
        grey = read_grey(case.image_path)
        mask = lesion_mask(case.mask_path)
        if mask is None or mask.shape != grey.shape:
            raw_any = mask is None and bool((read_grey(case.mask_path) > 127).any())
            excluded["several_lesions" if raw_any else "empty_or_size"].append(case.id)
            continue
        if case.dataset == "BrEaST" and not (0.005 <= breast_mm.get(case.id, 0.0) <= 1.0):
            excluded["no_pixel_size"].append(case.id)
            continue
        h = dhash(grey)
        dup = next(
            (j for hh, j in hashes if bin(hh ^ h).count("1") <= DUPLICATE_HAMMING and _same(kept[j], grey)),
            None,
        )
        if dup is not None:
            first = kept[dup]
            if first.case.pathology != case.pathology:
                excluded["label_conflict"].append(f"{case.id} = {first.case.id}")
                first.split = "drop"
            else:
                excluded["duplicate"].append(f"{case.id} = {first.case.id}")
            continue
        recorded = case.dataset == "BrEaST"
        mm = breast_mm[case.id] if recorded else nominal_mm_per_px
        kept.append(ImportedCase(case, case.dataset, mm, "recorded" if recorded else "nominal", mask))
        hashes.append((h, len(kept) - 1))
    for c in kept:
        if c.split == "drop":
            excluded["label_conflict"].append(c.case.id)
    return ImportReport([c for c in kept if c.split != "drop"], excluded)


def _same(first: ImportedCase, grey: np.ndarray) -> bool:
    """A dhash match confirmed on pixels: the same picture, possibly re-cropped or re-scaled by a few
    per cent (BUSI holds such copies), differs by < 18 grey levels on average at 128 × 128
    (unrelated BUSI pictures: ≥ 27 in 99 % of 300 random pairs)."""
    other = read_grey(first.case.image_path)
    if max(abs(a - b) / max(a, b) for a, b in zip(other.shape, grey.shape, strict=True)) > 0.1:
        return False
    small = [cv2.resize(g, (128, 128), interpolation=cv2.INTER_AREA).astype(float) for g in (other, grey)]
    return float(np.abs(small[0] - small[1]).mean()) < 18.0


def assign_splits(cases: list[ImportedCase], external: set[str], internal_fraction: float, seed: int) -> None:
    """External datasets → `external`; the others by patient → `internal` (a fraction) or `train`,
    stratified by dataset × pathology, seeded."""
    groups: dict[str, list[ImportedCase]] = {}
    for c in cases:
        if c.case.dataset in external:
            c.split = "external"
        else:
            groups.setdefault(c.case.group, []).append(c)
    strata: dict[tuple[str, str], list[str]] = {}
    for g, cs in sorted(groups.items()):
        worst = "malignant" if any(c.case.pathology == "malignant" for c in cs) else "benign"
        strata.setdefault((cs[0].case.dataset, worst), []).append(g)
    rng = np.random.default_rng(seed)
    for key in sorted(strata):
        gs = sorted(strata[key])
        rng.shuffle(gs)
        n_internal = round(len(gs) * internal_fraction)
        for i, g in enumerate(gs):
            for c in groups[g]:
                c.split = "internal" if i < n_internal else "train"


def _safe_name(case_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in case_id)


def write_cohort(report: ImportReport, data: Path, out: Path) -> Path:
    """cohort.csv (+ cleaned masks, files.csv with every sha256, exclusions.json) under `out`."""
    masks = out / "masks"
    masks.mkdir(parents=True, exist_ok=True)
    rows, files = [], []
    for c in sorted(report.cases, key=lambda c: c.case.id):
        mask_path = masks / f"{_safe_name(c.case.id)}.png"
        cv2.imwrite(str(mask_path), c.mask.astype(np.uint8) * 255)
        rows.append(
            {
                "case_id": c.case.id,
                "image": os.path.relpath(c.case.image_path, out),
                "contour": os.path.relpath(mask_path, out),
                "label": int(c.case.pathology == "malignant"),
                "centre": c.centre,
                "split": c.split,
                "mm_per_px": f"{c.mm_per_px:.6g}",
                "patient_id": c.case.group,
                "spacing_source": c.spacing_source,
                "pathology": c.case.pathology,
            }
        )
        for p in (c.case.image_path, c.case.mask_path):
            files.append({"case_id": c.case.id, "file": relative_path(p, data), "sha256": file_sha256(p)})
    _write_csv(out / "cohort.csv", rows)
    _write_csv(out / "files.csv", files)
    atomic_write_text(out / "exclusions.json", json.dumps(report.excluded, indent=1) + "\n")
    return out / "cohort.csv"


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["case_id"])
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def counts(cases: list[ImportedCase]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for c in cases:
        row = out.setdefault(f"{c.centre} {c.case.pathology}", {"train": 0, "internal": 0, "external": 0})
        row[c.split] += 1
    return dict(sorted(out.items()))
