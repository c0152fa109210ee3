"""Coded concepts used in our SEG and SR objects (one place, so SEG and SR agree).

Standard codes (SNOMED CT, DCM, UCUM) where one exists; the model's outputs and the peritumoral rings
have no standard concept, so they use the private coding scheme 99DLRS (declared in the SR's Coding
Scheme Identification Sequence), as DICOM PS3.16 section 8 allows.
"""

from __future__ import annotations

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
CLIPPED_FRACTION = ("CLIPFRAC", PRIVATE_SCHEME, "Fraction outside the scan area")
EARLY_RESPONSE = ("EARLYRESP", PRIVATE_SCHEME, "Probability of early response to neoadjuvant chemotherapy")
# Any other bundle outcome (model/outcome.py): one fixed private concept, the bundle's own words go in
# the OUTCOME text item beside it (a code's meaning may not change from bundle to bundle).
OUTCOME_PROBABILITY = ("OUTCOMEP", PRIVATE_SCHEME, "Probability of the model's outcome")
OUTCOME = ("OUTCOME", PRIVATE_SCHEME, "Model outcome")
MODEL_CATEGORY = ("CATEGORY", PRIVATE_SCHEME, "Model result category")
THRESHOLD = ("THRESHOLD", PRIVATE_SCHEME, "Decision threshold")
SENS_MIN = ("SENSMIN", PRIVATE_SCHEME, "Contour sensitivity minimum probability")
SENS_MAX = ("SENSMAX", PRIVATE_SCHEME, "Contour sensitivity maximum probability")
MODEL_OUTPUT = ("MODELOUT", PRIVATE_SCHEME, "Model output")
RESEARCH_USE = ("RESEARCH", PRIVATE_SCHEME, "Research use statement")
MODEL_SHA256 = ("MODELSHA", PRIVATE_SCHEME, "Model bundle sha256")
# The domain guard (model/domain.py): a qualitative evaluation, its score and reason, the prediction set
DOMAIN_STATUS = ("DOMAIN", PRIVATE_SCHEME, "Image within the model's training domain")
DOMAIN_VALUES = {
    "inside": ("DOMIN", PRIVATE_SCHEME, "Inside the training domain"),
    "unusual": ("DOMUNU", PRIVATE_SCHEME, "Unusual for the model"),
    "outside": ("DOMOUT", PRIVATE_SCHEME, "Outside the training domain; no class given"),
    "unknown": ("DOMNONE", PRIVATE_SCHEME, "Not checked; no domain reference in the model"),
}
DOMAIN_SCORE = ("DOMSCORE", PRIVATE_SCHEME, "Domain score")
DOMAIN_REASON = ("DOMREASON", PRIVATE_SCHEME, "Domain reason")
PREDICTION_SET = ("PREDSET", PRIVATE_SCHEME, "Conformal prediction set")

MM2 = ("mm2", "UCUM", "square millimeter")
BASELINE_LONGEST = ("BLLONG", PRIVATE_SCHEME, "Baseline longest diameter")
LONGEST_CHANGE_MM = ("LDCHGMM", PRIVATE_SCHEME, "Change in longest diameter from baseline")
LONGEST_CHANGE_PCT = ("LDCHGPCT", PRIVATE_SCHEME, "Percent change in longest diameter from baseline")
VOLUME_CHANGE_PCT = ("VOLCHGPCT", PRIVATE_SCHEME, "Percent change in ellipsoid volume from baseline")
SIZE_CATEGORY = ("SIZECAT", PRIVATE_SCHEME, "Size category (RECIST 1.1 size criteria)")
SIZE_CRITERIA = ("SIZECRIT", PRIVATE_SCHEME, "Size criteria applied")

MM = ("mm", "UCUM", "millimeter")
PERCENT = ("%", "UCUM", "percent")
NO_UNITS = ("1", "UCUM", "no units")


def concept(triple: tuple[str, str, str]) -> Any:
    return code(*triple)
