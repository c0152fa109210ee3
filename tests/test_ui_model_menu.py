"""The Model menu: bundled prediction models listed from their manifests, switching in the background,
the result of the previous model marked stale, the choice remembered for the next start.

Real offscreen window, real worker thread, real (small, randomly initialised) bundles in a temporary
resources/models folder beside a link to the shipped demonstration model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlrs_desktop import paths
from dlrs_desktop.model.bundle_edit import rewrite_manifest
from dlrs_desktop.model.catalog import bundled_models, choice_for, read_entry, resolve_choice
from dlrs_desktop.model.outcome import PRESETS
from dlrs_desktop.model.preprocess import RegionSpec
from dlrs_desktop.ui.app import build_parser, start
from dlrs_desktop.ui.settings import Preferences
from tests.model_factory import cached_bundle
from tests.ui_factory import calibrated_dicom, complete, dialog_log, draw_polygon, make_window  # noqa: F401

DEMO_LABEL = "Early response — demonstration (synthetic data)"
MALIGNANCY_LABEL = "Malignancy — public breast ultrasound (BUS-BRA, BUSI)"
#: Rings other than the demo's 3/5/10 mm, so the overlay visibly follows the model.
REGIONS = (
    RegionSpec("intratumoral", 0.0, "tumour"),
    RegionSpec("ring_2mm", 2.0, "annulus"),
    RegionSpec("ring_4mm", 4.0, "shell"),
    RegionSpec("ring_8mm", 8.0, "expanded"),
)


def _as_real_bus_bundle(m: dict) -> None:
    """What docs/evaluation/real-bus/rebuild.sh writes into the manifest (weights stay random)."""
    m["id"], m["version"] = "dlrs-bus-malignancy", "1.1.0"
    m["training_data"].update(
        kind="real",
        description="Public breast ultrasound, benign vs malignant: BUS-BRA + BUSI (train/internal), "
        "BrEaST-Lesions_USG (external)",
        centres=["BUS-BRA", "BUSI", "BrEaST"],
        splits={
            "train": {"n": 10, "responders": 4, "centres": ["BUS-BRA", "BUSI"]},
            "internal": {"n": 4, "responders": 2, "centres": ["BUS-BRA", "BUSI"]},
            "external": {"n": 4, "responders": 2, "centres": ["BrEaST"]},
        },
    )


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> Path:
    """resources/models with the shipped demo and assist (links), a malignancy bundle and broken folders."""
    root = tmp_path_factory.mktemp("resources")
    models = root / "models"
    models.mkdir()
    shipped = Path(__file__).resolve().parent.parent / "resources" / "models"
    (models / "dlrs-demo").symlink_to(shipped / "dlrs-demo", target_is_directory=True)
    (models / "dlrs-assist").symlink_to(shipped / "dlrs-assist", target_is_directory=True)  # not a predictor
    malignant = models / "dlrs-bus-malignancy"
    shutil.copytree(
        cached_bundle(outcome=PRESETS["malignancy"], spec_overrides={"regions": REGIONS}), malignant
    )
    rewrite_manifest(malignant, _as_real_bus_bundle)
    (models / "broken").mkdir()
    (models / "broken" / "manifest.json").write_text('{"schema": "dlrs-model-bundle", "id": ')
    (models / "no-manifest").mkdir()
    (models / "README.txt").write_text("not a folder")
    return root


@pytest.fixture
def bundled(resources, monkeypatch) -> Path:
    monkeypatch.setenv("DLRS_RESOURCES", str(resources))
    return resources / "models"


@pytest.fixture
def response_bundle() -> Path:
    """An early-response bundle outside resources/ (loaded as with `--model`)."""
    return cached_bundle()


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() for page in PdfReader(str(path)).pages).split())


def entries(win) -> dict[str, str]:
    """Model menu: entry text → action name, for the model entries (refreshed as opening the menu does)."""
    win.model_menu.refresh()
    return {win.actions_by_name[n].text(): n for n in win.model_menu.entries}


def checked(win) -> list[str]:
    """The ticked model entries (the menu as it shows when opened)."""
    win.model_menu.refresh()
    return [
        win.actions_by_name[n].text() for n in win.model_menu.entries if win.actions_by_name[n].isChecked()
    ]


@pytest.fixture
def response_window(qtbot, bundled, response_bundle, dialog_log):  # noqa: F811
    """The window with the early-response bundle loaded from outside resources/, the bundled models listed."""
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.model_menu.start(response_bundle)
    return win


# ---------------------------------------------------------------------------------------- Qt-free listing
def test_the_bundled_prediction_models_are_read_from_their_manifests(bundled):
    found = bundled_models()
    assert [e.folder.name for e in found] == ["dlrs-demo", "dlrs-bus-malignancy"]  # the demo first
    demo, malignant = found
    assert demo.label == DEMO_LABEL and demo.demo and demo.synthetic and demo.id == "dlrs-demo"
    assert malignant.label == MALIGNANCY_LABEL and not malignant.synthetic and not malignant.demo
    assert (malignant.id, malignant.version, malignant.outcome) == (
        "dlrs-bus-malignancy",
        "1.1.0",
        "malignancy",
    )
    # remembered by folder name inside resources/models (a reinstall moves it), else by path
    assert choice_for(malignant.folder) == "bundled:dlrs-bus-malignancy"
    assert resolve_choice("bundled:dlrs-bus-malignancy") == bundled / "dlrs-bus-malignancy"
    assert resolve_choice("") is None and resolve_choice("bundled:..") is None
    outside = cached_bundle()
    assert resolve_choice(choice_for(outside)) == outside.resolve()


def test_the_shipped_resources_list_the_demo(monkeypatch):
    monkeypatch.delenv("DLRS_RESOURCES", raising=False)
    names = {e.folder.name: e for e in bundled_models()}
    assert names["dlrs-demo"].label == DEMO_LABEL
    assert "dlrs-assist" not in names  # the contour assist is another kind of bundle
    assert read_entry(paths.bundled_model_dir()).version == names["dlrs-demo"].version
    assert bundled_models(paths.resources_dir() / "no-such-folder") == []


# ---------------------------------------------------------------------------------------- the menu
def test_switching_model_marks_the_result_stale_and_is_remembered(
    qtbot,
    tmp_path,
    response_window,
    dialog_log,  # noqa: F811
):
    win = response_window
    listed = entries(win)
    assert DEMO_LABEL in listed and MALIGNANCY_LABEL in listed
    assert not any("assist" in t.lower() or "broken" in t for t in listed)
    assert len(listed) == 3  # the two bundled models and the loaded one (not bundled)
    assert checked(win) == [listed_text(win, "model_other")] and "synthetic data" in checked(win)[0]
    texts = [a.text() for a in win.menus["model"].actions()]
    assert texts.index("&Open model bundle…") == len(texts) - 1

    assert win.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, win)
    win.predict()
    qtbot.waitUntil(lambda: win.doc.result_state == "current" and complete(win), timeout=60000)
    assert win.result_panel.caption.text() == "probability of early response"
    assert win.doc.ring_radii_mm == (3.0, 5.0, 10.0)

    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.actions_by_name[listed[MALIGNANCY_LABEL]].trigger()
    assert win.model.info.name == "dlrs-bus-malignancy" and "dlrs-bus-malignancy" in win.model_label.text()
    assert checked(win) == [MALIGNANCY_LABEL]
    # the number on screen belongs to the previous model: stale, greyed, no explanation map, not re-computed
    assert win.doc.result_state == "stale" and win.doc.result_model_changed
    panel = win.result_panel
    assert panel.stale.isVisible() and "another model (test-random 0.0.1)" in panel.stale.text()
    assert "gray" in panel.probability.styleSheet() and win.canvas.cam_item.pixmap().isNull()
    assert panel.caption.text() == "probability of early response"  # what that stale number was
    assert win.prediction.pending_job is None
    assert "computed with another model" in pdf_text(win.export_pdf(str(tmp_path / "stale.pdf")))
    # the rings on screen and the View menu follow the new model's radii
    assert win.doc.ring_radii_mm == (2.0, 4.0, 8.0)
    drawn = {n for n, item in win.canvas.ring_items.items() if not item.path().isEmpty()}
    assert drawn == {"ring_2mm", "ring_4mm", "ring_8mm"}
    view = [a.text() for a in win.menus["view"].actions() if a.text().startswith("Show Ring")]
    assert view == ["Show Ring 2 mm", "Show Ring 4 mm", "Show Ring 8 mm"]
    # remembered for the next start
    assert win.prefs.model_bundle == "bundled:dlrs-bus-malignancy"
    assert Preferences().model_bundle == "bundled:dlrs-bus-malignancy"
    # "How to read this" and F1 help say what this model's number is the probability of
    from dlrs_desktop.ui.about import help_html

    f1 = help_html(win.tools.values(), win.actions.shortcuts, panel.outcome, panel.ring_radii)
    for text in (panel.guide.text.text(), f1):
        assert "probability (0 to 1) of malignancy (malignancy of a breast lesion)" in text
        assert "each ring around it (2, 4, 8 mm)" in text and "3, 5 and 10 mm" not in text  # its own rings
        assert "certainly malignant, 0 = certainly benign" in text
        assert "against (blue) malignancy" in text and "response" not in text

    win.predict()
    qtbot.waitUntil(lambda: win.doc.result_state == "current" and complete(win), timeout=60000)
    assert panel.caption.text() == "probability of malignancy" and not panel.stale.isVisible()
    assert win.doc.result.to_json_dict()["model"]["id"] == "dlrs-bus-malignancy"
    assert any(w in panel.category.text() for w in ("malignant", "benign", "uncertain", "outside"))
    assert not dialog_log.texts("error")


def listed_text(win, name: str) -> str:
    return win.actions_by_name[name].text()


def test_open_model_bundle_with_a_broken_folder_keeps_the_current_model(
    qtbot,
    tmp_path,
    bundled,
    response_window,
    dialog_log,  # noqa: F811
):
    win = response_window
    before = checked(win)
    sha = win.model.info.sha256
    dialog_log.answers["model_folder"] = str(bundled / "broken")
    with qtbot.waitSignal(win.model.switch_failed, timeout=60000):
        win.actions_by_name["open_model"].trigger()
    qtbot.wait(50)
    messages = [m for m in dialog_log.shown if m[0] not in ("model_folder", "yes_no")]
    assert len(messages) == 1  # one message, no second one from the failed load
    kind, title, text = messages[0]
    assert kind == "error" and title == "Model not changed"
    assert "could not be loaded" in text and "test-random 0.0.1" in text
    assert win.model.ready and win.model.info.sha256 == sha
    assert "test-random" in win.model_label.text() and "loading" not in win.model_label.text()
    assert checked(win) == before and win.prefs.model_bundle == ""
    # the contour assist's folder is no prediction model either: refused the same way
    dialog_log.answers["model_folder"] = str(bundled / "dlrs-assist")
    with qtbot.waitSignal(win.model.switch_failed, timeout=60000):
        win.actions_by_name["open_model"].trigger()
    assert "not a DLRS model bundle" in dialog_log.texts("error")[-1]
    # a good folder outside resources/: loaded, ticked, remembered by its path
    other = shutil.copytree(cached_bundle(outcome=PRESETS["malignancy"]), tmp_path / "site-model")
    dialog_log.answers["model_folder"] = str(other)
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.actions_by_name["open_model"].trigger()
    assert checked(win) == [f"Malignancy — synthetic data · {other.name}"]
    assert win.prefs.model_bundle == str(other.resolve())


def started(qtbot, argv: list[str]):
    """`dlrs-desktop ARGV` as the entry point starts it; returns once a model has loaded."""
    win = start(build_parser().parse_args(["--device", "cpu", *argv]))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.doc.model_sha256 is not None, timeout=60000)  # the window has it
    return win


def test_the_remembered_model_is_used_at_the_next_start_unless_model_is_given(
    qtbot,
    bundled,
    response_bundle,
    dialog_log,  # noqa: F811
):
    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    prefs = Preferences()
    prefs.model_bundle = "bundled:dlrs-bus-malignancy"
    prefs.sync()
    win = started(qtbot, [])
    assert win.model.info.name == "dlrs-bus-malignancy" and checked(win) == [MALIGNANCY_LABEL]
    assert win.result_panel.outcome.short_name == "malignancy"
    win.close()
    win = started(qtbot, ["--model", str(response_bundle)])
    assert win.model.info.name == "test-random"
    assert win.prefs.model_bundle == "bundled:dlrs-bus-malignancy"  # --model is not remembered
    assert not dialog_log.texts("error")


def test_a_remembered_model_that_no_longer_loads_falls_back_to_the_demo(
    qtbot,
    tmp_path,
    bundled,
    dialog_log,  # noqa: F811
):
    prefs = Preferences()
    prefs.model_bundle = str(tmp_path / "removed-model")
    prefs.sync()
    win = started(qtbot, [])
    assert win.model.info.name == "dlrs-demo" and checked(win) == [DEMO_LABEL]
    errors = dialog_log.texts("error")
    assert len(errors) == 1 and "removed-model" in errors[0] and "demonstration model instead" in errors[0]
    assert win.prefs.model_bundle == "" and Preferences().model_bundle == ""
