"""An interrupted stage resumes from its safetensors + JSON checkpoint to the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlrs_desktop.training import checkpoint as ckpt
from dlrs_desktop.training.pipeline import make_spec
from dlrs_desktop.training.trainer import TrainConfig, train_stage


class _Stop(Exception):
    pass


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (12, 1, 4, 1, 32, 32)).astype(np.float16)
    y = np.array([0, 1] * 6)
    return x, y


def test_interrupted_stage_resumes_to_the_same_weights(tmp_path):
    torch.set_num_threads(1)
    cfg = TrainConfig(input_size=32, mm_per_px=1.6, epochs=3, batch_size=4, patience=10, seed=5)
    spec = make_spec(cfg)
    x, y = _data()
    full, _, hist_full = train_stage("final", cfg, spec, x, y, x[:, :1], y, "cpu", tmp_path / "a", {}, None,
                                     log=lambda m: None)  # fmt: skip

    def stop_at_epoch_2(msg: str) -> None:
        if "epoch 2:" in msg:
            raise _Stop

    state: dict = {}
    with pytest.raises(_Stop):
        train_stage(
            "final", cfg, spec, x, y, x[:, :1], y, "cpu", tmp_path / "b", state, None, log=stop_at_epoch_2
        )
    saved_state, tensors = ckpt.load(tmp_path / "b")
    assert saved_state["current"]["epoch"] == 0 and any(k.startswith("opt.") for k in tensors)
    logs: list[str] = []
    resumed, _, hist = train_stage("final", cfg, spec, x, y, x[:, :1], y, "cpu", tmp_path / "b", saved_state,
                                   tensors, log=logs.append)  # fmt: skip
    assert any("resuming at epoch 2" in m for m in logs)
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert hist[-1]["loss"] == pytest.approx(hist_full[-1]["loss"], rel=1e-4)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=k)
