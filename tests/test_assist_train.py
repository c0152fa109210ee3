"""`dlrs train-assist`: deterministic for a seed, resumable, safe bundle, patient-level split (tiny data)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.bundle_signature import TrustPolicy
from dlrs_desktop.cli import main
from dlrs_desktop.errors import ContourError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.roi.assist import propose_diameter
from dlrs_desktop.roi.assist_bundle import load_assist_bundle
from dlrs_desktop.roi.assist_learned import get_learned
from dlrs_desktop.training.assist_augment import lesion_box, longest_diameter, make_example, random_box_v2
from dlrs_desktop.training.assist_data import load_cases

REAL = Path(__file__).parent / "data" / "real"


@pytest.fixture(scope="module")
def busbra_like(tmp_path_factory) -> Path:
    """A BUS-BRA-shaped folder: 12 crops of the two real fixtures, two images per patient."""
    root = tmp_path_factory.mktemp("assist_data") / "BUSBRA"
    (root / "Images").mkdir(parents=True)
    (root / "Masks").mkdir()
    rows = ["ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX"]
    for i in range(12):
        name = ("assist_busi_benign_303", "assist_busi_malignant_189")[i % 2]
        g = cv2.imread(str(REAL / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        m = cv2.imread(str(REAL / f"{name}_mask.png"), cv2.IMREAD_GRAYSCALE)
        ys, xs = np.nonzero(m)
        x0, y0 = max(int(xs.min()) - 10 - 3 * i, 0), max(int(ys.min()) - 10 - 2 * i, 0)
        x1, y1 = min(int(xs.max()) + 12 + 2 * i, g.shape[1]), min(int(ys.max()) + 12 + i, g.shape[0])
        sid = f"bus_{i // 2 + 1:04d}-{'lr'[i % 2]}"
        cv2.imwrite(str(root / "Images" / f"{sid}.png"), g[y0:y1, x0:x1])
        cv2.imwrite(str(root / "Masks" / f"{sid.replace('bus_', 'mask_')}.png"), m[y0:y1, x0:x1])
        path = "benign" if "benign" in name else "malignant"
        rows.append(f'{sid},{i // 2 + 1},x,{path},3,x,{x1 - x0},{y1 - y0},left,"[0,0,1,1]"')
    (root / "bus_data.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root.parent


def test_split_is_by_patient_and_seeded(busbra_like):
    stored, excluded = load_cases(busbra_like, seed=3)
    assert len(stored) == 12 and not any(excluded.values())
    by_patient: dict[str, set[str]] = {}
    for s in stored:
        by_patient.setdefault(s.case.group, set()).add(s.case.split)
    assert all(len(v) == 1 for v in by_patient.values())  # both images of a patient in one split
    again, _ = load_cases(busbra_like, seed=3)
    assert [s.case.split for s in stored] == [s.case.split for s in again]


def _train(data: Path, out: Path, *extra: str) -> dict:
    args = ["train-assist", "--data", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "4"]
    assert main([*args, "--seed", "1", *extra]) == 0
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_training_is_deterministic_resumable_and_writes_a_safe_bundle(busbra_like, tmp_path, capsys):
    a = _train(busbra_like, tmp_path / "a")
    b = _train(busbra_like, tmp_path / "b")
    assert a["files"]["weights.safetensors"]["sha256"] == b["files"]["weights.safetensors"]["sha256"]
    assert a["files"]["model.onnx"]["sha256"] == b["files"]["model.onnx"]["sha256"]
    assert (tmp_path / "a.checkpoint" / "tensors.safetensors").is_file()
    capsys.readouterr()
    c = _train(busbra_like, tmp_path / "a")  # the same command again resumes from the checkpoint
    assert "resuming" in capsys.readouterr().err
    _train(busbra_like, tmp_path / "a", "--threads", "2")  # another thread count resumes too
    assert "resuming" in capsys.readouterr().err
    assert c["files"]["weights.safetensors"]["sha256"] == a["files"]["weights.safetensors"]["sha256"]
    bundle = load_assist_bundle(tmp_path / "a")
    ts = bundle.training_set()
    assert len(ts["cases"]) == 12 and all(len(v) == 64 for c in ts["cases"] for v in c["files"].values())
    assert not list((tmp_path / "a").glob("*.pt*"))


def test_train_assist_bad_data_folder_is_one_line_exit_2(tmp_path, capsys):
    assert main(["train-assist", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "b")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["train-assist", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "b")]) == 2
    assert "No BUS-BRA" in capsys.readouterr().err


def test_out_folder_of_other_work_is_not_replaced(busbra_like, tmp_path, capsys):
    other = tmp_path / "work"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    args = ["train-assist", "--data", str(busbra_like), "--out", str(other), "--epochs", "1"]
    assert main([*args, "--batch-size", "4"]) == 2
    assert "not a contour-assist bundle" in capsys.readouterr().err
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


def _ellipse_case() -> tuple[np.ndarray, np.ndarray]:
    grey = cv2.imread(str(REAL / "assist_busi_benign_303.png"), cv2.IMREAD_GRAYSCALE)
    mask = np.zeros(grey.shape, np.uint8)
    cv2.ellipse(mask, (150, 120), (60, 30), 20, 0, 360, 1, -1)
    return grey, mask > 0


def test_recipe_2_boxes_are_tight_as_drawn_or_loose_up_to_20_percent():
    _, mask = _ellipse_case()
    x0, y0, x1, y1 = lesion_box(mask)
    size = np.array([x1 - x0, y1 - y0, x1 - x0, y1 - y0])
    tight = 0
    for i in range(400):
        b = random_box_v2(mask, np.random.default_rng([0, 0, i]), px=2.0)
        out = np.array([x0 - b[0], y0 - b[1], b[2] - x1, b[3] - y1])  # outward move of each side
        assert (out >= np.minimum(-2.0, -0.03 * size) - 1e-9).all() and (out <= 0.2 * size + 1e-9).all()
        tight += bool((np.abs(out) <= 2.0).all())
    assert 0.3 < tight / 400 < 0.5  # 40 % drawn tight, ±2 px, as a careful sonographer does


def test_longest_diameter_and_diameter_examples():
    grey, mask = _ellipse_case()
    (ax, ay), (bx, by) = longest_diameter(mask)
    assert abs(np.hypot(bx - ax, by - ay) - 120) < 3  # the ellipse's major axis, 2 × 60 px
    kinds = {"box": 0, "click": 0, "diameter": 0}
    for i in range(300):
        x, y = make_example(grey, mask, np.random.default_rng([0, 0, i]), recipe=2)
        assert np.isfinite(x).all() and x.shape == (3, 96, 96) and y.max() > 0.5
        if np.abs(x[1]).sum() > 0:
            kinds["box"] += 1
            continue
        peaks = (x[2] == cv2.dilate(x[2], np.ones((9, 9), np.uint8))) & (x[2] > 0.9)
        kinds["diameter" if peaks.sum() == 2 else "click"] += 1
    assert 0.08 < kinds["diameter"] / 300 < 0.22 and kinds["click"] > kinds["diameter"]
    recipe_1 = [make_example(grey, mask, np.random.default_rng([0, 0, i]))[0] for i in range(100)]
    assert all(
        ((x[2] == cv2.dilate(x[2], np.ones((9, 9), np.uint8))) & (x[2] > 0.9)).sum() <= 1 for x in recipe_1
    )  # recipe 1 (the first shipped bundle) never shows two clicks


def test_only_a_bundle_trained_on_diameters_takes_one(busbra_like, tmp_path):
    old = _train(busbra_like, tmp_path / "r1", "--recipe", "1", "--widths", "8,16,32,48,64")
    new = _train(busbra_like, tmp_path / "r2", "--widths", "4,8,16")  # recipe 2: the default
    assert old["training"]["config"]["recipe"] == 1 and new["training"]["config"]["recipe"] == 2
    assert (old["version"], new["version"]) == ("1.0.0", "2.0.0")
    assert new["architecture"]["widths"] == [4, 8, 16]
    trust = TrustPolicy(allow_unsigned=True)
    assert get_learned(str(tmp_path / "r2"), trust).supports_diameter
    assert not get_learned(str(tmp_path / "r1"), trust).supports_diameter
    image = load_image(REAL / "assist_busi_benign_303.png")
    with pytest.raises(ContourError, match="not trained on two-click diameters"):
        propose_diameter(
            image, ((60, 80), (200, 120)), engine="learned", bundle=str(tmp_path / "r1"), trust=trust
        )
    with pytest.raises(ContourError, match="needs the learned contour assist"):
        propose_diameter(image, ((60, 80), (200, 120)), engine="classical")


def test_train_assist_refuses_bad_widths(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    assert (
        main(["train-assist", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "b"), "--widths", "8"])
        == 2
    )
    assert "--widths" in capsys.readouterr().err
