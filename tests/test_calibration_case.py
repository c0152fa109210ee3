"""One calibration rule for a case (`effective_calibration`), the same in the GUI, the CLI and training;
pixel and calibration sanity; the CLI applies a GUI sidecar only to the image it was made for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataelem import DataElement

from dlrs_desktop.cli import main
from dlrs_desktop.errors import CalibrationError
from dlrs_desktop.imaging import Calibration, effective_calibration, load_image
from dlrs_desktop.imaging import dicom_writer as dw
from dlrs_desktop.roi import Contour
from dlrs_desktop.store.annotation import AnnotationStore
from dlrs_desktop.store.record import Annotation
from tests.dicom_factory import bmode_frame, write_bmode_dicom
from tests.roi_factory import circle

LESION = circle(256, 216, 45, 120)  # inside the lesion of bmode_frame(480, 640)


def _one_line_exit_2(capsys, argv: list[str]) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ----------------------------------------------------------------------------- the precedence
def test_precedence_override_saved_file_fallback(tmp_path):
    path, _, _ = write_bmode_dicom(tmp_path / "r.dcm", mm_per_px=0.1)  # region calibration 0.1
    image = load_image(path)
    typed, saved, column = Calibration.manual(0.2), Calibration.manual(0.15), Calibration.manual(0.3)
    eff = effective_calibration(image, LESION, override=typed, saved=saved.to_dict(), fallback=column)
    assert (eff.origin, eff.calibration) == ("override", typed)
    eff = effective_calibration(image, LESION, saved=saved.to_dict(), fallback=column)
    assert (eff.origin, eff.calibration) == ("saved", saved) and eff.image.calibration_for(LESION) == saved
    eff = effective_calibration(image, LESION, fallback=column)  # the file has one: no fallback
    assert eff.origin == "file" and eff.calibration.source == "dicom-us-region"
    assert eff.calibration.mm_per_px_x == pytest.approx(0.1)


def test_fallback_only_when_the_file_has_no_scale(tmp_path):
    img, _, _ = bmode_frame()
    from dlrs_desktop.imaging import image_from_array

    image = image_from_array(img)
    column = Calibration.manual(0.3)
    eff = effective_calibration(image, LESION, fallback=column)
    assert (eff.origin, eff.calibration) == ("fallback", column)
    none = effective_calibration(image, LESION)
    assert none.origin == "none" and none.calibration is None and "no millimetre scale" in none.note


def test_a_saved_calibration_that_is_not_plausible_is_refused(tmp_path):
    path, _, _ = write_bmode_dicom(tmp_path / "r.dcm")
    bad = {"mm_per_px_x": 0.1, "mm_per_px_y": 0.5, "source": "manual"}
    with pytest.raises(CalibrationError, match="anisotropic"):
        effective_calibration(load_image(path), LESION, saved=bad)


# ----------------------------------------------------------------------------- sanity
def test_one_anisotropy_limit_for_every_source(tmp_path, capsys):
    with pytest.raises(CalibrationError, match="3:1"):
        Calibration.manual(0.1, 0.31)
    Calibration.manual(0.1, 0.3)  # at the limit: accepted
    path, _, _ = write_bmode_dicom(tmp_path / "skew.dcm", mm_per_px=(0.1, 1.0))  # region deltas 10:1
    image = load_image(path)
    assert image.calibration is None and "10:1 anisotropic" in image.provenance.metadata["calibration_note"]
    Contour(LESION).save(tmp_path / "c.json")
    err = _one_line_exit_2(capsys, ["roi", str(path), "--contour", str(tmp_path / "c.json")])
    assert "10:1 anisotropic" in err
    model = ["--allow-unsigned", "--model", str(_bundle()), "--device", "cpu", "--no-sensitivity"]
    err = _one_line_exit_2(capsys, ["predict", str(path), "--contour", str(tmp_path / "c.json"), *model])
    assert "10:1 anisotropic" in err and "no prediction" in err
    err = _one_line_exit_2(
        capsys, ["roi", str(path), "--spacing", "0.1,1", "--contour", str(tmp_path / "c.json")]
    )
    assert "anisotropic" in err


@pytest.mark.parametrize("slope", ["NaN", "Inf", "-Inf", "0", "1e308"])
def test_garbage_rescale_is_refused_in_one_line(tmp_path, capsys, slope):
    img, _, rect = bmode_frame()
    ds = dw.build_dataset(img.astype(np.uint16) * 4, mm_per_px=None, regions=[dw.tissue_region(*rect, 0.1)])
    ds.BitsStored = 16
    ds.add(DataElement(0x00281053, "DS", slope, validation_mode=0))  # RescaleSlope, written as is
    ds.add(DataElement(0x00281052, "DS", "0", validation_mode=0))  # RescaleIntercept
    path = dw.write_dataset(tmp_path / "rescale.dcm", ds)
    Contour(LESION).save(tmp_path / "c.json")
    err = _one_line_exit_2(capsys, ["roi", str(path), "--contour", str(tmp_path / "c.json")])
    assert "Rescale" in err


# ----------------------------------------------------------------------------- sidecars in the CLI
def _saved_case(folder: Path, name: str, seed: int, mm: float | None = 0.12) -> Path:
    path, _, _ = write_bmode_dicom(folder / name, mm_per_px=0.1, seed=seed)
    image = load_image(path)
    cal = None if mm is None else Calibration.manual(mm)
    ann = Annotation(image.sha256, contour=Contour(LESION).to_dict(), calibration=cal and cal.to_dict())
    AnnotationStore().save(ann, path)
    return path


def test_cli_applies_the_saved_calibration_like_the_gui(tmp_path, capsys):
    path = _saved_case(tmp_path, "a.dcm", seed=0)
    sidecar = path.with_name(path.name + ".dlrs.json")
    assert main(["roi", str(path), "--contour", str(sidecar), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calibration"]["origin"] == "saved" and out["calibration"]["mm_per_px_x"] == 0.12


def test_cli_refuses_a_sidecar_of_another_image(tmp_path, capsys):
    a = _saved_case(tmp_path, "a.dcm", seed=0)
    b, _, _ = write_bmode_dicom(tmp_path / "b.dcm", mm_per_px=0.1, seed=5)
    foreign = b.with_name(b.name + ".dlrs.json")
    shutil.copy(a.with_name(a.name + ".dlrs.json"), foreign)
    err = _one_line_exit_2(capsys, ["roi", str(b), "--contour", str(foreign)])
    assert "belongs to a different image" in err and "not applied" in err
    bundle = str(_bundle())
    err = _one_line_exit_2(
        capsys,
        ["predict", str(b), "--allow-unsigned", "--model", bundle, "--device", "cpu", "--no-sensitivity"],
    )
    assert "different image" in err  # the sidecar found beside b.dcm is refused too, not ignored


def _bundle() -> Path:
    from tests.model_factory import cached_bundle

    return cached_bundle()
