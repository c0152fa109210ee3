"""Third-party licences of the standalone build: which distributions ship, and their licence files.

The PyInstaller spec hands every file it collects (source path) to `collect`, which maps each file to
the installed distribution that owns it (its RECORD), copies that distribution's licence files into
`THIRD_PARTY_LICENSES/<name>-<version>/` and writes an index. A shipped distribution without any
licence file stops the build (`MissingLicenceError`) instead of shipping without its notice. Files no
distribution owns are CPython's (its LICENSE is added) or system libraries PyInstaller copied (listed
with their Debian package and its copyright file where dpkg knows them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from importlib.metadata import Distribution, distributions
from pathlib import Path

HERE = Path(__file__).resolve().parent
FALLBACK_DIR = HERE / "licenses"
# Distributions whose wheels carry no licence file at all (see installer/licenses/SOURCE.md).
FALLBACKS = {
    "pyside6-essentials": "LGPL-3.0-only",
    "shiboken6": "LGPL-3.0-only",
    "flatbuffers": "Apache-2.0",
    "pyjpegls": "pyjpegls",  # highdicom's JPEG-LS codec: its own MIT text and CharLS's BSD-3-Clause
}
LICENCE_NAME = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS|ThirdPartyNotices)", re.IGNORECASE)
OUR_PROJECT = "dlrs-desktop"


class MissingLicenceError(RuntimeError):
    """A shipped distribution has no licence file: the build must not go on."""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def owner_index(dists: Iterable[Distribution] | None = None) -> dict[Path, Distribution]:
    """Every installed file (resolved path) → the distribution whose RECORD lists it."""
    index: dict[Path, Distribution] = {}
    for dist in dists if dists is not None else distributions():
        base = Path(dist.locate_file("")).resolve()  # resolving each of ~10^5 files would take a minute
        for f in dist.files or []:
            index[Path(os.path.normpath(base / f))] = dist
    return index


def shipped_distributions(
    sources: Iterable[str | Path], index: dict[Path, Distribution] | None = None
) -> tuple[dict[str, Distribution], list[Path]]:
    """(normalised name → distribution) owning any of `sources`, and the sources nobody owns."""
    index = owner_index() if index is None else index
    found: dict[str, Distribution] = {}
    unowned: list[Path] = []
    for src in sources:
        path = Path(src).resolve()
        dist = index.get(path)
        if dist is not None:
            found.setdefault(normalise(dist.metadata["Name"]), dist)
        elif path.is_file():
            unowned.append(path)
    found.pop(OUR_PROJECT, None)  # our own code: LICENSE at the top of the folder
    return found, unowned


def runtime_closure(roots: Iterable[str]) -> dict[str, Distribution]:
    """The installed distributions that the requirement strings `roots` pull in, without extras."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    seen: dict[str, Distribution] = {}
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = normalise(req.name)
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # a platform-specific requirement not installed here
        seen[name] = dist
        todo += [Requirement(text) for text in dist.requires or []]
    seen.pop(OUR_PROJECT, None)
    return seen


def licence_files(dist: Distribution) -> list[Path]:
    """The distribution's licence files: dist-info first, then beside its code, then our fallback texts."""
    files = [Path(dist.locate_file(f)) for f in dist.files or []]
    in_info = [
        p
        for p in files
        if any(part.endswith(".dist-info") for part in p.parts)
        and (LICENCE_NAME.match(p.name) or "licenses" in p.parts)
        and p.is_file()
    ]
    if in_info:
        return in_info
    beside = [
        p
        for p in files
        if LICENCE_NAME.match(p.name) and p.is_file() and not any(x.endswith(".dist-info") for x in p.parts)
    ]
    if beside:
        return beside
    fallback = FALLBACKS.get(normalise(dist.metadata["Name"]))
    if fallback:
        return sorted(p for p in (FALLBACK_DIR / fallback).iterdir() if p.is_file())
    return []


def _declared_licence(dist: Distribution) -> str:
    m = dist.metadata
    text = m.get("License-Expression") or m.get("License") or ""
    if not text or len(text) > 80:  # some put the whole licence text in `License`
        classifiers = [c.split("::")[-1].strip() for c in m.get_all("Classifier") or [] if "License ::" in c]
        text = ", ".join(classifiers) or (text.splitlines()[0][:80] if text else "see files")
    return text


def _target_name(dist: Distribution, path: Path) -> str:
    """A unique file name for one licence file: its path inside the dist-info (or the install), flattened."""
    if path.is_relative_to(FALLBACK_DIR):
        return path.name
    info = next((p for p in path.parents if p.name.endswith(".dist-info")), None)
    base = info or Path(dist.locate_file("")).resolve()
    rel = path.resolve().relative_to(base) if path.resolve().is_relative_to(base) else Path(path.name)
    return str(rel).replace("/", "__")


def _dpkg_owner(path: Path) -> str | None:
    if not shutil.which("dpkg"):
        return None
    candidates = []
    for p in (path, path.resolve()):  # merged /usr: dpkg may know /lib/... or /usr/lib/...
        text = str(p)
        candidates += [text, text[4:] if text.startswith("/usr/") else "/usr" + text]
    for candidate in dict.fromkeys(candidates):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if out.returncode == 0 and ":" in out.stdout:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def collect(sources: Iterable[str | Path], out: Path, index: dict[Path, Distribution] | None = None) -> dict:
    """Write THIRD_PARTY_LICENSES into `out` for the distributions owning `sources`; returns the index.

    Raises MissingLicenceError naming every shipped distribution without a licence file.
    """
    sources = list(sources)
    dists, unowned = shipped_distributions(sources, index)
    missing = [d.metadata["Name"] for d in dists.values() if not licence_files(d)]
    if missing:
        raise MissingLicenceError(
            "no licence file for shipped distribution(s): "
            + ", ".join(sorted(missing))
            + " (add its text under installer/licenses/ and to FALLBACKS, with its source)"
        )
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entries = []
    for key in sorted(dists):
        dist = dists[key]
        folder = out / f"{dist.metadata['Name']}-{dist.version}"
        folder.mkdir()
        names = []
        files = licence_files(dist)
        for src in files:
            dest = folder / _target_name(dist, src)
            shutil.copyfile(src, dest)
            names.append(dest.name)
        source = (
            "installer/licenses/SOURCE.md" if files[0].is_relative_to(FALLBACK_DIR) else "the distribution"
        )
        entries.append(
            {
                "name": dist.metadata["Name"],
                "key": key,
                "version": dist.version,
                "licence": _declared_licence(dist),
                "folder": folder.name,
                "files": names,
                "texts_from": source,
            }
        )
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    python_licence = stdlib / "LICENSE.txt"
    if python_licence.is_file():
        folder = out / f"Python-{sys.version.split()[0]}"
        folder.mkdir()
        shutil.copyfile(python_licence, folder / "LICENSE.txt")
        entries.append(
            {
                "name": "Python",
                "key": "python",
                "version": sys.version.split()[0],
                "licence": "PSF-2.0",
                "folder": folder.name,
                "files": ["LICENSE.txt"],
            }
        )
    system = _system_libraries(unowned, stdlib, out)
    index_data = {"distributions": entries, "system_libraries": system}
    (out / "index.json").write_text(json.dumps(index_data, indent=2) + "\n", encoding="utf-8")
    lines = ["Third-party software shipped in this folder, with the licence files each one ships.", ""]
    lines += [
        f"{e['name']} {e['version']}: {e['licence']} -> {e['folder']}/"
        + (
            " (texts chosen by its metadata: the wheel has none)"
            if e.get("texts_from", "").startswith("installer")
            else ""
        )
        for e in entries
    ]
    if system:
        lines += ["", "Shared libraries PyInstaller copied from the build machine (Debian package or origin;"]
        lines += ["the package's copyright file is in debian/<package>/copyright):"]
        lines += [f"{s['file']}: {s['from']}" for s in system]
    (out / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index_data


def _system_libraries(unowned: list[Path], stdlib: Path, out: Path) -> list[dict]:
    """Shared libraries outside any distribution: CPython's own, or a Debian package's (copyright copied)."""
    libs = []
    for path in sorted(set(unowned)):
        if ".so" not in path.name and path.suffix not in (".dll", ".dylib"):
            continue  # stdlib modules and our own sources
        if path.is_relative_to(stdlib):
            continue  # CPython extension modules: the Python licence
        package = _dpkg_owner(path)
        origin = package or ("the Python build" if path.is_relative_to(sys.base_prefix) else str(path.parent))
        if package:
            copyright_file = Path("/usr/share/doc") / package / "copyright"
            if copyright_file.is_file():
                folder = out / "debian" / package
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(copyright_file, folder / "copyright")
        libs.append({"file": path.name, "package": package, "from": origin})
    return libs


def unlicensed_in_folder(app_dir: Path) -> list[str]:
    """Installed distributions whose top-level packages are in a built folder but not in its index.

    An independent check of `collect` after the build: it looks at what actually landed in the
    folder (package directories, extension modules, copied dist-info), not at PyInstaller's lists.
    """
    from importlib.metadata import packages_distributions

    licences = app_dir / "THIRD_PARTY_LICENSES" / "index.json"
    listed = set()
    if licences.is_file():
        listed = {e["key"] for e in json.loads(licences.read_text(encoding="utf-8"))["distributions"]}
    internal = app_dir / "_internal" if (app_dir / "_internal").is_dir() else app_dir
    owners = packages_distributions()
    present: set[str] = set()
    for entry in internal.iterdir():
        if entry.name.endswith(".dist-info"):
            present.add(normalise(entry.name[: -len(".dist-info")].rsplit("-", 1)[0]))
            continue
        top = entry.name.split(".", 1)[0]
        for dist_name in owners.get(top, []):
            present.add(normalise(dist_name))
    present.discard(OUR_PROJECT)
    return sorted(present - listed)
