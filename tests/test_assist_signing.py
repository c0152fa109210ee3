"""A broken or unsigned contour-assist bundle (issue 27 item 4): under `--method auto` the classical
method answers and says why; `--method learned` fails with exit 3; never "try a tighter box"."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlrs_desktop import bundle_signature as signing
from dlrs_desktop.cli import main
from dlrs_desktop.errors import ModelError
from dlrs_desktop.imaging import load_image
from dlrs_desktop.roi.assist import propose_box
from dlrs_desktop.roi.assist_bundle import default_bundle_dir

REAL = Path(__file__).parent / "data" / "real" / "assist_busi_benign_303.png"
BOX = (60.0, 60.0, 200.0, 160.0)
ALLOW = signing.TrustPolicy(allow_unsigned=True)


def _copy(tmp_path: Path, name: str = "assist") -> Path:
    return Path(shutil.copytree(default_bundle_dir(), tmp_path / name))


def _edit_manifest(root: Path, fn) -> None:  # type: ignore[no-untyped-def]
    m = json.loads((root / "manifest.json").read_text())
    fn(m)
    (root / "manifest.json").write_text(json.dumps(m, indent=2))


def _nan_onnx() -> bytes:
    """A graph with the assist's input and output names whose every logit is NaN."""
    from onnx import TensorProto, helper

    nan = helper.make_tensor("nan", TensorProto.FLOAT, [], [float("nan")])
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input"], ["m"], axes=[1], keepdims=1),
            helper.make_node("Mul", ["m", "nan"], ["logits"]),
        ],
        "nan",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, 96, 96])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 1, 96, 96])],
        [nan],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def _outline(capsys, root: Path, *extra: str) -> tuple[int, dict, str]:
    capsys.readouterr()
    argv = ["outline", str(REAL), "--box", *map(str, BOX), "--json", "--assist-model", str(root), *extra]
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 else {}), err


def test_a_bogus_input_name_falls_back_to_classical_and_says_so(tmp_path, capsys) -> None:
    root = _copy(tmp_path)
    _edit_manifest(root, lambda m: m["onnx"].update(input="bogus"))
    image = load_image(REAL)
    p = propose_box(image, BOX, bundle=str(root), trust=ALLOW)
    assert p.method == "classical" and "no input 'bogus'" in str(p.detail)
    rc, out, _ = _outline(capsys, root, "--allow-unsigned")
    assert rc == 0 and out["method"] == "classical" and "no input" in out["method_detail"]
    rc, _, err = _outline(capsys, root, "--allow-unsigned", "--method", "learned")
    assert rc == 3 and "no input" in err and "tighter box" not in err and len(err.splitlines()) == 1


def test_an_assist_that_outputs_nan_falls_back_to_classical(tmp_path, capsys) -> None:
    pytest.importorskip("onnx")
    root = _copy(tmp_path)
    blob = _nan_onnx()
    (root / "model.onnx").write_bytes(blob)
    _edit_manifest(
        root,
        lambda m: m["files"]["model.onnx"].update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob)),
    )
    rc, out, _ = _outline(capsys, root, "--allow-unsigned")
    assert rc == 0 and out["method"] == "classical" and "no finite outline map" in out["method_detail"]
    (root / "signature.json").unlink()  # else verify stops at the signature that no longer matches
    capsys.readouterr()
    assert main(["model", "verify", str(root), "--allow-unsigned"]) == 3
    err = capsys.readouterr().err
    assert "no finite outline map" in err and len(err.splitlines()) == 1


def test_an_unsigned_assist_is_used_only_when_allowed(tmp_path, capsys) -> None:
    root = _copy(tmp_path)
    (root / "signature.json").unlink()
    rc, out, _ = _outline(capsys, root)
    assert rc == 0 and out["method"] == "classical" and "not signed by a trusted key" in out["method_detail"]
    rc, out, _ = _outline(capsys, root, "--allow-unsigned")
    assert rc == 0 and out["method"] == "learned"
    with pytest.raises(ModelError, match="unsigned model"):
        propose_box(load_image(REAL), BOX, bundle=str(root), engine="learned")


def test_verify_checks_the_assist_bundle(tmp_path, capsys) -> None:
    root = _copy(tmp_path)
    from safetensors.numpy import load, save

    tensors = load((root / "weights.safetensors").read_bytes())
    name = next(k for k in tensors if k.startswith("head"))
    tensors[name] = np.zeros_like(tensors[name])
    blob = save(tensors)
    (root / "weights.safetensors").write_bytes(blob)
    _edit_manifest(
        root,
        lambda m: m["files"]["weights.safetensors"].update(
            sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob)
        ),
    )
    capsys.readouterr()
    assert main(["model", "verify", str(root)]) == 3  # the signature no longer matches
    assert "changed after signing" in capsys.readouterr().err
    (root / "signature.json").unlink()
    assert main(["model", "verify", str(root), "--allow-unsigned"]) == 3  # weights ≠ ONNX
    assert "does not reproduce the safetensors network" in capsys.readouterr().err
