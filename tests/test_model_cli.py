"""`dlrs predict` and `dlrs model info|verify`: outputs, folder batch, exit codes with one clear line."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.roi import Contour
from tests.model_factory import bmode_case


def _write_case(folder: Path, stem: str, seed: int, how: str | None) -> Path:
    """A PNG (no calibration inside) with its contour beside it as JSON, mask, or nothing."""
    image, contour = bmode_case(seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{stem}.png"
    cv2.imwrite(str(png), image.gray)
    bare = Contour(contour.points)  # no calibration: the CLI's --spacing provides it
    if how == "json":
        bare.save(folder / f"{stem}.contour.json")
    elif how == "mask":
        cv2.imwrite(str(folder / f"{stem}_mask.png"), contour.to_mask(image.shape).astype(np.uint8) * 255)
    return png


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_predict_one_image_json(bundle_dir: Path, tmp_path: Path, capsys) -> None:
    png = _write_case(tmp_path, "case", 1, "json")
    rc = main(
        [
            "predict",
            str(png),
            "--spacing",
            "0.1",
            "--allow-unsigned",
            "--model",
            str(bundle_dir),
            "--json",
            "--cam",
            str(tmp_path / "cam"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    d = json.loads(out)
    assert 0 < d["probability"] < 1 and d["image"] == "case.png"
    assert d["calibration"]["mm_per_px_x"] == 0.1 and d["calibration"]["source"] == "manual"
    assert len(d["regions"]) == 4 and d["sensitivity"]["min"] is not None
    cams = sorted(p.name for p in (tmp_path / "cam").iterdir())
    assert cams == [f"case_cam_{r}.png" for r in ("intratumoral", "ring_10mm", "ring_3mm", "ring_5mm")]
    assert cv2.imread(str(tmp_path / "cam" / cams[0])).shape[:2] == (360, 440)


def test_predict_human_output_and_explicit_mask(bundle_dir: Path, tmp_path: Path, capsys) -> None:
    png = _write_case(tmp_path, "case", 1, None)
    image, contour = bmode_case(seed=1)
    mask = tmp_path / "tumour.png"
    cv2.imwrite(str(mask), contour.to_mask(image.shape).astype(np.uint8) * 255)
    rc = main(
        [
            "predict",
            str(png),
            "--mask",
            str(mask),
            "--spacing",
            "0.1",
            "--allow-unsigned",
            "--model",
            str(bundle_dir),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "Probability of early response" in out and "ring_10mm" in out and "Research use only" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--contour", "{tmp}/case.contour.json"], "calibration"),  # PNG without --spacing
        (["--spacing", "0.1", "--contour", "{tmp}/absent.json"], "not found"),
        (["--spacing", "0.1", "--mask", "{tmp}/small.png"], "must match"),  # mask of another size
        (["--spacing", "50"], "not plausible"),
    ],
)
def test_bad_input_exits_2(bundle_dir: Path, tmp_path: Path, capsys, args: list[str], needle: str) -> None:
    png = _write_case(tmp_path, "case", 1, "json")
    cv2.imwrite(str(tmp_path / "small.png"), np.full((10, 10), 255, np.uint8))
    argv = [
        "predict",
        str(png),
        "--allow-unsigned",
        "--model",
        str(bundle_dir),
        *[a.format(tmp=tmp_path) for a in args],
    ]
    assert main(argv) == 2
    assert needle in _one_error_line(capsys.readouterr().err)


def test_image_without_contour_exits_2(bundle_dir: Path, tmp_path: Path, capsys) -> None:
    png = _write_case(tmp_path, "lonely", 1, None)
    assert (
        main(["predict", str(png), "--spacing", "0.1", "--allow-unsigned", "--model", str(bundle_dir)]) == 2
    )
    assert "No contour for lonely.png" in _one_error_line(capsys.readouterr().err)


def test_model_problems_exit_3(bundle_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    png = _write_case(tmp_path, "case", 1, "json")
    assert (
        main(["predict", str(png), "--spacing", "0.1", "--allow-unsigned", "--model", str(tmp_path / "nope")])
        == 3
    )
    assert "No model bundle" in _one_error_line(capsys.readouterr().err)
    monkeypatch.setenv("DLRS_RESOURCES", str(tmp_path / "empty"))
    assert main(["predict", str(png), "--spacing", "0.1"]) == 3
    assert "bundled demonstration model is not installed" in _one_error_line(capsys.readouterr().err)
    bad = Path(shutil.copytree(bundle_dir, tmp_path / "bad"))
    data = bytearray((bad / "heads.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (bad / "heads.safetensors").write_bytes(bytes(data))
    assert main(["predict", str(png), "--spacing", "0.1", "--allow-unsigned", "--model", str(bad)]) == 3
    assert "heads.safetensors" in _one_error_line(capsys.readouterr().err)
    assert main(["model", "verify", str(bad)]) == 3
    assert "sha256" in _one_error_line(capsys.readouterr().err)


def test_folder_batch_writes_csv(bundle_dir: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "cases"
    _write_case(folder, "a", 1, "json")
    _write_case(folder, "b", 2, "mask")
    _write_case(folder, "c", 3, None)  # no contour: skipped
    (folder / "d.png").write_bytes(b"not a png")  # unreadable, but it has a contour: error row
    Contour(np.array([[10, 10], [50, 10], [50, 50]], float)).save(folder / "d.contour.json")
    out_csv = tmp_path / "table.csv"
    args = ["predict", str(folder), "--spacing", "0.1", "--allow-unsigned", "--model", str(bundle_dir)]
    rc = main([*args, "--csv", str(out_csv), "--no-sensitivity"])
    err = capsys.readouterr().err
    assert rc == 2  # one image failed: said in one line, the others are in the table
    assert err.count("\n") == 1 and "1 without a contour skipped" in err  # one line: no per-image progress
    assert err.strip().splitlines()[-1].startswith("error: 1 of 3 images")
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert [r["image"] for r in rows] == ["a.png", "b.png", "d.png"]
    assert [r["status"] for r in rows[:2]] == ["ok", "ok"] and rows[2]["status"].startswith("error:")
    assert all("research" in r["research_notice"].lower() for r in rows)  # also on an error row
    for r in rows[:2]:
        assert 0 < float(r["probability"]) < 1 and float(r["mm_per_px"]) == 0.1
        assert r["bundle_hash"] and r["p_ring_10mm"]
    # Contour JSON and mask of the same tumour on similar tissue give close, not identical, inputs.
    (folder / "d.png").unlink()
    rc = main([*args, "--no-sensitivity"])
    captured = capsys.readouterr()
    assert rc == 0 and captured.out.startswith("image,status,probability")
    assert len(captured.out.strip().splitlines()) == 3


def test_model_info_and_verify(bundle_dir: Path, capsys) -> None:
    assert main(["model", "info", str(bundle_dir)]) == 0
    out = capsys.readouterr().out
    assert "Model card" in out and "Intended use" in out and "synthetic" in out and "sha256" in out
    assert main(["model", "info", str(bundle_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "dlrs-model-bundle"
    assert main(["model", "verify", str(bundle_dir), "--allow-unsigned"]) == 0
    assert capsys.readouterr().out.startswith("OK: test-random 0.0.1")
