"""What a new bundle says beside its network: one value object instead of two dozen arguments.

`write_bundle(out, net, BundleContents(...))` — the preprocessing, the stacking, the threshold and the
manifest's descriptive fields travel together from training (training/export.py) and from the tests'
model factory to the one function that seals a bundle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dlrs_desktop.model.manifest import DEFAULT_CONTRAINDICATIONS, Stacking
from dlrs_desktop.model.outcome import DEFAULT_OUTCOME, Outcome, intended_use_for, task_for
from dlrs_desktop.model.preprocess import PreprocessSpec


@dataclass(frozen=True)
class BundleContents:
    """Everything `write_bundle` writes besides the network's own tensors and ONNX graph."""

    spec: PreprocessSpec
    stacking: Stacking
    threshold: float
    model_id: str
    version: str
    training_data: dict[str, Any]
    metrics: Sequence[dict[str, Any]]
    threshold_rule: str = "Youden index on the training split"
    name: str = ""
    description: str = ""
    task: str | None = None
    outcome: dict[str, Any] | None = None  # model/outcome.py; default: early response
    intended_use: str | None = None  # default: worded from the outcome
    contraindications: Sequence[str] = DEFAULT_CONTRAINDICATIONS
    licence: str = "MIT (weights and code); research use only"
    authors: Sequence[str] = ()
    references: Sequence[str] = ()
    changelog: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # further manifest blocks (models, radiomics, …)
    extra_files: Mapping[str, bytes] = field(default_factory=dict)  # reports beside the model

    @property
    def n_signatures(self) -> int:
        return len(self.extra.get("radiomics", {}).get("signatures", ()))

    def descriptive_fields(self) -> dict[str, Any]:
        """The manifest's fields about the model's identity, purpose and provenance (not its weights)."""
        outcome = dict(self.outcome or DEFAULT_OUTCOME)
        return {
            "id": self.model_id,
            "name": self.name or self.model_id,
            "version": self.version,
            "description": self.description,
            "authors": list(self.authors),
            "references": list(self.references),
            "changelog": self.changelog or {self.version: "initial bundle"},
            "task": self.task or task_for(Outcome.from_dict(outcome)),
            "outcome": outcome,
            "intended_use": self.intended_use or intended_use_for(Outcome.from_dict(outcome)),
            "contraindications": list(self.contraindications),
            "training_data": dict(self.training_data),
        }
