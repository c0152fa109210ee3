"""The Linux package: the one-folder build as a .deb, and its install test in a clean Debian root.

Layout: the build under /opt/dlrs-desktop, /usr/bin/dlrs-desktop and /usr/bin/dlrs as relative links
to its executable (which is the command line when started as `dlrs`), the desktop entry and the icon.
`install_and_self_test` installs the package into a clean root — a debootstrap'ed Debian chroot
(`apt-get install ./pkg.deb`, which also installs the declared dependencies) when one is given, else
`dpkg -x` into a temporary folder — and runs `dlrs-desktop --self-test` and `dlrs predict` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "dlrs-desktop"
PREFIX = Path("opt") / PACKAGE
# System libraries the frozen app loads that PyInstaller does not bundle (glibc; Qt's xcb platform,
# OpenGL/EGL, fonts, D-Bus). Debian 12 names; the offscreen self-test needs only libc6.
DEPENDS = (
    "libc6 (>= 2.34), libstdc++6, zlib1g, libfontconfig1, libfreetype6, libglib2.0-0, libdbus-1-3, "
    "libegl1, libgl1, libopengl0, libxkbcommon0, libxkbcommon-x11-0, libx11-xcb1, libxcb1, "
    "libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-randr0, libxcb-render-util0, "
    "libxcb-image0, libxcb-xkb1, libxcb-xinerama0"
)


def deb_architecture() -> str:
    out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _folder_kib(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) // 1024 + 1


def build_deb(app_dir: Path, out_dir: Path, version: str, *, compress: str = "xz", level: int = 1) -> Path:
    """Package `app_dir` (a one-folder build whose executable is `dlrs-desktop`) as a .deb in `out_dir`."""
    if not (app_dir / PACKAGE).is_file():
        raise FileNotFoundError(f"{app_dir / PACKAGE} is missing: build the folder first")
    arch = deb_architecture()
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{PACKAGE}_{version}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="dlrs-deb-") as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(app_dir, root / PREFIX, symlinks=True)
        bin_dir = root / "usr" / "bin"
        bin_dir.mkdir(parents=True)
        for name in ("dlrs-desktop", "dlrs"):  # relative: valid in a chroot and under `dpkg -x`
            (bin_dir / name).symlink_to(Path("..") / ".." / PREFIX / PACKAGE)
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        shutil.copyfile(ROOT / "installer" / "linux" / "dlrs-desktop.desktop", apps / "dlrs-desktop.desktop")
        icons = root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
        icons.mkdir(parents=True)
        shutil.copyfile(ROOT / "resources" / "icons" / "dlrs-desktop.png", icons / "dlrs-desktop.png")
        doc = root / "usr" / "share" / "doc" / PACKAGE
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(
            "DLRS Desktop: MIT licence (below). Third-party components: /opt/dlrs-desktop/"
            "THIRD_PARTY_LICENSES/ and the LGPL notice /opt/dlrs-desktop/NOTICE.md.\n\n"
            + (ROOT / "LICENSE").read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        control = root / "DEBIAN"
        control.mkdir()
        (control / "control").write_text(
            f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: {arch}\nSection: science\n"
            f"Priority: optional\nMaintainer: DLRS Desktop developers <dlrs-desktop@localhost>\n"
            f"Installed-Size: {_folder_kib(root)}\nDepends: {DEPENDS}\n"
            "Description: breast ultrasound response prediction workstation (research use only)\n"
            " Predicts early response to neoadjuvant chemotherapy from one breast ultrasound image with\n"
            " a demonstration model trained on synthetic data. Not a diagnosis. Commands: dlrs-desktop\n"
            " (the workstation; --self-test for IT) and dlrs (the command line).\n",
            encoding="utf-8",
        )
        postinst = control / "postinst"
        postinst.write_text(
            "#!/bin/sh\nset -e\n"
            "if command -v update-desktop-database >/dev/null; then update-desktop-database -q || true; fi\n"
            "if command -v gtk-update-icon-cache >/dev/null; then "
            "gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true; fi\n",
            encoding="utf-8",
        )
        postinst.chmod(0o755)
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        # xz level 1: every dpkg reads xz; the default level 6 had not finished after 7 min on the busy
        # 2-core build machine
        cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compress}", f"-z{level}"]
        cmd += ["--build", str(root), str(deb)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return deb


def _run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    print(f"$ {' '.join(cmd)}  -> exit {result.returncode}")
    print((result.stdout + result.stderr).rstrip())
    return result


def install_and_self_test(deb: Path, chroot_base: Path | None = None) -> int:
    """Install `deb` into a clean root and run the self-test and a prediction there; 0 when both pass.

    chroot_base: a clean Debian root made by `debootstrap --variant=minbase` (copied, never changed);
    without one (or without root rights), the package is unpacked with `dpkg -x` into a temporary root.
    """
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
    }
    with tempfile.TemporaryDirectory(prefix="dlrs-deb-root-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "root"
        chroot = shutil.which("chroot") or shutil.which("chroot", path="/usr/sbin:/sbin")
        if chroot_base is not None and os.geteuid() == 0 and chroot:
            subprocess.run(["cp", "-a", str(chroot_base), str(root)], check=True)
            proc = root / "proc"
            mounted = subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=False).returncode == 0
            try:  # /proc: ONNX Runtime reads the CPU's features there
                return _install_and_run(deb, root, [chroot, str(root)], env, f"chroot of {chroot_base}")
            finally:
                if mounted:
                    subprocess.run(["umount", str(proc)], check=True)
        return _install_and_run(deb, root, [], env, "dpkg -x into a temporary root")


def _install_and_run(deb: Path, root: Path, prefix: list[str], env: dict[str, str], how: str) -> int:
    t0 = time.perf_counter()
    if prefix:  # a real installation: apt-get also installs the declared dependencies
        shutil.copyfile(deb, root / "tmp" / deb.name)
        shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf")
        install = _run([*prefix, "apt-get", "install", "-y", "-q", f"/tmp/{deb.name}"], env)
        inside = Path("/")
    else:
        install = _run(["dpkg", "-x", str(deb), str(root)])
        inside = root
    install_s = time.perf_counter() - t0
    if install.returncode != 0:
        return install.returncode
    expected = [
        "usr/bin/dlrs-desktop",
        "usr/bin/dlrs",
        "usr/share/applications/dlrs-desktop.desktop",
        "usr/share/icons/hicolor/256x256/apps/dlrs-desktop.png",
        f"{PREFIX}/{PACKAGE}",
    ]
    missing = [p for p in expected if not (root / p).exists()]
    print("installed:", ", ".join(f"/{p}" for p in expected if p not in missing), "; missing:", missing)
    t0 = time.perf_counter()
    test = _run([*prefix, str(inside / "usr/bin/dlrs-desktop"), "--self-test"], env)
    self_test_s = time.perf_counter() - t0
    sample = inside / PREFIX / "_internal" / "resources" / "samples" / "demo.dcm"
    predict = _run([*prefix, str(inside / "usr/bin/dlrs"), "predict", str(sample)], env)
    print(
        f"install ({how}): {install_s:.1f} s; self-test {self_test_s:.2f} s wall; "
        f"self-test exit {test.returncode}; dlrs predict exit {predict.returncode}"
    )
    ok = not missing and test.returncode == 0 and "self-test passed" in test.stdout
    return 0 if ok and predict.returncode == 0 and "Probability of early response" in predict.stdout else 1


if __name__ == "__main__":
    import sys

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python installer/deb.py PACKAGE.deb [DEBOOTSTRAP_ROOT]  (install + self-test)")
    sys.exit(install_and_self_test(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else None))
