"""Optional extras: the default install runs the workstation and CLI on ONNX Runtime, without torch.

Training, evaluation figures and the torch GPU path live in pip extras (`[train]`, `[gpu]`), the
timeline view's plot in `[plot]`. A feature
used without its extra fails with one line that names the `pip install` to run, instead of a
traceback. Checked with `importlib.util.find_spec`, which imports nothing (torch takes seconds).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable

from dlrs_desktop.errors import DlrsError

# Import names each extra provides (pyproject.toml [project.optional-dependencies]).
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": (
        "torch",
        "torchvision",
        "sklearn",
        "scipy",
        "statsmodels",
        "matplotlib",
        "onnx",
        "onnxscript",
        "crepes",
    ),
    "gpu": ("torch", "torchvision"),
    "plot": ("pyqtgraph",),
}
# The extra to suggest when one of these modules is missing (the smallest extra that has it).
EXTRA_OF_MODULE = {name: extra for extra in ("plot", "train", "gpu") for name in EXTRAS[extra]}


class MissingExtraError(DlrsError):
    """A feature needs an optional extra that this installation leaves out."""


def missing_modules(modules: Iterable[str]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def install_hint(extra: str) -> str:
    if getattr(sys, "frozen", False):  # the standalone app cannot pip-install into itself
        return f"the standalone app leaves it out; run from source: pip install 'dlrs-desktop[{extra}]'"
    return f"install it with: pip install 'dlrs-desktop[{extra}]'"


def missing_message(feature: str, missing: Iterable[str], extra: str) -> str:
    return f"{feature} needs {', '.join(missing)} (the [{extra}] extra); {install_hint(extra)}"


def require(extra: str, feature: str, modules: Iterable[str] | None = None) -> None:
    """Raise MissingExtraError (one line) unless every module of `extra` (or `modules`) is installed."""
    missing = missing_modules(EXTRAS[extra] if modules is None else modules)
    if missing:
        raise MissingExtraError(missing_message(feature, missing, extra))


def message_for_import_error(exc: ImportError, feature: str) -> str | None:
    """The one-line message for an ImportError of an optional module; None if it is not one of ours."""
    full = getattr(exc, "name", None) or ""
    name = full.split(".")[0]
    extra = EXTRA_OF_MODULE.get(name)
    if full.startswith("dlrs_desktop.training"):  # the standalone build leaves the training package out
        name, extra = full, "train"
    return missing_message(feature, [name], extra) if extra else None
