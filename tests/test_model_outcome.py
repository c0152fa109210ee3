"""The outcome belongs to the bundle: its manifest names what the probability is of, and the
manifest of a trained bundle can be edited (`rewrite_manifest`) without touching a weight byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from dlrs_desktop import paths
from dlrs_desktop.cli import build_parser, main
from dlrs_desktop.commands._outcome import outcome_from_args
from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.bundle_edit import rewrite_manifest
from dlrs_desktop.model.outcome import DEFAULT, DEFAULT_OUTCOME, PRESETS
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.ui.app import build_parser as build_gui_parser
from dlrs_desktop.ui.app import start
from tests.model_factory import bmode_case, make_bundle
from tests.ui_factory import complete, dialog_log  # noqa: F401


def pdf_text(path: Path) -> str:
    """The report's text as pypdf reads it back (Qt's tabs between words normalised to spaces)."""
    from pypdf import PdfReader

    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in PdfReader(str(path)).pages))


def _digests(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def test_rewrite_manifest_keeps_weights_and_re_renders_the_card(copy: Path) -> None:
    image, contour = bmode_case(seed=3)
    before = Predictor(copy, device="cpu").predict(image, contour, sensitivity=False).probability
    digests = _digests(copy)

    def edit(m: dict) -> None:
        m["description"] = "edited without retraining"
        m["training_data"]["reference"] = "cohort of 2026"

    edited = rewrite_manifest(copy, edit)
    after = _digests(copy)
    for name in ("backbone.safetensors", "heads.safetensors", "model.onnx"):
        assert after[name] == digests[name]  # byte-identical weights
    assert after["manifest.json"] != digests["manifest.json"]
    card = (copy / "MODEL_CARD.md").read_bytes()
    assert b"edited without retraining" in card and b"reference: cohort of 2026" in card
    entry = edited.manifest["files"]["MODEL_CARD.md"]
    assert entry["sha256"] == hashlib.sha256(card).hexdigest() and entry["bytes"] == len(card)
    assert sorted(p.name for p in copy.parent.iterdir()) == ["bundle"]  # no temporary folder left
    again = load_bundle(copy)
    assert again.manifest["training_data"]["reference"] == "cohort of 2026"
    assert Predictor(copy, device="cpu").predict(image, contour, sensitivity=False).probability == before


def test_rewrite_manifest_refuses_a_bad_edit_and_changes_nothing(copy: Path) -> None:
    digests = _digests(copy)

    def bad_threshold(m: dict) -> None:
        m["threshold"] = 2.0

    def touch_files(m: dict) -> None:
        m["files"]["model.onnx"]["sha256"] = "0" * 64

    with pytest.raises(ModelError, match="threshold"):
        rewrite_manifest(copy, bad_threshold)
    with pytest.raises(ModelError, match="'files'"):
        rewrite_manifest(copy, touch_files)
    assert _digests(copy) == digests


def test_rewrite_manifest_keeps_unlisted_files_and_refuses_a_broken_bundle(
    copy: Path, tmp_path: Path
) -> None:
    (copy / "notes.txt").write_text("mine")
    rewrite_manifest(copy, lambda m: m.update(description="edited"))
    assert (copy / "notes.txt").read_text() == "mine"  # files the bundle does not own survive (issue 27)
    assert load_bundle(copy).manifest["description"] == "edited"
    with (copy / "heads.safetensors").open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(ModelError, match=r"heads\.safetensors"):
        rewrite_manifest(copy, lambda m: None)
    with pytest.raises(ModelError, match="folder"):
        rewrite_manifest(tmp_path / "nothing-here", lambda m: None)


def test_rewrite_manifest_without_a_card(copy: Path) -> None:
    m = json.loads((copy / "manifest.json").read_text())
    del m["files"]["MODEL_CARD.md"]
    (copy / "MODEL_CARD.md").unlink()
    (copy / "manifest.json").write_text(json.dumps(m))
    edited = rewrite_manifest(copy, lambda m: m.update(description="no card"))
    assert edited.manifest["description"] == "no card" and not (copy / "MODEL_CARD.md").exists()


# --- the outcome block ------------------------------------------------------------------------
MALIGNANCY = PRESETS["malignancy"]


@pytest.fixture(scope="module")
def malignant(bundle_dir: Path, tmp_path_factory) -> Path:
    """The random test bundle declared benign-vs-malignant through the CLI (no retraining)."""
    out = Path(shutil.copytree(bundle_dir, tmp_path_factory.mktemp("m") / "malignancy"))
    assert main(["model", "set-outcome", "--model", str(out), "--outcome", "malignancy"]) == 0
    return out


def _strip(root: Path, *keys: str) -> None:
    m = json.loads((root / "manifest.json").read_text())
    for k in keys:
        del m["outcome"][k]
    (root / "manifest.json").write_text(json.dumps(m))


def test_old_manifests_read_as_early_response(copy: Path) -> None:
    demo = load_bundle()  # the bundled demonstration model, unchanged on disk
    assert "short_name" not in demo.manifest["outcome"] and demo.outcome == DEFAULT
    assert demo.outcome.probability_of == "probability of early response"
    assert (demo.outcome.positive_class, demo.outcome.negative_class) == ("early responder", "non-responder")
    _strip(copy, "short_name", "positive_class", "negative_class")
    assert load_bundle(copy).outcome == DEFAULT
    image, contour = bmode_case(seed=3)
    pred = Predictor(copy, device="cpu").predict(image, contour, sensitivity=False)
    assert pred.to_json_dict()["outcome"]["short_name"] == "early response"
    assert pred.category in ("likely early responder", "likely non-responder")


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("short_name", "", "must not be empty"),
        ("short_name", "   ", "must not be empty"),
        ("positive_class", "malignant\nERROR: forged", "must not hold control characters"),
        ("negative_class", "benign\u202e", "must not hold control characters"),
        ("name", "x" * 201, "must be at most 200 characters"),
        ("definition", "\x1b[2J", "must not hold control characters"),
        ("positive_label", 1, "must be text"),
    ],
)
def test_invalid_outcome_text_is_refused_at_load(copy: Path, key: str, value, problem: str) -> None:
    m = json.loads((copy / "manifest.json").read_text())
    m["outcome"][key] = value
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match=rf"'outcome\.{key}' {problem}"):
        load_bundle(copy)


def test_set_outcome_rewrites_the_manifest_and_card_not_the_weights(
    bundle_dir: Path, malignant: Path
) -> None:
    b = load_bundle(malignant)
    assert b.manifest["outcome"] == MALIGNANCY and b.outcome.probability_of == "probability of malignancy"
    assert b.manifest["task"] == "binary classification (probability of malignancy)"
    assert "probability of malignancy" in b.manifest["intended_use"]
    for name in ("backbone.safetensors", "heads.safetensors", "model.onnx"):
        assert (malignant / name).read_bytes() == (bundle_dir / name).read_bytes()
    card = (malignant / "MODEL_CARD.md").read_text()
    assert "Probability of malignancy; classes: malignant (positive), benign (negative)." in card
    assert "at or above → likely malignant, below → likely benign" in card
    assert "respon" not in card.lower()
    image, contour = bmode_case(seed=3)
    before = Predictor(bundle_dir, device="cpu").predict(image, contour, sensitivity=False)
    after = Predictor(malignant, device="cpu").predict(image, contour, sensitivity=False)
    assert after.probability == before.probability
    assert after.category == ("likely malignant" if after.positive else "likely benign")


def test_set_outcome_options_override_one_field_and_are_checked(copy: Path, capsys) -> None:
    assert main(["model", "set-outcome", "--model", str(copy), "--outcome-short-name", "HER2 status"]) == 0
    o = load_bundle(copy).outcome
    assert o.probability_of == "probability of HER2 status" and o.positive_label == DEFAULT.positive_label
    assert "probability of HER2 status" in capsys.readouterr().out
    assert main(["model", "set-outcome", "--model", str(copy), "--positive-class", "a\tb"]) == 2
    assert "--positive-class must not hold control characters" in capsys.readouterr().err
    assert main(["model", "set-outcome", "--model", str(copy)]) == 2


def test_train_options_build_the_outcome_block() -> None:
    args = build_parser().parse_args(
        [
            "train",
            "--cohort",
            "c.csv",
            "--out",
            "o",
            "--outcome",
            "malignancy",
            "--negative-label",
            "likely not cancer",
        ]
    )
    assert outcome_from_args(args, DEFAULT_OUTCOME) == {**MALIGNANCY, "negative_label": "likely not cancer"}
    plain = build_parser().parse_args(["train", "--cohort", "c.csv", "--out", "o"])
    assert outcome_from_args(plain, DEFAULT_OUTCOME) is None


def test_written_bundle_words_task_and_intended_use_from_its_outcome(tmp_path: Path) -> None:
    b = load_bundle(make_bundle(tmp_path / "b", input_size=32, outcome=MALIGNANCY))
    assert b.outcome.short_name == "malignancy" and "early response" not in json.dumps(b.manifest)
    assert "Probability of malignancy" in (tmp_path / "b" / "MODEL_CARD.md").read_text()


def test_predict_cli_names_the_outcome(malignant: Path, tmp_path: Path, capsys) -> None:
    sample, contour = paths.samples_dir() / "demo.dcm", paths.samples_dir() / "demo.contour.json"
    args = [
        "predict",
        str(sample),
        "--contour",
        str(contour),
        "--allow-unsigned",
        "--model",
        str(malignant),
        "--no-sensitivity",
    ]
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["outcome"]["name"] == MALIGNANCY["name"] and d["outcome"]["short_name"] == "malignancy"
    assert (d["outcome"]["positive_label"], d["outcome"]["negative_label"]) == (
        "likely malignant",
        "likely benign",
    )
    assert d["category"] in ("likely malignant", "likely benign")
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"Probability of malignancy: {d['probability']:.3f}" in text and "respon" not in text.lower()
    folder = Path(shutil.copytree(paths.samples_dir(), tmp_path / "cases"))
    assert (
        main(["predict", str(folder), "--allow-unsigned", "--model", str(malignant), "--no-sensitivity"]) == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and all(r["outcome"] == "malignancy" for r in rows if r["status"] == "ok")


def test_dicom_sr_carries_the_outcome(malignant: Path, tmp_path: Path, capsys) -> None:
    import pydicom

    sample = paths.samples_dir() / "demo.dcm"
    contour = paths.samples_dir() / "demo.contour.json"
    assert main(["dicom", "export", str(sample), "--contour", str(contour), "--model", str(malignant),
                 "--out", str(tmp_path), "--allow-unsigned"]) == 0  # fmt: skip
    sr = pydicom.dcmread(tmp_path / "demo.sr.dcm")
    nums, texts = {}, {}

    def walk(items) -> None:
        for it in items:
            name = it.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in it else ""
            if it.ValueType == "NUM":
                nums[name] = float(it.MeasuredValueSequence[0].NumericValue)
            elif it.ValueType == "TEXT":
                texts[name] = str(it.TextValue)
            walk(getattr(it, "ContentSequence", []))

    walk(sr.ContentSequence)
    capsys.readouterr()
    assert main(["predict", str(sample), "--contour", str(contour), "--model", str(malignant),
                 "--allow-unsigned", "--json", "--no-sensitivity"]) == 0  # fmt: skip
    predicted = json.loads(capsys.readouterr().out)  # the SR holds this result, not merely some number
    assert nums["Probability of the model's outcome"] == pytest.approx(predicted["probability"], abs=1e-6)
    assert "Probability of early response to neoadjuvant chemotherapy" not in nums
    assert texts["Model outcome"].startswith("Probability of malignancy (malignancy of a breast lesion)")
    assert texts["Model result category"] == predicted["category"]
    assert not any("respon" in t.lower() for t in [*nums, *texts.values()])
    if shutil.which("dciodvfy"):
        from tests.pacs_factory import dciodvfy_errors

        assert dciodvfy_errors(tmp_path / "demo.sr.dcm") == []


def test_gui_result_panel_and_pdf_say_malignancy(malignant: Path, qtbot, tmp_path: Path, dialog_log) -> None:  # noqa: F811
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    win = start(build_gui_parser().parse_args(["--demo", "--device", "cpu", "--model", str(malignant)]))
    qtbot.addWidget(win)
    # the window has taken the model in (its `loaded` handled on the GUI thread), not just the worker
    qtbot.waitUntil(
        lambda: "test-random" in win.model_label.text() and win.doc.contour is not None, timeout=60000
    )
    panel = win.result_panel
    assert "for malignancy" in panel.cam_legend.text()  # from the loaded model, before any result
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    panel.cam.setCurrentIndex(panel.cam.findData("ring_10mm"))
    # with the guide ("How to read this"), which said "of early response" whatever the model before
    shown = [panel.caption.text(), panel.category.text(), panel.details.text(), panel.cam_legend.text(),
             panel.cam_legend.toolTip(), win.statusBar().currentMessage(),
             panel.guide.text.text()]  # fmt: skip
    assert shown[0] == "probability of malignancy" and "likely" in shown[1]
    assert "evidence for malignancy" in shown[4]
    assert not any("respon" in s.lower() for s in shown), shown
    text = pdf_text(win.export_pdf(str(tmp_path / "report.pdf")))
    assert "DLRS Desktop — malignancy report" in text and "Probability of malignancy:" in text
    assert "orange = evidence for malignancy, blue = against" in text
    assert "respon" not in text.lower()
