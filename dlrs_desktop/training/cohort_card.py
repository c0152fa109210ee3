"""The data card an imported public cohort ships with: sources, licences, counts, exclusions, spacing.

Written next to `cohort.csv` by `dlrs cohort import`; the real-data study copies it into its report.
"""

from __future__ import annotations

import json
from pathlib import Path

from dlrs_desktop.fileio import atomic_write_text
from dlrs_desktop.training.cohort_import import CITATIONS, LICENCES, ImportReport, counts

_SPACING = {
    "recorded": "pixel size recorded by the dataset (BrEaST: `Pixel_size`, cm/px, × 10)",
    "nominal": "NOMINAL value (`--nominal-mm-per-px`): the dataset records no pixel size and its "
    "published images are crops without an on-screen scale; an assumption, not a measurement",
}


def render_data_card(report: ImportReport, sources: dict, args: dict) -> str:
    """Markdown: what the cohort is made of and how to rebuild it."""
    lines = [
        "# Data card: imported public breast-ultrasound cohort",
        "",
        "Task: benign (0) vs malignant (1) breast lesion on one B-mode image, with the dataset's expert "
        "lesion mask as the contour. Made by `dlrs cohort import` "
        f"({', '.join(f'--{k.replace(chr(95), chr(45))} {v}' for k, v in args.items())}).",
        "",
        "## Sources",
        "",
        "| dataset | citation | licence | where the files came from |",
        "|---|---|---|---|",
    ]
    for name in sorted({c.centre for c in report.cases}):
        src = sources.get(name, {})
        where = ", ".join(f"{k} {v}" for k, v in src.items()) if src else "(no SOURCES.json entry)"
        lines.append(f"| {name} | {CITATIONS.get(name, '')} | {LICENCES.get(name, '')} | {where} |")
    lines += ["", "Every image and mask read is listed with its sha256 in `files.csv`.", ""]
    lines += [
        "## Cases per split",
        "",
        "| dataset and class | train | internal | external |",
        "|---|---|---|---|",
    ]
    for key, row in counts(report.cases).items():
        lines.append(f"| {key} | {row['train']} | {row['internal']} | {row['external']} |")
    n_pat = len({c.case.group for c in report.cases})
    lines += ["", f"{len(report.cases)} images of {n_pat} patients (or picture groups, BUSI).", ""]
    lines += ["## Exclusions", "", "| reason | images |", "|---|---|"]
    for reason, ids in report.excluded.items():
        lines.append(f"| {reason.replace('_', ' ')} | {len(ids)} |")
    lines += ["", "The ids are in `exclusions.json`.", "", "## Millimetres", ""]
    by_src: dict[str, dict[str, list[float]]] = {}
    for c in report.cases:
        by_src.setdefault(c.centre, {}).setdefault(c.spacing_source, []).append(c.mm_per_px)
    for centre, d in sorted(by_src.items()):
        for src, vals in d.items():
            lo, hi = min(vals), max(vals)
            rng = f"{lo:.4g}" if lo == hi else f"{lo:.4g}–{hi:.4g}"
            lines.append(f"- {centre}: {rng} mm/px — {_SPACING[src]}.")
    lines += [
        "",
        "Splits: the external datasets are the external split whole; the others are split by patient "
        "into train and internal, stratified by dataset × pathology, seeded.",
        "",
    ]
    return "\n".join(lines)


def write_data_card(report: ImportReport, sources: dict, args: dict, out: Path) -> Path:
    path = out / "DATA_CARD.md"
    atomic_write_text(path, render_data_card(report, sources, args))
    atomic_write_text(out / "sources.json", json.dumps(sources, indent=1, ensure_ascii=False) + "\n")
    return path
