"""`dlrs cohort import` on real public fixtures laid out as the official downloads are.

BUSI (CC0) and BrEaST (CC BY 4.0) fixtures are committed in tests/data/real (attribution there);
the BUS-BRA layout is built from the committed BUS-BRA fixtures with their real `bus_data.csv` rows.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from dlrs_desktop.training.cohort import read_cohort

REAL = Path(__file__).parent / "data" / "real"
BUSBRA_ROWS = [  # the dataset's own bus_data.csv rows of the committed fixtures, except that 0930-l is
    # filed under patient 864 here, so that one patient has two images (as most BUS-BRA patients do)
    'bus_0272-l,272,invasive ductal carcinoma,malignant,4,GE Logiq 7 @10-14MHz,273,349,left,"[34,5,229,216]"',
    'bus_0666-l,666,invasive ductal carcinoma,malignant,5,GE Logiq 5 @10-12MHz,323,453,left,"[5,30,299,378]"',
    'bus_0864-l,864,fibroadenoma,benign,3,GE Logiq 7 @10-14MHz,274,349,left,"[102,58,52,31]"',
    'bus_0930-l,864,fibroadenoma,benign,3,GE Logiq 7 @10-14MHz,281,348,left,"[35,17,240,162]"',
]


def _layout(root: Path, xlsx: bool = False) -> Path:
    """The three datasets in their official folder layouts under `root`."""
    bb = root / "BUSBRA"
    (bb / "Images").mkdir(parents=True)
    (bb / "Masks").mkdir()
    for sid in ("0272-l", "0666-l", "0864-l", "0930-l"):
        shutil.copy(REAL / f"scan_busbra_{sid}.png", bb / "Images" / f"bus_{sid}.png")
        shutil.copy(REAL / f"scan_busbra_{sid}_mask.png", bb / "Masks" / f"mask_{sid}.png")
    (bb / "bus_data.csv").write_text(
        "ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX\n" + "\n".join(BUSBRA_ROWS) + "\n"
    )
    busi = root / "Dataset_BUSI_with_GT"
    for cls in ("benign", "malignant"):
        (busi / cls).mkdir(parents=True)
    shutil.copy(REAL / "assist_busi_benign_303.png", busi / "benign" / "benign (303).png")
    shutil.copy(REAL / "assist_busi_benign_303_mask.png", busi / "benign" / "benign (303)_mask.png")
    shutil.copy(REAL / "scan_busi_benign188.png", busi / "benign" / "benign (188).png")
    shutil.copy(REAL / "scan_busi_benign188_mask.png", busi / "benign" / "benign (188)_mask.png")
    shutil.copy(REAL / "assist_busi_malignant_189.png", busi / "malignant" / "malignant (189).png")
    shutil.copy(REAL / "assist_busi_malignant_189_mask.png", busi / "malignant" / "malignant (189)_mask.png")
    # BUSI's known defects: a re-cropped copy of a picture (a near-duplicate) and a picture filed
    # under both classes.
    g = cv2.imread(str(REAL / "assist_busi_benign_303.png"), cv2.IMREAD_GRAYSCALE)
    m = cv2.imread(str(REAL / "assist_busi_benign_303_mask.png"), cv2.IMREAD_GRAYSCALE)
    h, w = g.shape
    cv2.imwrite(str(busi / "benign" / "benign (400).png"), g[3 : h - 3, 4 : w - 4])
    cv2.imwrite(str(busi / "benign" / "benign (400)_mask.png"), m[3 : h - 3, 4 : w - 4])
    shutil.copy(REAL / "scan_busi_benign188.png", busi / "malignant" / "malignant (300).png")
    shutil.copy(REAL / "scan_busi_benign188_mask.png", busi / "malignant" / "malignant (300)_mask.png")
    br = root / "BrEaST" / "BrEaST-Lesions_USG-images_and_masks"
    br.mkdir(parents=True)
    for f in ("case009.png", "case009_tumor.png", "case173.png", "case173_tumor.png"):
        shutil.copy(REAL / f"breast_{f}", br / f)
    sheet = root / "BrEaST" / "BrEaST-Lesions-USG-clinical-data-Dec-15-2023.csv"
    shutil.copy(REAL / "breast_clinical_excerpt.csv", sheet)
    if xlsx:
        openpyxl = pytest.importorskip("openpyxl")
        wb = openpyxl.Workbook()
        with sheet.open(newline="") as fh:
            for row in csv.reader(fh):
                wb.active.append(row)
        wb.save(sheet.with_suffix(".xlsx"))
        sheet.unlink()
    return root


def _import(tmp_path: Path, *extra: str, xlsx: bool = False) -> tuple[Path, list[dict[str, str]]]:
    data = _layout(tmp_path / "data", xlsx=xlsx)
    out = tmp_path / "cohort"
    cmd = [sys.executable, "-m", "dlrs_desktop", "cohort", "import", "--data", str(data), "--out", str(out)]
    r = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with (out / "cohort.csv").open(newline="") as fh:
        return out, list(csv.DictReader(fh))


def test_import_ids_labels_patients_spacing_and_exclusions(tmp_path: Path) -> None:
    out, rows = _import(tmp_path, "--internal-fraction", "0.5")
    by_id = {r["case_id"]: r for r in rows}
    assert set(by_id) == {
        "busbra/bus_0272-l", "busbra/bus_0666-l", "busbra/bus_0864-l", "busbra/bus_0930-l",
        "busi/benign (303)", "busi/malignant (189)", "breast/case009", "breast/case173",
    }  # fmt: skip
    # labels: 1 = malignant, from each dataset's own pathology field or folder
    labels = [by_id[k]["label"] for k in ("busbra/bus_0272-l", "busbra/bus_0864-l", "busi/malignant (189)")]
    assert labels == ["1", "0", "1"]
    assert (by_id["breast/case009"]["label"], by_id["breast/case173"]["label"]) == ("0", "1")
    # BrEaST's recorded pixel size is in cm/px; the cohort is in mm/px. The others are nominal.
    assert float(by_id["breast/case009"]["mm_per_px"]) == pytest.approx(0.1035503, rel=1e-5)
    assert by_id["breast/case009"]["spacing_source"] == "recorded"
    assert (
        by_id["busi/benign (303)"]["mm_per_px"] == "0.1"
        and by_id["busi/benign (303)"]["spacing_source"] == "nominal"
    )
    # the external centre is external whole; two views of one BUS-BRA patient share patient and split
    assert {by_id[k]["split"] for k in by_id if k.startswith("breast/")} == {"external"}
    assert {r["split"] for r in rows if not r["case_id"].startswith("breast/")} <= {"train", "internal"}
    assert (
        by_id["busbra/bus_0864-l"]["patient_id"] == by_id["busbra/bus_0930-l"]["patient_id"] == "busbra:864"
    )
    assert by_id["busbra/bus_0864-l"]["split"] == by_id["busbra/bus_0930-l"]["split"]
    excluded = json.loads((out / "exclusions.json").read_text())
    assert excluded["duplicate"] == ["busi/benign (400) = busi/benign (303)"]
    assert sorted(excluded["label_conflict"]) == [
        "busi/benign (188)",
        "busi/malignant (300) = busi/benign (188)",
    ]
    assert excluded["several_lesions"] == ["breast/case022"] and excluded["normal_no_lesion"] == [
        "breast/case213"
    ]
    # every file read is pinned by its sha256, and the cohort is what `dlrs train` reads
    files = list(csv.DictReader((out / "files.csv").open()))
    assert len(files) == 2 * len(rows) and all(len(f["sha256"]) == 64 for f in files)
    cases = read_cohort(out / "cohort.csv", require_train=False)
    assert len(cases) == 8 and all(c.mm_per_px for c in cases)
    card = (out / "DATA_CARD.md").read_text()
    assert "CC BY 4.0" in card and "NOMINAL" in card and "| duplicate | 1 |" in card


def test_import_reads_the_published_xlsx_sheet_and_the_split_is_seeded(tmp_path: Path) -> None:
    _, rows = _import(tmp_path / "a", "--seed", "3", xlsx=True)
    _, again = _import(tmp_path / "b", "--seed", "3")
    assert [(r["case_id"], r["split"], r["mm_per_px"]) for r in rows] == [
        (r["case_id"], r["split"], r["mm_per_px"]) for r in again
    ]


def test_import_refuses_a_folder_without_any_dataset(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = subprocess.run(
        [sys.executable, "-m", "dlrs_desktop", "cohort", "import", "--data", str(tmp_path / "empty"),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "No BUS-BRA" in r.stderr
