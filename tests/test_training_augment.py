"""Training augmentations respect the preprocessing's fill: no invented tissue, no black corners."""

from __future__ import annotations

import torch

from dlrs_desktop.training.augment import augment

MEAN, STD = 0.5, 0.25
BLACK = (0.0 - MEAN) / STD  # a zero-intensity pixel after the fixed normalisation


def _crops(value_inside: float, value_outside: float) -> torch.Tensor:
    """(B=4, R=2, C=1, 32, 32): a bright square region in the middle, `value_outside` around it."""
    x = torch.full((4, 2, 1, 32, 32), (value_outside - MEAN) / STD)
    x[..., 10:22, 10:22] = (value_inside - MEAN) / STD
    return x


def test_zero_fill_stays_black_outside_the_region() -> None:
    x = _crops(0.6, 0.0)
    out = augment(x, MEAN, STD, torch.Generator().manual_seed(0), strength=1.0, fill_mode="zero")
    assert out.shape == x.shape
    # the corners are far from the (rotated, scaled) region: still exactly the fill value
    assert torch.allclose(out[..., :3, :3], torch.full_like(out[..., :3, :3], BLACK))
    # the region itself was changed (gain, gamma, speckle noise)
    assert not torch.allclose(out[..., 14:18, 14:18], x[..., 14:18, 14:18])


def test_mean_fill_is_changed_with_the_region_and_never_padded_black() -> None:
    x = _crops(0.6, 0.6)  # fill = region mean: the whole crop carries image information
    out = augment(x, MEAN, STD, torch.Generator().manual_seed(0), strength=1.0, fill_mode="mean")
    # rotation pads with the border value: no black corners appear
    assert float(out.min()) > BLACK + 0.5
    # photometric changes reach the fill too, so it stays comparable with the changed region
    corner, centre = out[..., :3, :3].mean(dim=(-1, -2, -3)), out[..., 14:18, 14:18].mean(dim=(-1, -2, -3))
    assert torch.allclose(corner, centre, atol=0.15)
    assert not torch.allclose(out[..., :3, :3], x[..., :3, :3])


def test_strength_zero_is_off() -> None:
    x = _crops(0.6, 0.3)
    x[..., 10:22, 10:14] = (0.9 - MEAN) / STD  # asymmetric: a flip would show
    out = augment(x, MEAN, STD, torch.Generator().manual_seed(0), strength=0.0, fill_mode="mean")
    assert torch.allclose(out, x, atol=1e-4)
