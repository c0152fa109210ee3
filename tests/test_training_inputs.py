"""Training folders that cannot hang or bomb (issue 27 item 5): symlink loops and links out of the folder,
FIFOs, pixel bombs and broken CSV tables end in one stderr line and exit 2, fast; a DICOM display
window of NaN/1e308 is ignored with a note instead of blacking the image."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.training.assist_data import load_cases

REAL = Path(__file__).parent / "data" / "real"
ROOT = Path(__file__).resolve().parent.parent


def _busbra(root: Path, n: int = 4) -> Path:
    """A BUS-BRA-shaped folder (crops of the real fixtures) inside `root`; returns `root`."""
    bb = root / "BUSBRA"
    (bb / "Images").mkdir(parents=True)
    (bb / "Masks").mkdir()
    rows = ["ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX"]
    g = cv2.imread(str(REAL / "assist_busi_benign_303.png"), cv2.IMREAD_GRAYSCALE)
    m = cv2.imread(str(REAL / "assist_busi_benign_303_mask.png"), cv2.IMREAD_GRAYSCALE)
    for i in range(n):
        sid = f"bus_{i + 1:04d}-l"
        cv2.imwrite(str(bb / "Images" / f"{sid}.png"), g[4 * i :, 6 * i :])  # not duplicates of each other
        cv2.imwrite(str(bb / "Masks" / f"{sid.replace('bus_', 'mask_')}.png"), m[4 * i :, 6 * i :])
        rows.append(f'{sid},{i + 1},x,benign,3,x,1,1,left,"[0,0,1,1]"')
    (bb / "bus_data.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def _png_header_only(path: Path, w: int, h: int) -> None:
    """A PNG whose (valid, CRC-correct) IHDR declares w x h; the pixel data is a stub."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def _cli(*argv: str) -> tuple[int, str, float]:
    """`dlrs ARGV` in a child process (a hang would fail the timeout): exit code, stderr, peak RSS (MB).

    The peak comes from GNU time, whose child is forked from a small process: a child forked from
    this test process would inherit its (Qt, torch) high-water mark through exec."""
    import shutil
    import tempfile

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    timer = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        out = subprocess.run(
            [timer, "-f", "%M", "-o", rss.name, sys.executable, "-m", "dlrs_desktop.cli", *argv],
            capture_output=True, text=True, timeout=90, env=env,
        )  # fmt: skip
        peak_kb = float((rss.read().strip().splitlines() or ["0"])[-1])
    errors = [line for line in out.stderr.splitlines() if line.startswith(("error:", "internal error:"))]
    assert out.returncode == 0 or (len(errors) == 1 and out.stderr.splitlines()[-1] == errors[0]), out.stderr
    return out.returncode, "\n".join(errors), peak_kb / 1024


def _train_assist(data: Path, tmp_path: Path) -> tuple[int, str, float]:
    return _cli("train-assist", "--data", str(data), "--out", str(tmp_path / "bundle"), "--epochs", "1")


def test_a_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    data = _busbra(tmp_path / "data")
    (data / "BUSBRA" / "again").symlink_to(data, target_is_directory=True)  # a loop
    (data / "self").symlink_to(".", target_is_directory=True)
    stored, _ = load_cases(data, seed=0)
    assert len(stored) == 4  # every case once, no endless walk
    loop_only = tmp_path / "loop"
    loop_only.mkdir()
    (loop_only / "x").symlink_to(loop_only, target_is_directory=True)
    rc, err, _ = _train_assist(loop_only, tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and "No BUS-BRA" in err


def test_a_fifo_named_bus_data_csv_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data" / "BUSBRA"
    (data / "Images").mkdir(parents=True)
    (data / "Masks").mkdir()
    os.mkfifo(data / "bus_data.csv")
    rc, err, _ = _train_assist(data.parent, tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and "not a regular file" in err


def test_links_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    data = _busbra(tmp_path / "data")
    outside = tmp_path / "outside.png"
    img = data / "BUSBRA" / "Images" / "bus_0001-l.png"
    img.rename(outside)
    img.symlink_to(outside)
    rc, err, _ = _train_assist(data, tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and "link out of the folder" in err
    linked = tmp_path / "linked"  # a dataset folder that is a link to elsewhere is not followed
    linked.mkdir()
    (linked / "BUSBRA").symlink_to(tmp_path / "data" / "BUSBRA", target_is_directory=True)
    with pytest.raises(DlrsError, match="No BUS-BRA"):
        load_cases(linked, seed=0)


def test_a_pixel_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    data = _busbra(tmp_path / "data", n=1)
    _png_header_only(data / "BUSBRA" / "Images" / "bus_0001-l.png", 30000, 30000)
    rc, err, peak_mb = _train_assist(data, tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and "over the limit" in err
    assert peak_mb < 1536, peak_mb


@pytest.mark.parametrize(
    "content, words",
    [
        (b"ID,Case\nbus_0001-l,1\n", "lacks the column(s) Pathology"),
        ("ID,Case,Pathology\nbus_0001-l,1,b\xe9nin\n".encode("latin-1"), "not UTF-8"),
        (b'ID,Case,Pathology\nbus_0001-l,1,"' + b"x" * 131_073 + b'"\n', "cannot be read as CSV"),
    ],
    ids=["missing-column", "not-utf8", "128kB-field"],
)
def test_a_broken_csv_is_one_line_exit_2(tmp_path: Path, content: bytes, words: str) -> None:
    data = _busbra(tmp_path / "data", n=1)
    (data / "BUSBRA" / "bus_data.csv").write_bytes(content)
    rc, err, _ = _train_assist(data, tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and words in err, err


def test_cohort_import_walks_safely(tmp_path: Path) -> None:
    data = _busbra(tmp_path / "data", n=1)
    (data / "loop").symlink_to(data, target_is_directory=True)
    os.mkfifo(data / "BrEaST-Lesions-USG-clinical-data.csv")
    rc, err, _ = _cli("cohort", "import", "--data", str(data), "--out", str(tmp_path / "cohort"))
    assert rc == 2 and len(err.splitlines()) == 1 and "not a regular file" in err


@pytest.mark.parametrize(
    "centre, width", [("1e308", "1e308"), ("NaN", "NaN"), ("-90000", "10"), ("100", "0")]
)
def test_an_absurd_display_window_is_ignored_with_a_note(tmp_path: Path, centre: str, width: str) -> None:
    import pydicom

    from dlrs_desktop.imaging import load_image
    from tests.dicom_factory import write_bmode_dicom

    path, _, _ = write_bmode_dicom(tmp_path / "w.dcm")
    ds = pydicom.dcmread(path)
    wide = (ds.pixel_array.astype(np.uint16) * 16).astype(np.uint16)  # 12-bit data in 16-bit words
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelData = wide.tobytes()
    from pydicom.dataelem import DataElement

    ds[0x00281050] = DataElement(0x00281050, "DS", centre, validation_mode=0)
    ds[0x00281051] = DataElement(0x00281051, "DS", width, validation_mode=0)
    with pydicom.config.disable_value_validation():
        ds.save_as(tmp_path / "x.dcm", enforce_file_format=True)
    image = load_image(tmp_path / "x.dcm")
    assert float(np.std(image.gray)) > 10  # not a black or flat image
    assert "ignored" in image.provenance.metadata.get("display_note", "")
