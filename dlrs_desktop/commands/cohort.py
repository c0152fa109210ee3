"""`dlrs cohort import`: public breast-ultrasound datasets → the `cohort.csv` that `dlrs train` reads.

Reads BUS-BRA, BUSI and BrEaST-Lesions_USG from their official folder layouts under `--data`
(training/cohort_import.py says how), writes `cohort.csv`, cleaned one-lesion masks, `files.csv`
(sha256 of every file read), `exclusions.json` and `DATA_CARD.md` under `--out`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlrs_desktop.errors import CohortError

HELP = "import public breast-ultrasound datasets (BUS-BRA, BUSI, BrEaST) as a cohort for dlrs train"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cohort_command", metavar="import", required=True)
    p = sub.add_parser("import", help=HELP)
    p.add_argument("--data", required=True, help="folder holding the datasets' official folders")
    p.add_argument("--out", required=True, help="output folder (cohort.csv, masks/, DATA_CARD.md)")
    p.add_argument(
        "--external",
        nargs="*",
        default=["BrEaST"],
        help="datasets that form the external split whole (default: BrEaST)",
    )
    p.add_argument("--internal-fraction", type=float, default=0.2, help="patients held out as internal")
    p.add_argument(
        "--nominal-mm-per-px",
        type=float,
        default=0.1,
        help="spacing written for datasets that record none (BUSI, BUS-BRA); stated in the data card",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the train/internal split")


def run(args: argparse.Namespace) -> int:
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.assist_data import read_sources
    from dlrs_desktop.training.cohort_card import write_data_card
    from dlrs_desktop.training.cohort_import import assign_splits, collect, counts, write_cohort

    data, out = Path(args.data), Path(args.out)
    if not data.is_dir():
        raise CohortError(f"--data {data} is not a folder.")
    if not (0.0 < args.internal_fraction < 0.9):
        raise CohortError("--internal-fraction must be between 0 and 0.9.")
    if not (0.01 <= args.nominal_mm_per_px <= 1.0):
        raise CohortError("--nominal-mm-per-px must be between 0.01 and 1 mm/px.")
    report = collect(data, args.nominal_mm_per_px)
    assign_splits(report.cases, set(args.external), args.internal_fraction, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_cohort(report, data, out)
    settings = {
        "external": " ".join(args.external),
        "internal_fraction": args.internal_fraction,
        "nominal_mm_per_px": args.nominal_mm_per_px,
        "seed": args.seed,
    }
    write_data_card(report, read_sources(data), settings, out)
    shown = ", ".join(
        f"{k}: " + "/".join(str(v) for v in row.values()) for k, row in counts(report.cases).items()
    )
    dropped = sum(len(v) for v in report.excluded.values())
    print(f"{len(report.cases)} images → {csv_path} (train/internal/external: {shown}); {dropped} excluded",
          file=sys.stdout)  # fmt: skip
    return 0
