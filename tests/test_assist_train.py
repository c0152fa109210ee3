"""`dlrs train-assist`: deterministic for a seed, resumable, safe bundle, patient-level split (tiny data)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.roi.assist_bundle import load_assist_bundle
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


def _train(data: Path, out: Path) -> dict:
    args = ["train-assist", "--data", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "4"]
    assert main([*args, "--seed", "1"]) == 0
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
