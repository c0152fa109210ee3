"""The .deb packaging (installer/deb.py) on a stand-in for the PyInstaller folder (too heavy for CI).

The real package is built and installed into a debootstrap'ed Debian root by
`python installer/build.py --deb --test-deb ROOT` (measured in installer/README.md).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "installer"))

import deb  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian/Ubuntu)")

# Behaves like the frozen executable: the CLI when started as `dlrs`, else the workstation's self-test.
STAND_IN = """#!/bin/sh
case "$(basename "$0")" in
  dlrs) test -f "$2" && echo "Probability of early response: 0.500 ($1 $(basename "$2"))" ;;
  *) test "$1" = --self-test && echo "self-test passed (started as $(basename "$0"))" ;;
esac
"""


def _app_folder(tmp_path: Path) -> Path:
    app = tmp_path / "dlrs-desktop"
    samples = app / "_internal" / "resources" / "samples"
    samples.mkdir(parents=True)
    (samples / "demo.dcm").write_bytes(b"\0" * 132 + b"DICM")
    exe = app / "dlrs-desktop"
    exe.write_text(STAND_IN)
    exe.chmod(0o755)
    (app / "THIRD_PARTY_LICENSES").mkdir()
    (app / "NOTICE.md").write_text("LGPL components\n")
    return app


def _dpkg_deb(option: str, package: Path) -> str:
    result = subprocess.run(["dpkg-deb", option, str(package)], capture_output=True, text=True, check=True)
    return result.stdout


def test_deb_layout_commands_desktop_entry_and_icon(tmp_path):
    package = deb.build_deb(_app_folder(tmp_path), tmp_path / "out", "0.1.0", compress="gzip")
    assert package.name == f"dlrs-desktop_0.1.0_{deb.deb_architecture()}.deb"
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(package)], capture_output=True, text=True, check=True
    ).stdout
    assert "./opt/dlrs-desktop/dlrs-desktop" in listing and "./opt/dlrs-desktop/NOTICE.md" in listing
    assert "./usr/bin/dlrs-desktop -> ../../opt/dlrs-desktop/dlrs-desktop" in listing
    assert "./usr/bin/dlrs -> ../../opt/dlrs-desktop/dlrs-desktop" in listing
    assert "./usr/share/applications/dlrs-desktop.desktop" in listing
    assert "./usr/share/icons/hicolor/256x256/apps/dlrs-desktop.png" in listing
    assert "root/root" in listing and "-rwxr-xr-x" in listing
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(package)], capture_output=True, text=True, check=True
    ).stdout
    assert "Package: dlrs-desktop" in fields and "Depends: libc6" in fields and "research use" in fields


def test_installed_into_a_clean_root_both_commands_run(tmp_path, capsys):
    package = deb.build_deb(_app_folder(tmp_path), tmp_path / "out", "0.1.0", compress="gzip")
    assert deb.install_and_self_test(package) == 0  # dpkg -x into a temporary root
    out = capsys.readouterr().out
    assert "self-test passed (started as dlrs-desktop)" in out
    assert "Probability of early response: 0.500 (predict demo.dcm)" in out


def test_a_failing_self_test_fails_the_install_test(tmp_path):
    app = _app_folder(tmp_path)
    (app / "dlrs-desktop").write_text("#!/bin/sh\necho 'self-test FAILED: model missing'\nexit 3\n")
    package = deb.build_deb(app, tmp_path / "out", "0.1.0", compress="gzip")
    assert deb.install_and_self_test(package) != 0
