"""Build the standalone one-folder application: `python installer/build.py [--check]`.

Prints the build time and the size of the built folder, then runs the frozen `--self-test`.
`--check` only verifies that every file the spec and the packaging scripts reference exists
(what CI tests; the build itself is too heavy for CI).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "installer" / "dlrs-desktop.spec"
DIST = ROOT / "dist"
APP_DIR = DIST / "dlrs-desktop"

# Everything the build and the platform packaging files rely on.
REQUIRED_FILES = [
    SPEC,
    ROOT / "installer" / "entry.py",
    ROOT / "installer" / "linux" / "dlrs-desktop.desktop",
    ROOT / "installer" / "windows" / "dlrs-desktop.iss",
    ROOT / "installer" / "macos" / "README.md",
    ROOT / "resources" / "icons" / "dlrs-desktop.png",
    ROOT / "resources" / "models" / "dlrs-demo" / "manifest.json",
    ROOT / "resources" / "samples" / "demo.dcm",
    ROOT / "resources" / "samples" / "demo.contour.json",
]


def missing_files() -> list[Path]:
    return [p for p in REQUIRED_FILES if not p.exists()]


def folder_size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check the referenced files exist")
    args = parser.parse_args(argv)
    missing = missing_files()
    if missing:
        for p in missing:
            print(f"missing: {p.relative_to(ROOT)}", file=sys.stderr)
        return 2
    if args.check:
        print(f"ok: {len(REQUIRED_FILES)} referenced files exist")
        return 0

    t0 = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--distpath",
        str(DIST),
        "--workpath",
        str(ROOT / "build" / "pyinstaller"),
        str(SPEC),
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    build_s = time.perf_counter() - t0
    exe = APP_DIR / ("dlrs-desktop.exe" if os.name == "nt" else "dlrs-desktop")
    print(f"build time: {build_s:.0f} s")
    print(f"built folder: {APP_DIR} ({folder_size_mb(APP_DIR):.0f} MB)")

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    t0 = time.perf_counter()
    result = subprocess.run([str(exe), "--self-test"], env=env, cwd="/", check=False)
    print(f"self-test: exit {result.returncode} in {time.perf_counter() - t0:.2f} s")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
