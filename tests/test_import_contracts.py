"""The architecture's import contracts (pyproject.toml [tool.importlinter]) hold, and they can fail.

`lint-imports` (import-linter) checks layers, "only ui imports Qt", "roi never imports model" and
"no cycles between siblings at any depth" over every import, also those inside functions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the package in `root` (its own pyproject.toml), uncached."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    return subprocess.run(
        [*cmd, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_contract_is_kept():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_contracts_cover_every_top_level_package():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")
    named = {m.strip() for layer in layers["layers"] for m in layer.replace(":", "|").split("|")}
    children = {
        p.stem for p in (ROOT / "dlrs_desktop").iterdir() if p.suffix == ".py" and p.stem != "__init__"
    }
    children |= {p.name for p in (ROOT / "dlrs_desktop").iterdir() if (p / "__init__.py").is_file()}
    assert named == children


def test_roi_importing_model_breaks_the_contracts(tmp_path):
    shutil.copytree(
        ROOT / "dlrs_desktop", tmp_path / "dlrs_desktop", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    victim = tmp_path / "dlrs_desktop" / "roi" / "measure.py"
    if not victim.is_file():
        victim = next((tmp_path / "dlrs_desktop" / "roi").glob("[a-z]*.py"))
    victim.write_text(victim.read_text() + "\nimport dlrs_desktop.model  # noqa: E402\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "roi never imports model" in run.stdout and "BROKEN" in run.stdout
