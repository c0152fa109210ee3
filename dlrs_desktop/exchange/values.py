"""Make a dataset's text conform before we write it: VR length limits, no control characters, UTF-8.

A source image's header can hold anything (a 5,000-character study description, a tab in the
institution name); we copy its patient and study modules into every exported object, and a PACS or
dciodvfy then rejects the object. Values are cut to their VR's maximum length in bytes of UTF-8 (the
strictest reading of PS3.5 6.2, so valid under any reading), person names per component group, and
control characters are removed (ST/LT/UT keep CR, LF and FF). When any value is not ASCII the object
declares `ISO_IR 192` (UTF-8), so `张^伟` and every other script round-trips.
"""

from __future__ import annotations

import re
from typing import Any

# PS3.5 Table 6.2-1 maximum lengths; VRs without a limit (UC, UT, UR) are only cleaned.
_MAX_BYTES = {"AE": 16, "CS": 16, "LO": 64, "SH": 16, "ST": 1024, "LT": 10240, "PN": 64}
_TEXT_VRS = {"AE", "CS", "LO", "SH", "ST", "LT", "UT", "UC", "PN"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x09\x0b\x0e-\x1f\x7f]")  # ST/LT/UT keep LF (0a), FF (0c), CR (0d)
UTF8 = "ISO_IR 192"


def _cut(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, never splitting a character."""
    raw = text.encode("utf-8")
    return text if len(raw) <= limit else raw[:limit].decode("utf-8", "ignore").rstrip()


def _clean_one(value: str, vr: str) -> str:
    pattern = _CONTROL_TEXT if vr in ("ST", "LT", "UT") else _CONTROL
    text = pattern.sub("", value)
    if vr == "PN":
        return "=".join(_cut(group, _MAX_BYTES["PN"]) for group in text.split("="))
    limit = _MAX_BYTES.get(vr)
    return _cut(text, limit) if limit else text


def _values(elem: Any) -> list[Any]:
    value = elem.value
    return list(value) if elem.VM > 1 else [value]


def conform(ds: Any) -> list[str]:
    """Clean every text value of `ds` (nested sequences included) in place; one note per kind of change.

    The notes name attributes and VRs, never values (they may be identifiers).
    """
    changed: dict[str, int] = {}
    non_ascii = False
    for elem in ds.iterall():
        if elem.VR not in _TEXT_VRS or elem.value is None or elem.keyword == "SpecificCharacterSet":
            continue
        values = _values(elem)
        cleaned = [(_clean_one(str(v), elem.VR) if v is not None else v) for v in values]
        non_ascii |= any(isinstance(v, str) and not v.isascii() for v in cleaned)
        # Always reassign: a person name read from the source keeps its original bytes in the source's
        # character set, which would be written as they are under our declared UTF-8.
        elem.value = cleaned if elem.VM > 1 else cleaned[0]
        if cleaned != [str(v) if v is not None else v for v in values]:
            name = f"{elem.keyword or elem.tag} ({elem.VR})"
            changed[name] = changed.get(name, 0) + 1
    if non_ascii:
        ds.SpecificCharacterSet = UTF8
    return [
        f"{name}: value cut to the VR's length limit or cleaned of control characters"
        + (f" ({n} times)" if n > 1 else "")
        for name, n in sorted(changed.items())
    ]
