"""DICOM's words for parts of the body (PS3.16 Annex L), and which of them a header's free text names.

The defined terms of *Body Part Examined* with their SNOMED CT codes and meanings are read, as data,
from the table highdicom ships (a maintained copy of the standard, 317 terms), not from a list of
ours. The loader uses `described_parts` to keep, of a file's *Study Description*, *Series
Description* and *Protocol Name*, only the body parts they name ("US KIDNEY" → KIDNEY): the
descriptions themselves are free text that may identify a patient (the standard's confidentiality
profile removes them), so they are never kept. `model/anatomy.py` decides what the terms mean for a
model. No Qt, no numpy.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_NOT_A_LETTER = re.compile(r"[\s_\-]+")
_WORD = re.compile(r"[A-Za-z]+")
#: Free text read per attribute (a LO value is 64 characters; a hostile file may hold far more).
MAX_TEXT = 256
#: The longest phrase read as one term: "whole body" → WHOLEBODY, "common bile duct" → COMMONBILEDUCT.
MAX_PHRASE_WORDS = 3
#: Words free text uses for a part that are neither its defined term nor its code meaning: the breast
#: in the languages of scanner presets (Latin, German, French, Italian, Spanish). A word for the
#: model's own part only ever keeps the header silent, so more of them can only refuse less.
SYNONYMS = dict.fromkeys(
    ("MAMMA", "MAMMAE", "MAMMARY", "MAMMARIA", "MAMMAIRE", "BRUST", "SEIN", "SENO", "MAMA"), "BREAST"
)
#: Chinese names of parts (presets and RIS of the study's hospitals write Chinese), read as character
#: sequences: 乳 (乳腺, 乳房) is the breast; the others name the parts most often scanned instead. Single
#: characters only where no common word holds them otherwise (心 is in 中心, 颈 in 宫颈: not read alone).
CJK_TERMS = {
    "乳": "BREAST", "腋窝": "AXILLA", "胸壁": "CHEST", "甲状腺": "THYROID", "甲状旁腺": "PARATHYROID",
    "颈部": "NECK", "心脏": "HEART", "肝": "LIVER", "胆囊": "GALLBLADDER", "胰腺": "PANCREAS", "脾": "SPLEEN",
    "肾": "KIDNEY", "腹部": "ABDOMEN", "膀胱": "BLADDER", "前列腺": "PROSTATE", "子宫": "UTERUS",
    "卵巢": "OVARY", "睾丸": "TESTIS", "阴囊": "SCROTUM", "肺": "LUNG", "颈动脉": "CAROTID",
    "腮腺": "PAROTID", "肾上腺": "ADRENAL", "体模": "PHANTOM",
}  # fmt: skip
#: Terms not read in free text: shorter than four letters they are abbreviations that other words'
#: initials spell (ACA, EAR, RIB, SMA …); "back" is breast imaging's own word ("call back"), and
#: "hand" ultrasound's ("hand-held" probe).
_MIN_FREE_TEXT_LETTERS = 4
_NOT_IN_FREE_TEXT = frozenset({"BACK", "HAND"})


@functools.cache
def body_parts() -> dict[str, tuple[str, str]]:
    """Body Part Examined defined term → its SNOMED CT code (scheme, value)."""
    return {term: (scheme, value) for term, (scheme, value, _) in _table().items()}


@functools.cache
def _table() -> dict[str, tuple[str, str, str]]:
    """term → (scheme, code, meaning), from highdicom's copy of PS3.16 Annex L (without importing it)."""
    spec = importlib.util.find_spec("highdicom")
    if spec is None or spec.origin is None:  # a core dependency (pyproject): a broken install
        raise RuntimeError("highdicom is not installed; reinstall DLRS Desktop")
    table = json.loads((Path(spec.origin).parent / "_standard" / "anatomic_regions.json").read_text("utf-8"))
    return {str(term): (str(code[0]), str(code[1]), str(code[2])) for term, code in table.items()}


@functools.cache
def term_of_code() -> dict[str, str]:
    """'SCT:76752008' → BREAST (the first term of a code that several terms share, e.g. CHEST, THORAX)."""
    out: dict[str, str] = {}
    for term, (scheme, value) in body_parts().items():
        out.setdefault(f"{scheme}:{value}", term)
    return out


def normalised(term: Any) -> str:
    """A header or manifest term as the defined terms spell it: upper case, no spaces or underscores
    ("Whole Body" → WHOLEBODY); '' for anything that is not short text."""
    if not isinstance(term, str) or len(term) > 64:
        return ""
    return _NOT_A_LETTER.sub("", term).upper()


@functools.cache
def _free_text_terms() -> dict[str, str]:
    """A phrase's letters, upper case ("ENTIREBODY", "THYROID") → its defined term."""
    out: dict[str, str] = dict(SYNONYMS)
    for term, (_, _, meaning) in _table().items():
        for phrase in (term, "".join(_WORD.findall(meaning)).upper()):
            if len(phrase) >= _MIN_FREE_TEXT_LETTERS and term not in _NOT_IN_FREE_TEXT:
                out.setdefault(phrase, term)
    return out


def _cjk_terms(text: str) -> set[str]:
    """The parts Chinese text names, longest words first (肾上腺 is the adrenal, not the kidney)."""
    found = set()
    for word in sorted(CJK_TERMS, key=len, reverse=True):
        if word in text:
            found.add(CJK_TERMS[word])
            text = text.replace(word, " ")
    return found


def described_parts(texts: Iterable[Any]) -> tuple[str, ...]:
    """The defined terms that free text names, as whole words or phrases of up to three words, singular
    or plural ("US Kidneys" → KIDNEY, "Whole body" → WHOLEBODY), sorted; nothing else of the text."""
    vocabulary = _free_text_terms()
    found: set[str] = set()
    for text in texts:
        if not isinstance(text, str):
            continue
        text = text[:MAX_TEXT]
        found.update(_cjk_terms(text))
        words = [w.upper() for w in _WORD.findall(text)]
        for start in range(len(words)):
            for n in range(1, min(MAX_PHRASE_WORDS, len(words) - start) + 1):
                phrase = "".join(words[start : start + n])
                singular = phrase[:-1] if phrase.endswith("S") else ""
                term = vocabulary.get(phrase) or vocabulary.get(singular)
                if term:
                    found.add(term)
    return tuple(sorted(found))
