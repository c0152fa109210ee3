"""Text from files shown or written safely: terminals, CSV cells and HTML never run what a file says.

A file name or DICOM tag may hold a newline (forging an "error:" line), an ESC sequence (clearing
the screen) or a bidi override; a CSV cell starting with = + - @ becomes a live formula in a
spreadsheet. These helpers neutralise each at the boundary where the text leaves the application.
"""

from __future__ import annotations

import html
import re

# C0 and C1 controls, DEL, line/paragraph separators and the bidi embedding/override/isolate marks.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _esc(m: re.Match[str]) -> str:
    if m.group(0) in _NAMED:
        return _NAMED[m.group(0)]
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def escape_controls(text: object) -> str:
    """One printable line: every control character (newline, ESC, CR, ...) as a visible escape."""
    return _CONTROL.sub(_esc, str(text))


def escape_terminal(text: str) -> str:
    """Text for a terminal that keeps its newlines and tabs but no other control character."""
    return _CONTROL_KEEP_LINES.sub(_esc, text)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ tab or CR gets a quote prefix (OWASP).

    Numbers are returned as they are (a negative number is data, not a formula).
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value  # "-0.5" is a number
    except ValueError:
        return "'" + value


def html_text(value: object) -> str:
    """Text for HTML content or attributes (quotes included) with control characters escaped."""
    return html.escape(escape_controls(value), quote=True)
