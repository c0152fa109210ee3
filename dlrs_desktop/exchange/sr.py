"""Comprehensive SR following TID 1500 (Measurement Report), with highdicom.

One Planar ROI group (TID 1410) per segment of our SEG: the tumour with area, long axis, short axis
(the diameter perpendicular to the longest) and perimeter; each ring with its area and the fraction
that fell outside the scan area. When a prediction was made, one more group (TID 1501) holds the
probability of the bundle's outcome (coded EARLYRESP for the early-response bundles, OUTCOMEP for
any other, whose own words are then in the "Model outcome" text), the threshold and the contour
sensitivity, with the model's id, version and bundle sha256 as algorithm identification, and the
outcome, the result's category and the research-use statement as text.

Tracking (TID 1500 tracking identifier + UID): the tumour group is tracked as the lesion the user names
(`lesion`, default "lesion 1"), with a UID derived from the patient (PatientID + issuer) and that
name (`lesion_tracking_uid`), so every exam of the same lesion carries the same UID and a PACS viewer
links them. Derived, not stored: the app is offline and the exams may be exported on different
workstations or years apart; a UID kept in one machine's sidecar would not follow the patient. Without
a real PatientID (empty or ANONYMOUS) the UID is random: linking every anonymous patient's "lesion 1"
would be wrong. With a comparison (`SizeReport`), one more group under the same tracking UID holds the
longest diameter's change from baseline (mm, %), the baseline diameter and the RECIST 1.1 size category
("... (size criteria)") as text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dlrs_desktop.exchange import codes
from dlrs_desktop.exchange.source import MANUFACTURER, SOFTWARE_VERSION
from dlrs_desktop.model.domain_text import is_outside, set_line
from dlrs_desktop.model.outcome import DEFAULT, Outcome, sentence_start

#: The bundle's own notice follows it (`Bundle.research_notice`: which model, trained on what data).
RESEARCH_STATEMENT = "Research use only. The probability is not a diagnosis."


#: Fixed namespace of our lesion UIDs (UUID v5, PS3.5 B.2 "2.25." form); never change it, or old and
#: new exams of one lesion stop linking.
_LESION_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5d0e-9a41-0c5e2f7b9d13")
DEFAULT_LESION = "lesion 1"


@dataclass(frozen=True)
class SizeReport:
    """The follow-up's comparison with baseline (roi.size.SizeChange) and the timeline rows."""

    change: Any
    entries: tuple[Any, ...] = ()


def lesion_tracking_uid(patient_id: str, issuer: str, lesion: str, part: str = "") -> str | None:
    """The lesion's tracking UID, the same for every exam of this patient's lesion; None (a random UID
    is used) without a real patient ID. `part` tells a ring's group from the tumour's."""
    pid = (patient_id or "").strip()
    if not pid or pid.upper() in {"ANONYMOUS", "ANON", "UNKNOWN"}:
        return None
    key = "\0".join([(issuer or "").strip(), pid, " ".join(lesion.lower().split()), part])
    return f"2.25.{uuid.uuid5(_LESION_NAMESPACE, key).int}"


def _tracking(source: Any, lesion: str, part: str, identifier: str) -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    uid = lesion_tracking_uid(
        str(source.get("PatientID", "")), str(source.get("IssuerOfPatientID", "")), lesion, part
    )
    return hd.sr.TrackingIdentifier(uid=hd.UID(uid) if uid else hd.UID(), identifier=latin1(identifier)[:64])


def latin1(text: str) -> str:
    """Text our SR's character set (ISO_IR 100) can hold: dashes and symbols spelled plainly."""
    table = {"\u2014": "-", "\u2013": "-", "\u2265": ">=", "\u2264": "<=", "\u2192": "->", "\u00b2": "2"}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def _measure(what: codes.Concept, value: float, unit: codes.Concept, algo: Any = None) -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    return hd.sr.Measurement(
        name=codes.concept(what), value=float(value), unit=codes.concept(unit), algorithm_id=algo
    )


def _roi_group(seg: Any, source: Any, roi: Any, number: int, measurements: Any, lesion: str) -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    items = [_measure(codes.AREA, roi.area_mm2, codes.MM2)]
    if roi.radius_mm > 0:
        items.append(_measure(codes.Private.CLIPPED_FRACTION, roi.clipped_fraction, codes.NO_UNITS))
        finding = codes.ring(roi.radius_mm)
    else:
        m = measurements
        items += [
            _measure(codes.LONG_AXIS, m.max_diameter_mm, codes.MM),
            _measure(codes.SHORT_AXIS, m.perpendicular_diameter_mm, codes.MM),
            _measure(codes.PERIMETER, m.perimeter_mm, codes.MM),
        ]
        finding = codes.neoplasm()
    frame = hd.sr.ReferencedSegmentationFrame(
        sop_class_uid=seg.SOPClassUID,
        sop_instance_uid=seg.SOPInstanceUID,
        frame_number=1,
        segment_number=number,
        source_image=hd.sr.SourceImageForSegmentation.from_source_image(source),
    )
    # Reference the whole segment: an image reference may carry a segment number or frame numbers,
    # not both (PS3.3 C.10.9.1; dciodvfy enforces it), and a binary segment may span several frames.
    for item in frame:
        for ref in getattr(item, "ReferencedSOPSequence", []):
            if "ReferencedSegmentNumber" in ref and "ReferencedFrameNumber" in ref:
                del ref.ReferencedFrameNumber
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(
            source,
            lesion,
            "" if roi.radius_mm == 0 else roi.name,
            lesion if roi.radius_mm == 0 else f"{lesion} {roi.name}",
        ),
        referenced_segment=frame,
        finding_type=finding,
        finding_sites=[hd.sr.FindingSite(codes.breast())],
        measurements=items,
    )


def _model_group(source: Any, pred: Any) -> Any:
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    algo = hd.sr.AlgorithmIdentification(
        name=str(pred.model_id),
        version=str(pred.model_version),
        parameters=[f"bundle sha256 {pred.bundle_hash}", f"backend {pred.backend}"],
    )
    outside = is_outside(pred)  # outside the domain: no probability and no class, only the reason
    items = [_measure(codes.Private.THRESHOLD, pred.threshold, codes.NO_UNITS, algo)]
    if not outside:
        items.insert(0, _measure(_probability_concept(pred.outcome), pred.probability, codes.NO_UNITS, algo))
    if pred.domain.score is not None:
        items.append(_measure(codes.Private.DOMAIN_SCORE, pred.domain.score, codes.NO_UNITS, algo))
    s = pred.sensitivity
    if s is not None and s.min is not None and s.max is not None and not outside:
        items += [
            _measure(codes.Private.SENS_MIN, s.min, codes.NO_UNITS, algo),
            _measure(codes.Private.SENS_MAX, s.max, codes.NO_UNITS, algo),
        ]
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="model output"),
        finding_type=codes.concept(codes.Private.MODEL_OUTPUT),
        algorithm_id=algo,
        measurements=items,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(
                codes.concept(codes.Private.DOMAIN_STATUS),
                codes.concept(codes.DOMAIN_VALUES[pred.domain.status]),
            )
        ],
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(source)],
    )
    container = group[0]
    texts = [
        (codes.Private.MODEL_SHA256, pred.bundle_hash),
        (codes.Private.OUTCOME, outcome_text(pred.outcome)),
        (codes.Private.DOMAIN_REASON, pred.domain.reason),
        *([] if outside else [(codes.Private.MODEL_CATEGORY, pred.category)]),
        *([(codes.Private.PREDICTION_SET, set_line(pred))] if set_line(pred) else []),
        (codes.Private.RESEARCH_USE, f"{RESEARCH_STATEMENT} {pred.research_notice}".strip()),
    ]
    for what, text in texts:
        container.ContentSequence.append(
            hd.sr.TextContentItem(
                name=codes.concept(what),
                value=latin1(text)[:1024],
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
            )
        )
    return group


def _probability_concept(outcome: Outcome) -> codes.Concept:
    return codes.Private.EARLY_RESPONSE if outcome.name == DEFAULT.name else codes.Private.OUTCOME_PROBABILITY


def outcome_text(outcome: Outcome) -> str:
    """ "Probability of malignancy (malignancy of a breast lesion); positive class malignant, ..." """
    return (
        f"{sentence_start(outcome.probability_of)} ({outcome.name}); "
        f"positive class {outcome.positive_class}, negative class {outcome.negative_class}"
    )


def _size_group(source: Any, size: SizeReport, lesion: str) -> Any:
    """The follow-up's change from baseline, tracked as the same lesion as the tumour group."""
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    c = size.change
    items = [
        _measure(codes.Private.BASELINE_LONGEST, c.baseline_mm, codes.MM),
        _measure(codes.Private.LONGEST_CHANGE_MM, c.change_mm, codes.MM),
        _measure(codes.Private.LONGEST_CHANGE_PCT, c.change_percent, codes.PERCENT),
    ]
    if c.volume_change_percent is not None:
        items.append(_measure(codes.Private.VOLUME_CHANGE_PCT, c.volume_change_percent, codes.PERCENT))
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(source, lesion, "", lesion),
        finding_type=codes.neoplasm(),
        measurements=items,
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(source)],
    )
    for what, text in (
        (codes.Private.SIZE_CATEGORY, c.category),
        (codes.Private.SIZE_CRITERIA, SIZE_CRITERIA_TEXT),
    ):
        group[0].ContentSequence.append(
            hd.sr.TextContentItem(
                name=codes.concept(what), value=latin1(text)[:1024],
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
            )
        )  # fmt: skip
    return group


SIZE_CRITERIA_TEXT = "RECIST 1.1 size criteria on the longest diameter; a size rule, not a diagnosis."


def build_sr(
    source: Any,
    seg: Any,
    rois: Any,
    measurements: Any,
    prediction: Any = None,
    *,
    lesion: str = DEFAULT_LESION,
    size: SizeReport | None = None,
) -> Any:
    """A Comprehensive SR (TID 1500) referencing `source` and the segments of `seg`."""
    # lazy: highdicom (~0.7 s) only when this runs, not at start-up
    import highdicom as hd

    # lazy: pydicom (~0.55 s) only when this runs, not at start-up
    from pydicom.dataset import Dataset

    observer = hd.sr.ObserverContext(
        observer_type=codes.code("121007", "DCM", "Device"),
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name=MANUFACTURER, manufacturer_name=MANUFACTURER, model_name=SOFTWARE_VERSION
        ),
    )
    lesion = " ".join(lesion.split()) or DEFAULT_LESION
    groups: list[Any] = [
        _roi_group(seg, source, roi, i + 1, measurements, lesion) for i, roi in enumerate(rois)
    ]
    if size is not None:
        groups.append(_size_group(source, size, lesion))
    if prediction is not None:
        groups.append(_model_group(source, prediction))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.breast_ultrasound(),
        imaging_measurements=groups,
    )
    sr = hd.sr.ComprehensiveSR(
        evidence=[source, seg],
        content=report[0],
        series_instance_uid=hd.UID(),
        series_number=902,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        series_description="DLRS measurements and model output",
    )
    scheme = Dataset()
    scheme.CodingSchemeDesignator = codes.PRIVATE_SCHEME
    scheme.CodingSchemeName = codes.PRIVATE_SCHEME_NAME
    scheme.CodingSchemeResponsibleOrganization = MANUFACTURER
    sr.CodingSchemeIdentificationSequence = [scheme]
    return sr
