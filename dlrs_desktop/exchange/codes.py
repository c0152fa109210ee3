"""Coded concepts used in our SEG and SR objects (one place, so SEG and SR agree).

Standard codes (SNOMED CT, DCM, UCUM) where one exists; the model's outputs and the peritumoral rings
have no standard concept, so they use the private coding scheme 99DLRS (declared in the SR's Coding
Scheme Identification Sequence), as DICOM PS3.16 section 8 allows.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

PRIVATE_SCHEME = "99DLRS"
PRIVATE_SCHEME_NAME = "DLRS Desktop private codes"


def code(value: str, scheme: str, meaning: str) -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    return hd.sr.CodedConcept(value=value, scheme_designator=scheme, meaning=meaning)


def private(value: str, meaning: str) -> Any:
    return code(value, PRIVATE_SCHEME, meaning)


def morph_altered() -> Any:
    return code("49755003", "SCT", "Morphologically Altered Structure")


def neoplasm() -> Any:
    return code("108369006", "SCT", "Neoplasm")


def tissue() -> Any:
    return code("85756007", "SCT", "Tissue")


def ring(radius_mm: float) -> Any:
    return private(f"RING{radius_mm:g}MM", f"Peritumoral ring {radius_mm:g} mm")


def breast() -> Any:
    return code("76752008", "SCT", "Breast")


def breast_ultrasound() -> Any:
    return code("47079000", "SCT", "Ultrasonography of breast")


AREA = ("42798000", "SCT", "Area")
LONG_AXIS = ("103339001", "SCT", "Long axis")
SHORT_AXIS = ("103340004", "SCT", "Short axis")
PERIMETER = ("131191004", "SCT", "Perimeter")
PROBABILITY = ("122157", "DCM", "Probability")
MM2 = ("mm2", "UCUM", "square millimeter")
MM = ("mm", "UCUM", "millimeter")
PERCENT = ("%", "UCUM", "percent")
NO_UNITS = ("1", "UCUM", "no units")


class Private(Enum):
    """Our own concepts, all in PRIVATE_SCHEME: (code value, meaning). A code's meaning may not change
    from bundle to bundle, so any bundle outcome other than early response is the one OUTCOME_PROBABILITY
    concept, the bundle's own words going in the OUTCOME text item beside it (model/outcome.py)."""

    CLIPPED_FRACTION = ("CLIPFRAC", "Fraction outside the scan area")
    EARLY_RESPONSE = ("EARLYRESP", "Probability of early response to neoadjuvant chemotherapy")
    OUTCOME_PROBABILITY = ("OUTCOMEP", "Probability of the model's outcome")
    OUTCOME = ("OUTCOME", "Model outcome")
    MODEL_CATEGORY = ("CATEGORY", "Model result category")
    THRESHOLD = ("THRESHOLD", "Decision threshold")
    SENS_MIN = ("SENSMIN", "Contour sensitivity minimum probability")
    SENS_MAX = ("SENSMAX", "Contour sensitivity maximum probability")
    MODEL_OUTPUT = ("MODELOUT", "Model output")
    RESEARCH_USE = ("RESEARCH", "Research use statement")
    MODEL_SHA256 = ("MODELSHA", "Model bundle sha256")
    # The domain guard (model/domain.py): a qualitative evaluation, its score and reason, the prediction set
    DOMAIN_STATUS = ("DOMAIN", "Image within the model's training domain")
    DOMAIN_INSIDE = ("DOMIN", "Inside the training domain")
    DOMAIN_UNUSUAL = ("DOMUNU", "Unusual for the model")
    DOMAIN_OUTSIDE = ("DOMOUT", "Outside the training domain; no class given")
    DOMAIN_UNKNOWN = ("DOMNONE", "Not checked; no domain reference in the model")
    DOMAIN_SCORE = ("DOMSCORE", "Domain score")
    DOMAIN_REASON = ("DOMREASON", "Domain reason")
    PREDICTION_SET = ("PREDSET", "Conformal prediction set")
    # The follow-up's size change from baseline (roi/size.py)
    BASELINE_LONGEST = ("BLLONG", "Baseline longest diameter")
    LONGEST_CHANGE_MM = ("LDCHGMM", "Change in longest diameter from baseline")
    LONGEST_CHANGE_PCT = ("LDCHGPCT", "Percent change in longest diameter from baseline")
    VOLUME_CHANGE_PCT = ("VOLCHGPCT", "Percent change in ellipsoid volume from baseline")
    SIZE_CATEGORY = ("SIZECAT", "Size category (RECIST 1.1 size criteria)")
    SIZE_CRITERIA = ("SIZECRIT", "Size criteria applied")


#: The domain guard's statuses as coded values
DOMAIN_VALUES = {
    "inside": Private.DOMAIN_INSIDE,
    "unusual": Private.DOMAIN_UNUSUAL,
    "outside": Private.DOMAIN_OUTSIDE,
    "unknown": Private.DOMAIN_UNKNOWN,
}

#: A concept: a standard (value, scheme, meaning) triple above or one of ours
Concept = tuple[str, str, str] | Private


def concept(c: Concept) -> Any:
    if isinstance(c, Private):
        value, meaning = c.value
        return private(value, meaning)
    return code(*c)
