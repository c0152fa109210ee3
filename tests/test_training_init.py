"""`--init`: local torchvision-format ResNet weights, safetensors only (pickle checkpoints are refused)."""

from __future__ import annotations

import pickle

import pytest
import torch
import torchvision

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.network import FusionNet
from dlrs_desktop.training.trainer import load_init_weights


@pytest.fixture(scope="module")
def resnet_sd():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).state_dict()  # nothing downloaded


def test_safetensors_init_fills_every_backbone_and_sums_rgb_stem(tmp_path, resnet_sd):
    from safetensors.torch import save_file

    path = tmp_path / "r18.safetensors"
    save_file({k: v.contiguous() for k, v in resnet_sd.items()}, str(path))
    net = FusionNet("resnet18", n_regions=4, shared_backbone=False, in_channels=1)
    assert load_init_weights(net, path) > 100
    for bb in net.backbones:
        torch.testing.assert_close(bb.layer3[1].conv2.weight, resnet_sd["layer3.1.conv2.weight"])
        torch.testing.assert_close(bb.conv1.weight, resnet_sd["conv1.weight"].sum(dim=1, keepdim=True))


def test_pickle_checkpoints_are_refused_without_being_opened(tmp_path, resnet_sd):
    net = FusionNet("resnet18", n_regions=4, in_channels=1)
    good = tmp_path / "r18.pth"
    torch.save({"state_dict": resnet_sd}, good)
    with pytest.raises(DlrsError, match="never opened"):
        load_init_weights(net, good)

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "evil.ckpt"
    bad.write_bytes(pickle.dumps({"conv1.weight": Evil()}, protocol=2))
    with pytest.raises(DlrsError, match="never opened"):
        load_init_weights(net, bad)
    assert not marker.exists()  # the pickle was not executed
    with pytest.raises(DlrsError, match="does not exist"):
        load_init_weights(net, tmp_path / "missing.safetensors")
