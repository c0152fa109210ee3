"""The default install leaves torch, scikit-learn, matplotlib, SciPy and ONNX out (pip extras).

The dev environment has them, so these tests hide them: a meta-path finder that refuses to import them
stands in for a lean virtual environment (the real one is measured in the README).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dlrs_desktop.cli import main as cli_main
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.extras import EXTRAS, MissingExtraError, message_for_import_error, require

ROOT = Path(__file__).resolve().parent.parent
OPTIONAL = (
    "torch", "torchvision", "triton", "sklearn", "matplotlib", "scipy", "onnx", "onnxscript", "pyqtgraph"
)  # fmt: skip

# Run in a fresh interpreter: a None entry in sys.modules makes `import torch` raise ModuleNotFoundError and
# importlib.util.find_spec("torch") return None, exactly as in a virtual environment without torch.
HIDE = f"import sys\nsys.modules.update(dict.fromkeys({OPTIONAL!r}))\n"


def _run_lean(code: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-c", HIDE + code]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_default_dependencies_leave_torch_to_the_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]]
    assert not {"torch", "torchvision", "scikit-learn", "matplotlib", "scipy", "onnx"} & set(names)
    extras = project["optional-dependencies"]
    assert {"train", "gpu", "dev"} <= set(extras)
    for extra in ("gpu", "train"):
        assert any(d.startswith("torch") for d in extras[extra])
    assert any(d.startswith("scipy") for d in extras["dev"])  # the ring tests' reference transform


def test_gui_cli_and_self_test_work_with_every_optional_module_missing():
    code = (
        "import sys\n"
        "import dlrs_desktop.ui.app, dlrs_desktop.cli\n"
        "from dlrs_desktop.cli import main\n"
        "rc = main(['predict', 'resources/samples/demo.dcm'])\n"
        "rc2 = dlrs_desktop.ui.app.main(['--self-test'])\n"
        "real = sorted(m for m, mod in sys.modules.items() if mod is not None and m.split('.')[0] in "
        f"{OPTIONAL!r})\n"
        "print('loaded:', real, rc, rc2)\n"
    )
    result = _run_lean(code)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Probability of early response: 0\.\d{3}", result.stdout)
    assert "self-test passed" in result.stdout
    assert "loaded: [] 0 0" in result.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["train", "--cohort", "missing.csv", "--out", "unused"], "train"),
        (["evaluate", "--cohort", "missing.csv", "--out", "unused"], "train"),
        (["train-assist", "--data", "missing", "--out", "unused"], "train"),
        (["predict", "resources/samples/demo.dcm", "--device", "gpu"], "gpu"),
    ],
    ids=["train", "evaluate", "train-assist", "predict-gpu"],
)
def test_a_feature_without_its_extra_names_the_pip_install_in_one_line(args, extra):
    result = _run_lean(f"from dlrs_desktop.cli import main; raise SystemExit(main({args!r}))")
    text = result.stdout + result.stderr
    assert f"pip install 'dlrs-desktop[{extra}]'" in text, text
    assert "Traceback" not in text
    if args[0] != "predict":  # train/evaluate refuse before reading anything
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    else:  # predict falls back to the CPU with a note
        assert result.returncode == 0 and "Probability of early response" in result.stdout


def test_torch_backend_without_torch_is_a_one_line_error(monkeypatch):
    from dlrs_desktop.model import Predictor

    monkeypatch.setitem(sys.modules, "torch", None)  # find_spec now reports it missing
    with pytest.raises(MissingExtraError, match=r"pip install 'dlrs-desktop\[gpu\]'"):
        Predictor(backend="torch", device="cpu")


def test_import_errors_map_to_their_extra_and_others_stay_bugs(monkeypatch, capsys):
    msg = message_for_import_error(ModuleNotFoundError("x", name="sklearn.linear_model"), "`dlrs train`")
    assert msg is not None and "[train]" in msg and "\n" not in msg
    assert message_for_import_error(ModuleNotFoundError("x", name="numpy"), "f") is None
    assert issubclass(MissingExtraError, DlrsError) and set(EXTRAS) == {"train", "gpu", "plot"}
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match="matplotlib"):
        require("train", "figures", modules=("matplotlib",))
    assert cli_main(["evaluate", "--cohort", "c.csv", "--out", "o"]) == 2
    assert "pip install 'dlrs-desktop[train]'" in capsys.readouterr().err


def test_a_command_whose_module_needs_a_missing_extra_still_leaves_the_others_working():
    code = (
        "import sys\n"
        "sys.modules['dlrs_desktop.training'] = None  # as in the standalone build without training\n"
        "sys.modules['dlrs_desktop.training.trainer'] = None\n"
        "from dlrs_desktop.cli import main\n"
        "rc = main(['train', '--cohort', 'c.csv', '--out', 'o'])\n"
        "rc2 = main(['model', 'info'])\n"
        "print('exit', rc, rc2)\n"
    )
    result = _run_lean(code)
    assert "exit 2 0" in result.stdout, result.stdout + result.stderr
    assert "`dlrs train` needs dlrs_desktop.training" in result.stderr
    assert "pip install 'dlrs-desktop[train]'" in result.stderr and "Traceback" not in result.stderr


def test_preferences_name_the_gpu_extra_when_torch_is_missing(monkeypatch):
    from dlrs_desktop.ui.about import available_devices, gpu_absence

    monkeypatch.setitem(sys.modules, "torch", None)
    assert available_devices() == ["auto", "cpu"]
    assert "pip install 'dlrs-desktop[gpu]'" in gpu_absence()


def test_a_wheel_install_finds_the_bundled_resources_in_its_data_files(tmp_path, monkeypatch):
    """`pip install dlrs-desktop` (no source tree): model, samples and icons are the wheel's data files."""
    from dlrs_desktop import paths

    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = {
        f"{target}/{p.name}"
        for target, patterns in data_files.items()
        for pattern in patterns
        for p in ROOT.glob(pattern)
    }
    prefix = "share/dlrs-desktop/resources"
    bundles = [p.parent.name for p in (ROOT / "resources" / "models").glob("*/manifest.json")]
    assert "dlrs-demo" in bundles
    for name in bundles:  # every bundled model (the fusion model, the learned contour assist)
        assert f"{prefix}/models/{name}/manifest.json" in shipped, name
    for rel in (
        "models/dlrs-demo/manifest.json",
        "models/dlrs-demo/model.onnx",
        "samples/demo.dcm",
        "samples/demo.contour.json",
        "icons/dlrs-desktop.png",
    ):
        assert f"{prefix}/{rel}" in shipped, rel
    # Without a source tree beside the package, resources_dir() is <prefix>/share/dlrs-desktop/resources.
    monkeypatch.delenv("DLRS_RESOURCES", raising=False)
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "site-packages" / "dlrs_desktop" / "paths.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    (tmp_path / "venv" / prefix).mkdir(parents=True)
    assert paths.resources_dir() == tmp_path / "venv" / prefix
