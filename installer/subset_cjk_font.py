"""Regenerate the shipped CJK font: Noto Sans CJK SC (OFL-1.1) subset to what the workstation writes.

    apt-get install -y fonts-noto-cjk         # Debian's package of Noto Sans CJK (the source file)
    pip install -e ".[dev]"                   # fontTools
    python installer/subset_cjk_font.py       # → dlrs_desktop/resources/fonts/ (Regular and Bold)

Regular keeps ASCII and Latin-1, the punctuation and symbols the interface uses, CJK punctuation and
fullwidth forms, every Hanzi of GB2312 (6,763: the common characters of Chinese patient names) and every
character of the translation catalogues. Bold (headings and warnings: Qt's synthetic bold of a Regular
face prints each glyph twice into a PDF) keeps the same minus GB2312: only what the catalogues write.
The provenance (Debian package version, sha256 of each source and subset) is written to
resources/fonts/PROVENANCE.json; README.md in that folder says the rest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "dlrs_desktop" / "resources" / "fonts"
FACES = ("Regular", "Bold")
SOURCE_DIR = Path("/usr/share/fonts/opentype/noto")
FAMILY = "Noto Sans CJK SC"
#: Ranges kept whole: ASCII, Latin-1, general punctuation, arrows, math, shapes the UI draws (■ ▶ ⚠ ⏸),
#: CJK symbols and punctuation, fullwidth forms.
RANGES = (
    (0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203A), (0x2190, 0x2193), (0x2212, 0x2212),
    (0x2260, 0x2265), (0x23F8, 0x23F8), (0x25A0, 0x25A1), (0x25B6, 0x25B6), (0x26A0, 0x26A0),
    (0x3000, 0x303F), (0xFF01, 0xFF5E), (0xFFE0, 0xFFE6),
)  # fmt: skip


def gb2312() -> set[str]:
    """Every character GB2312 encodes (its symbol rows and the 6,763 Hanzi of rows 16–87)."""
    chars: set[str] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def catalogue_chars(folder: Path) -> set[str]:
    """Every character in the sources and translations of the .ts files."""
    chars: set[str] = set()
    for ts in sorted(folder.glob("*.ts")):
        for node in ET.parse(ts).getroot().iter():
            if node.tag in ("source", "translation") and node.text:
                chars.update(node.text)
    return {c for c in chars if c.isprintable()}


def debian_version(package: str) -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def subset(source: Path, out: Path, chars: set[str]) -> None:
    """The SC face of the collection, cut down to `chars`, hinting dropped (screen and PDF need none)."""
    from fontTools import subset as fts
    from fontTools.ttLib import TTCollection

    faces = TTCollection(str(source)).fonts
    face = next(f for f in faces if f["name"].getBestFamilyName() == FAMILY)
    options = fts.Options()
    options.hinting = False
    options.desubroutinize = False
    options.name_IDs = ["*"]  # copyright, licence and reserved-name records stay in the font
    options.name_languages = ["*"]
    options.notdef_outline = True
    sub = fts.Subsetter(options)
    sub.populate(unicodes=sorted(ord(c) for c in chars))
    sub.subset(face)
    out.parent.mkdir(parents=True, exist_ok=True)
    face.save(str(out))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", type=Path, default=SOURCE_DIR, help="where NotoSansCJK-*.ttc are")
    p.add_argument("--out", type=Path, default=OUT_DIR)
    args = p.parse_args(argv)
    base = {chr(c) for lo, hi in RANGES for c in range(lo, hi + 1)}
    base |= catalogue_chars(ROOT / "dlrs_desktop" / "translations")
    files = []
    for face in FACES:
        source = args.source_dir / f"NotoSansCJK-{face}.ttc"
        if not source.is_file():
            print(f"subset_cjk_font: {source} not found (apt-get install fonts-noto-cjk)", file=sys.stderr)
            return 2
        chars = base | gb2312() if face == "Regular" else base
        out = args.out / f"NotoSansCJKsc-{face}-subset.otf"
        subset(source, out, chars)
        files.append({
            "subset_file": out.name,
            "subset_sha256": sha256(out),
            "characters": len(chars),
            "source_file": f"{SOURCE_DIR}/{source.name}",
            "source_sha256": sha256(source),
        })  # fmt: skip
        print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, {len(chars)} characters requested")
    provenance = {
        "font": FAMILY,
        "licence": "OFL-1.1",
        "source_package": f"Debian fonts-noto-cjk {debian_version('fonts-noto-cjk')}",
        "files": files,
        "tool": "installer/subset_cjk_font.py (fontTools.subset)",
    }
    (args.out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
