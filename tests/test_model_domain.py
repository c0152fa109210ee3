"""Issue 26: the domain guard (inside / unusual / outside) and conformal prediction sets.

Real components throughout: a small bundle with random weights written by the real writer, a tiny
cohort from the real synthetic generator, the reference fitted by `dlrs model add-reference`, and the
real predictor, CLI, result panel and SR writer reading it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import ModelError
from dlrs_desktop.model import domain as dm
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.predictor import Predictor
from tests.model_factory import bmode_case, cached_bundle, copy_bundle
from tests.training_factory import rewrite, tiny_cohort
from tests.ui_factory import complete, dialog_log  # noqa: F401

DOMAIN_KEYS = {"status", "score", "unusual_above", "outside_above", "reason"}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return tiny_cohort(tmp_path_factory.mktemp("cohort"), patients=60, seed=11, dicom=False)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, cohort) -> Path:
    bundle = copy_bundle(cached_bundle(), tmp_path_factory.mktemp("b") / "bundle")
    assert main(["model", "add-reference", "--model", str(bundle), "--cohort", str(cohort),
                 "--components", "8", "--threads", "1"]) == 0  # fmt: skip
    return bundle


def _split(cohort: Path, split: str) -> list[dict[str, str]]:
    with cohort.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["split"] == split]


def test_reference_from_train_thresholds_from_internal_and_never_the_external_split(
    guarded, cohort, tmp_path
):
    from dlrs_desktop.training.cohort import load_case, read_cohort

    bundle = load_bundle(guarded)
    block = bundle.manifest["domain_reference"]
    assert block["n_train"] == len(_split(cohort, "train")) and block["n_internal"] == len(
        _split(cohort, "internal")
    )
    assert bundle.manifest["files"][dm.REFERENCE_FILE]["role"] == "other"
    # the thresholds are the 95th / 99.5th percentiles of the predictor's own scores on the internal split
    predictor = Predictor(bundle, device="cpu", backend="onnx", threads=1)
    internal = [c for c in read_cohort(cohort, require_train=False) if c.split == "internal"]
    scores = [predictor.predict(*load_case(c), sensitivity=False).domain.score for c in internal]
    assert block["unusual_above"] == pytest.approx(np.percentile(scores, 95), rel=1e-6)
    assert block["outside_above"] == pytest.approx(np.percentile(scores, 99.5), rel=1e-6)
    assert bundle.manifest["conformal"]["n_calibration"] == len(internal)
    # the external split is never read: without it the fit is the same, number for number
    no_external = rewrite(
        cohort, cohort.parent / "no_external.csv", lambda rows: [r for r in rows if r["split"] != "external"]
    )
    other = copy_bundle(cached_bundle(), tmp_path / "other")
    assert main(["model", "add-reference", "--model", str(other), "--cohort", str(no_external),
                 "--components", "8", "--threads", "1"]) == 0  # fmt: skip
    again = load_bundle(other).manifest
    assert {k: v for k, v in again["domain_reference"].items() if k != "cohort"} == {
        k: v for k, v in block.items() if k != "cohort"
    }
    assert again["files"][dm.REFERENCE_FILE] == bundle.manifest["files"][dm.REFERENCE_FILE]
    # the weights are byte-identical to the bundle the reference was added to
    for name in ("backbone.safetensors", "heads.safetensors", "model.onnx"):
        assert bundle.manifest["files"][name] == load_bundle(cached_bundle()).manifest["files"][name]


def _tamper(bundle: Path, edit_manifest=None, edit_tensors=None) -> None:
    """A forger who also re-pins the manifest: the hashes match, the numbers must still be refused."""
    from safetensors.numpy import load, save

    m = json.loads((bundle / "manifest.json").read_text())
    if edit_tensors:
        t = {k: np.array(v) for k, v in load((bundle / dm.REFERENCE_FILE).read_bytes()).items()}
        edit_tensors(t)
        blob = save(t)
        (bundle / dm.REFERENCE_FILE).write_bytes(blob)
        m["files"][dm.REFERENCE_FILE] = {"sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
                                         "role": "other"}  # fmt: skip
    if edit_manifest:
        edit_manifest(m)
    (bundle / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize(
    ("tensors", "manifest", "field"),
    [
        (lambda t: t["features.mean"].__setitem__((0, 0), np.nan), None, "features.mean"),
        (lambda t: t["features.residual"].__setitem__(0, -1.0), None, "features.residual"),
        (lambda t: t.__setitem__("features.components", t["features.components"][:, :, :-1]), None, "shape"),
        (None, lambda m: m["domain_reference"]["checks"][0].__setitem__("scale", -0.5), "checks[0].scale"),
        (None, lambda m: m["domain_reference"].__setitem__("outside_above", 1e300), "outside_above"),
        (None, lambda m: m["domain_reference"]["checks"].pop(), "domain_reference.checks"),
        (None, lambda m: m["conformal"].__setitem__("qhat", 1.5), "conformal"),
        (None, lambda m: m["domain_reference"]["checks"][0].__setitem__("informative", "no"), "informative"),
    ],
)
def test_a_tampered_reference_is_refused_at_load_naming_the_field(
    guarded, tmp_path, tensors, manifest, field
):
    bad = copy_bundle(guarded, tmp_path / "bad")
    _tamper(bad, manifest, tensors)
    with pytest.raises(ModelError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_bundle(bad)


def test_an_old_bundle_without_reference_loads_and_says_so(tmp_path, capsys):
    image, contour = bmode_case(seed=2)
    pred = Predictor(cached_bundle(), device="cpu").predict(image, contour, sensitivity=False)
    d = pred.to_json_dict()
    assert (
        d["domain"]["status"] == "unknown" and d["domain"]["reason"] == "no domain reference in this bundle"
    )
    assert set(d["domain"]) == DOMAIN_KEYS and d["prediction_set"] is None and d["coverage"] is None
    from dlrs_desktop.model.domain_text import domain_line

    assert domain_line(pred) == "Domain: no domain reference in this bundle"


def test_json_keys_and_an_image_unlike_the_training_data_is_outside(guarded, tmp_path, capsys):
    from PIL import Image

    image, contour = bmode_case(seed=5, radius_mm=5.0)
    inverted = 255 - np.asarray(image.gray)  # bright lesion in dark speckle: nothing like a B-mode scan
    png = tmp_path / "inverted.png"
    Image.fromarray(np.where(image.scan_mask, inverted, 0).astype(np.uint8)).save(png)
    contour.save(tmp_path / "inverted.contour.json")
    args = [
        "predict",
        str(png),
        "--allow-unsigned",
        "--model",
        str(guarded),
        "--spacing",
        "0.1",
        "--no-sensitivity",
    ]
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d["domain"]) == DOMAIN_KEYS and isinstance(d["prediction_set"], list) and d["coverage"] == 0.9
    assert d["domain"]["status"] == "outside" and d["domain"]["score"] > d["domain"]["outside_above"]
    assert d["domain"]["reason"].startswith("this image is unlike the images this model was trained on: ")
    # the text output shows no class and no probability
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("No result: this image is unlike") and "Probability" not in out
    for label in ("likely early responder", "likely non-responder"):
        assert label not in out


def test_conformal_sets_cover_at_the_nominal_rate_on_a_synthetic_calibration_set():
    from dlrs_desktop.training.conformal_fit import fit_conformal

    rng = np.random.default_rng(7)

    def draw(n):
        p = 1 / (1 + np.exp(-rng.normal(0, 1.6, n)))
        return p, (rng.random(n) < p).astype(int)

    p_cal, y_cal = draw(2000)
    conformal = fit_conformal(p_cal, y_cal, 0.9)
    p, y = draw(20000)
    names = ("non-responder", "early responder")
    sets = [dm.prediction_set(float(q), conformal, names) for q in p]
    coverage = np.mean([names[t] in s for t, s in zip(y, sets, strict=True)])
    assert coverage == pytest.approx(0.9, abs=0.015)
    assert 0.0 < np.mean([len(s) == 2 for s in sets]) < 1.0


def _inverted_dicom(folder: Path) -> Path:
    """A calibrated DICOM whose tissue is inverted (bright lesion in dark speckle), the lesion under
    the test polygon: calibrated and drawable, but nothing like the B-mode scans the model learned."""
    from dlrs_desktop.imaging.dicom_writer import build_dataset, write_dataset

    image, _ = bmode_case(shape=(480, 640), centre=(256.0, 215.0), radius_mm=4.5, seed=9)
    pixels = np.where(image.scan_mask, 255 - np.asarray(image.gray), 0).astype(np.uint8)
    return write_dataset(folder / "inverted.dcm", build_dataset(pixels, mm_per_px=0.1))


def test_the_gui_shows_outside_with_no_class_and_the_sr_carries_it(guarded, qtbot, tmp_path, dialog_log):  # noqa: F811
    import pydicom

    from tests.pacs_factory import dciodvfy_errors
    from tests.ui_factory import draw_polygon, make_window

    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    path = _inverted_dicom(tmp_path)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(guarded)
    assert win.open_path(path)
    draw_polygon(qtbot, win)
    win.predict()
    qtbot.waitUntil(lambda: complete(win), timeout=60000)
    pred, panel = win.doc.result.to_json_dict()["prediction"], win.result_panel
    assert pred["domain"]["status"] == "outside"
    assert panel.probability.text() == "—" and "training domain" in panel.caption.text()
    assert panel.category.text().startswith(
        "No result: this image is unlike the images this model was trained on"
    )
    for label in ("likely early responder", "likely non-responder", "prediction set"):
        assert label not in panel.category.text()
    assert panel.bars.rows == [] and "Domain: outside" in panel.details.text()
    # the outside wording wraps: nothing in the side panel is wider than its scroll area (was clipped)
    from PySide6.QtWidgets import QScrollArea

    scroll = win.side_dock.findChild(QScrollArea)
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width() - 16  # a scroll bar fits
    # the DICOM SR of the same case: a qualitative evaluation, no probability, no category
    out = tmp_path / "dicom"
    contour = tmp_path / "c.json"
    win.doc.contour.save(contour)
    assert main(["dicom", "export", str(path), "--contour", str(contour), "--model", str(guarded),
                 "--out", str(out), "--allow-unsigned"]) == 0  # fmt: skip
    sr = pydicom.dcmread(out / "inverted.sr.dcm")
    found: dict[str, list[str]] = {}

    def walk(items):
        for it in items:
            name = it.ConceptNameCodeSequence[0].CodeMeaning
            if it.ValueType == "CODE":
                found.setdefault(name, []).append(it.ConceptCodeSequence[0].CodeValue)
            elif it.ValueType in ("NUM", "TEXT"):
                found.setdefault(name, []).append(it.ValueType)
            walk(getattr(it, "ContentSequence", []))

    walk(sr.ContentSequence)
    assert found["Image within the model's training domain"] == ["DOMOUT"]
    assert "Domain score" in found and "Domain reason" in found
    assert "Probability of early response to neoadjuvant chemotherapy" not in found
    assert "Model result category" not in found
    assert dciodvfy_errors(out / "inverted.sr.dcm") == []


def test_dlrs_train_writes_the_reference_into_every_new_bundle(cohort, tmp_path):
    from tests.test_training_e2e import TINY

    out = tmp_path / "model"
    assert main(["train", "--cohort", str(cohort), "--out", str(out), *TINY, "--no-radiomics"]) == 0
    bundle = load_bundle(out)
    assert bundle.domain is not None and bundle.manifest["conformal"]["split"] == "internal"
    assert bundle.body_part == "BREAST"  # `dlrs train` declares it unless told otherwise (model/anatomy.py)
    assert bundle.manifest["domain_reference"]["n_train"] == len(_split(cohort, "train"))
    # texture checks in every new reference; no synthetic-likeness gate for data declared synthetic
    tex = bundle.manifest["domain_reference"]["texture"]
    assert tex["n_train"] == len(_split(cohort, "train")) and tex["synthetic"] is None
    image, contour = bmode_case(seed=4)
    pred = Predictor(bundle, device="cpu").predict(image, contour, sensitivity=False)
    assert pred.domain.status in dm.STATUSES and pred.coverage == 0.9 and pred.prediction_set


def test_a_one_class_prediction_set_always_agrees_with_the_category_beside_it():
    """The set is fitted on probabilities centred on the bundle's threshold: with a threshold of 0.27
    (a Youden threshold, as real bundles have) p = 0.30 is "likely malignant", and its set must never
    be "benign" alone. Checked over the whole probability range for several qhat."""
    from dlrs_desktop.model import domain as dm
    from dlrs_desktop.training.conformal_fit import fit_conformal

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.27 + 0.5 * (y - 0.4) + rng.normal(0, 0.25, 400), 0.001, 0.999)
    block = fit_conformal(p, y, 0.9, centre=0.27)
    assert block["centre"] == 0.27
    names = ("benign", "malignant")
    for qhat in (0.2, 0.45, block["qhat"], 0.7):
        for prob in np.linspace(0.001, 0.999, 500):
            s = dm.prediction_set(float(prob), {**block, "qhat": qhat}, names)
            if len(s) == 1:
                assert s[0] == ("malignant" if prob >= 0.27 else "benign"), (qhat, prob, s)
    # an old block without a centre keeps the 0.5 rule
    assert dm.prediction_set(0.3, {"coverage": 0.9, "qhat": 0.45}, names) == ("benign",)


def test_a_quantity_constant_over_the_training_split_is_shown_but_not_scored():
    """Public datasets without a recorded pixel size are imported at one nominal mm/px: every training
    image then has the same spacing, and a guard that scored it would call any other spacing foreign
    ("training range 0.1 to 0.1"). Such a check is kept (shown in the reference) but not scored."""
    from dlrs_desktop.training.domain_fit import _checks

    rng = np.random.default_rng(2)
    table = [{"image:mm_per_px": 0.1, "image:grey_p50": float(g)} for g in rng.normal(90, 10, 200)]
    checks = {c["name"]: c for c in _checks(table)}
    assert checks["image:mm_per_px"]["informative"] is False
    assert checks["image:grey_p50"]["informative"] is True
    ref_checks = tuple(
        dm.Check(
            n, "image", c["median"], c["scale"], c["low"], c["high"], False, c["scale_low"], c["informative"]
        )
        for n, c in checks.items()
    )
    ref = dm.DomainReference.__new__(dm.DomainReference)
    object.__setattr__(ref, "checks", ref_checks)
    object.__setattr__(ref, "unusual_above", 3.0)
    object.__setattr__(ref, "outside_above", 5.0)
    at_home = dm.score_values(ref, {"image:mm_per_px": 0.1, "image:grey_p50": 90.0})
    elsewhere = dm.score_values(ref, {"image:mm_per_px": 0.26, "image:grey_p50": 90.0})
    assert elsewhere.score == at_home.score and elsewhere.status == "inside"
    assert dm.score_values(ref, {"image:mm_per_px": 0.1, "image:grey_p50": 200.0}).status == "outside"
    # the fit scores the internal split (its thresholds) with the same rule: the flag is kept there too
    from dlrs_desktop.training.domain_fit import blank_reference, with_checks

    arrays = {"features.mean": np.zeros((1, 2)), "features.components": np.eye(2)[None, :1],
              "features.precision": np.ones((1, 1, 1)), "features.residual": np.ones(1)}  # fmt: skip
    fitted = with_checks(blank_reference(arrays, ("tumour",)), list(checks.values()))
    flags = {c.name: c.informative for c in fitted.checks}
    assert flags == {"image:mm_per_px": False, "image:grey_p50": True}
