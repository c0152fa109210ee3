"""Translation markers for the Qt-free core's wording (the core never imports Qt).

`QT_TRANSLATE_NOOP(context, text)` returns `text` unchanged: it only marks the string for
`pyside6-lupdate`, so the GUI's catalogue holds it. Functions whose words the GUI shows take an optional
`tr(context, text)` (default `english`): the GUI passes `QCoreApplication.translate`; the CLI, log
files, DICOM SR and the Pillow PDF keep the English default.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Translate = Callable[[str, str], str]
#: The shipped CJK font (Noto Sans CJK SC subset, OFL-1.1; resources/fonts/README.md): the GUI registers
#: it with Qt, the Pillow-rendered CLI report draws non-Latin text (a Chinese patient name) with it.
CJK_FONT = Path(__file__).resolve().parent / "resources" / "fonts" / "NotoSansCJKsc-Regular-subset.otf"
#: Its Bold face, cut to the catalogue's characters (headings and warnings in the GUI and its PDF).
CJK_FONT_BOLD = CJK_FONT.with_name("NotoSansCJKsc-Bold-subset.otf")


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark `text` for translation in `context`; the core itself always speaks English."""
    return text


def english(context: str, text: str) -> str:
    """The core's own words: no translation."""
    return text
