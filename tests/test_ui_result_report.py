"""Issue 16, points 6, 7 (demo), 8 and 10: the result panel on the real demo case with the bundled model,
the pristine demo and Reset demo, the PDF report (identifiers only when chosen, read back with pypdf),
one explanation-map colouring, ring radii from the bundle."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from pypdf import PdfReader

from dlrs_desktop import __version__, paths
from dlrs_desktop.model.reading import CAM_FOR_RGB, cam_rgba, region_thresholds
from dlrs_desktop.ui.app import build_parser, start
from tests.ui_factory import calibrated_dicom, complete, dialog_log, draw_polygon, make_window  # noqa: F401

UNCERTAIN = "uncertain — the class changes within ±1 mm of the contour"


@pytest.fixture
def demo(qtbot, dialog_log):  # noqa: F811
    win = start(build_parser().parse_args(["--demo", "--device", "cpu"]))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.model.ready and win.doc.contour is not None, timeout=60000)
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    return win


def pdf_text(path) -> str:
    """The report's text (Qt's PDF writer spaces words with tabs for pypdf: normalised to spaces)."""
    text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return re.sub(r"[ \t]+", " ", text)


def test_demo_result_panel_says_uncertain_waited_weights_and_thresholds(demo):
    result, panel = demo.doc.result.to_json_dict(), demo.result_panel
    pred = result["prediction"]
    # Issue 26: the conformal prediction set is the headline uncertainty ("either (uncertain)"), the
    # thresholded class beside it; the sensitivity band crossing the threshold stays as evidence.
    band = next(r.band for r in panel.bars.rows if r.name == "fusion")
    assert band[0] < pred["threshold"] <= band[1]
    assert pred["prediction_set"] == ["early responder", "non-responder"] and pred["coverage"] == 0.9
    assert panel.uncertain and "either (uncertain) — 90% prediction set" in panel.category.text()
    assert f"at the threshold: {pred['category']}" in panel.category.text()
    assert f"Contour: {UNCERTAIN}" in panel.details.text() and "Domain: inside" in panel.details.text()
    # The time shown is what the user waited: prediction + contour sensitivity (+ maps), measured.
    t = pred["timings_ms"]
    assert result["waited_ms"] >= t["total"] + t["sensitivity"]
    assert f"{result['waited_ms'] / 1000:.2f} s (prediction and contour sensitivity)" in panel.details.text()
    # Zero-weight regions are greyed and say so, with their weight; each row has its own threshold.
    rows = {r.name: r for r in panel.bars.rows}
    weights = dict(zip(["intratumoral", "ring_3mm", "ring_5mm", "ring_10mm"],
                       json.loads((paths.bundled_model_dir() / "manifest.json").read_text())
                       ["stacking"]["coefficients"], strict=True))  # fmt: skip
    for name, w in weights.items():
        assert rows[name].weight == pytest.approx(w) and rows[name].used == (w != 0)
    assert "not used by the fusion (weight 0): Ring 3 mm, Ring 5 mm" in panel.details.text()
    manifest = demo.model.info.manifest
    expected = {n: region_thresholds(manifest)[n] for n in weights}
    assert {n: rows[n].threshold for n in weights} == pytest.approx(expected)
    assert len({round(v, 4) for v in expected.values()}) == 4  # four different thresholds, four ticks
    assert rows["fusion"].threshold == pytest.approx(pred["threshold"])


def test_explanation_map_uses_the_shared_signed_colouring(demo):
    demo.result_panel.cam.setCurrentIndex(demo.result_panel.cam.findData("ring_10mm"))
    cam = next(c for c in demo.doc.prediction.cams if c.name == "ring_10mm")
    shown = demo.canvas.cam_item.pixmap().toImage()
    x, y = cam.peak_xy()
    expected = cam_rgba(cam.full(demo.doc.image.shape))[y, x]
    colour = shown.pixelColor(x, y)
    assert (colour.red(), colour.green(), colour.blue()) == CAM_FOR_RGB == tuple(expected[:3])
    assert colour.alpha() == expected[3] > 0 and demo.result_panel.cam_legend.isVisible()
    assert demo.canvas.cam_item.opacity() == 1.0  # the GUI blends exactly like `dlrs predict --cam`


def test_pdf_has_identifiers_only_when_chosen(demo, tmp_path, dialog_log):  # noqa: F811
    plain = demo.export_pdf(str(tmp_path / "plain.pdf"))  # dialog answered with its defaults
    assert any(k == "report_options" for k, _, _ in dialog_log.shown)
    text = pdf_text(plain)
    assert "Synthetic" not in text and "Patient" not in text
    assert "demonstration model dlrs-demo" in text.splitlines()[1]  # the bundle's own notice heads the page
    assert f"DLRS Desktop {__version__}" in text and demo.model.info.sha256 in re.sub(r"\s", "", text)
    assert "uncertain" in text and "not used by the fusion" in text and "explanation map" not in text
    demo.result_panel.cam.setCurrentIndex(demo.result_panel.cam.findData("ring_10mm"))
    with_map = pdf_text(demo.export_pdf(str(tmp_path / "map.pdf")))
    assert "Image shows the explanation map of Ring 10 mm. Explanation map: orange = evidence for" in with_map
    demo.prefs.reviewer = "Dr Local"
    demo.toggle_reviewed()
    dialog_log.answers["report_options"] = {
        "include_identifiers": True,
        "identifiers": {"operator": "Sono Grapher", "accession": "ACC-42"},
    }
    named = demo.export_pdf(str(tmp_path / "named.pdf"))
    text = pdf_text(named)
    assert "Patient name: Synthetic Case" in text  # read from the DICOM only now
    assert "Accession number: ACC-42" in text and "Operator: Sono Grapher" in text
    assert re.search(r"report made \d{4}-\d\d-\d\d \d\d:\d\d \S+", text)  # local, minutes, zone
    assert re.search(r"Review: reviewed by Dr Local at \d{4}-\d\d-\d\d \d\d:\d\d \S+\n", text)
    dialog_log.answers["report_options"] = "cancel"
    assert demo.export_pdf(str(tmp_path / "none.pdf")) is None and not (tmp_path / "none.pdf").exists()


def test_demo_opens_pristine_and_reset_demo(qtbot, demo, dialog_log):  # noqa: F811
    bundled = demo.doc.contour.content_hash()
    demo.clear_contour()
    assert demo.save_now() and demo.doc.contour is None
    demo.close()
    again = start(build_parser().parse_args(["--demo", "--no-model"]))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.doc.contour is not None, timeout=10000)
    assert again.doc.contour.content_hash() == bundled  # not the earlier (cleared) state
    assert "bundled contour" in again.statusBar().currentMessage()
    again.clear_contour()
    dialog_log.answers["yes_no"] = True
    again.actions_by_name["reset_demo"].trigger()
    assert again.doc.contour is not None and again.doc.contour.content_hash() == bundled
    assert any("Discard your changes to the demo" in t for t in dialog_log.texts("yes_no"))


def test_ring_radii_come_from_the_bundle(qtbot, tmp_path, dialog_log):  # noqa: F811
    from dlrs_desktop.model.preprocess import RegionSpec
    from tests.model_factory import cached_bundle

    # every ring kind: the rings on screen are the bundle's radii whatever pixels its crops take
    regions = (RegionSpec("intratumoral", 0.0, "tumour"), RegionSpec("ring_2mm", 2.0, "annulus"),
               RegionSpec("ring_4mm", 4.0, "shell"), RegionSpec("ring_8mm", 8.0, "expanded"))  # fmt: skip
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(cached_bundle(spec_overrides={"regions": regions}))
    assert win.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, win)
    assert win.doc.ring_radii_mm == (2.0, 4.0, 8.0)
    drawn = {n for n, item in win.canvas.ring_items.items() if not item.path().isEmpty()}
    assert drawn == {"ring_2mm", "ring_4mm", "ring_8mm"}
    assert win.measurements.ring_names == ["ring_2mm", "ring_4mm", "ring_8mm"]
    # ... and so do the View menu's toggles, with their keys; Alt+4 stays the scan-area outline
    view = [a.text() for a in win.menus["view"].actions()]
    toggles = [t for t in view if t.startswith("Show Ring")]
    assert toggles == ["Show Ring 2 mm", "Show Ring 4 mm", "Show Ring 8 mm"]
    assert view.index(toggles[-1]) + 1 == view.index("Show scan area outline")
    keys = {n: a.shortcut().toString() for n, a in win.actions_by_name.items() if n.startswith("show_")}
    assert keys == {
        "show_ring_2mm": "Alt+1",
        "show_ring_4mm": "Alt+2",
        "show_ring_8mm": "Alt+3",
        "show_scan": "Alt+4",
    }
    assert not any("3 mm" in text for _menu, text, _key in win.actions.shortcuts)  # the Help dialog's list
    win.actions_by_name["show_ring_4mm"].setChecked(False)
    assert not win.canvas.ring_items["ring_4mm"].isVisible() and win.canvas.ring_items["ring_8mm"].isVisible()
    win.actions_by_name["show_ring_4mm"].setChecked(True)
    # colours by place, as 3/5/10 mm have them: three rings never share a colour
    from dlrs_desktop.ui.style import RING_PALETTE

    pens = [win.canvas.ring_items[n].pen().color().name() for n in ("ring_2mm", "ring_4mm", "ring_8mm")]
    rows = [win.measurements.table.item(i, 0).foreground().color().name() for i in range(3)]
    assert pens == rows == [c.name() for c in RING_PALETTE[:3]]
    assert np.isfinite([r.area_mm2 for r in win.doc.rois()[0].rings]).all()
    # issue 15: a bundle that does not declare itself a demo is never called a demonstration model
    assert "demonstration" not in win.result_panel.notice.text()
    assert "synthetic data" in win.result_panel.notice.text()
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    header = pdf_text(win.export_pdf(str(tmp_path / "user-model.pdf"))).splitlines()[:3]
    assert not any("demonstration" in line for line in header)
    assert "trained on synthetic data; unsigned model. Not a diagnosis." in " ".join(header)  # issue 27


def test_dlrs_predict_says_uncertain_and_colours_cams_like_the_gui(tmp_path, capsys):
    import cv2

    from dlrs_desktop.cli import main
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.model import Predictor
    from dlrs_desktop.model.reading import blend_cam
    from dlrs_desktop.roi import Contour

    demo = paths.samples_dir() / "demo.dcm"
    assert main(["predict", str(demo), "--cam", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert UNCERTAIN in out and "orange = evidence for early response, blue = against" in out
    image = load_image(demo)
    contour = Contour.load_any(paths.samples_dir() / "demo.contour.json", image.shape, frame=0)
    pred = Predictor(paths.bundled_model_dir(), device="cpu").predict(
        image, contour, sensitivity=False, cam=True
    )
    cam = next(c for c in pred.cams if c.name == "intratumoral")
    written = cv2.cvtColor(cv2.imread(str(tmp_path / "demo_cam_intratumoral.png")), cv2.COLOR_BGR2RGB)
    assert np.abs(written.astype(int) - blend_cam(image.display, cam.full(image.shape))).max() <= 2


def test_radiomics_signatures_are_evidence_on_screen_and_in_the_saved_result(qtbot, tmp_path, dialog_log):  # noqa: F811
    """A bundle whose fusion stacks radiomics signatures (the default of `dlrs train`): each signature is
    a row of the chart with its weight, the weights line names it, and the stored result keeps it."""
    from dlrs_desktop.store import schema
    from tests.model_factory import cached_bundle

    win = make_window(qtbot)
    win.prefs.device = "cpu"
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(cached_bundle(radiomics=True))
    assert win.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, win)
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    pred = win.doc.result.to_json_dict()["prediction"]
    names = [s["name"] for s in pred["signatures"]]
    assert names == ["radiomics_ring_3mm", "radiomics_ring_5mm", "radiomics_ring_10mm", "radiomics_all"]
    # the chart and the weights line show the signatures the fusion weighs; the unused one (weight 0,
    # it belongs to another row of the study table) stays in the stored result only
    rows = [r.name for r in win.result_panel.bars.rows]
    assert rows == ["intratumoral", "ring_3mm", "ring_5mm", "ring_10mm", *names[:3], "fusion"]
    assert all(r.weight == pytest.approx(0.5) for r in win.result_panel.bars.rows if r.name in names)
    details = win.result_panel.details.text()
    assert "Radiomics T+10 mm 0.50" in details and "Radiomics, all" not in details
    # the number on screen is intercept + every contribution, signatures included
    z = pred["intercept"] + sum(r["contribution"] for r in pred["regions"] + pred["signatures"])
    assert 1 / (1 + np.exp(-z)) == pytest.approx(pred["probability"], abs=1e-9)
    assert (
        schema.result(json.loads(json.dumps(win.doc.result.to_json_dict())))["prediction"]["signatures"][0][
            "name"
        ]
        == names[0]
    )
    broken = json.loads(json.dumps(win.doc.result.to_json_dict()))
    broken["prediction"]["signatures"][1]["probability"] = 7.0
    with pytest.raises(Exception, match=r"signatures\[1\]"):
        schema.result(broken)
