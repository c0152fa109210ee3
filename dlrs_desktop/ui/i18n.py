"""The interface language: which catalogue is loaded, Qt's own translations, and the shipped CJK font.

English is the source language (no catalogue). Simplified Chinese loads `translations/dlrs_zh_CN.qm`
(compiled by `pyside6-lrelease` at build time; a source checkout compiles its `.ts` into the user's cache
on first use) and Qt's `qtbase_zh_CN.qm`, so standard dialogs and buttons are Chinese too. The shipped
Noto Sans CJK SC subset (resources/fonts, OFL-1.1) is registered whatever the language: a Chinese patient
name must render in an English interface as well, on a machine without any CJK system font.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import PySide6
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QLibraryInfo,
    QLocale,
    QStandardPaths,
    QTranslator,
)
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

from dlrs_desktop.wording import CJK_FONT, CJK_FONT_BOLD, Worded, render

PACKAGE = Path(__file__).resolve().parent.parent
TRANSLATIONS = PACKAGE / "translations"
FONT_FILES = (CJK_FONT, CJK_FONT_BOLD)  # one family, two weights: bold text is never synthesised
#: Languages offered in Preferences: code → the language's own name (never translated).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}

#: Qt's own strings that qtbase_zh_CN.qm (older than the Qt in PySide6 6.11) lacks: our catalogue holds
#: them in Qt's context, so the non-native file dialog is Chinese throughout.
QT_GAPS = (
    QT_TRANSLATE_NOOP("QFileDialog", "&Look in:"),
    QT_TRANSLATE_NOOP("QFileDialog", "Files of &type:"),
    QT_TRANSLATE_NOOP("QAbstractFileIconProvider", "Folder"),  # the Type column (any disambiguation)
)
_installed: list[QTranslator] = []  # kept alive: Qt does not own an installed translator
_cjk_family: str | None = None


def normalise(code: str | None) -> str | None:
    """ "zh_CN", "zh-CN", "zh", "zh_Hans_CN" → "zh_CN"; "en", "en_GB" → "en"; anything else → None."""
    if not code:
        return None
    code = code.replace("-", "_").strip()
    if code.lower().startswith("zh"):
        return "zh_CN"
    if code.lower().startswith("en") or code.upper() == "C" or code.upper() == "POSIX":
        return "en"
    return None


def resolve_language(requested: str | None, saved: str | None) -> str:
    """`--language`, else the language chosen in Preferences, else the system locale (English when it is
    neither English nor Chinese)."""
    for choice in (requested, saved):
        code = normalise(choice)
        if code:
            return code
    return normalise(QLocale.system().name()) or "en"


def _compiled_catalogue(language: str) -> Path | None:
    """The `.qm` beside the package (a wheel, the frozen build), else the `.ts` compiled into the cache.

    A `.qm` older than the `.ts` beside it (a source checkout's install-time build, then the catalogue
    edited) is stale: the `.ts` wins, or the new strings would show in English."""
    qm = TRANSLATIONS / f"dlrs_{language}.qm"
    ts = TRANSLATIONS / f"dlrs_{language}.ts"
    if qm.is_file() and (not ts.is_file() or qm.stat().st_mtime >= ts.stat().st_mtime):
        return qm
    if not ts.is_file():
        return None
    digest = hashlib.sha256(ts.read_bytes()).hexdigest()[:16]
    cache = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    target = Path(cache or Path.home() / ".cache") / "dlrs-desktop" / f"dlrs_{language}-{digest}.qm"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        # compiled beside it, then renamed: another instance starting now never reads a half-written file
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        if not release(ts, partial):
            partial.unlink(missing_ok=True)
            return None
        os.replace(partial, target)
    return target


def lrelease_command() -> list[str]:
    """PySide6's own lrelease (the wheel ships it beside the package)."""
    exe = Path(PySide6.__file__).parent / ("lrelease.exe" if sys.platform == "win32" else "lrelease")
    return [str(exe)] if exe.is_file() else ["pyside6-lrelease"]


def release(ts: Path, qm: Path) -> bool:
    """Compile one catalogue; False (never an exception) when lrelease is missing or fails."""
    try:
        done = subprocess.run([*lrelease_command(), str(ts), "-qm", str(qm)], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and qm.is_file()


def install(app: QCoreApplication, language: str) -> str:
    """Load the catalogues of `language` into `app`; returns the language actually in use."""
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    register_font()
    if language != "zh_CN":
        QLocale.setDefault(QLocale.system())  # numbers and dates as the user is used to
        return "en"
    qm = _compiled_catalogue(language)
    own = QTranslator(app)
    if qm is None or not own.load(str(qm)):
        print("dlrs-desktop: the Chinese translation could not be loaded; English is shown", file=sys.stderr)
        return "en"
    QLocale.setDefault(QLocale("zh_CN"))
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase_zh_CN", "qt_zh_CN"):
        qt = QTranslator(app)
        if qt.load(name, qt_dir):
            app.installTranslator(qt)
            _installed.append(qt)
            break
    app.installTranslator(own)
    _installed.append(own)
    return language


def register_font() -> str | None:
    """Register the shipped CJK subset once and put it behind every family the app asks for."""
    global _cjk_family
    if _cjk_family is not None:
        return _cjk_family
    ids = [QFontDatabase.addApplicationFont(str(f)) for f in FONT_FILES if f.is_file()]
    families = [name for i in ids if i >= 0 for name in QFontDatabase.applicationFontFamilies(i)]
    if not families:
        return None
    _cjk_family = families[0]
    app = QCoreApplication.instance()
    if app is not None and hasattr(app, "font"):
        font = app.font()
        font.setFamilies([QFontInfo(font).family(), _cjk_family])  # the real family: an alias would lose
        app.setFont(font)
    return _cjk_family


def font(family: str, point_size: int) -> QFont:
    """`family` with the CJK subset as fallback (the PDF report: Chinese labels and patient names)."""
    f = QFont(family, point_size)
    cjk = register_font()
    if cjk:
        # The family the alias resolves to ("Sans Serif" → "DejaVu Sans"): in a list, an alias no
        # family carries would be skipped, and Latin text would be drawn with the CJK face.
        f.setFamilies([QFontInfo(f).family(), cjk])
    return f


#: The research notice a bundle states (model/bundle.py `research_notice`), one template per kind.
_NOTICE = re.compile(
    r"Research use only — (?P<what>demonstration model|model) (?P<id>\S+) (?P<version>\S+), "
    r"trained on (?P<kind>synthetic data|real patient data)\."
)
_NOTICES = {
    ("demonstration model", "synthetic data"): QT_TRANSLATE_NOOP(
        "notice", "Research use only — demonstration model {id} {version}, trained on synthetic data."
    ),
    ("demonstration model", "real patient data"): QT_TRANSLATE_NOOP(
        "notice", "Research use only — demonstration model {id} {version}, trained on real patient data."
    ),
    ("model", "synthetic data"): QT_TRANSLATE_NOOP(
        "notice", "Research use only — model {id} {version}, trained on synthetic data."
    ),
    ("model", "real patient data"): QT_TRANSLATE_NOOP(
        "notice", "Research use only — model {id} {version}, trained on real patient data."
    ),
}


def notice(text: str) -> str:
    """A model's research notice in the interface language (any other wording is shown as written)."""
    m = _NOTICE.fullmatch(text.strip())
    if m is None:
        return text
    template = _NOTICES[(m["what"], m["kind"])]
    return QCoreApplication.translate("notice", template).format(id=m["id"], version=m["version"])


#: The refusal of a bundle no trusted key signed (bundle_signature.refusal): the GUI asks its own question,
#: so only the reason is shown, in the interface language (the CLI's advice stays in the CLI).
_REFUSAL = re.compile(
    r"The model bundle is not signed by a trusted key \((?P<note>.+)\); nothing vouches for its numbers\..*",
    re.S,
)
_NOTES = (
    (re.compile(r"unsigned model"), QT_TRANSLATE_NOOP("notice", "unsigned model")),
    (
        re.compile(r"unsigned model \(signed by an untrusted key (?P<key>\w+)\)"),
        QT_TRANSLATE_NOOP("notice", "unsigned model (signed by an untrusted key {key})"),
    ),
    (
        re.compile(r"unsigned model \(its signature does not match: (?P<reason>.+)\)", re.S),
        QT_TRANSLATE_NOOP("notice", "unsigned model (its signature does not match: {reason})"),
    ),
)


def unsigned_reason(message: str) -> str:
    """Why a bundle is not trusted, in Chinese; in English (and for any other message) as written."""
    text = QT_TRANSLATE_NOOP(
        "notice", "Not signed by a trusted key ({note}): nothing vouches for its numbers."
    )
    m = _REFUSAL.fullmatch(message.strip())
    if m is None or QCoreApplication.translate("notice", text) == text:
        return message  # English: the message as the core wrote it
    note = m["note"]
    for pattern, template in _NOTES:
        found = pattern.fullmatch(note)
        if found is not None:
            note = QCoreApplication.translate("notice", template).format(**found.groupdict())
            break
    return QCoreApplication.translate("notice", text).format(note=note)


def core_text(what: BaseException | Worded | str) -> str:
    """A sentence from the Qt-free core in the interface's language: an error raised with
    `DlrsError.of` (or a `Worded` reading) is rendered from its translated template; any other error
    shows its message as the core wrote it."""
    worded = what if isinstance(what, Worded) else getattr(what, "worded", None)
    if isinstance(worded, Worded):
        return render(worded, QCoreApplication.translate)
    return str(what)
