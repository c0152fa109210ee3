"""An interrupted stage resumes from its safetensors + JSON checkpoint to the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlrs_desktop.training import checkpoint as ckpt
from dlrs_desktop.training.pipeline import make_spec
from dlrs_desktop.training.trainer import StageCheckpoint, StageData, TrainConfig, train_stage


class _Stop(Exception):
    pass


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (12, 1, 4, 1, 32, 32)).astype(np.float16)
    y = np.array([0, 1] * 6)
    return x, y


@pytest.mark.parametrize(("stage", "ema"), [("final", 0.0), ("final", 0.9), ("student", 0.0)])
def test_interrupted_stage_resumes_to_the_same_weights(tmp_path, stage, ema):
    """The distilled student (soft targets, training/distil.py) resumes like every stage."""
    torch.set_num_threads(1)
    cfg = TrainConfig(input_size=32, mm_per_px=1.6, epochs=3, batch_size=4, patience=10, seed=5, ema=ema)
    spec = make_spec(cfg)
    x, y = _data()
    soft = np.random.default_rng(2).uniform(0, 1, (len(y), 4)) if stage == "student" else None
    data = StageData(x, y, x[:, :1], y, soft)
    full, _, hist_full = train_stage(stage, cfg, spec, data, "cpu", StageCheckpoint(tmp_path / "a", {}),
                                     log=lambda m: None)  # fmt: skip

    def stop_at_epoch_2(msg: str) -> None:
        if "epoch 2:" in msg:
            raise _Stop

    state: dict = {}
    with pytest.raises(_Stop):
        train_stage(
            stage, cfg, spec, data, "cpu", StageCheckpoint(tmp_path / "b", state), log=stop_at_epoch_2
        )
    saved_state, tensors = ckpt.load(tmp_path / "b")
    assert saved_state["current"]["epoch"] == 0 and any(k.startswith("opt.") for k in tensors)
    assert any(k.startswith("ema.") for k in tensors) == bool(ema)  # the weight average is resumed too
    logs: list[str] = []
    ck = StageCheckpoint(tmp_path / "b", saved_state, tensors)
    resumed, _, hist = train_stage(stage, cfg, spec, data, "cpu", ck, log=logs.append)
    assert any("resuming at epoch 2" in m for m in logs)
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert hist[-1]["loss"] == pytest.approx(hist_full[-1]["loss"], rel=1e-4)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=k)


def test_weight_average_is_what_is_scored_and_kept(tmp_path):
    """With --ema the returned network is the average, not the last step's weights."""
    torch.set_num_threads(1)
    x, y = _data()
    nets = {}
    for ema in (0.0, 0.5):
        cfg = TrainConfig(input_size=32, mm_per_px=1.6, epochs=2, batch_size=4, patience=10, seed=5, ema=ema)
        # no internal split: the last epoch is kept, so the two runs differ only by the averaging
        ck = StageCheckpoint(tmp_path / str(ema), {})
        nets[ema], _, _ = train_stage(
            "final", cfg, make_spec(cfg), StageData(x, y), "cpu", ck, log=lambda m: None
        )
    raw, avg = nets[0.0].state_dict(), nets[0.5].state_dict()
    assert not torch.allclose(raw["head.weight"], avg["head.weight"])
    assert torch.isfinite(avg["head.weight"]).all()


def test_keep_last_takes_the_end_of_the_schedule(tmp_path):
    """--keep last: no early stopping, the last epoch is kept whatever the internal score did."""
    torch.set_num_threads(1)
    x, y = _data()
    cfg = TrainConfig(input_size=32, mm_per_px=1.6, epochs=4, batch_size=4, patience=1, seed=5, keep="last")
    _, kept_epoch, hist = train_stage("final", cfg, make_spec(cfg), StageData(x, y, x[:, :1], y), "cpu",
                                      StageCheckpoint(tmp_path, {}), log=lambda m: None)  # fmt: skip
    assert kept_epoch == 4 and len(hist) == 4
