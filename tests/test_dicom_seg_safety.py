"""SEGs that are not what they claim: made for another image, deflate bombs, fractional halos.

Every caller that reads a SEG as a contour (`roi`, `predict`, `outline --snap`, `dicom export` and the
GUI's contour import) passes the image's UIDs; these tests build the hostile SEGs with highdicom and
pydicom and run the real commands (the bomb in a subprocess, to measure its peak memory).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from scipy import ndimage

from dlrs_desktop import paths
from dlrs_desktop.cli import main
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.dicom_seg import ImageRef, read_seg_mask
from dlrs_desktop.imaging.dicom_writer import write_ultrasound_dicom
from dlrs_desktop.roi import Contour, validate_contour
from tests.seg_factory import deflated_seg_bomb, fractional_seg, highdicom_single_segment_seg
from tests.ui_factory import dialog_log, make_window  # noqa: F401  (fixture)

SAMPLES = paths.samples_dir()
DEMO = SAMPLES / "demo.dcm"


def _truth() -> np.ndarray:
    image = load_image(DEMO)
    return validate_contour(Contour.load(SAMPLES / "demo.contour.json"), image).to_mask(image.shape)


@pytest.fixture(scope="module")
def other_patient_seg(tmp_path_factory) -> Path:
    """A SEG drawn on another patient's image of the same size (the issue's "other-patient SEG")."""
    folder = tmp_path_factory.mktemp("other")
    shape = load_image(DEMO).shape
    other = folder / "other.dcm"
    write_ultrasound_dicom(other, np.zeros(shape, np.uint8), mm_per_px=0.1)
    path = folder / "other.seg.dcm"
    highdicom_single_segment_seg(other, _truth()).save_as(path)
    return path


def test_a_seg_for_another_image_is_refused_by_roi_predict_outline_and_export(
    other_patient_seg, tmp_path, capsys
):
    runs = {
        "roi": ["roi", str(DEMO), "--contour", str(other_patient_seg)],
        "predict": ["predict", str(DEMO), "--contour", str(other_patient_seg), "--no-sensitivity"],
        "outline": [
            "outline",
            str(DEMO),
            "--snap",
            str(other_patient_seg),
            "--out",
            str(tmp_path / "o.json"),
        ],
        "export": ["dicom", "export", str(DEMO), "--contour", str(other_patient_seg), "--out", str(tmp_path)],
    }
    for name, argv in runs.items():
        capsys.readouterr()
        assert main(argv) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "made for another image" in err, (name, err)
    assert not list(tmp_path.iterdir())  # nothing written by any of them


def test_a_seg_is_refused_for_a_png_and_accepted_for_its_own_image(other_patient_seg, tmp_path):
    from PIL import Image

    shape = load_image(DEMO).shape
    png = tmp_path / "plain.png"
    Image.fromarray(np.zeros(shape, np.uint8)).save(png)
    with pytest.raises(Exception, match="references a DICOM image"):
        read_seg_mask(other_patient_seg, shape, ImageRef.of(png))
    own = other_patient_seg.with_name("other.dcm")
    mask, _ = read_seg_mask(other_patient_seg, shape, ImageRef.of(own))
    assert mask.sum() == _truth().sum()


def test_the_gui_shows_a_dialog_and_keeps_no_contour_from_another_images_seg(
    qtbot,
    other_patient_seg,
    dialog_log,  # noqa: F811
):
    win = make_window(qtbot)
    assert win.open_path(DEMO)
    assert win.doc.contour is None
    win.load_contour_file(other_patient_seg)
    (message,) = dialog_log.texts("error")
    assert "made for another image" in message
    assert win.doc.contour is None and win.files.undo_stack.count() == 0


_PEAK = (
    "import sys\nfrom dlrs_desktop.cli import main\ntry:\n    rc = main(sys.argv[1:])\nfinally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print(f'PEAK_KB {hwm}', file=sys.__stdout__, flush=True)\nsys.exit(rc)\n"
)


def _run_rss(argv: list[str]) -> tuple[int, str, float]:
    """A `dlrs` command in a subprocess: (exit code, stderr, its own peak RSS in MB).

    VmHWM belongs to the process's memory map, which exec replaces: unlike the rusage of a child
    forked from this (large) test process, it does not count the pages inherited at fork.
    """
    done = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, timeout=120)
    peak = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PEAK_KB")]
    return done.returncode, done.stderr, int(peak[0]) / 1024


def test_a_deflate_bomb_seg_is_refused_without_inflating_it(tmp_path):
    bomb = tmp_path / "bomb.seg.dcm"
    deflated_seg_bomb(bomb, 1024)  # 1 GiB of pixels in a file of about a megabyte
    assert bomb.stat().st_size < 2 << 20
    code, err, peak_mb = _run_rss(["roi", str(DEMO), "--contour", str(bomb)])
    print(
        f"deflate bomb ({bomb.stat().st_size / 1e6:.1f} MB file, 1024 MB inflated): "
        f"exit {code}, peak {peak_mb:.0f} MB"
    )
    assert code == 2 and err.count("\n") == 1 and "inflates to more than" in err, err
    assert peak_mb < 400


def test_a_seg_declaring_too_many_frames_is_refused_before_decoding(tmp_path, capsys):
    seg = tmp_path / "many.seg.dcm"
    highdicom_single_segment_seg(DEMO, _truth()).save_as(seg)
    ds = pydicom.dcmread(seg)
    ds.NumberOfFrames = 100000
    ds.save_as(seg)
    assert main(["roi", str(DEMO), "--contour", str(seg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "100000 frames" in err


def test_a_fractional_seg_with_a_faint_halo_reads_as_its_true_segment(tmp_path):
    truth = _truth()
    halo = ndimage.binary_dilation(truth, iterations=25) & ~truth
    probability = np.where(truth, 1.0, np.where(halo, 0.02, 0.0))  # the 2 % halo
    seg = tmp_path / "fractional.seg.dcm"
    fractional_seg(seg, probability)
    image = load_image(DEMO)
    back = Contour.load_any(seg, image.shape, image_ref=ImageRef.of(DEMO))
    true_area = Contour.from_mask(truth, image.calibration).measurements(image.calibration).area_mm2
    got_area = back.measurements(image.calibration).area_mm2
    halo_area = Contour.from_mask(truth | halo, image.calibration).measurements(image.calibration).area_mm2
    print(
        f"fractional SEG: true {true_area:.0f} mm², read {got_area:.0f} mm² (with the halo: {halo_area:.0f})"
    )
    assert got_area == pytest.approx(true_area, rel=0.02)
    assert halo_area > 1.3 * true_area  # the halo would have mattered
