"""Bundle format: round trip through the real writer, and every way a bundle must be refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.bundle_write import write_zip
from dlrs_desktop.model.manifest import Stacking
from dlrs_desktop.model.preprocess import PreprocessSpec


def _edit_manifest(root: Path, edit) -> None:
    m = json.loads((root / "manifest.json").read_text())
    edit(m)
    (root / "manifest.json").write_text(json.dumps(m))


def test_round_trip_folder_and_zip(bundle_dir: Path, tmp_path: Path) -> None:
    import torch

    from dlrs_desktop.model.network import load_net

    b = load_bundle(bundle_dir)
    m = b.manifest
    assert m["schema"] == "dlrs-model-bundle" and m["schema_version"] == 1
    assert b.spec == PreprocessSpec(input_size=64)
    assert b.stacking == Stacking((1.0, 0.6, 0.4, 0.2), 0.1)
    assert b.region_names == ("intratumoral", "ring_3mm", "ring_5mm", "ring_10mm")
    assert [r["backbone"] for r in m["regions"]] == [0, 0, 0, 0]
    assert b.tumour_area_range_mm2 == (20.0, 2000.0)
    assert set(m["files"]) == {"backbone.safetensors", "heads.safetensors", "model.onnx", "MODEL_CARD.md"}
    for name, entry in m["files"].items():
        data = (bundle_dir / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert b.manifest_sha256 == hashlib.sha256((bundle_dir / "manifest.json").read_bytes()).hexdigest()
    assert "Research use only" in (bundle_dir / "MODEL_CARD.md").read_text()
    # every bundle the writer makes warns against other organs (its guard does not catch them)
    from dlrs_desktop.model.manifest import OTHER_ORGANS

    assert OTHER_ORGANS in m["contraindications"]
    assert OTHER_ORGANS in (bundle_dir / "MODEL_CARD.md").read_text()
    # The weights come back into torch bit-exactly, and the heads also without torch.
    net = load_net(b.architecture, *b.weights_bytes())
    w, bias = b.head_arrays()
    assert np.array_equal(net.head.weight.detach().numpy(), w)
    assert np.array_equal(net.head.bias.detach().numpy(), bias)
    assert isinstance(net.backbones[0].conv1.weight, torch.nn.Parameter)
    # Same content as a zip, with the same identity.
    z = write_zip(bundle_dir, tmp_path / "b.zip")
    bz = load_bundle(z)
    assert bz.manifest_sha256 == b.manifest_sha256
    assert bz.files["model.onnx"] == b.files["model.onnx"]


def test_tampered_weight_byte_is_refused(copy: Path) -> None:
    f = copy / "backbone.safetensors"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight
    f.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"backbone\.safetensors.*sha256"):
        load_bundle(copy)


def test_tampered_onnx_in_zip_is_refused(copy: Path, tmp_path: Path) -> None:
    z = write_zip(copy, tmp_path / "b.zip")
    with zipfile.ZipFile(z) as src, zipfile.ZipFile(tmp_path / "bad.zip", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "model.onnx":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            dst.writestr(info.filename, data)
    with pytest.raises(ModelError, match=r"model\.onnx.*sha256"):
        load_bundle(tmp_path / "bad.zip")


def test_pickle_files_are_refused(copy: Path, tmp_path: Path) -> None:
    import torch

    pt = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, pt)
    with pytest.raises(ModelError, match="pickle"):
        load_bundle(pt)
    # A pickle dropped into an otherwise valid bundle folder is refused too (never silently ignored).
    shutil.copy(pt, copy / "extra.ckpt")
    with pytest.raises(ModelError, match=r"extra\.ckpt.*pickle"):
        load_bundle(copy)


def test_manifest_naming_a_pickle_weight_is_refused(copy: Path) -> None:
    (copy / "backbone.safetensors").rename(copy / "weights.pth")

    def edit(m):
        m["files"]["weights.pth"] = m["files"].pop("backbone.safetensors")
        m["architecture"]["weights_file"] = "weights.pth"

    _edit_manifest(copy, edit)
    with pytest.raises(ModelError, match="pickle"):
        load_bundle(copy)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("threshold",), "'threshold'"),
        (("files",), "'files'"),
        (("training_data", "kind"), "'training_data.kind'"),
        (("stacking", "coefficients"), "'stacking.coefficients'"),
    ],
)
def test_missing_manifest_field_is_refused_by_name(copy: Path, path: tuple[str, ...], expected: str) -> None:
    def edit(m):
        target = m
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    _edit_manifest(copy, edit)
    with pytest.raises(ModelError, match=expected.replace(".", r"\.")):
        load_bundle(copy)


def test_unknown_schema_version_is_refused(copy: Path) -> None:
    _edit_manifest(copy, lambda m: m.update(schema_version=99))
    with pytest.raises(ModelError, match="schema version 99"):
        load_bundle(copy)


def test_bad_preprocessing_value_is_refused_by_name(copy: Path) -> None:
    _edit_manifest(copy, lambda m: m["preprocessing"].update(fill="blur"))
    with pytest.raises(ModelError, match="fill"):
        load_bundle(copy)
    _edit_manifest(copy, lambda m: m["preprocessing"].update(fill="zero", colour="x"))
    with pytest.raises(ModelError, match=r"preprocessing\.colour"):
        load_bundle(copy)


@pytest.mark.parametrize("members", [0, 17, 10**9, 2.5, True, "4"])
def test_implausible_ensemble_size_is_refused_before_any_network_is_built(copy: Path, members) -> None:
    _edit_manifest(copy, lambda m: m["architecture"].update(members=members))
    with pytest.raises(ModelError, match=r"architecture\.members"):
        load_bundle(copy)


def test_missing_file_and_non_safetensors_weights_are_refused(copy: Path) -> None:
    (copy / "heads.safetensors").unlink()
    with pytest.raises(ModelError, match=r"heads\.safetensors.*missing"):
        load_bundle(copy)
    # A file whose hash matches (manifest re-signed) but that is not safetensors.
    junk = b"\x80\x04not safetensors"
    (copy / "heads.safetensors").write_bytes(junk)

    def edit(m):
        m["files"]["heads.safetensors"].update(sha256=hashlib.sha256(junk).hexdigest(), bytes=len(junk))

    _edit_manifest(copy, edit)
    with pytest.raises(ModelError, match="not a safetensors"):
        load_bundle(copy)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no manifest\.json"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_bundle(tmp_path)
    with pytest.raises(ModelError, match="No model bundle"):
        load_bundle(tmp_path / "absent")


def test_writer_refuses_to_overwrite_and_inconsistent_parts(bundle_dir: Path, tmp_path: Path) -> None:
    from dlrs_desktop.model.bundle_write import write_bundle
    from dlrs_desktop.model.contents import BundleContents
    from dlrs_desktop.model.network import FusionNet

    def contents(*coefficients: float) -> BundleContents:
        return BundleContents(
            spec=PreprocessSpec(input_size=32),
            stacking=Stacking(coefficients, 0),
            threshold=0.5,
            model_id="x",
            version="1",
            training_data={"kind": "synthetic", "description": "t"},
            metrics=[],
        )

    net = FusionNet(n_regions=4)
    (tmp_path / "exists").mkdir()
    with pytest.raises(ModelError, match="already exists"):
        write_bundle(tmp_path / "exists", net, contents(1, 1, 1, 1))
    with pytest.raises(ModelError, match="one coefficient per region"):
        write_bundle(tmp_path / "b", net, contents(1, 1))
    with pytest.raises(ModelError, match="channel"):
        write_bundle(tmp_path / "b", FusionNet(in_channels=3), contents(1, 1, 1, 1))
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("name", ["dlrs-demo", "dlrs-bus-malignancy"])
def test_every_shipped_model_card_is_the_one_its_manifest_renders(name):
    """About → model card and `dlrs model info` render the manifest; the card file shipped beside it must
    say the same (the demo's lacked its domain-guard and prediction-set lines until 2026-12-05)."""
    from dlrs_desktop.model.bundle_edit import render_card_bytes
    from dlrs_desktop.paths import models_dir

    folder = models_dir() / name
    card = (folder / "MODEL_CARD.md").read_bytes()
    assert card == render_card_bytes(load_bundle(folder).manifest)
    assert b"- domain guard:" in card and b"- prediction sets:" in card
