"""A folder opened as a worklist opens on its first image that opens: a report, a damaged file or a
DICOM object without pixels before it only marks its row; no dialog for a file the user did not pick."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom

from tests.ui_factory import dialog_log, make_window  # noqa: F401  (fixture)

REAL = Path(__file__).parent / "data" / "real"
SCAN = "assist_busi_benign_303.png"


def _study(folder: Path) -> Path:
    """A study folder as exports hold them: a structured report and a damaged file before the scan."""
    folder.mkdir()
    sr = pydicom.Dataset()
    sr.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR: no pixel data
    sr.SOPInstanceUID = pydicom.uid.generate_uid()
    sr.file_meta = pydicom.dataset.FileMetaDataset()
    sr.file_meta.MediaStorageSOPClassUID = sr.SOPClassUID
    sr.file_meta.MediaStorageSOPInstanceUID = sr.SOPInstanceUID
    sr.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    sr.save_as(folder / "a_report.dcm", enforce_file_format=True)
    (folder / "b_damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    shutil.copyfile(REAL / SCAN, folder / f"c_{SCAN}")
    return folder


def test_a_folder_opens_on_its_first_image_that_opens(qtbot, tmp_path, dialog_log) -> None:  # noqa: F811
    folder = _study(tmp_path / "study")
    win = make_window(qtbot)
    assert win.open_path(folder)
    assert [p.name for p in win.worklist.visible_paths()][:2] == ["a_report.dcm", "b_damaged.png"]
    assert win.doc.path is not None and win.doc.path.name == f"c_{SCAN}"
    assert dialog_log.texts("error") == []
    assert win.worklist.wait_for_scan()  # the rows of the two that did not open say so
    qtbot.waitUntil(lambda: len(win.worklist.scanned) >= 2, timeout=10000)
    for name in ("a_report.dcm", "b_damaged.png"):
        cell = win.worklist.table.item(win.worklist.row_of(folder / name), 3)
        assert cell.text() == "cannot open" and "Cannot open" in cell.toolTip(), cell.toolTip()


def test_a_folder_opened_in_the_background_moves_on_too(qtbot, tmp_path, dialog_log) -> None:  # noqa: F811
    folder = _study(tmp_path / "study")
    win = make_window(qtbot)
    assert win.open_path(folder, background=True)  # as at start-up with a folder argument
    qtbot.waitUntil(lambda: win.doc.path is not None, timeout=20000)
    assert win.doc.path.name == f"c_{SCAN}" and dialog_log.texts("error") == []


def test_a_folder_where_nothing_opens_says_so_once(qtbot, tmp_path, dialog_log) -> None:  # noqa: F811
    folder = _study(tmp_path / "study")
    (folder / f"c_{SCAN}").unlink()
    win = make_window(qtbot)
    assert not win.open_path(folder)
    assert dialog_log.texts("error") == [
        "No image in this folder can be opened; each row of the worklist says why."
    ]
    assert win.doc.image is None and win.worklist.table.rowCount() == 2


def test_after_a_folder_where_nothing_opened_a_pick_says_its_own_reason(qtbot, tmp_path, dialog_log) -> None:  # noqa: F811
    folder = _study(tmp_path / "study")
    (folder / f"c_{SCAN}").unlink()
    win = make_window(qtbot)
    assert win.open_path(folder, background=True)
    qtbot.waitUntil(lambda: len(dialog_log.texts("error")) == 1, timeout=20000)
    assert dialog_log.texts("error")[0].startswith("No image in this folder can be opened")
    assert win.open_path(folder / "b_damaged.png", background=True)  # the user picks one of them again
    qtbot.waitUntil(lambda: len(dialog_log.texts("error")) == 2, timeout=20000)
    assert "b_damaged.png" in dialog_log.texts("error")[1]
