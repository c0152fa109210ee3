"""The outcome belongs to the bundle: its manifest names what the probability is of, and the
manifest of a trained bundle can be edited (`rewrite_manifest`) without touching a weight byte."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.bundle_edit import rewrite_manifest
from dlrs_desktop.model.predictor import Predictor
from tests.model_factory import bmode_case, cached_bundle


@pytest.fixture(scope="module")
def bundle_dir() -> Path:
    return cached_bundle(input_size=64)


@pytest.fixture
def copy(bundle_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


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


def test_rewrite_manifest_refuses_unlisted_files_and_a_broken_bundle(copy: Path, tmp_path: Path) -> None:
    (copy / "notes.txt").write_text("mine")
    with pytest.raises(ModelError, match=r"notes\.txt"):
        rewrite_manifest(copy, lambda m: None)
    (copy / "notes.txt").unlink()
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
