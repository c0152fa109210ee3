"""The learned contour assist: shipped bundle, fallback, tampering, determinism, real BUSI fixtures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import ContourError, ModelError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.roi.assist import propose_box, propose_click, propose_diameter, propose_from_box
from dlrs_desktop.roi.assist_bundle import default_bundle_dir, load_assist_bundle
from dlrs_desktop.roi.assist_eval import mask_dice
from dlrs_desktop.roi.validate import validate_contour

REAL = Path(__file__).parent / "data" / "real"
FIXTURES = ("assist_busi_benign_303", "assist_busi_malignant_189")


def _fixture(name: str):  # type: ignore[no-untyped-def]
    image = load_image(REAL / f"{name}.png")
    truth = cv2.imread(str(REAL / f"{name}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    ys, xs = np.nonzero(truth)
    box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    return image, truth, box


def test_shipped_bundle_is_safe_small_and_real():
    bundle = load_assist_bundle()
    files = {p.name: p.stat().st_size for p in default_bundle_dir().iterdir()}
    assert sum(files.values()) <= 20 * 1024**2
    assert set(files) == {"manifest.json", "signature.json", *bundle.manifest["files"]}
    assert not any(n.endswith((".pt", ".pth", ".pkl", ".ckpt")) for n in files)
    ts = bundle.training_set()

    def strings(v):  # type: ignore[no-untyped-def]
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            return [s for x in v for s in strings(x)]
        return [v] if isinstance(v, str) else []

    assert not [v for v in strings(bundle.manifest) if Path(v).is_absolute()]  # no build machine's paths
    assert bundle.manifest["training_data"]["kind"] == "real"
    assert {c["split"] for c in ts["cases"]} == {"train", "val", "test"}
    # patient-level: no patient (group) in two splits
    split_of: dict[str, str] = {}
    for c in ts["cases"]:
        assert split_of.setdefault(c["group"], c["split"]) == c["split"]
        assert all(len(sha) == 64 for sha in c["files"].values())


@pytest.mark.parametrize("name", FIXTURES)
def test_learned_box_and_click_on_real_scans(name):
    image, truth, box = _fixture(name)
    p = propose_box(image, box)
    assert p.method == "learned" and "dlrs-assist" in str(p.detail)
    contour = validate_contour(p.contour, image)  # an ordinary, editable contour
    assert 16 <= len(contour.points) <= 80
    assert (contour.points >= 0).all() and (contour.points[:, 0] <= image.width).all()
    assert mask_dice(contour.to_mask(image.shape), truth) > 0.8
    dist = cv2.distanceTransform(truth.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    c = propose_click(image, (x + 0.5, y + 0.5))  # a click inside a real lesion is never refused
    assert c.method == "learned"
    assert mask_dice(c.contour.to_mask(image.shape), truth) > 0.7


@pytest.mark.parametrize("name", FIXTURES)
def test_diameter_on_real_scans_by_api_and_cli(name, tmp_path, capsys):
    from dlrs_desktop.training.assist_augment import longest_diameter

    image, truth, _box = _fixture(name)
    a, b = longest_diameter(truth)
    p = propose_diameter(image, (a, b))
    assert p.method == "learned" and "dlrs-assist 2.1.0" in str(p.detail)
    assert mask_dice(validate_contour(p.contour, image).to_mask(image.shape), truth) > 0.8
    out = tmp_path / "c.json"
    args = ["outline", str(REAL / f"{name}.png"), "--diameter", *(f"{v:.2f}" for v in (*a, *b))]
    assert main([*args, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["method"] == "learned" and printed["source"].startswith("diameter ")
    assert out.is_file()


def test_learned_proposal_is_deterministic():
    image, _truth, box = _fixture(FIXTURES[0])
    a = propose_from_box(image, box).points
    b = propose_from_box(image, box).points
    assert np.array_equal(a, b)


def test_fallback_to_classical_when_the_bundle_is_missing(tmp_path):
    image, _truth, box = _fixture(FIXTURES[0])
    p = propose_box(image, box, bundle=str(tmp_path / "none"))
    assert p.method == "classical" and "No contour-assist bundle" in str(p.detail)
    with pytest.raises(ModelError):
        propose_box(image, box, engine="learned", bundle=str(tmp_path / "none"))
    assert propose_box(image, box, engine="classical").method == "classical"


def _tampered(tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(default_bundle_dir(), copy)
    onnx = copy / "model.onnx"
    raw = bytearray(onnx.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    onnx.write_bytes(bytes(raw))
    return copy


def test_tampered_bundle_is_refused(tmp_path, capsys):
    copy = _tampered(tmp_path)
    with pytest.raises(ModelError, match="sha256"):
        load_assist_bundle(copy)
    image, _truth, box = _fixture(FIXTURES[0])
    p = propose_box(image, box, bundle=str(copy))  # auto: refused, so the classical method answers
    assert p.method == "classical" and "sha256" in str(p.detail)
    args = ["outline", str(REAL / f"{FIXTURES[0]}.png"), "--box", *map(str, box), "--json"]
    assert main([*args, "--method", "learned", "--assist-model", str(copy)]) == 3
    assert "sha256" in capsys.readouterr().err
    # a pickle file slipped into the folder is refused before anything is read
    shutil.copytree(default_bundle_dir(), tmp_path / "b2")
    (tmp_path / "b2" / "extra.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(ModelError, match="pickle"):
        load_assist_bundle(tmp_path / "b2")
    # a weights file that is a link to a file outside the folder is not followed (same rule as the model)
    shutil.copytree(default_bundle_dir(), tmp_path / "b3")
    outside = tmp_path / "outside.safetensors"
    shutil.move(tmp_path / "b3" / "weights.safetensors", outside)
    (tmp_path / "b3" / "weights.safetensors").symlink_to(outside)
    with pytest.raises(ModelError, match="outside the bundle"):
        load_assist_bundle(tmp_path / "b3")


def test_outline_json_says_which_method(capsys):
    _image, _truth, box = _fixture(FIXTURES[1])
    path = str(REAL / f"{FIXTURES[1]}.png")
    assert main(["outline", path, "--box", *map(str, box), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "learned" and out["method_detail"].startswith("dlrs-assist")
    assert main(["outline", path, "--box", *map(str, box), "--json", "--method", "classical"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "classical"


def test_click_on_the_black_margin_is_refused_in_plain_words(tmp_path):
    grey = cv2.imread(str(REAL / f"{FIXTURES[0]}.png"), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(tmp_path / "margin.png"), np.pad(grey, ((0, 0), (120, 0))))  # a black margin on the left
    image = load_image(tmp_path / "margin.png")
    assert not image.scan_mask[200, 20]
    with pytest.raises(ContourError, match="scan area"):
        propose_click(image, (20.5, 200.5))


def test_runtime_does_not_import_torch():
    code = (
        "import sys; from pathlib import Path; from dlrs_desktop.imaging import load_image; "
        "from dlrs_desktop.roi.assist import propose_box; "
        f"im = load_image(Path({str(REAL)!r}) / 'assist_busi_benign_303.png'); "
        "p = propose_box(im, (150, 20, 300, 120)); "
        "assert p.method == 'learned', p.detail; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_same_outline_with_or_without_calibration():
    """No lesion size in millimetres is assumed: calibrating the image changes only the vertex spacing
    (vertices every ~1 mm: 20 px apart at 0.05 mm/px on this small lesion, hence not identical)."""
    from dlrs_desktop.imaging import Calibration

    image, _truth, box = _fixture(FIXTURES[1])
    plain = propose_box(image, box).contour
    for mm_per_px in (0.05, 0.2):
        cal = propose_box(image.with_calibration(Calibration.manual(mm_per_px)), box).contour
        a, b = plain.to_mask(image.shape), cal.to_mask(image.shape)
        assert mask_dice(a, b) > 0.95


def test_the_shipped_training_set_names_files_relative_to_the_data_folder():
    """No build machine's path in the bundle: each file is named under the data folder, hash-checked."""
    from pathlib import PurePosixPath

    cases = load_assist_bundle().training_set()["cases"]
    names = [name for case in cases for name in case["files"]]
    assert len(names) == 2 * len(cases) > 1000
    for name in names:
        p = PurePosixPath(name)
        assert not p.is_absolute() and ".." not in p.parts and "\\" not in name, name
        assert p.parts[0] in {"BUSBRA", "Dataset_BUSI_with_GT"}, name
