"""Where bundled resources live: in the source tree, or beside a frozen build.

One place decides, so the GUI, the CLI, the tests and the installer agree.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder (bundled model, sample images, icons)."""
    env = os.environ.get("DLRS_RESOURCES")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    source = Path(__file__).resolve().parent.parent / "resources"
    installed = Path(sys.prefix) / "share" / "dlrs-desktop" / "resources"  # a wheel's data files
    return installed if not source.is_dir() and installed.is_dir() else source


def models_dir() -> Path:
    """The bundled model folders (prediction models and the contour assist; model/catalog.py lists them)."""
    return resources_dir() / "models"


def bundled_model_dir() -> Path:
    """The demonstration model shipped with the application."""
    return models_dir() / "dlrs-demo"


def samples_dir() -> Path:
    return resources_dir() / "samples"


def user_data_dir() -> Path:
    """Per-user writable folder (autosave recovery, audit log); never beside the images' source."""
    env = os.environ.get("DLRS_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", base)
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    return Path(base) / "dlrs-desktop"
