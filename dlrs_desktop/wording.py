"""Translation markers for the Qt-free core's wording (the core never imports Qt).

`QT_TRANSLATE_NOOP(context, text)` returns `text` unchanged: it only marks the string for
`pyside6-lupdate`, so the GUI's catalogue holds it. Functions whose words the GUI shows take an optional
`tr(context, text)` (default `english`): the GUI passes `QCoreApplication.translate`; the CLI, log
files, DICOM SR and the Pillow PDF keep the English default.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
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


#: The catalogue context of the core's refusals and readings (`Worded` templates).
CORE = "core"


@dataclass(frozen=True)
class Worded:
    """A sentence for the user as a template and its values, so that the GUI can show it translated.

    `template` is marked with `QT_TRANSLATE_NOOP("core", …)` (a literal context) where it is written;
    its `{name}` fields (format specs allowed) take `values`. A value that is itself `Worded` is rendered
    first (a clause, or a single marked word such as `Worded("left")`); any other value (a file name, a
    model's name, a number) is shown as it is, formatted by the template.
    """

    template: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self)


def render(worded: Worded, tr: Translate = english) -> str:
    """The sentence in the language of `tr` (default: the core's English)."""
    values = {k: render(v, tr) if isinstance(v, Worded) else v for k, v in worded.values.items()}
    return tr(CORE, worded.template).format(**values)


def marked(word: str, words: Collection[str]) -> Worded | str:
    """`word` as a marked word (looked up in the catalogue) where it is one of `words`, each marked with
    `QT_TRANSLATE_NOOP("core", …)`; any other text (a name) as it is, never looked up."""
    return Worded(word) if word in words else word


#: where a plain message is looked up: the GUI's fixed refusals ("errors", as `ui/dialogs.error` does)
PLAIN_CONTEXT = "errors"


def in_words(reason: Worded | str | None, tr: Translate = english) -> str | None:
    """A refusal kept as the core raised it (`DlrsError.worded`, else its message), in the language of
    `tr`; a plain message is looked up among the GUI's fixed sentences."""
    if reason is None:
        return None
    return render(reason, tr) if isinstance(reason, Worded) else tr(PLAIN_CONTEXT, reason)
