"""Help → About names what the loaded model predicts, in its own words, not only the study's outcome."""

from __future__ import annotations

import json
from pathlib import Path

from dlrs_desktop.model.reading import BundleReading
from dlrs_desktop.ui.about import about_markdown
from dlrs_desktop.ui.worker import ModelInfo
from tests.i18n_factory import zh_cn  # noqa: F401  (fixture)

MODELS = Path(__file__).parent.parent / "resources" / "models"


def _info(name: str) -> ModelInfo:
    manifest = json.loads((MODELS / name / "manifest.json").read_text())
    return ModelInfo(
        name=manifest["name"],
        version=manifest["version"],
        manifest=manifest,
        reading=BundleReading.from_manifest(manifest),
    )


def test_the_real_data_bundle_reads_as_malignancy_not_early_response(qapp):
    text = about_markdown(_info("dlrs-bus-malignancy"))
    line = next(ln for ln in text.splitlines() if ln.startswith("**The loaded model**"))
    assert "dlrs-bus-malignancy@1.1.2" in line
    assert "probability of malignancy (malignancy of a breast lesion)" in line
    assert "the tumour and its 3, 5, 10 mm rings" in line
    assert "early response" not in line


def test_the_demo_bundle_reads_as_early_response(qapp):
    line = next(
        ln for ln in about_markdown(_info("dlrs-demo")).splitlines() if ln.startswith("**The loaded model**")
    )
    assert "probability of early response (early response to neoadjuvant chemotherapy)" in line


def test_no_model_loaded_no_model_line(qapp):
    assert "The loaded model" not in about_markdown(ModelInfo())


def test_the_model_line_in_chinese(qapp, zh_cn):  # noqa: F811
    head = about_markdown(_info("dlrs-bus-malignancy")).split("\n---\n")[0]  # the card stays English
    line = head.split("\n\n")[-1]
    assert line.startswith("**已加载的模型**（dlrs-bus-malignancy@1.1.2）"), line
    assert "恶性（乳腺病灶恶性）的概率" in line and "3, 5, 10 mm 瘤周环" in line, line
    assert "The loaded model" not in head and "probability" not in head


def test_every_bold_span_of_the_chinese_catalogue_renders_bold(qapp):
    """CommonMark closes `**` after punctuation only before a space or punctuation: "**仅供研究使用。**并非"
    showed its asterisks in About (seen 2026-12-05): every translation with `**` must render without them,
    with a Chinese word put in each placeholder (a notice or a name follows the bold text there)."""
    import re
    import xml.etree.ElementTree as ET

    from PySide6.QtGui import QTextDocument

    ts = Path(__file__).parent.parent / "dlrs_desktop" / "translations" / "dlrs_zh_CN.ts"
    bad = []
    for message in ET.parse(ts).getroot().iter("message"):
        zh = message.findtext("translation") or ""
        if "**" not in zh:
            continue
        doc = QTextDocument()
        doc.setMarkdown(re.sub(r"\{[a-z_]*\}", "研究", zh))
        if "**" in doc.toPlainText():
            bad.append(zh[:80])
    assert not bad, bad
