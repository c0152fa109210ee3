"""Test set-up shared by all tests: Qt without a display, private data folders, no network."""

from __future__ import annotations

import os

# Must be set before any Qt import: CI has no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest


@pytest.fixture(autouse=True)
def _private_user_data(tmp_path_factory, monkeypatch):
    """Autosave, audit log and settings of each test go to a throw-away folder, never the user's."""
    data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("DLRS_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(data / "config"))
    yield


# `pytest -m "not slow"` (the README's fast subset) leaves these out: each took 4 s or more on the shared
# 2-core development machine (pytest --durations, 2026-11-28): network training, fresh interpreters.
SLOW = (
    "tests/test_training_e2e.py",
    "tests/test_training_resume.py",
    "tests/test_lean_install.py::test_gui_cli_and_self_test",
    "tests/test_lean_install.py::test_a_feature_without_its_extra_names_the_pip_install_in_one_line[predict-gpu]",
    "tests/test_model_predictor.py::test_cam_shape_and_location",
    "tests/test_model_predictor.py::test_one_backbone_per_region_bundle",
    "tests/test_ui_app.py::test_self_test_runs_without_a_window",
    "tests/test_installer.py::test_self_test_from_source",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
