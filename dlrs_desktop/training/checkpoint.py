"""Resumable training checkpoints: tensors in safetensors, everything else in JSON (no pickle).

Layout of `<out>/.checkpoint/`: `state.json` (configuration, finished stages with their
out-of-fold predictions, the stage in progress with its epoch, history and best score) and
`tensors.safetensors` (model, best model and optimiser state of the stage in progress, plus the
best weights of the finished final stage). Both are written atomically, tensors first, so a crash
leaves the previous consistent pair or the new one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dlrs_desktop.fileio import atomic_write_bytes, atomic_write_json

STATE = "state.json"
TENSORS = "tensors.safetensors"


def optimizer_tensors(opt) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flatten an optimiser's state into tensors + a JSON description (param groups, steps)."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    for pid, st in sd["state"].items():
        meta["state"][str(pid)] = {}
        for k, v in st.items():
            if isinstance(v, torch.Tensor) and v.dim() > 0:
                tensors[f"opt.{pid}.{k}"] = v.detach().cpu().contiguous()
                meta["state"][str(pid)][k] = "tensor"
            else:
                meta["state"][str(pid)][k] = float(v.item() if isinstance(v, torch.Tensor) else v)
    return tensors, meta


def restore_optimizer(opt, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
    # lazy: optional [train] extra; extras.require names the install
    import torch

    state: dict[int, dict[str, Any]] = {}
    for pid, st in meta["state"].items():
        state[int(pid)] = {
            k: (tensors[f"opt.{pid}.{k}"] if v == "tensor" else torch.tensor(v)) for k, v in st.items()
        }
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save(folder: Path, state: dict[str, Any], tensors: dict[str, Any]) -> None:
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import save as st_save

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(
        folder / TENSORS, st_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    )
    atomic_write_json(folder / STATE, state)


def load(folder: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import load as st_load

    if not (folder / STATE).is_file() or not (folder / TENSORS).is_file():
        return None
    state = json.loads((folder / STATE).read_text(encoding="utf-8"))
    tensors = st_load((folder / TENSORS).read_bytes())
    return state, tensors
