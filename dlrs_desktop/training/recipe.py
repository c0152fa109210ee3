"""What a training run is asked for and what it produced, as two values instead of long argument lists.

`TrainingRecipe` is the input of `train_from_cohort` (the cohort, the settings, the bundle's name and
provenance); `TrainedModel` is what the pipeline hands to `write_trained_bundle` (the network, the
fitted rows and how they were made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrs_desktop.training.trainer import TrainConfig

#: default `dlrs synth` patients behind the guard's synthetic-likeness gate (docs/DOMAIN_GUARD.md)
SYNTHETIC_NEGATIVES = 150


@dataclass(frozen=True)
class TrainingRecipe:
    """The cohort, the training settings, and what the bundle will be called and say about itself."""

    cohort_csv: str | Path
    cfg: TrainConfig = field(default_factory=TrainConfig)
    model_id: str = "dlrs-custom"
    version: str = "0.1.0"
    training_kind: str = "real"  # "real" | "synthetic"
    description: str = ""
    # the DICOM body part the images show (manifest training_data.body_part; model/anatomy.py): a DICOM
    # whose header names another one reads outside. None: not declared, not checked
    body_part: str | None = "BREAST"
    changelog: dict[str, str] | None = None
    demo: bool = False
    outcome: dict[str, str] | None = None  # the manifest's outcome block (model/outcome.py)
    # `dlrs synth` patients that teach the domain guard's synthetic-likeness gate; None: the default for
    # the data (SYNTHETIC_NEGATIVES for real data, none for synthetic: it would learn synthetic vs synthetic)
    synthetic_negatives: int | None = None

    def negatives(self) -> int:
        if self.synthetic_negatives is not None:
            return self.synthetic_negatives
        return SYNTHETIC_NEGATIVES if self.training_kind == "real" else 0


@dataclass
class TrainedModel:
    """A finished run: the shipped network and everything the manifest records about its making."""

    net: Any  # FusionNet (torch), on the CPU
    spec: Any  # PreprocessSpec
    data: Any  # the prepared cohort (training/dataset.py)
    rows: list[Any]  # the fitted row models (training/stacking.py)
    folds: Any  # fold index of every training case
    state: dict[str, Any]  # the checkpoint state (config, completed stages, sessions)
    final_info: dict[str, Any]  # best epoch and history of the final network
    seconds: float
    device_used: str
    ensemble: dict[str, Any] | None = None
    radiomics: Any = None  # Radiomics or None
    distillation: dict[str, Any] | None = None  # the student stage's record and verdict (distil.py)
