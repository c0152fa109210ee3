"""Small helpers shared by the sub-commands: JSON output, options into config objects, the model options."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from typing import Any

from dlrs_desktop.model.precision import PRECISIONS


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def config_from_args(cls: type, args: argparse.Namespace, renamed: dict[str, str] | None = None) -> Any:
    """A config dataclass from the parsed options: each field from the option of the same name (or the
    option `renamed` names for it); a field without an option keeps its default."""
    names = {f.name: (renamed or {}).get(f.name, f.name) for f in fields(cls)}
    return cls(**{field: getattr(args, option) for field, option in names.items() if hasattr(args, option)})


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --device and --precision, as every command that runs the fusion model spells them."""
    parser.add_argument(
        "--model", metavar="DIR", help="model bundle folder or zip (default: the bundled model)"
    )
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto: the bundle's int8 model where this CPU runs int8 fast (VNNI, AVX-512, AVX2, dotprod), "
        "else the float model; float: always the float model (docs/MODEL_BUNDLE.md)",
    )


def add_bundle_update_arguments(sub: argparse._SubParsersAction, name: str, help_text: str) -> Any:
    """The sub-command of `dlrs model` that adds a part fitted on a cohort to an existing bundle:
    --model (the folder updated in place), --cohort (its training cohort.csv) and --threads."""
    p = sub.add_parser(name, help=help_text)
    p.add_argument("--model", required=True, metavar="DIR", help="bundle folder to update")
    p.add_argument("--cohort", required=True, metavar="CSV", help="the bundle's training cohort.csv")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads")
    return p
