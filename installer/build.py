"""Build the standalone one-folder application: `python installer/build.py [--check] [--deb]`.

Prints the build time and the size of the built folder, adds LICENSE, NOTICE.md and
THIRD_PARTY_LICENSES/ (failing when a shipped distribution has no licence file), then runs the frozen
`--self-test`. `--deb` also packages the folder as a .deb (installer/deb.py); `--test-deb` installs
that package into a clean root and self-tests it there. `--check` only verifies that every file the
spec and the packaging scripts reference exists (what CI tests; the build itself is too heavy for CI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "installer"))

import deb  # noqa: E402  (installer/ is not a package)
from third_party import unlicensed_in_folder  # noqa: E402

SPEC = ROOT / "installer" / "dlrs-desktop.spec"
DIST = ROOT / "dist"
APP_DIR = DIST / "dlrs-desktop"

# Everything the build and the platform packaging files rely on.
REQUIRED_FILES = [
    SPEC,
    ROOT / "installer" / "entry.py",
    ROOT / "installer" / "third_party.py",
    ROOT / "installer" / "deb.py",
    ROOT / "installer" / "NOTICE.md",
    ROOT / "installer" / "licenses" / "SOURCE.md",
    ROOT / "LICENSE",
    ROOT / "installer" / "linux" / "dlrs-desktop.desktop",
    ROOT / "installer" / "windows" / "dlrs-desktop.iss",
    ROOT / "installer" / "macos" / "README.md",
    ROOT / "resources" / "icons" / "dlrs-desktop.png",
    ROOT / "resources" / "models" / "dlrs-demo" / "manifest.json",
    ROOT / "resources" / "models" / "dlrs-assist" / "manifest.json",
    ROOT / "resources" / "samples" / "demo.dcm",
    ROOT / "resources" / "samples" / "demo.contour.json",
]


def missing_files() -> list[Path]:
    return [p for p in REQUIRED_FILES if not p.exists()]


def folder_size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1e6


LICENCES_STAGED = ROOT / "build" / "pyinstaller" / "THIRD_PARTY_LICENSES"  # written by the spec


def add_licences(app_dir: Path, staged: Path = LICENCES_STAGED) -> list[str]:
    """Copy LICENSE, NOTICE.md and the staged THIRD_PARTY_LICENSES/ into the built folder.

    Returns the distributions present in the folder but missing from its licence index (must be []).
    """
    if not (staged / "index.json").is_file():
        raise FileNotFoundError(f"{staged} was not written by the spec")
    target = app_dir / "THIRD_PARTY_LICENSES"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(staged, target)
    shutil.copyfile(ROOT / "LICENSE", app_dir / "LICENSE")
    shutil.copyfile(ROOT / "installer" / "NOTICE.md", app_dir / "NOTICE.md")
    return unlicensed_in_folder(app_dir)


def project_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check the referenced files exist")
    parser.add_argument(
        "--deb", action="store_true", help="also build dist/dlrs-desktop_<version>_<arch>.deb"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="package the existing dist/dlrs-desktop instead of rebuilding it"
    )
    parser.add_argument(
        "--test-deb",
        nargs="?",
        const="",
        metavar="DEBOOTSTRAP_ROOT",
        help="install the .deb into a copy of this clean Debian root (chroot) and self-test it there;"
        " without a root: dpkg -x into a temporary folder",
    )
    args = parser.parse_args(argv)
    missing = missing_files()
    if missing:
        for p in missing:
            print(f"missing: {p.relative_to(ROOT)}", file=sys.stderr)
        return 2
    if args.check:
        print(f"ok: {len(REQUIRED_FILES)} referenced files exist")
        return 0

    if not args.reuse:
        rc = build_folder()
        if rc != 0:
            return rc
    if args.deb or args.test_deb is not None:
        t0 = time.perf_counter()
        package = deb.build_deb(APP_DIR, DIST, project_version())
        print(f"deb: {package} ({package.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s")
        if args.test_deb is not None:
            return deb.install_and_self_test(package, Path(args.test_deb) if args.test_deb else None)
    return 0


def build_folder() -> int:
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
    unlicensed = add_licences(APP_DIR)
    if unlicensed:
        print(
            f"error: no licence entry for shipped distribution(s): {', '.join(unlicensed)}", file=sys.stderr
        )
        return 2
    index = json.loads((APP_DIR / "THIRD_PARTY_LICENSES" / "index.json").read_text(encoding="utf-8"))
    n = len(index["distributions"])
    exe = APP_DIR / ("dlrs-desktop.exe" if os.name == "nt" else "dlrs-desktop")
    print(f"build time: {build_s:.0f} s")
    print(f"built folder: {APP_DIR} ({folder_size_mb(APP_DIR):.0f} MB); THIRD_PARTY_LICENSES: {n} entries")

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    t0 = time.perf_counter()
    result = subprocess.run([str(exe), "--self-test"], env=env, cwd="/", check=False)
    print(f"self-test: exit {result.returncode} in {time.perf_counter() - t0:.2f} s")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
