"""A straightforward torch implementation of a DLRS bundle: the baseline of bench_predict.py.

What someone porting the study's model by hand would write: for each member network of the bundle
(one for a single-network bundle, final + folds for an ensemble) a torchvision ResNet with a
1-channel first convolution, loaded from the bundle's own safetensors weights (`backbones.<m>.*`),
run on the same region crops (`prepare_inputs`, the app's preprocessing), global average pooling,
the members' pooled features side by side and the bundle's linear heads (`heads.safetensors`), then
the bundle's radiomics signatures and logistic stacking (numpy, as the app does). Nothing of the
app's torch model (model/network.py) is used, so the comparison is with an independent port of the
same model, and `parity` checks it gives the app's probability.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from safetensors.torch import load_file


class TorchPort:
    """The bundle at `folder` in plain torch (eval mode, CPU, float32)."""

    def __init__(self, folder: Path, threads: int) -> None:
        torch.set_num_threads(threads)
        manifest = json.loads((folder / "manifest.json").read_text())
        arch = manifest["architecture"]
        self.members = int(arch.get("members", 1))
        weights = load_file(str(folder / arch["weights_file"]))
        heads = load_file(str(folder / manifest["heads"]["weights_file"]))
        self.trunks = [self._trunk(arch, weights, m) for m in range(self.members)]
        self.head_w = heads[manifest["heads"]["weight_tensor"]].float()  # (R, M*K)
        self.head_b = heads[manifest["heads"]["bias_tensor"]].float()  # (R,)

    @staticmethod
    def _trunk(arch: dict[str, Any], weights: dict[str, torch.Tensor], m: int) -> torch.nn.Module:
        net = getattr(torchvision.models, arch["arch"])(weights=None)
        net.conv1 = torch.nn.Conv2d(int(arch["in_channels"]), 64, 7, 2, 3, bias=False)
        net.fc = torch.nn.Identity()  # torchvision's own global average pooling stays
        prefix = f"backbones.{m}."
        state = {k[len(prefix) :]: v.float() for k, v in weights.items() if k.startswith(prefix)}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if [k for k in missing if not k.endswith("num_batches_tracked")] or unexpected:
            raise SystemExit(f"member {m}: weights do not fit ({missing[:3]}, {unexpected[:3]})")
        return net.eval()

    def region_logits(self, crops: np.ndarray) -> np.ndarray:
        """(B, R, C, S, S) crops → (B, R) region logits."""
        b, r = crops.shape[:2]
        x = torch.from_numpy(crops).reshape(b * r, *crops.shape[2:])
        with torch.inference_mode():
            pooled = torch.cat([trunk(x) for trunk in self.trunks], dim=1).reshape(b, r, -1)
            return ((pooled * self.head_w).sum(-1) + self.head_b).numpy()

    def flops(self, crops: np.ndarray) -> int:
        """FLOPs (2 × multiply-adds of convolutions and matrix products) of one forward pass."""
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            self.region_logits(crops)
        return int(counter.get_total_flops())
