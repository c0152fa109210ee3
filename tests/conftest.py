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


@pytest.fixture(scope="module", autouse=True)
def _free_module_scratch(request, tmp_path_factory):
    """A module's scratch folders (its module fixtures' and each test's user data) go once all its tests
    passed. pytest keeps them to the end of the run otherwise: a full run held 6.4 GB at once
    (2026-12-05), and a CI machine with less free disk died "No space left on device". A failed test
    keeps its module's folders for the post-mortem."""
    base = tmp_path_factory.getbasetemp()
    before = set(base.iterdir())
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:
        for folder in set(base.iterdir()) - before:
            shutil.rmtree(folder, ignore_errors=True)


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


# `pytest -m "not slow"` (the README's fast subset) leaves these out: each took 4 s or more (setup and
# call) on the shared 2-core development machine, `pytest --durations=120` over the whole suite on
# 2026-12-05 (under load: the numbers are that run's): network training, federated rounds, radiomics fits,
# fresh interpreters, a kill -9 loop, large streams. A module is listed whole where its module fixture
# is the cost (every test in it would pay it otherwise).
SLOW = (
    "tests/test_training_e2e.py",  # module fixture: a trained bundle (39 s), then restacks and resumes
    "tests/test_training_resume.py",
    "tests/test_training_distil.py",  # module fixture: a tiny ensemble and its student (59 s)
    "tests/test_fuzz_inputs.py",  # module fixture: the fuzz corpus
    "tests/test_federated_plan.py",  # module fixture: a simulated federation (23 s), then 20-39 s a test
    "tests/test_federated_report.py",  # module fixture: a federated bundle and its report (24 s)
    "tests/test_model_int8.py",  # training with the int8 step (66 s)
    "tests/test_domain_texture.py",  # module fixture: a bundle with a texture reference
    "tests/test_federated_e2e.py",  # 108 s: two hospitals and a poisoned one over TLS
    "tests/test_honesty.py::test_the_external_split_never_influences_training_or_selection",  # 72 s
    "tests/test_ui_persistence_kill.py::test_kill_9_while_saving_loses_nothing_acknowledged",  # 59 s
    "tests/test_training_centre_folds.py::test_dlrs_train_on_centre_folds_calibrates",  # 53 s
    "tests/test_federated_radiomics.py::test_simulate_with_radiomics_ships_signatures_that_predict",  # 42 s
    "tests/test_model_domain.py::test_dlrs_train_writes_the_reference_into_every_new_bundle",  # 34 s
    "tests/test_model_domain.py::test_reference_from_train_thresholds_from_internal_and_never_the_external",
    "tests/test_federated_domain.py::test_federated_reference_matches_the_pooled_fit",  # 20 s
    "tests/test_metrics_reports.py::test_committed_report_numbers_are_recomputed_exactly",  # 19 s in all
    "tests/test_federated_transport.py::test_a_site_past_the_deadline_is_dropped_then_answers_again",  # 8 s
    "tests/test_federated_transport.py::test_a_client_without_tls_never_reaches_the_tls_server",  # 5 s
    "tests/test_dicom_export_safety.py::test_send_refuses_a_deflate_bomb_without_reading_it_whole",  # 6 s
    "tests/test_dicom_export_safety.py::test_a_pacs_that_never_answers_a_c_store",  # 6 s
    "tests/test_store_image_identity.py::test_pixels_and_hash_come_from_the_same_bytes_while_the_file",  # 6 s
    "tests/test_dicom_receiver.py::test_a_600_mb_dataset_streams_to_disk",  # 6 s
    "tests/test_model_radiomics.py::test_signatures_are_fitted_out_of_fold_and_stored_as_numbers",  # 6 s
    "tests/test_model_predictor.py::test_ensemble_bundle_runs_on_both_backends",  # 6 s
    "tests/test_label_ceiling.py::test_command_line_prints_the_table",  # 4 s
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
