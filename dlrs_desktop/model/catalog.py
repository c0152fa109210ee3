"""The prediction models shipped with the application: every `resources/models/*` folder whose
manifest is a `dlrs-model-bundle`, read from its manifest only (no weights, no ONNX Runtime).

The workstation's Model menu lists these; a folder that cannot be read (no manifest, another schema
such as the contour assist's, a broken manifest) is left out, never an error. Also the remembered
choice: a bundled model is stored by folder name ("bundled:NAME"), so it survives a reinstall into
another folder; any other bundle by its absolute path. No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrs_desktop import bundle_files as bf
from dlrs_desktop import paths
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.limits import MAX_MANIFEST_BYTES
from dlrs_desktop.model.manifest import manifest_is_demo, validate_manifest
from dlrs_desktop.model.outcome import Outcome
from dlrs_desktop.textsafe import escape_controls

MANIFEST = "manifest.json"
BUNDLED_PREFIX = "bundled:"
MAX_SOURCE_CHARS = 60  # the description's first clause in a menu entry
MAX_CENTRES = 4


@dataclass(frozen=True)
class ModelEntry:
    """One model bundle as its manifest describes it (what a menu entry needs)."""

    folder: Path
    id: str
    version: str
    outcome: str  # the outcome's short name, e.g. "early response", "malignancy"
    synthetic: bool  # trained on synthetic data (training_data.kind is not "real")
    demo: bool
    source: str  # what it was trained on, in words: "demonstration (synthetic data)"

    @property
    def label(self) -> str:
        """E.g. "Malignancy — public breast ultrasound (BUS-BRA, BUSI)"."""
        return f"{self.outcome[:1].upper()}{self.outcome[1:]} — {self.source}"


def read_entry(folder: str | Path) -> ModelEntry:
    """The entry of one bundle folder from its manifest (validated, weights untouched).

    Raises DlrsError (ModelError) for a folder that is not a readable prediction-model bundle.
    """
    root = Path(folder)
    manifest = bf.manifest_json(bf.folder_file(root, MANIFEST, MAX_MANIFEST_BYTES))
    validate_manifest(manifest)
    assert isinstance(manifest, dict)  # validate_manifest refuses anything else
    return entry_from_manifest(manifest, root)


def entry_from_manifest(m: dict[str, Any], folder: Path) -> ModelEntry:
    """The entry of a manifest `validate_manifest` accepted."""
    td = m.get("training_data") if isinstance(m.get("training_data"), dict) else {}
    synthetic = str(td.get("kind", "")).lower() != "real"
    demo = manifest_is_demo(m)
    return ModelEntry(
        folder=folder,
        id=escape_controls(m.get("id", "")),
        version=escape_controls(m.get("version", "")),
        outcome=Outcome.from_manifest(m).short_name,
        synthetic=synthetic,
        demo=demo,
        source=_source(td, synthetic=synthetic, demo=demo),
    )


def _source(td: dict[str, Any], *, synthetic: bool, demo: bool) -> str:
    if demo:
        return "demonstration (synthetic data)" if synthetic else "demonstration"
    if synthetic:
        return "synthetic data"
    words = _first_clause(td.get("description")) or "real data"
    centres = _centres(td)
    return f"{words} ({', '.join(centres)})" if centres else words


def _first_clause(text: Any) -> str:
    """ "Public breast ultrasound, benign vs malignant: …" → "public breast ultrasound"."""
    if not isinstance(text, str):
        return ""
    clause = escape_controls(text.replace(":", ",").split(",")[0].strip())
    if len(clause) > MAX_SOURCE_CHARS:
        clause = clause[:MAX_SOURCE_CHARS].rsplit(" ", 1)[0] + "…"
    if len(clause) > 1 and clause[0].isupper() and clause[1].islower():
        clause = clause[0].lower() + clause[1:]  # "Public …" but not "BUS-BRA …"
    return clause


def _centres(td: dict[str, Any]) -> list[str]:
    """The training split's centres (datasets), else every centre; at most a few names."""
    splits = td.get("splits")
    train = splits.get("train") if isinstance(splits, dict) else None
    names = train.get("centres") if isinstance(train, dict) else None
    if not isinstance(names, list) or not names:
        names = td.get("centres")
    if not isinstance(names, list):
        return []
    out = [escape_controls(n)[:40] for n in names if isinstance(n, str) and n.strip()]
    return out if len(out) <= MAX_CENTRES else [*out[:MAX_CENTRES], f"+{len(out) - MAX_CENTRES} more"]


def bundled_models(root: str | Path | None = None) -> list[ModelEntry]:
    """Every prediction-model bundle under `root` (default `paths.models_dir()`); the demonstration model
    first, then by label. Unreadable folders and other kinds of bundle are skipped."""
    base = Path(root) if root is not None else paths.models_dir()
    try:
        folders = sorted(p for p in base.iterdir() if p.is_dir())
    except OSError:
        return []
    entries: list[ModelEntry] = []
    for folder in folders:
        try:
            entries.append(read_entry(folder))
        except (DlrsError, OSError, ValueError):
            continue  # not a prediction model (the contour assist), or a broken one: not listed
    return sorted(entries, key=lambda e: (not e.demo, e.label.lower(), e.folder.name))


def choice_for(folder: str | Path) -> str:
    """What the preferences remember for a bundle: "bundled:NAME" for a shipped one, else its path."""
    path = Path(folder).absolute()  # a bundled folder may be a link: its name is what is remembered
    try:
        bundled = path.parent.resolve() == paths.models_dir().resolve()
        path = path if bundled else path.resolve()
    except OSError:
        bundled = False
    return f"{BUNDLED_PREFIX}{path.name}" if bundled else str(path)


def resolve_choice(value: str) -> Path | None:
    """The folder a remembered choice names (None: the default, the bundled demonstration model)."""
    value = value.strip()
    if not value:
        return None
    if value.startswith(BUNDLED_PREFIX):
        name = value[len(BUNDLED_PREFIX) :]
        ok = name not in ("", ".", "..") and "/" not in name and "\\" not in name
        return paths.models_dir() / name if ok else None
    return Path(value)
