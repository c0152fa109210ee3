"""Quality gates: when to refuse a prediction and when to give it with a warning, in plain words.

Refuse (raise): no calibration (in `prepare_inputs`), an invalid contour (`validate_contour`), a
tumour mostly outside the scan area, a colour Doppler/elastography overlay over more than 2 % of any
analysed region. Predict but flag: a ring clipped by the scan area beyond the limit, a tumour size
outside the range seen in training, a little overlay colour (up to 2 %) or coloured marks inside the
regions (marks are inpainted first, and the flag says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlrs_desktop.errors import ContourError, DlrsError
from dlrs_desktop.model.result import QualityFlag
from dlrs_desktop.regions import ring_name

if TYPE_CHECKING:
    from dlrs_desktop.model.bundle import Bundle
    from dlrs_desktop.model.preprocess import PrepInfo

#: More than this fraction of the tumour outside the scan area → refuse.
TUMOUR_OUTSIDE_LIMIT = 0.2
#: Default ring clipping limit (the manifest's `quality.ring_clip_limit` overrides it).
RING_CLIP_LIMIT = 0.2
#: A colour overlay over at least this fraction of some analysed region (and at most the limit) → flag.
DOPPLER_FRACTION = 0.005
#: A colour overlay over more than this fraction of ANY analysed region → refuse (model card, IMAGING.md).
COLOUR_OVERLAY_LIMIT = 0.02


def region_label(name: str) -> str:
    """'ring_10mm' → '10 mm ring', 'intratumoral' → 'intratumoral region' (for sentences)."""
    if name.startswith("ring_") and name.endswith("mm"):
        return f"{name[5:-2]} mm ring"
    return f"{name.replace('_', ' ')} region" if name else "analysed regions"


class ColourOverlayError(DlrsError):
    """The regions show a colour Doppler or elastography overlay: not a grey-scale B-mode image."""


def check_refusals(info: PrepInfo) -> None:
    """Raise if the tumour lies (mostly) outside the tissue area or the regions are colour-overlaid."""
    name, covered = info.colour.worst_region
    if covered > COLOUR_OVERLAY_LIMIT:
        where = f"the {region_label(name)}"
        raise ColourOverlayError(
            f"A colour Doppler/elastography overlay covers {covered:.0%} of {where} (the limit is "
            f"{COLOUR_OVERLAY_LIMIT:.0%}): the model is for grey-scale B-mode images only; choose a B-mode "
            "frame without colour."
        )
    outside = float(info.roiset.tumour.clipped_fraction)
    if outside > TUMOUR_OUTSIDE_LIMIT:
        raise ContourError(
            f"The tumour contour lies outside the scan area ({outside:.0%} of it is outside the "
            "ultrasound image's tissue region); draw it on the tumour in the image."
        )


def quality_flags(info: PrepInfo, bundle: Bundle) -> list[QualityFlag]:
    """Warnings and notes for a prediction that is computed anyway."""
    flags: list[QualityFlag] = []
    quality = bundle.manifest.get("quality", {}) if isinstance(bundle.manifest.get("quality"), dict) else {}
    limit = float(quality.get("ring_clip_limit", RING_CLIP_LIMIT))
    for region in bundle.spec.regions:
        if region.radius_mm <= 0:
            continue
        ring = info.roiset[ring_name(region.radius_mm)]
        clipped = float(ring.clipped_fraction)
        if clipped > limit:
            flags.append(
                QualityFlag(
                    "ring_clipped",
                    f"The {region.radius_mm:g} mm ring is {clipped:.0%} outside the scan area (limit "
                    f"{limit:.0%}): its evidence rests on less tissue than the model saw in training.",
                )
            )
    rng = bundle.tumour_area_range_mm2
    area = float(info.roiset.tumour.area_mm2)
    if rng is not None and not rng[0] <= area <= rng[1]:
        side = "smaller" if area < rng[0] else "larger"
        flags.append(
            QualityFlag(
                "tumour_size",
                f"The tumour ({area:.0f} mm²) is {side} than any seen in training "
                f"({rng[0]:.0f}–{rng[1]:.0f} mm²): the model is extrapolating.",
            )
        )
    colour = info.colour
    name, covered = colour.worst_region
    if colour.doppler_area_mm2 > 0 and covered >= DOPPLER_FRACTION:
        flags.append(
            QualityFlag(
                "doppler",
                f"Colour (Doppler-like) content covers {covered:.1%} of the {region_label(name)} "
                f"(predictions are refused above {COLOUR_OVERLAY_LIMIT:.0%}); the model was trained on "
                "grayscale B-mode images only.",
            )
        )
    if colour.mark_components:
        n = colour.mark_components
        what = f"{n} coloured mark{'s' if n > 1 else ''} (calipers or annotations)"
        verb = "were" if n > 1 else "was"
        if colour.marks_inpainted_px:
            msg = f"{what} inside the regions {verb} removed by inpainting before analysis."
        else:
            msg = f"{what} inside the regions {verb} left in the pixels analysed (inpainting is off)."
        flags.append(QualityFlag("marks_inpainted", msg))
    grown = [c.name for c in info.crops if c.grown]
    if grown:
        flags.append(
            QualityFlag(
                "field_of_view",
                "The region(s) " + ", ".join(grown) + " are larger than the network's field of view and "
                "were shown to it at a reduced scale.",
                "info",
            )
        )
    return flags
