"""Issue 29 point 2: the int8 model of a bundle (training/quantize.py, model/precision.py).

Real components throughout: a small bundle written by the real writer, a tiny cohort from the real
synthetic generator, `dlrs model quantize` running ONNX Runtime's own quantization tools, and the
real predictor and CLI reading the result.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop.cli import main
from dlrs_desktop.errors import ModelError
from dlrs_desktop.model import precision as prec
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.predictor import Predictor
from tests.model_factory import bmode_case, cached_bundle, copy_bundle
from tests.training_factory import tiny_cohort
from tests.ui_factory import dialog_log  # noqa: F401

pytest.importorskip("onnx")  # ONNX Runtime's quantization tools need it (the [train] extra)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return tiny_cohort(tmp_path_factory.mktemp("cohort"), patients=60, seed=11, dicom=False)


@pytest.fixture(scope="module")
def quantized(tmp_path_factory, cohort) -> Path:
    bundle = copy_bundle(cached_bundle(), tmp_path_factory.mktemp("b") / "bundle")
    args = ["model", "quantize", "--model", str(bundle), "--cohort", str(cohort), "--threads", "1"]
    # random weights: every case gets nearly the same probability, so a 0.005 shift reorders them and
    # moves the AUC of 13 cases by 0.1; the tolerances here test the mechanism, the demo the accuracy
    tolerances = ["--max-dp", "0.05", "--max-dauc", "0.3"]
    assert main([*args, *tolerances, "--require", "--cohort-command", "tiny_cohort(seed=11)"]) == 0
    return bundle


def _files(bundle: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file()}


def test_quantize_adds_a_pinned_int8_graph_and_leaves_the_float_model_byte_identical(quantized, cohort):
    before, after = _files(cached_bundle()), _files(quantized)
    for name in ("backbone.safetensors", "heads.safetensors", "model.onnx"):
        assert after[name] == before[name]
    bundle = load_bundle(quantized)
    block = bundle.manifest[prec.INT8_BLOCK]
    entry = bundle.manifest["files"][prec.INT8_FILE]
    assert entry["role"] == "onnx" and entry["bytes"] == len(after[prec.INT8_FILE])
    assert len(after[prec.INT8_FILE]) < len(after["model.onnx"]) / 2  # int8 weights: a quarter of float32
    n_train = sum(1 for line in cohort.read_text().splitlines()[1:] if ",train," in line)
    assert block["calibration"] == {
        "cohort": "cohort.csv", "split": "train", "n": n_train, "command": "tiny_cohort(seed=11)"
    }  # fmt: skip
    assert set(block["splits"]) == {"train", "internal", "external"}
    assert 0 < block["splits"]["internal"]["max_abs_dp"] <= 0.05 == block["guard"]["max_abs_dp"]
    assert block["guard"]["reported_only"] == ["external"] and block["attempts"][-1]["passed"]
    assert any(n.endswith("/conv1/Conv") and "layer" not in n for n in block["float_kept"])  # the stem
    card = after["MODEL_CARD.md"].decode()
    assert "int8 model `model.int8.onnx`" in card and "tiny_cohort(seed=11)" in card
    assert f"internal (n = {block['splits']['internal']['n']}): max |Δp|" in card


def test_the_int8_graph_predicts_what_the_float_graph_predicts(quantized):
    image, contour = bmode_case(seed=4)
    q = Predictor(quantized, device="cpu", precision="int8", threads=1)
    f = Predictor(quantized, device="cpu", precision="float", threads=1)
    pq, pf = (p.predict(image, contour) for p in (q, f))  # the sensitivity stage runs a batch of 4
    assert (pq.precision, pf.precision) == ("int8", "float32") and q.info()["precision"] == "int8"
    assert pq.probability != pf.probability and abs(pq.probability - pf.probability) < 0.02
    lq, lf = (np.array([r.logit for r in p.regions]) for p in (pq, pf))
    assert np.max(np.abs(lq - lf)) < 0.1


def test_auto_runs_int8_exactly_where_the_cpu_has_fast_int8(quantized):
    flags = prec._proc_flags()
    assert flags is not None  # Linux CI
    fast = any(f in flags for f in ("avx512_vnni", "avx_vnni", "avx512bw", "avx2", "asimddp"))
    assert (prec.fast_int8_feature() is not None) is fast
    assert Predictor(quantized, device="cpu").precision == ("int8" if fast else "float32")


def test_precision_float_and_a_bundle_without_int8_run_the_float_model(quantized):
    plain = cached_bundle()
    assert Predictor(quantized, device="cpu", precision="float").precision == "float32"
    assert Predictor(plain, device="cpu").precision == "float32"
    forced = Predictor(plain, device="cpu", precision="int8")
    assert forced.precision == "float32" and "no int8 version" in str(forced.device_note)
    assert Predictor(quantized, device="cpu", backend="torch").precision == "float32"
    with pytest.raises(ModelError, match="Unknown precision"):
        Predictor(plain, device="cpu", precision="fp16")


def test_predict_json_and_text_say_which_precision_ran(quantized, tmp_path, capsys):
    from PIL import Image

    image, contour = bmode_case(seed=4)
    png = tmp_path / "case.png"
    Image.fromarray(np.asarray(image.gray, np.uint8)).save(png)
    contour.save(tmp_path / "case.contour.json")
    base = ["predict", str(png), "--allow-unsigned", "--model", str(quantized), "--spacing", "0.1"]
    for want, extra in (("int8", ["--precision", "int8"]), ("float32", ["--precision", "float"])):
        assert main([*base, *extra, "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert d["precision"] == want and list(d)[list(d).index("backend") + 1] == "precision"
        assert main([*base, *extra]) == 0
        assert f"onnxruntime on cpu ({want})" in capsys.readouterr().out


def test_a_tampered_int8_file_is_refused_at_load(quantized, tmp_path, capsys):
    bad = copy_bundle(quantized, tmp_path / "bad")
    blob = bytearray((bad / prec.INT8_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (bad / prec.INT8_FILE).write_bytes(bytes(blob))
    with pytest.raises(ModelError, match=r"model\.int8\.onnx.*(sha256|changed|match)"):
        load_bundle(bad)
    assert main(["model", "verify", str(bad), "--allow-unsigned"]) == 3
    err = capsys.readouterr().err
    assert "model.int8.onnx" in err and "Traceback" not in err


def test_a_manifest_naming_an_unlisted_int8_file_is_refused(quantized, tmp_path):
    bad = copy_bundle(quantized, tmp_path / "bad")
    m = json.loads((bad / "manifest.json").read_text())
    m[prec.INT8_BLOCK]["file"] = "model.onnx"  # the float graph posing as the int8 one
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match=r"onnx_int8\.file"):
        load_bundle(bad)


def test_the_guard_refuses_and_nothing_is_written(tmp_path, cohort, capsys):
    bundle = copy_bundle(cached_bundle(), tmp_path / "bundle")
    before = _files(bundle)
    args = ["model", "quantize", "--model", str(bundle), "--cohort", str(cohort), "--threads", "1"]
    assert main([*args, "--max-dp", "0", "--calibration-cases", "10"]) == 0
    out = capsys.readouterr().out
    assert "int8 model NOT written" in out and "on the internal split > 0" in out
    assert _files(bundle) == before
    assert main([*args, "--max-dp", "0", "--calibration-cases", "10", "--require"]) == 2
    assert _files(bundle) == before


def test_the_result_panel_shows_the_precision_and_preferences_choose_float(
    quantized,
    qtbot,
    tmp_path,
    dialog_log,  # noqa: F811
):
    from dlrs_desktop.ui.about import PreferencesDialog
    from tests.ui_factory import calibrated_dicom, draw_polygon, make_window

    dialog_log.answers["yes_no"] = True  # use the unsigned test bundle (bundle_signature.py)
    win = make_window(qtbot)
    win.prefs.device = "cpu"
    want = "int8" if prec.fast_int8_feature() else "float32"
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(quantized)
    assert win.open_path(calibrated_dicom(tmp_path))
    draw_polygon(qtbot, win)
    win.predict()
    qtbot.waitUntil(lambda: win.doc.result is not None, timeout=60000)
    assert f"(onnxruntime, {want})" in win.result_panel.details.text()
    reloads: list[bool] = []
    dlg = PreferencesDialog(win, win.prefs, "cpu", [], lambda *_: None, lambda: reloads.append(True))
    dlg.precision.setCurrentIndex(dlg.precision.findData("float"))
    dlg.apply()
    assert win.prefs.precision == "float" and reloads == [True]  # the model is loaded again
    with qtbot.waitSignal(win.model.loaded, timeout=60000):
        win.start_model(quantized)
    assert win.model.predictor.precision == "float32"


def test_dlrs_train_ends_with_the_int8_step_and_evaluate_reports_it(cohort, tmp_path, capsys):
    from tests.test_training_e2e import TINY

    out = tmp_path / "model"
    assert main(["train", "--cohort", str(cohort), "--out", str(out), *TINY, "--no-radiomics"]) == 0
    log = capsys.readouterr()
    text = log.out + log.err
    assert text.index("domain reference:") < text.index("int8 model: calibrated on the train split")
    bundle = load_bundle(out)
    block = bundle.manifest.get(prec.INT8_BLOCK)
    if "int8 model written" in text:  # a one-epoch network: the guard decides, both outcomes are honest
        assert block["calibration"]["split"] == "train" and prec.INT8_FILE in bundle.manifest["files"]
    else:
        assert "int8 model NOT written: " in text and block is None
        assert not (out / prec.INT8_FILE).exists()
        args = ["model", "quantize", "--model", str(out), "--cohort", str(cohort), "--threads", "1"]
        assert main([*args, "--max-dp", "0.5", "--max-dauc", "0.99", "--require"]) == 0
    # `dlrs evaluate` reports the int8 model against the float one, split by split
    report = tmp_path / "ev"
    assert main(["evaluate", "--model", str(out), "--cohort", str(cohort), "--out", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics["int8"]["splits"]) == {"train", "internal", "external"}
    internal = metrics["int8"]["splits"]["internal"]
    assert internal["auc_change"] == pytest.approx(internal["auc_int8"] - internal["auc_float"])
    assert "<h2>int8 model</h2>" in (report / "report.html").read_text()


def test_an_int8_graph_this_onnxruntime_cannot_run_falls_back_to_float(quantized, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from dlrs_desktop.model.bundle_edit import rewrite_with_files

    node = helper.make_node("NoSuchOperator", ["crops"], ["region_logits"], domain="org.example.future")
    graph = helper.make_graph(
        [node],
        "future",
        [helper.make_tensor_value_info("crops", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("region_logits", TensorProto.FLOAT, None)],
    )
    future = helper.make_model(graph, opset_imports=[helper.make_opsetid("org.example.future", 1)])
    bundle = copy_bundle(quantized, tmp_path / "future")
    rewrite_with_files(bundle, {prec.INT8_FILE: future.SerializeToString()}, lambda m: None, role="onnx")
    assert onnx.load(str(bundle / prec.INT8_FILE)).graph.node[0].op_type == "NoSuchOperator"
    p = Predictor(bundle, device="cpu", precision="int8")
    assert p.precision == "float32" and "The int8 model does not run here" in str(p.device_note)
    image, contour = bmode_case(seed=4)
    assert p.predict(image, contour, sensitivity=False).precision == "float32"
