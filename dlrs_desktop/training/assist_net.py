"""The learned assist's network: a small prompt-conditioned U-Net (torch; training and export only).

Input: CHANNELS×SIZE×SIZE (grey crop, box mask, click Gaussian; + include/exclude points from recipe 3;
see `roi.assist_prompt`).
Output: one logit per input pixel (lesion vs not). Trained from scratch (no downloadable weights on a
bedside laptop's build machine), so it is kept small: ~0.2 M parameters, ~1 MB of weights, a few ms
per crop on a CPU through ONNX Runtime.
"""

from __future__ import annotations

import torch
from torch import nn

from dlrs_desktop.roi.assist_prompt import CHANNELS

DEFAULT_WIDTHS = (8, 16, 32, 48, 64)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class AssistUNet(nn.Module):
    def __init__(self, widths: tuple[int, ...] = DEFAULT_WIDTHS, in_channels: int = CHANNELS) -> None:
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        self.in_channels = int(in_channels)
        self.down = nn.ModuleList()
        cin = in_channels
        for w in self.widths:
            self.down.append(_block(cin, w))
            cin = w
        self.up = nn.ModuleList()
        for w_skip, w_below in zip(self.widths[-2::-1], self.widths[:0:-1], strict=True):
            self.up.append(_block(w_skip + w_below, w_skip))
        self.head = nn.Conv2d(self.widths[0], 1, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for block in self.up:
            skip = skips.pop()
            x = nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = block(torch.cat([skip, x], dim=1))
        return self.head(x)
