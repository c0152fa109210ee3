"""The outcome options shared by `dlrs train` and `dlrs model set-outcome` (model/outcome.py).

`--outcome PRESET` picks a ready-made outcome (early-response, malignancy); each of the other options
replaces one field of it. Without a preset, `train` starts from early response and `set-outcome`
from the bundle's current outcome. `--body-part TERM` declares the DICOM body part the training
images show (model/anatomy.py): BREAST when `train` is not told otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.anatomy import body_part_problem, normalised
from dlrs_desktop.model.outcome import MAX_LENGTH, PRESETS, Outcome, apply_outcome, text_problem

#: option → manifest field of `outcome`
OPTIONS: dict[str, str] = {
    "--outcome-name": "name",
    "--outcome-definition": "definition",
    "--outcome-short-name": "short_name",
    "--positive-label": "positive_label",
    "--negative-label": "negative_label",
    "--positive-class": "positive_class",
    "--negative-class": "negative_class",
}
_HELP = {
    "name": 'the outcome, e.g. "malignancy of a breast lesion"',
    "definition": "one paragraph defining the outcome and its reference standard (model card)",
    "short_name": 'what the probability is of, e.g. "malignancy" (shown as "probability of …")',
    "positive_label": 'the result at or above the threshold, e.g. "likely malignant"',
    "negative_label": 'the result below the threshold, e.g. "likely benign"',
    "positive_class": 'the class of label 1, e.g. "malignant" (prediction sets, explanation maps)',
    "negative_class": 'the class of label 0, e.g. "benign"',
}


def add_outcome_args(p: argparse.ArgumentParser, start: str) -> None:
    """The outcome options; `start` says in the help what fields not given keep."""
    g = p.add_argument_group(
        "outcome", f"what the bundle predicts (docs/MODEL_BUNDLE.md); fields not given: {start}"
    )
    g.add_argument("--outcome", choices=sorted(PRESETS), metavar="PRESET",
                   help=f"a ready-made outcome: {', '.join(sorted(PRESETS))}")  # fmt: skip
    for option, field in OPTIONS.items():
        g.add_argument(option, dest=f"outcome_{field}", metavar="TEXT", help=_HELP[field])
    add_body_part_arg(g)


def add_body_part_arg(p: Any) -> None:
    """`--body-part TERM` on a parser or argument group."""
    p.add_argument(
        "--body-part", metavar="TERM",
        help="the DICOM Body Part Examined term of the training images (e.g. BREAST, THYROID; 'none' = "
        "not declared): a DICOM whose header names another body part reads outside the model's domain",
    )  # fmt: skip


def body_part_from_args(args: argparse.Namespace, default: str | None) -> str | None:
    """The declared body part: --body-part (checked; 'none' = not declared), else `default`."""
    given = getattr(args, "body_part", None)
    if given is None:
        return default
    if given.strip().lower() == "none":
        return None
    problem = body_part_problem(normalised(given))
    if problem:
        raise DlrsError(f"--body-part {problem}.")
    return normalised(given)


def outcome_from_args(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, str] | None:
    """The outcome block the options ask for (preset, else `base`, then each option), checked;
    None when no outcome option was given."""
    given = {f: getattr(args, f"outcome_{f}", None) for f in OPTIONS.values()}
    given = {f: v for f, v in given.items() if v is not None}
    preset = getattr(args, "outcome", None)
    if preset is None and not given:
        return None
    start = PRESETS[preset] if preset else Outcome.from_dict(base).to_dict()
    out = {**start, **given}
    for option, field in OPTIONS.items():
        problem = text_problem(out[field], MAX_LENGTH[field])
        if problem:
            raise DlrsError(f"{option} {problem}.")
    return out


def register_set_outcome(sub: Any) -> None:
    """`dlrs model set-outcome --model DIR [--outcome PRESET] [--outcome-name TEXT ...]`."""
    p = sub.add_parser(
        "set-outcome",
        help="declare the outcome of a trained bundle folder without retraining (weights unchanged)",
    )
    p.add_argument("--model", required=True, metavar="DIR", help="the bundle folder to edit in place")
    add_outcome_args(p, "the bundle's current outcome")


def run_set_outcome(args: argparse.Namespace) -> int:
    """Rewrite the manifest and MODEL_CARD.md through `rewrite_manifest` (weights byte-identical)."""
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.bundle_edit import rewrite_manifest

    before = load_bundle(args.model)
    outcome = outcome_from_args(args, before.manifest.get("outcome") or {})
    body_part = body_part_from_args(args, before.body_part)
    if outcome is None and body_part == before.body_part:
        raise DlrsError(
            "Give --outcome PRESET, --body-part TERM or at least one of the outcome options (see --help)."
        )

    def update(m: dict[str, Any]) -> None:
        if outcome is not None:
            apply_outcome(m, outcome)
        m["training_data"].pop("body_part", None)
        if body_part is not None:
            m["training_data"]["body_part"] = body_part

    bundle = rewrite_manifest(args.model, update)
    o = bundle.outcome
    print(
        f"{bundle.id} {bundle.version}: {o.probability_of} ({o.positive_label} / {o.negative_label}; "
        f"classes {o.positive_class} / {o.negative_class}; body part {bundle.body_part or 'not declared'}); "
        f"weights unchanged, manifest sha256 {bundle.manifest_sha256}"
    )
    return 0
