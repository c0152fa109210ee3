"""What the DICOM header check's reading of descriptions adds on the 63 real non-breast ultrasound DICOMs.

Reads only committed records, no image: the headers' Study and Series Descriptions as collected
(benchmarks/results/usdicom-sources-2026-12-05.json; Protocol Name was not collected) and what the
real-data model's guard answered for each file (benchmarks/results/domain_guard_ood-usdicom-2026-12-05.txt,
its first block: dlrs-bus-malignancy 1.1.2). A file whose header now rules it out reads "outside"
where it had a probability (inside or unusual); a refused file stays refused.

    python benchmarks/header_description_reach.py
"""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SOURCES = RESULTS / "usdicom-sources-2026-12-05.json"
VERDICTS = RESULTS / "domain_guard_ood-usdicom-2026-12-05.txt"
ORDER = ("inside", "unusual", "outside", "refused")


def verdicts() -> dict[str, str]:
    """sha256[:12] → the real-data model's answer (the record's first block)."""
    first = VERDICTS.read_text().split("\n# python")[0]
    return dict(re.findall(r"^\s+([0-9a-f]{12})\.dcm: (\w+)", first, re.M))


def main() -> None:
    from dlrs_desktop.imaging.body_parts import described_parts
    from dlrs_desktop.model.anatomy import header_reason

    before = verdicts()
    after: dict[str, str] = {}
    caught = collections.Counter()
    for f in json.loads(SOURCES.read_text())["files"]:
        if not f["measured"]:
            continue
        key = f["sha256"][:12]
        meta = {
            "modality": f["modality"],
            "body_part": f["body_part_examined"],
            "anatomic_region": f["anatomic_region"],
            "described_body_parts": list(described_parts([f["study_description"], f["series_description"]])),
        }
        why = header_reason(meta, "BREAST")
        after[key] = "outside" if why and before[key] != "refused" else before[key]
        if why:
            caught[(before[key], ", ".join(meta["described_body_parts"]))] += 1
    n = len(after)
    print(f"{n} files; the header check for a model declaring BREAST, descriptions read")
    for name, answers in (("before (record)", before), ("with descriptions", after)):
        counts = collections.Counter(answers[k] for k in after)
        shown = ", ".join(f"{s} {counts[s]}/{n} = {100 * counts[s] / n:.1f}%" for s in ORDER)
        no_probability = counts["outside"] + counts["refused"]
        print(f"  {name}: {shown}; no probability {no_probability}/{n} = {100 * no_probability / n:.1f}%")
    print("ruled out by a description (answer before, terms named):")
    for (was, terms), k in sorted(caught.items()):
        print(f"  {k} x {was}: {terms}")


if __name__ == "__main__":
    main()
