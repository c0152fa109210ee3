"""The zh_CN catalogue is complete and current, it compiles, and the shipped CJK font is what its data
card says (so CI fails when a new string is not translated or a translated one has gone)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dlrs_desktop.ui import i18n
from dlrs_desktop.wording import CJK_FONT, CJK_FONT_BOLD

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "dlrs_desktop" / "translations" / "dlrs_zh_CN.ts"
LUPDATE = Path(i18n.lrelease_command()[0]).with_name("lupdate")


def messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    """(context, source) → the <translation> element."""
    out = {}
    for ctx in ET.parse(ts).getroot().iter("context"):
        name = ctx.findtext("name") or ""
        for msg in ctx.iter("message"):
            out[(name, msg.findtext("source") or "")] = msg.find("translation")
    return out


def sources() -> list[str]:
    """The package's Python files, as CI's checkout has them."""
    return sorted(str(p) for p in (ROOT / "dlrs_desktop").rglob("*.py"))


@pytest.mark.skipif(not LUPDATE.is_file(), reason="PySide6's lupdate is not installed")
def test_catalogue_holds_exactly_the_strings_of_the_sources(tmp_path):
    fresh = tmp_path / "fresh.ts"
    done = subprocess.run(
        [str(LUPDATE), *sources(), "-ts", str(fresh), "-no-obsolete", "-locations", "none"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    have, want = set(messages(TS)), set(messages(fresh))
    assert sorted(want - have) == [], "strings missing from the catalogue: run pyside6-lupdate (README)"
    assert sorted(have - want) == [], "strings in the catalogue that the sources no longer have"
    assert len(want) > 400


def test_every_entry_is_translated_and_keeps_its_placeholders():
    entries = messages(TS)
    unfinished = [k for k, t in entries.items() if t.get("type") in ("unfinished", "obsolete", "vanished")]
    assert unfinished == []
    empty = [k for k, t in entries.items() if not (t.text or "").strip() and k[1].strip()]
    assert empty == []
    for (ctx, source), t in entries.items():
        assert sorted(re.findall(r"\{\w*\}", source)) == sorted(re.findall(r"\{\w*\}", t.text)), (ctx, source)
        assert source.count("<") == t.text.count("<"), (ctx, source)  # rich text keeps its tags
        if "&" in source and ctx in ("menus", "pacs_browser", "model_menu"):
            assert "&" in t.text, (ctx, source)  # a menu keeps its keyboard accelerator
    # the terms the clinicians read most, checked against the glossary of the issue
    words = {t.text for t in entries.values()}
    for term in ("新辅助化疗早期反应", "早期反应", "瘤周环", "{radius} mm 瘤周环", "校准", "不确定"):
        assert any(term in w for w in words), term


def test_catalogue_compiles_and_loads(tmp_path):
    qm = tmp_path / "dlrs_zh_CN.qm"
    assert i18n.release(TS, qm)
    from PySide6.QtCore import QTranslator

    t = QTranslator()
    assert t.load(str(qm))
    assert t.translate("menus", "&File") == "文件(&F)"
    assert t.translate("outcome", "probability of {short_name}") == "{short_name}概率"


def test_a_qm_older_than_its_ts_is_not_used(tmp_path, monkeypatch):
    import os

    folder = tmp_path / "translations"
    folder.mkdir()
    (folder / "dlrs_zh_CN.ts").write_bytes(TS.read_bytes())
    assert i18n.release(TS, folder / "dlrs_zh_CN.qm")
    monkeypatch.setattr(i18n, "TRANSLATIONS", folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert i18n._compiled_catalogue("zh_CN") == folder / "dlrs_zh_CN.qm"  # built after the .ts
    old = (folder / "dlrs_zh_CN.ts").stat().st_mtime - 60
    os.utime(folder / "dlrs_zh_CN.qm", (old, old))  # the .ts edited since: the .qm is stale
    fresh = i18n._compiled_catalogue("zh_CN")
    assert fresh is not None and fresh != folder / "dlrs_zh_CN.qm" and fresh.is_file()


def test_shipped_font_matches_its_provenance_and_covers_the_catalogue():
    card = json.loads((CJK_FONT.parent / "PROVENANCE.json").read_text())
    assert card["licence"] == "OFL-1.1" and (CJK_FONT.parent / "OFL.txt").is_file()
    shipped = {f["subset_file"]: f["subset_sha256"] for f in card["files"]}
    assert set(shipped) == {CJK_FONT.name, CJK_FONT_BOLD.name}
    for font in (CJK_FONT, CJK_FONT_BOLD):
        assert hashlib.sha256(font.read_bytes()).hexdigest() == shipped[font.name]
    assert CJK_FONT.stat().st_size + CJK_FONT_BOLD.stat().st_size <= 5_000_000
    from fontTools.ttLib import TTFont

    text = "".join(t.text or "" for t in messages(TS).values())
    for font in (CJK_FONT, CJK_FONT_BOLD):
        cmap = TTFont(str(font)).getBestCmap()
        missing = sorted({c for c in text if c.isprintable() and ord(c) > 0x7F and ord(c) not in cmap})
        assert missing == [], font.name  # else: python installer/subset_cjk_font.py
    names = "张伟王芳李娜刘洋陈静杨帆赵磊黄敏周婷吴昊徐丽孙强马骏朱琳胡斌郭蕾"
    assert all(ord(c) in TTFont(str(CJK_FONT)).getBestCmap() for c in names)


def test_cli_pdf_font_draws_chinese_names_not_question_marks():
    """The Pillow report (CLI, no Qt) draws with the same subset: each Hanzi is its own glyph."""
    from dlrs_desktop.exchange.pdf import _fonts

    _, small, _ = _fonts()  # title, body, footnote
    assert Path(getattr(small, "path", "")).name == CJK_FONT.name

    def bitmap(text: str) -> bytes:
        return bytes(small.getmask(text))

    zhang, wei, question = bitmap("张"), bitmap("伟"), bitmap("?")
    assert zhang != wei and zhang != question and any(zhang)


def test_every_domain_reason_reads_in_chinese_and_stays_english_in_english():
    """The guard's reasons carry numbers, so they are composed from templates (model/domain.py WHY);
    `domain_text.reason_of` reads a saved English reason back into its template and values and gives
    it in the interface's language — every check kind, both statuses, names and statistics included."""
    from dlrs_desktop.model import domain as dm
    from dlrs_desktop.model import domain_texture as dtx
    from dlrs_desktop.model.domain_text import reason_of
    from dlrs_desktop.model.result import DomainResult
    from dlrs_desktop.wording import english
    from tests.i18n_factory import english_words

    catalogue = {k: t.text for k, t in messages(TS).items()}

    def zh(ctx: str, text: str) -> str:
        return catalogue.get((ctx, text)) or text

    checks = [
        dm.Check("features:ring_5mm", "feature_distance", 1.0, 1.0, 0.3, 5.2, True, 1.0, True),
        dm.Check("confidence", "confidence", 1.0, 1.0, -3.0, 2.0, True, 1.0, True),
        dm.Check("logit:radiomics_all", "logit", 0.0, 1.0, -12.0, 9.5, False, 1.0, True),
        dm.Check(dtx.SYNTHETIC, "texture", -9.0, 3.0, -29.6, 2.46, True, 3.0, True),
        dm.Check(dtx.DISTANCE, "texture", 0.8, 0.6, 0.39, 6.07, True, 0.2, True),
        *(dm.Check(f"image:{n}", "image", 1.0, 1.0, 0.1, 0.2, False, 1.0, True) for n in dm.IMAGE_STATS),
    ]
    for check in checks:
        for template in (dm.REASON_OUTSIDE, dm.REASON_UNUSUAL):
            reason = template.format(why=dm.check_words(check, 12.345))
            d = DomainResult("outside", 10.0, 6.0, 9.0, reason)
            assert reason_of(d, english) == reason
            chinese = reason_of(d, zh)
            assert english_words(chinese, {"ring"}) == [] and "12.3" in chinese, (check.name, chinese)
    # the DICOM header's reasons (model/anatomy.py): the header's own term stays, the rest reads in Chinese
    from dlrs_desktop.model.anatomy import header_reason

    for metadata, kept in (({"modality": "CT"}, "CT"), ({"modality": "US", "body_part": "THYROID"}, "乳腺")):
        reason = dm.REASON_OUTSIDE.format(why=header_reason(metadata, "BREAST"))
        chinese = reason_of(DomainResult("outside", None, None, None, reason), zh)
        assert english_words(chinese, {"CT", "THYROID", "US"}) == [] and kept in chinese, chinese
    # a reason no template knows (a bundle of another version) is shown as written
    odd = DomainResult("unusual", 7.0, 6.0, 9.0, "this image is unusual for this model: something new")
    assert reason_of(odd, zh).endswith("something new")
