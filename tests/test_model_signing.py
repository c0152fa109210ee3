"""Signed bundles (issue 27 item 4): the release key vouches for the bundled models; an edited manifest,
a swapped ONNX or NaN weights fail `dlrs model verify` (exit 3); an unsigned or untrusted bundle is
used only with the user's permission and then says "unsigned model" in every result."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop import bundle_signature as signing
from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.bundle_write import write_zip
from tests.model_factory import cached_bundle, make_bundle

SAMPLE = paths.samples_dir() / "demo.dcm"
CONTOUR = paths.samples_dir() / "demo.contour.json"
MODELS = Path(__file__).resolve().parent.parent / "resources" / "models"


def _repin(root: Path, name: str, blob: bytes) -> None:
    """What an attacker does: replace a file and recompute its sha256 and size in the manifest."""
    (root / name).write_bytes(blob)
    m = json.loads((root / "manifest.json").read_text())
    m["files"][name].update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob))
    (root / "manifest.json").write_text(json.dumps(m, indent=2))


def _predict(capsys, model: Path, *extra: str) -> tuple[int, dict, str]:
    capsys.readouterr()
    argv = ["predict", str(SAMPLE), "--contour", str(CONTOUR), "--model", str(model), "--no-sensitivity"]
    rc = main([*argv, "--device", "cpu", "--json", *extra])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 else {}), err


def _verify(capsys, model: Path, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["model", "verify", str(model), *extra])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MODELS / "dlrs-demo", tmp_path / "demo"))


@pytest.fixture
def unsigned(tmp_path: Path) -> Path:
    return Path(shutil.copytree(cached_bundle(input_size=64), tmp_path / "unsigned"))


@pytest.mark.parametrize("name", ["dlrs-demo", "dlrs-assist", "dlrs-bus-malignancy"])
def test_the_bundled_models_verify_as_signed_by_the_release_key(capsys, name: str) -> None:
    capsys.readouterr()
    rc = main(["model", "verify", "--model", str(MODELS / name)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "signed by dlrs-release" in out and "ONNX reproduces the safetensors network" in out


def test_one_edited_manifest_number_fails_verify_and_is_used_only_when_allowed(capsys, demo: Path) -> None:
    m = json.loads((demo / "manifest.json").read_text())
    m["threshold"] = round(float(m["threshold"]) + 0.01, 6)  # inside every bound the schema checks
    (demo / "manifest.json").write_text(json.dumps(m, indent=2))
    load_bundle(demo)  # every file still matches the manifest: only the signature sees it
    for extra in ((), ("--allow-unsigned",)):
        rc, _, err = _verify(capsys, demo, *extra)
        assert rc == 3 and "manifest was changed after signing" in err and len(err.splitlines()) == 1
    rc, _, err = _predict(capsys, demo)
    assert rc == 3 and "--allow-unsigned" in err and len(err.splitlines()) == 1
    rc, result, _ = _predict(capsys, demo, "--allow-unsigned")
    assert rc == 0 and "unsigned model (its signature does not match" in result["research_notice"]


def test_a_swapped_onnx_with_its_sha256_recomputed_fails_verify(capsys, unsigned: Path) -> None:
    other = cached_bundle(input_size=64, seed=1)
    _repin(unsigned, "model.onnx", (other / "model.onnx").read_bytes())
    rc, _, err = _verify(capsys, unsigned, "--allow-unsigned")
    assert rc == 3 and "does not reproduce the safetensors network" in err


def test_nan_weights_with_their_sha256_recomputed_fail_verify(capsys, unsigned: Path) -> None:
    from safetensors.numpy import load, save

    tensors = load((unsigned / "heads.safetensors").read_bytes())
    tensors["head.weight"] = np.full_like(tensors["head.weight"], np.nan)
    _repin(unsigned, "heads.safetensors", save(tensors))
    rc, _, err = _verify(capsys, unsigned, "--allow-unsigned")
    assert rc == 3 and len(err.splitlines()) == 1


def test_an_unsigned_bundle_is_refused_then_labelled_in_json_sr_and_pdf(capsys, unsigned, tmp_path) -> None:
    import pydicom

    rc, _, err = _verify(capsys, unsigned)
    assert rc == 3 and "(unsigned model)" in err
    rc, _, err = _predict(capsys, unsigned)
    assert rc == 3 and "not signed by a trusted key" in err
    rc, result, _ = _predict(capsys, unsigned, "--allow-unsigned")
    assert rc == 0 and result["research_notice"].endswith("; unsigned model.")
    out = tmp_path / "dicom"
    argv = [
        "dicom",
        "export",
        str(SAMPLE),
        "--contour",
        str(CONTOUR),
        "--model",
        str(unsigned),
        "--out",
        str(out),
    ]
    assert main(argv) == 3
    assert main([*argv, "--allow-unsigned"]) == 0
    sr = pydicom.dcmread(next(out.glob("*sr*.dcm")))
    texts: list[str] = []

    def walk(items) -> None:
        for it in items:
            texts.append(str(getattr(it, "TextValue", "")))
            walk(getattr(it, "ContentSequence", []))

    walk(sr.ContentSequence)
    assert any("unsigned model" in t for t in texts)
    # the command line's PDF is a raster (Pillow) that draws the same research notice; the GUI's PDF,
    # which has text, is read back in tests/test_ui_signing.py


def test_a_bundle_signed_by_an_untrusted_key(capsys, unsigned: Path, tmp_path: Path) -> None:
    key = tmp_path / "keys" / "hospital.key"
    assert main(["model", "keygen", "--key", str(key)]) == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert main(["model", "keygen", "--key", str(key)]) == 2  # never overwrites a key
    assert main(["model", "sign", "--model", str(unsigned), "--key", str(key)]) == 0
    rc, _, err = _predict(capsys, unsigned)
    assert rc == 3 and "untrusted key" in err
    rc, result, _ = _predict(capsys, unsigned, "--allow-unsigned")
    assert rc == 0 and "unsigned model (signed by an untrusted key" in result["research_notice"]
    rc, result, _ = _predict(capsys, unsigned, "--trusted-keys", f"{key}.pub")
    assert rc == 0 and "unsigned" not in result["research_notice"]
    rc, out, _ = _verify(capsys, unsigned, "--trusted-keys", f"{key}.pub")
    assert rc == 0 and "signed by hospital" in out


def test_signing_adds_only_the_signature(demo: Path, tmp_path: Path) -> None:
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in demo.iterdir()}
    key = tmp_path / "k.key"
    signing.generate_key(key)
    assert main(["model", "sign", "--model", str(demo), "--key", str(key)]) == 0
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in demo.iterdir()}
    assert {k: v for k, v in after.items() if k != "signature.json"} == {
        k: v for k, v in before.items() if k != "signature.json"
    }  # weights, ONNX, manifest and card byte-identical
    assert after["signature.json"] != before["signature.json"]


def test_signing_refuses_a_bundle_that_does_not_verify(capsys, unsigned: Path, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    signing.generate_key(key)
    with (unsigned / "heads.safetensors").open("r+b") as fh:
        fh.seek(-1, 2)
        fh.write(b"\x01")
    assert main(["model", "sign", "--model", str(unsigned), "--key", str(key)]) == 3
    assert not (unsigned / signing.SIGNATURE_FILE).exists()


def test_the_signature_travels_in_the_zip(demo: Path, tmp_path: Path) -> None:
    z = write_zip(demo, tmp_path / "demo.zip")
    status = signing.status_of(load_bundle(z))
    assert status.trusted and status.signer == signing.status_of(load_bundle(demo)).signer
    assert status.signer.startswith("dlrs-release")  # a release key signed the shipped demo


def test_writing_over_a_bundle_keeps_files_it_does_not_own(tmp_path: Path) -> None:
    out = make_bundle(tmp_path / "b", input_size=32)
    (out / "notes.txt").write_text("mine")
    (out / "signature.json").write_text("{}")  # the old bundle's: it would not match the new one
    make_bundle(out, input_size=32, seed=3)
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "signature.json").exists()
    assert signing.status_of(load_bundle(out)).state == "unsigned"
