"""Why a model bundle is refused (model/bundle.py, manifest.py, bundle_files.py), marked for translation:
the GUI's "Model not available: …" shows the reason in its language (`ui.i18n.core_text`). The checks of
single manifest fields stay in English: they are for whoever exported the bundle, not for the reader."""

from __future__ import annotations

from dlrs_desktop.wording import QT_TRANSLATE_NOOP

PICKLE = QT_TRANSLATE_NOOP(
    "core",
    "'{name}' is a pickle-based checkpoint; DLRS Desktop never loads pickle files (they can run arbitrary "
    "code). Export the model as a bundle (safetensors + manifest.json) with the bundle writer.",
)
NO_FILE = QT_TRANSLATE_NOOP("core", "The model bundle has no file '{name}'.")
HEADS_TENSOR = QT_TRANSLATE_NOOP("core", "The heads file lacks the tensor {tensor}.")
HEADS_SHAPES = QT_TRANSLATE_NOOP("core", "The head tensors have shapes {w}/{b}, expected ({r}, {k})/({r},).")
LISTED_MISSING = QT_TRANSLATE_NOOP(
    "core", "The model bundle is incomplete: file '{name}' listed in the manifest is missing."
)
NO_MANIFEST = QT_TRANSLATE_NOOP("core", "'{root}' is not a model bundle: it has no {manifest}.")
ZIP_UNREADABLE = QT_TRANSLATE_NOOP("core", "'{name}' is not a readable model bundle zip ({detail}).")
ZIP_UNSAFE_PATH = QT_TRANSLATE_NOOP("core", "'{name}' holds an unsafe path {path}; refusing it.")
DEMO_NOT_INSTALLED = QT_TRANSLATE_NOOP(
    "core",
    "The bundled demonstration model is not installed (expected in {root}); pass a model bundle with "
    "--model.",
)
NOTHING_THERE = QT_TRANSLATE_NOOP("core", "No model bundle at '{root}'.")
NOT_FOLDER_OR_ZIP = QT_TRANSLATE_NOOP("core", "'{name}' is not a model bundle (expected a folder or a .zip).")
# manifest.json as a whole
NOT_AN_OBJECT = QT_TRANSLATE_NOOP("core", "manifest.json must hold a JSON object.")
OTHER_SCHEMA = QT_TRANSLATE_NOOP(
    "core", "manifest.json is not a DLRS model bundle (field 'schema' must be {schema})."
)
UNKNOWN_VERSION = QT_TRANSLATE_NOOP(
    "core",
    "Unknown bundle schema version {version} (this version of DLRS Desktop reads {supported}); update "
    "the application or re-export the model.",
)
