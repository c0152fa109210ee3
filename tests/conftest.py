"""Test set-up shared by all tests: Qt without a display, private data folders, no network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Must be set before any Qt import: CI has no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest

from tests.model_factory import cached_bundle
from tests.pacs_factory import MOVE_PORT, start_orthanc, stop_orthanc


@pytest.fixture(autouse=True)
def _private_user_data(tmp_path_factory, monkeypatch):
    """Autosave, audit log and settings of each test go to a throw-away folder, never the user's."""
    data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("DLRS_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(data / "config"))
    yield


@pytest.fixture(scope="module")
def bundle_dir() -> Path:
    """The small random test bundle (64 px crops), built once per machine (tests/model_factory.py)."""
    return cached_bundle(input_size=64)


@pytest.fixture
def copy(bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy of `bundle_dir` that a test may edit."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    """A real Orthanc on 127.0.0.1 per test module (tests/pacs_factory.py); C-MOVE results go to MOVE_PORT."""
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"), our_port=MOVE_PORT)
    yield server
    stop_orthanc(server)


# `pytest -m "not slow"` (the README's fast subset) leaves these out: each took 4 s or more on the shared
# 2-core development machine (pytest --durations on the candidates, 2026-12-03; tests that took 2-3 s
# there were taken off the list): network training, radiomics fits, fresh interpreters, a kill -9 loop.
# test_fuzz_inputs.py as a whole: its module fixture builds the fuzz corpus (22 s) for every test in it.
SLOW = (
    "tests/test_training_e2e.py",
    "tests/test_training_resume.py",
    "tests/test_fuzz_inputs.py",
    "tests/test_model_domain.py::test_dlrs_train_writes_the_reference_into_every_new_bundle",  # 47 s
    "tests/test_model_domain.py::test_reference_from_train_thresholds_from_internal_and_never_the_external",
    "tests/test_model_radiomics.py::test_signatures_are_fitted_out_of_fold_and_stored_as_numbers",  # 22 s
    "tests/test_model_radiomics.py::test_a_bundle_whose_radiomics_were_tampered_with",  # 8 s
    "tests/test_model_predictor.py::test_cam_shape_and_location",  # 14 s
    "tests/test_model_predictor.py::test_one_backbone_per_region_bundle",  # 14 s
    "tests/test_ui_app.py::test_self_test_runs_without_a_window",  # 7 s
    # the module fixtures train a tiny ensemble (145 s) and its student; the second resumes + evaluates
    "tests/test_training_distil.py::test_resuming_a_finished_checkpoint",
    "tests/test_training_distil.py::test_a_student_within_the_tolerance",
    "tests/test_training_distil.py::test_label_targets_train_the_same_network",  # 3 trainings: 24 s
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
