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


IMPORT = ("import ", "from ")


def unexplained_lazy_imports(package: Path) -> list[str]:
    """In-function imports without a `# lazy: <reason>` comment on or just above their block."""
    import ast

    found = []
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                i = node.lineno - 1
                # walk up the block of imports this one belongs to
                while i >= 0 and "# lazy:" not in lines[i] and lines[i].lstrip().startswith(IMPORT):
                    i -= 1
                if i < 0 or "# lazy:" not in lines[i]:
                    found.append(f"{path.relative_to(package)}:{node.lineno}")
    return sorted(set(found))


def test_every_in_function_import_says_why_it_is_lazy():
    assert unexplained_lazy_imports(ROOT / "dlrs_desktop") == []


def test_an_unexplained_in_function_import_is_found(tmp_path):
    (tmp_path / "roi").mkdir()
    (tmp_path / "roi" / "m.py").write_text(
        "def f():\n    # lazy: cv2 is slow\n    import cv2\n    import os\n\n\ndef g():\n    import json\n"
    )
    assert unexplained_lazy_imports(tmp_path) == ["roi/m.py:8"]


def missing_package_names(scripts: list[Path]) -> list[str]:
    """`script:line module.name` for every name a script imports from dlrs_desktop that does not exist.

    The benchmarks import inside `main()`, where a renamed function only fails when someone runs them
    (a data card's rebuild script stopped on one): this finds it without running them.
    """
    import ast
    import importlib

    found = []
    for path in scripts:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlrs_desktop")):
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    continue
                try:
                    importlib.import_module(f"{node.module}.{alias.name}")
                except ImportError:
                    found.append(f"{path.name}:{node.lineno} {node.module}.{alias.name}")
    return found


def test_every_package_name_a_benchmark_or_docs_script_imports_exists():
    scripts = sorted((ROOT / "benchmarks").glob("*.py")) + sorted((ROOT / "docs").rglob("*.py"))
    assert len(scripts) > 20
    assert missing_package_names(scripts) == []


def test_a_renamed_function_imported_by_a_script_is_found(tmp_path):
    script = tmp_path / "bench.py"
    script.write_text("def main():\n    from dlrs_desktop.training.radiomics_fit import _fit\n")
    assert missing_package_names([script]) == ["bench.py:2 dlrs_desktop.training.radiomics_fit._fit"]
