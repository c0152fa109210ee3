"""The lesion's timeline as table rows: one per exam (date, time point, longest diameter, change, size
category, the model's probability). Plain strings, no Qt and no Pillow, so the CLI's Pillow PDF and the
GUI's QPainter report draw the very same cells (`timeline_table`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

HEADER = ("Exam date", "Time point", "Longest diameter", "Change", "Size category", "Probability")


@dataclass(frozen=True)
class TimelineEntry:
    """One exam of the lesion. `change_*` and `category` are None at baseline; `probability` is None
    when no prediction was made (or the image was outside the model's domain)."""

    exam_date: str  # YYYYMMDD, or "" when unknown
    label: str
    longest_mm: float | None  # None: the caller stated the lesion is no longer measurable
    change_mm: float | None = None
    change_percent: float | None = None
    category: str | None = None
    probability: float | None = None

    def __post_init__(self) -> None:
        for name in ("longest_mm", "change_mm", "change_percent", "probability"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"timeline entry: {name} is not finite")


def _date(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if len(digits) >= 8 else (text or "unknown")


def timeline_table(entries: list[TimelineEntry] | tuple[TimelineEntry, ...]) -> list[tuple[str, ...]]:
    """HEADER followed by one row of cell texts per exam, in the order given."""
    rows: list[tuple[str, ...]] = [HEADER]
    for e in entries:
        diameter = "not measurable" if e.longest_mm is None else f"{e.longest_mm:.1f} mm"
        change = (
            "baseline"
            if e.change_percent is None or e.change_mm is None
            else f"{e.change_percent:+.1f} % ({e.change_mm:+.1f} mm)"
        )
        prob = "-" if e.probability is None else f"{e.probability:.3f}"
        rows.append((_date(e.exam_date), e.label or "-", diameter, change, e.category or "-", prob))
    return rows
