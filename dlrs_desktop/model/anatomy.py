"""What a DICOM header says an image shows, against what the model was trained on (no Qt, no numpy).

The image-based domain guard does not tell another organ from the breast: measured on 151 real
thyroid, fetal-head and lung scans, the real-data model called most of them inside
(docs/DOMAIN_GUARD.md). A scanner's own header often can: *Modality* (0008,0060) and *Body Part
Examined* (0018,0015) are filled in by the exam preset on most ultrasound systems. So, as cleared
imaging AI does, the header is read first:

* a Modality that is another imaging modality (CT, MR, mammography, …) → outside, with that reason;
* a Body Part Examined that is a DICOM defined term (PS3.16 Annex L) for another part of the body
  than the one the bundle declares (`training_data.body_part`, e.g. BREAST) → outside; without a
  Body Part Examined, the SNOMED CT code of the Anatomic Region Sequence (0008,2218) is read the same
  way (through the table of terms and codes that highdicom ships);
* without either, the body parts its *Study* or *Series Description* or *Protocol Name* name, as
  whole words ("US KIDNEY", "Adult Heart"): outside when they name another part and none names the
  declared part or a neighbour (the loader keeps only the terms, never the text:
  `imaging/body_parts.py`);
* an empty, unknown or neighbouring term (CHEST or AXILLA for a breast model: a breast exam may be
  filed under either), a PNG or JPEG, or a bundle that declares no body part → the header says
  nothing, and the image-based guard decides alone.

A header is only ever used to refuse, never to vouch for an image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlrs_desktop.imaging.body_parts import body_parts, described_parts, normalised, term_of_code
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

#: Imaging modalities (PS3.3 C.7.3.1.1.1) that are not B-mode ultrasound. OT (other) is left out on
#: purpose: ultrasound screens exported as secondary captures often carry it.
OTHER_MODALITIES = frozenset({
    "BDUS", "BMD", "CR", "CT", "DG", "DX", "ES", "GM", "IO", "IVOCT", "IVUS", "LS", "MG", "MR",
    "NM", "OCT", "OP", "OPT", "PT", "PX", "RF", "RG", "SM", "TG", "XA", "XC",
})  # fmt: skip
# Terms a scan of the declared part may also be filed under: the header then says nothing.
NEIGHBOURS: dict[str, frozenset[str]] = {
    "BREAST": frozenset({"CHEST", "THORAX", "TRUNK", "UPPERTRUNK", "AXILLA", "WHOLEBODY"}),
    "THYROID": frozenset({"NECK", "HEADNECK", "WHOLEBODY"}),
}
#: The reasons (completing domain.REASON_OUTSIDE), as templates read back by domain_text.
WHY_MODALITY = QT_TRANSLATE_NOOP(
    "domain_text", "its DICOM header gives the modality {value}; this model was trained on ultrasound (US)"
)
WHY_BODY_PART = QT_TRANSLATE_NOOP(
    "domain_text", "its DICOM header gives the body part {value}; this model was trained on {name} images"
)
WHY_DESCRIPTION = QT_TRANSLATE_NOOP(
    "domain_text",
    "its DICOM study or series description names {value}; this model was trained on {name} images",
)
#: The declared body parts' words (a template's {name} is translated at display time).
BODY_PART_WORDS = {"BREAST": QT_TRANSLATE_NOOP("domain_text", "breast")}


def body_part_problem(value: Any) -> str | None:
    """Why `value` cannot be a bundle's `training_data.body_part` (None when it can)."""
    if not isinstance(value, str) or normalised(value) != value or value not in body_parts():
        return "must be a DICOM Body Part Examined defined term such as BREAST (PS3.16 Annex L)"
    return None


def header_reason(metadata: Mapping[str, Any], body_part: str | None) -> str | None:
    """Why the image's DICOM header rules it out for a model of `body_part` (None: it does not).

    `metadata` is the loader's de-identified metadata (`Provenance.metadata`): a PNG has no modality
    or body part, so it never gets a reason here. The coded attributes decide when present; else an
    off-standard Body Part Examined read as words ("Thyroid gland"), and only then the descriptions."""
    modality = normalised(metadata.get("modality"))
    if modality in OTHER_MODALITIES:
        return WHY_MODALITY.format(value=modality)
    if body_part is None:
        return None
    allowed = {body_part} | NEIGHBOURS.get(body_part, frozenset())
    name = BODY_PART_WORDS.get(body_part, body_part)
    seen = normalised(metadata.get("body_part"))
    if seen not in body_parts():  # no Body Part Examined: the Anatomic Region Sequence's code, if any
        seen = term_of_code().get(str(metadata.get("anatomic_region") or ""), "")
    if seen:
        return None if seen in allowed else WHY_BODY_PART.format(value=seen, name=name)
    # an off-standard Body Part Examined read as words ("MAMMA" names the breast), then the descriptions
    for words, template in (
        (described_parts([metadata.get("body_part")]), WHY_BODY_PART),
        (_described(metadata), WHY_DESCRIPTION),
    ):
        if words:
            return None if allowed.intersection(words) else template.format(value=", ".join(words), name=name)
    return None


def _described(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The loader's `described_body_parts`, defined terms only (metadata may come from elsewhere)."""
    listed = metadata.get("described_body_parts")
    if not isinstance(listed, list | tuple):
        return ()
    return tuple(sorted({t for t in listed if isinstance(t, str) and t in body_parts()}))
