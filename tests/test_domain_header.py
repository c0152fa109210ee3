"""The DICOM header's own word on what an image shows (model/anatomy.py): another modality or another
body part than the bundle declares reads outside, whatever the image-based guard scores; an empty,
unknown or neighbouring term says nothing. Real files, the shipped bundles, the CLI and the window."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.errors import ModelError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.body_parts import described_parts
from dlrs_desktop.model import Predictor, load_bundle
from dlrs_desktop.model.anatomy import body_parts, header_reason
from dlrs_desktop.model.domain_text import domain_line, headline
from dlrs_desktop.roi import Contour
from tests.model_factory import cached_bundle
from tests.ui_factory import complete, dialog_log  # noqa: F401  (fixture)

DEMO = paths.samples_dir() / "demo.dcm"
OUTSIDE = "this image is unlike the images this model was trained on: its DICOM header gives the "


def _relabelled(folder: Path, name: str, **attrs: str | None) -> Path:
    """The bundled demo DICOM with header attributes replaced (None deletes one)."""
    ds = pydicom.dcmread(DEMO)
    for keyword, value in attrs.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    out = folder / name
    ds.save_as(out)
    shutil.copy(paths.samples_dir() / "demo.contour.json", folder / f"{Path(name).stem}.contour.json")
    return out


def test_the_terms_are_the_standards_with_their_snomed_codes():
    table = body_parts()
    assert len(table) >= 300  # PS3.16 Annex L as highdicom ships it
    assert table["BREAST"] == ("SCT", "76752008") and table["THYROID"] == ("SCT", "69748006")
    assert {"PHANTOM", "LUNG", "UTERUS", "CHEST", "AXILLA", "WHOLEBODY"} <= set(table)


@pytest.mark.parametrize(
    ("metadata", "declared", "named"),
    [
        ({"modality": "US", "body_part": "THYROID"}, "BREAST", "body part THYROID"),
        ({"modality": "US", "body_part": "Thyroid "}, "BREAST", "body part THYROID"),  # off-standard case
        ({"modality": "US", "body_part": "PHANTOM"}, "BREAST", "body part PHANTOM"),
        ({"modality": "US", "anatomic_region": "SCT:69748006"}, "BREAST", "body part THYROID"),
        ({"modality": "CT"}, "BREAST", "modality CT"),
        ({"modality": "MG", "body_part": "BREAST"}, "BREAST", "modality MG"),  # a mammogram
        ({"modality": "CT", "body_part": "BREAST"}, None, "modality CT"),  # no body part declared
        ({"modality": "US", "body_part": "BREAST"}, "BREAST", None),
        ({"modality": "US", "body_part": "CHEST"}, "BREAST", None),  # a breast exam may be filed so
        ({"modality": "US", "body_part": "Whole Body"}, "BREAST", None),
        ({"modality": "US", "body_part": "MAMMA"}, "BREAST", None),  # not a defined term: says nothing
        ({"modality": "US", "anatomic_region": "SCT:76752008"}, "BREAST", None),
        ({"modality": "OT", "body_part": ""}, "BREAST", None),  # secondary captures of a US screen
        ({"modality": "US", "body_part": "THYROID"}, None, None),  # an older bundle: not checked
        ({"format": "png"}, "BREAST", None),
    ],
)
def test_a_header_rules_an_image_out_only_when_it_names_something_else(metadata, declared, named):
    reason = header_reason(metadata, declared)
    if named is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(f"its DICOM header gives the {named};")


@pytest.mark.parametrize(
    "bundle_dir", [paths.bundled_model_dir(), paths.models_dir() / "dlrs-bus-malignancy"]
)
def test_the_shipped_bundles_call_a_thyroid_dicom_outside_and_keep_the_breast_one(bundle_dir, tmp_path):
    bundle = load_bundle(bundle_dir)
    assert bundle.body_part == "BREAST" and "- body_part: BREAST" in bundle.read("MODEL_CARD.md").decode()
    predictor = Predictor(bundle, device="cpu")
    contour = Contour.load(paths.samples_dir() / "demo.contour.json")
    breast = predictor.predict(load_image(DEMO), contour, sensitivity=False)
    assert "DICOM header" not in breast.domain.reason
    for name, attrs, named in (
        ("thyroid.dcm", {"BodyPartExamined": "THYROID"}, "body part THYROID"),
        ("ct.dcm", {"Modality": "CT"}, "modality CT"),
    ):
        pred = predictor.predict(load_image(_relabelled(tmp_path, name, **attrs)), contour, sensitivity=False)
        d = pred.domain
        assert d.status == "outside" and d.reason.startswith(OUTSIDE + named)
        # the image-based score is kept as evidence: the same pixels score the same
        assert (
            d.score == pytest.approx(breast.domain.score) and d.outside_above == breast.domain.outside_above
        )
        text, warn = headline(pred)
        assert warn and text.startswith("No result: ") and pred.category not in text
        assert domain_line(pred).startswith("Domain: outside (score ")


def test_a_bundle_without_a_reference_or_body_part_still_refuses_another_modality(tmp_path):
    bundle = load_bundle(cached_bundle())
    assert bundle.domain is None and bundle.body_part is None
    contour = Contour.load(paths.samples_dir() / "demo.contour.json")
    predictor = Predictor(bundle, device="cpu")
    thyroid = predictor.predict(
        load_image(_relabelled(tmp_path, "t.dcm", BodyPartExamined="THYROID")), contour, sensitivity=False
    )
    assert thyroid.domain.status == "unknown"  # no body part declared: only the modality is checked
    ct = predictor.predict(
        load_image(_relabelled(tmp_path, "ct.dcm", Modality="CT")), contour, sensitivity=False
    )
    assert ct.domain.status == "outside" and ct.domain.score is None
    assert domain_line(ct) == "Domain: " + OUTSIDE + "modality CT; this model was trained on ultrasound (US)"


def test_dlrs_predict_says_it_in_json_and_text(tmp_path, capsys):
    path = _relabelled(tmp_path, "thyroid.dcm", BodyPartExamined="THYROID")
    args = ["predict", str(path), "--device", "cpu", "--no-sensitivity"]
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["domain"]["status"] == "outside" and "body part THYROID" in d["domain"]["reason"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("No result: " + OUTSIDE + "body part THYROID") and "Probability" not in out
    assert main(["info", str(path)]) == 0  # the header fact the check read, before any prediction
    assert "Body part:    THYROID\n" in capsys.readouterr().out


def test_the_body_part_is_declared_checked_and_edited_like_the_outcome(tmp_path, capsys):
    folder = tmp_path / "b"
    shutil.copytree(cached_bundle(), folder)
    assert main(["model", "set-outcome", "--model", str(folder), "--body-part", "thyroid"]) == 0
    assert "body part THYROID" in capsys.readouterr().out
    bundle = load_bundle(folder)
    assert bundle.body_part == "THYROID" and bundle.manifest["training_data"]["body_part"] == "THYROID"
    assert "than THYROID (HEADNECK, NECK, WHOLEBODY accepted)" in bundle.read("MODEL_CARD.md").decode()
    before = (folder / "manifest.json").read_bytes()
    assert main(["model", "set-outcome", "--model", str(folder), "--body-part", "MAMMA"]) == 2
    assert "--body-part must be a DICOM Body Part Examined defined term" in capsys.readouterr().err
    assert (folder / "manifest.json").read_bytes() == before  # nothing changed
    assert main(["model", "set-outcome", "--model", str(folder), "--body-part", "none"]) == 0
    assert load_bundle(folder).body_part is None


@pytest.mark.parametrize("value", ["breast", "MAMMA", 5, ""])
def test_a_manifest_with_an_unknown_body_part_is_refused_by_name(tmp_path, value):
    folder = tmp_path / "b"
    shutil.copytree(cached_bundle(), folder)
    m = json.loads((folder / "manifest.json").read_text())
    m["training_data"]["body_part"] = value
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match=r"'training_data\.body_part' must be a DICOM Body Part Examined"):
        load_bundle(folder)


def test_the_window_shows_no_class_for_a_thyroid_dicom(qtbot, tmp_path, dialog_log):  # noqa: F811
    from tests.ui_factory import make_window

    path = _relabelled(tmp_path, "thyroid.dcm", BodyPartExamined="THYROID")
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(paths.bundled_model_dir())
    assert win.open_path(path)
    # said as the image opens, before a contour is drawn
    assert win.statusBar().currentMessage().startswith("No result: " + OUTSIDE + "body part THYROID")
    win.load_contour_file(tmp_path / "thyroid.contour.json")
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    panel = win.result_panel
    assert panel.probability.text() == "—"
    assert panel.category.text().startswith("No result: " + OUTSIDE + "body part THYROID")
    assert panel.bars.rows == [] and not dialog_log.texts("error")
    # a breast DICOM opened next: nothing said
    win.statusBar().clearMessage()
    assert win.open_path(shutil.copy(DEMO, tmp_path / "breast.dcm"))
    assert "DICOM header" not in win.statusBar().currentMessage()


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("US KIDNEY", ("KIDNEY",)),
        ("Adult Heart", ("HEART",)),
        ("US Kidneys bilateral", ("KIDNEY",)),  # plural
        ("Whole Body", ("WHOLEBODY",)),  # a phrase of words read as one term
        ("Entire body", ("WHOLEBODY",)),  # the SNOMED CT meaning of WHOLEBODY
        ("US ABDOMEN COMPLETE", ("ABDOMEN",)),
        ("QA Phantom", ("PHANTOM",)),
        ("Sonographie Mamma rechts", ("BREAST",)),  # a synonym of the breast
        ("乳腺超声", ("BREAST",)),
        ("乳腺+腋窝", ("AXILLA", "BREAST")),
        ("甲状腺彩超", ("THYROID",)),
        ("肾上腺", ("ADRENAL",)),  # the longest word: not the kidney (肾)
        ("肝胆胰脾", ("LIVER", "SPLEEN")),
        ("中心 宫颈", ()),  # 心 and 颈 are not read alone
        ("Breast and thyroid", ("BREAST", "THYROID")),
        ("CALL BACK", ()),  # breast imaging's word, not the back
        ("Hand held US", ()),  # a hand-held probe, not the hand
        ("MURMUR, R/O VSD", ()),  # three-letter abbreviations are not read
        ("Echocardiogram", ()),  # not a body part's name: says nothing
        ("Hypothyroidism", ()),  # whole words only
        ("x" * 300 + " THYROID", ()),  # read up to MAX_TEXT characters
    ],
)
def test_descriptions_are_read_for_the_body_parts_they_name(text, terms):
    assert described_parts([text]) == terms


def test_every_word_maps_to_a_defined_term():
    from dlrs_desktop.imaging.body_parts import CJK_TERMS, SYNONYMS

    assert set(CJK_TERMS.values()) | set(SYNONYMS.values()) <= set(body_parts())


def test_a_chinese_description_is_read_through_the_files_character_set(tmp_path):
    path = _relabelled(tmp_path, "zh.dcm", BodyPartExamined=None, SpecificCharacterSet="ISO_IR 192")
    ds = pydicom.dcmread(path)
    ds.StudyDescription = "甲状腺彩超"
    ds.save_as(path)
    assert load_image(path).provenance.metadata["described_body_parts"] == ["THYROID"]


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({"modality": "US", "described_body_parts": ["THYROID"]}, "THYROID"),
        ({"modality": "US", "described_body_parts": ["HEART", "LUNG"]}, "HEART, LUNG"),
        ({"modality": "US", "described_body_parts": ["BREAST", "THYROID"]}, None),  # it names the breast
        ({"modality": "US", "described_body_parts": ["AXILLA", "NECK"]}, None),  # and a neighbour
        ({"modality": "US", "body_part": "BREAST", "described_body_parts": ["THYROID"]}, None),  # coded wins
        ({"modality": "US", "described_body_parts": ["NOT A TERM"]}, None),
        ({"modality": "US", "body_part": "MAMMA", "described_body_parts": ["THYROID"]}, None),  # breast
        ({"modality": "US", "described_body_parts": "THYROID"}, None),  # not a list: nothing read
        ({"modality": "US", "described_body_parts": [{"a": 1}, 5, None]}, None),
        ({"modality": "US", "described_body_parts": []}, None),
    ],
)
def test_a_description_rules_out_only_when_no_coded_part_is_given(metadata, named):
    reason = header_reason(metadata, "BREAST")
    if named is None:
        assert reason is None
    else:
        assert reason == (
            f"its DICOM study or series description names {named}; this model was trained on breast images"
        )
    coded = header_reason({**metadata, "body_part": "LIVER"}, "BREAST")
    assert coded is not None and "body part LIVER" in coded  # the coded attribute decides when given


def test_an_off_standard_body_part_is_read_as_words():
    reason = header_reason({"modality": "US", "body_part": "Thyroid gland"}, "BREAST")
    assert reason == "its DICOM header gives the body part THYROID; this model was trained on breast images"
    assert header_reason({"modality": "US", "body_part": "Brust links"}, "BREAST") is None


def test_a_thyroid_exam_known_only_by_its_description_reads_outside_and_the_text_is_not_kept(
    tmp_path, capsys
):
    path = _relabelled(
        tmp_path,
        "described.dcm",
        BodyPartExamined=None,
        StudyDescription="US THYROID Doe^Jane",
        SeriesDescription="Transverse",
    )
    image = load_image(path)
    assert image.provenance.metadata["described_body_parts"] == ["THYROID"]
    assert "Doe" not in json.dumps(image.provenance.metadata)  # the terms only, never the free text
    args = ["predict", str(path), "--device", "cpu", "--no-sensitivity", "--json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["domain"]["status"] == "outside"
    assert d["domain"]["reason"] == (
        "this image is unlike the images this model was trained on: its DICOM study or series description "
        "names THYROID; this model was trained on breast images"
    )
    assert main(["info", str(path)]) == 0
    assert "Body part:    - (descriptions name THYROID)\n" in capsys.readouterr().out
