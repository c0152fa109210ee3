"""The depth-scale reader's sentences (imaging/depth_scale.py) as templates the GUI translates.

Every refusal, every reason for a tick interval and the reading's summary is a `wording.Worded`: the CLI,
its JSON and the log print the English; the workstation shows the same sentence in its language.
Kept apart from the reader so that its logic reads without the wording.
"""

from __future__ import annotations

from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Worded

#: Words the templates take as values (the side of the scan area, what sets the major ticks apart).
WORDS = (
    QT_TRANSLATE_NOOP("core", "left"),
    QT_TRANSLATE_NOOP("core", "right"),
    QT_TRANSLATE_NOOP("core", "longer"),
    QT_TRANSLATE_NOOP("core", "coloured"),
    QT_TRANSLATE_NOOP("core", "brighter"),
)
#: every k-th tick is {f} → what one tick interval is
PATTERN_RULES = {
    2: QT_TRANSLATE_NOOP("core", "every 2nd tick is {f}: 5 mm ticks between centimetre ticks"),
    5: QT_TRANSLATE_NOOP("core", "every 5th tick is {f}: centimetre ticks with 5 cm major ticks"),
    10: QT_TRANSLATE_NOOP("core", "every 10th tick is {f}: millimetre ticks with centimetre major ticks"),
}
SUMMARY = QT_TRANSLATE_NOOP(
    "core",
    "depth scale at the {side} (x≈{x:.0f}): {count} ticks {period:.2f} px apart = {tick:g} mm → "
    "{mmpp:.4f} mm/px (scan depth {depth:.1f} cm, confidence {confidence:.2f})",
)
UNIFORM_RULE = QT_TRANSLATE_NOOP(
    "core",
    "uniform ticks: {tick:g} mm apart gives a breast-imaging depth of {depth:.1f} cm, while {other:g} mm "
    "is implausible ({problem})",
)
# why a tick interval cannot be right
BAD_MM_PER_PX = QT_TRANSLATE_NOOP("core", "{mmpp:.3f} mm/px is outside {lo:g}–{hi:g}")
BAD_SCAN_DEPTH = QT_TRANSLATE_NOOP("core", "a scan depth of {depth:.1f} cm is outside {lo:g}–{hi:g} cm")
BAD_IMAGE_DEPTH = QT_TRANSLATE_NOOP("core", "the whole image would be {depth:.1f} cm deep")
# refusals: one sentence each
UNEVEN = QT_TRANSLATE_NOOP(
    "core",
    "The {count} tick marks at the {side} of the scan area are not evenly spaced (rows {rms:.1f} px rms off "
    "a {period:.1f} px spacing, {filled:.0f} % of the positions filled), so no scale is read from them.",
)
IRREGULAR = QT_TRANSLATE_NOOP(
    "core",
    "The tick marks at the {side} of the scan area are irregularly spaced ({stray} of {count} off any "
    "regular spacing), so no scale is read from them.",
)
TOO_FEW = QT_TRANSLATE_NOOP(
    "core",
    "The depth scale is not legible: the best column of tick marks beside the scan area has only {count} "
    "regularly spaced ticks (at least {minimum} are needed).",
)
NONE_FOUND = QT_TRANSLATE_NOOP(
    "core",
    "No depth scale was found: there is no column of regularly spaced tick marks beside the scan area.",
)
PATTERN_IMPLAUSIBLE = QT_TRANSLATE_NOOP(
    "core",
    "The depth scale's ticks are {period:.1f} px apart ({rule}), but at {tick:g} mm per tick {problem}, so "
    "no scale is read.",
)
PATTERN_AMBIGUOUS = QT_TRANSLATE_NOOP(
    "core",
    "The depth scale's ticks are {period:.1f} px apart with every {k}th tick {f}: {a:g} mm and {b:g} mm "
    "per tick are both plausible, so no scale is read.",
)
UNIFORM_OUTSIDE_BREAST = QT_TRANSLATE_NOOP(
    "core",
    "The depth scale's ticks are {period:.1f} px apart with no longer centimetre ticks: {other:g} mm per "
    "tick is implausible ({problem}) and {tick:g} mm gives a scan depth of {depth:.1f} cm, outside breast "
    "imaging (2–8 cm), so no scale is read.",
)
UNIFORM_NEITHER = QT_TRANSLATE_NOOP(
    "core",
    "The depth scale's ticks are {period:.1f} px apart, but neither 1 cm ({problem_cm}) nor 5 mm "
    "({problem_5mm}) per tick gives a plausible scale, so no scale is read.",
)
UNIFORM_BOTH = QT_TRANSLATE_NOOP(
    "core",
    "The depth scale's ticks are {period:.1f} px apart with no longer centimetre ticks: 1 cm ({cm:.3f} "
    "mm/px, scan depth {depth_cm:.1f} cm) and 5 mm ({mm5:.3f} mm/px, {depth_5mm:.1f} cm) per tick are "
    "both possible, so no scale is read; calibrate with the Calibrate tool (K) along the ruler.",
)
DISAGREE = QT_TRANSLATE_NOOP(
    "core",
    "Two columns of tick marks disagree ({period:.1f} px apart at the {side}, {other_period:.1f} px at the "
    "{other_side}), so no scale is read.",
)


def worded(template: str, **values: object) -> Worded:
    """`Worded(template, values)`, spelled as the error constructor `DlrsError.of` is; a value that is
    one of `WORDS` (a side, a tick feature) is translated with the sentence."""
    return Worded(template, {k: Worded(v) if v in WORDS else v for k, v in values.items()})
