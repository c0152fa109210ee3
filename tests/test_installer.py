"""The installer build is too heavy for CI; these check what it relies on, and the self-test from source."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("installer_build", ROOT / "installer" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def test_every_file_the_build_references_exists():
    assert build.missing_files() == []
    assert build.main(["--check"]) == 0


def test_spec_paths_and_entry_point_exist():
    spec = (ROOT / "installer" / "dlrs-desktop.spec").read_text()
    for rel in re.findall(r'ROOT / "([^"]+)" / "([^"]+)"', spec):
        assert (ROOT.joinpath(*rel)).exists(), rel
    # The standard build leaves torch out: the CPU path runs on ONNX Runtime.
    assert '"torch"' in spec and '"torchvision"' in spec


def test_desktop_entry_points_at_the_app_and_icon():
    entry = (ROOT / "installer" / "linux" / "dlrs-desktop.desktop").read_text()
    assert re.search(r"^Exec=.*dlrs-desktop", entry, re.M)
    assert re.search(r"^Icon=dlrs-desktop$", entry, re.M)


def test_self_test_from_source_passes_without_display_or_torch():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    code = "import sys; from dlrs_desktop.ui.app import main; rc = main(['--self-test']); sys.exit(rc)"
    cmd = [sys.executable, "-c", code]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert "torch imported: False" in result.stdout
    assert re.search(r"probability of early response 0\.\d{3}", result.stdout)
