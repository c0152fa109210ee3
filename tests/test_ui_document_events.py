"""The Document's evented fields (ui/document.py): every public field assignment emits its change event,
so no write can bypass the views; compound changes emit one event; an edit returns review to draft."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.imaging import Calibration, image_from_array
from dlrs_desktop.store.record import Review
from dlrs_desktop.ui.document import Document, _Field

SQUARE = np.array([[20.0, 20.0], [60.0, 20.0], [60.0, 60.0], [20.0, 60.0]])


def _doc() -> tuple[Document, list[str]]:
    doc, seen = Document(), []
    doc.events.connect(seen.append)
    pixels = np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (80, 1))
    doc.open(image_from_array(pixels, Calibration.manual(0.1)), "case.png")
    seen.clear()
    return doc, seen


def _new_value(doc: Document, name: str) -> object:
    image = doc.base_image
    return {
        "path": None, "base_image": image, "manual_calibration": Calibration.manual(0.2),
        "contour": doc.make_contour(SQUARE), "result": None, "prediction": object(), "result_verified": True,
        "review": Review("reviewed", "A. Reader", "2026-12-03T12:00:00+00:00"), "exam": {"label": "baseline"},
        "ruler": (np.zeros(2), np.ones(2)), "ring_radii_mm": (2.0, 4.0), "model_sha256": "ab" * 32,
        "sensitivity_computing": True,
    }[name]  # fmt: skip


def test_the_field_table_names_every_evented_field():
    declared = {name for name, v in vars(Document).items() if isinstance(v, _Field)}
    assert declared == set(Document.FIELDS)
    assert all(vars(Document)[n].kind == kind for n, kind in Document.FIELDS.items())


@pytest.mark.parametrize("name", sorted(Document.FIELDS))
def test_every_public_field_assignment_emits_its_event(name):
    doc, seen = _doc()
    setattr(doc, name, _new_value(doc, name))
    assert seen[:1] == [Document.FIELDS[name]]


def test_a_new_image_is_one_event_and_clean():
    doc, seen = _doc()
    doc.set_contour_points(SQUARE)
    doc.set_review(True, "A. Reader")
    seen.clear()
    doc.open(doc.base_image, "other.png")
    assert seen == ["image"] and doc.contour is None and doc.review.status == "draft" and not doc.dirty


def test_an_edit_returns_a_reviewed_contour_to_draft_and_says_so():
    doc, seen = _doc()
    doc.set_contour_points(SQUARE)
    doc.set_review(True, "A. Reader")
    before, seen[:] = doc.revision, []
    doc.set_contour_points(SQUARE + 5)
    assert seen == ["contour", "review"] and doc.review.status == "draft" and doc.revision > before
    doc.set_review(True, "A. Reader")
    seen.clear()
    doc.set_manual_calibration(Calibration.manual(0.15))  # re-binds the contour: one event, then draft
    assert seen == ["calibration", "review"] and doc.review.status == "draft"


def test_a_result_is_one_event_and_a_saved_change():
    doc, seen = _doc()
    before = doc.revision
    doc.set_result(None, None)
    assert seen == ["result"] and doc.revision == before + 1 and doc.result_verified is False
    seen.clear()
    doc.set_ruler(None)  # a measurement is not part of the annotation
    assert seen == ["ruler"] and doc.revision == before + 1


def test_a_first_stage_result_is_computing_until_replaced_and_never_on_a_new_image():
    """The probability shows before its contour sensitivity: `computing` says so, only for a result
    computed here, and a new image (or a restored annotation) is never "computing"."""
    doc, seen = _doc()
    doc.set_result(None, object(), computing=True)
    assert not doc.sensitivity_computing  # no result: nothing is computing for it
    doc.set_result(object(), object(), computing=True)  # type: ignore[arg-type]
    assert doc.sensitivity_computing and doc.result_verified and seen[-1] == "result"
    doc.set_result(object(), object())  # type: ignore[arg-type]  # the complete result
    assert not doc.sensitivity_computing
    doc.set_result(object(), object(), computing=True)  # type: ignore[arg-type]
    doc.open(doc.base_image, "other.png")
    assert not doc.sensitivity_computing and doc.result is None
