"""Training augmentations respect the preprocessing's fill: no invented tissue, no black corners."""

from __future__ import annotations

import torch

from dlrs_desktop.training.augment import Augmentation, augment

MEAN, STD = 0.5, 0.25
BLACK = (0.0 - MEAN) / STD  # a zero-intensity pixel after the fixed normalisation


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _crops(value_inside: float, value_outside: float) -> torch.Tensor:
    """(B=4, R=2, C=1, 32, 32): a bright square region in the middle, `value_outside` around it."""
    x = torch.full((4, 2, 1, 32, 32), (value_outside - MEAN) / STD)
    x[..., 10:22, 10:22] = (value_inside - MEAN) / STD
    return x


def test_zero_fill_stays_black_outside_the_region() -> None:
    x = _crops(0.6, 0.0)
    out = augment(x, Augmentation(MEAN, STD, strength=1.0, fill_mode="zero"), _gen(0))
    assert out.shape == x.shape
    # the corners are far from the (rotated, scaled) region: still exactly the fill value
    assert torch.allclose(out[..., :3, :3], torch.full_like(out[..., :3, :3], BLACK))
    # the region itself was changed (gain, gamma, speckle noise)
    assert not torch.allclose(out[..., 14:18, 14:18], x[..., 14:18, 14:18])


def test_mean_fill_is_changed_with_the_region_and_never_padded_black() -> None:
    x = _crops(0.6, 0.6)  # fill = region mean: the whole crop carries image information
    out = augment(x, Augmentation(MEAN, STD, strength=1.0, fill_mode="mean"), _gen(0))
    # rotation pads with the border value: no black corners appear
    assert float(out.min()) > BLACK + 0.5
    # photometric changes reach the fill too, so it stays comparable with the changed region
    corner, centre = out[..., :3, :3].mean(dim=(-1, -2, -3)), out[..., 14:18, 14:18].mean(dim=(-1, -2, -3))
    assert torch.allclose(corner, centre, atol=0.15)
    assert not torch.allclose(out[..., :3, :3], x[..., :3, :3])


def test_strength_zero_is_off() -> None:
    x = _crops(0.6, 0.3)
    x[..., 10:22, 10:14] = (0.9 - MEAN) / STD  # asymmetric: a flip would show
    out = augment(x, Augmentation(MEAN, STD, strength=0.0, fill_mode="mean"), _gen(0))
    assert torch.allclose(out, x, atol=1e-4)


def test_blur_softens_edges_and_keeps_a_zero_fill_black() -> None:
    x = _crops(0.9, 0.0)
    x[..., 12:20, 12:20] = (0.2 - MEAN) / STD  # a sharp dark square inside the bright region
    gen = _gen(0)
    sharp = augment(x, Augmentation(MEAN, STD, strength=1.0, fill_mode="zero", blur_px=0.0), gen)
    gen = _gen(0)
    blurred = augment(x, Augmentation(MEAN, STD, strength=1.0, fill_mode="zero", blur_px=3.0), gen)

    # fewer strong steps between neighbouring pixels once blurred (speckle included)
    def edge(t: torch.Tensor) -> float:
        return float((t[..., 11:21, 1:] - t[..., 11:21, :-1]).abs().mean())

    assert edge(blurred) < 0.8 * edge(sharp)
    assert torch.allclose(blurred[..., :3, :3], torch.full_like(blurred[..., :3, :3], BLACK))


def test_z_scored_crops_are_not_clipped_to_grey_levels() -> None:
    """A z-scored crop has values beyond ±2: the photometric changes must not cut them off."""
    x = torch.zeros((4, 2, 1, 32, 32))
    x[..., 10:22, 10:22] = 4.0  # 4 SD brighter than the surrounding tissue
    x[..., 0:4, :] = -3.0
    out = augment(x, Augmentation(0.5, 0.25, 1.0, "mean", "tissue_zscore"), _gen(0))
    centre = out[..., 14:18, 14:18].mean(dim=(-1, -2, -3))
    assert bool((centre > 2.5).all())  # stays far above the tissue (fixed-scale clipping: ≤ 2)
    assert float(out.min()) < -1.5


def test_distance_channel_moves_with_the_image_but_is_never_changed_photometrically() -> None:
    x = _crops(0.6, 0.6)
    ramp = torch.linspace(-1, 2, 32).expand(32, 32)  # distance grows to the right
    dist = ramp.expand(4, 2, 1, 32, 32).clone()
    both = torch.cat([x, dist], dim=2)
    out = augment(both, Augmentation(MEAN, STD, 1.0, "mean", coordinate_channels=1), _gen(1))
    assert out.shape == both.shape
    d = out[:, :, 1]
    assert float(d.min()) >= -1 - 1e-4 and float(d.max()) <= 2 + 1e-4  # no gain, offset or noise
    # smooth: a warped ramp changes by at most ~ one ramp step (× scale) between neighbours
    step = 3 / 31
    assert float((d[..., 1:] - d[..., :-1]).abs().max()) < 1.3 * step
    assert float((d[..., 1:, :] - d[..., :-1, :]).abs().max()) < 1.3 * step
    # a flip reverses the ramp for some cases, and intensities still get speckle
    assert bool((d[..., 16, 2] > d[..., 16, 29]).any())
    assert not torch.allclose(
        out[:, :, 0],
        augment(x, Augmentation(MEAN, STD, 0.0, "mean"), _gen(1))[:, :, 0],
    )
