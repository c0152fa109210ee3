"""`--init`: local torchvision-format ResNet weights (safetensors, or .pth read with weights_only)."""

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


def test_pth_is_read_with_weights_only_and_rejects_arbitrary_objects(tmp_path, resnet_sd):
    good = tmp_path / "r18.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in resnet_sd.items()}}, good)
    net = FusionNet("resnet18", n_regions=4, in_channels=1)
    load_init_weights(net, good)
    torch.testing.assert_close(
        net.backbones[0].layer1[0].bn1.running_var, resnet_sd["layer1.0.bn1.running_var"]
    )

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    bad = tmp_path / "evil.pth"
    bad.write_bytes(pickle.dumps({"conv1.weight": Evil()}, protocol=2))
    with pytest.raises(DlrsError, match="cannot be read safely"):
        load_init_weights(net, bad)
    with pytest.raises(DlrsError, match="does not exist"):
        load_init_weights(net, tmp_path / "missing.safetensors")
