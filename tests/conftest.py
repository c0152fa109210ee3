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
