"""FusionNet: torchvision ResNet feature extractor(s) + one linear head per region.

Imports torch and torchvision at module level on purpose: only training, ONNX export and the
GPU/reference backends import this module; the CPU predictor runs the ONNX export and never
loads torch (start-up time and memory of the desktop app).

Input  `x`: float32 (B, R, C, S, S) — B cases, R regions (ROI crops from `prepare_inputs`).
Output logits (B, R): one logit per region (a deep-learning "signature"); stacking over these
logits gives the fused probability (numpy, `dlrs_desktop.model.manifest.Stacking`).

Heads are linear on globally average-pooled features, so the class activation map
`CAM_r = W_r · F_r[:, i, j] + b_r` is exact (its spatial mean equals the region logit) and needs
no gradients: `forward_with_features` returns the last feature maps for it.

An ensemble of M networks (`members=M`, see `ensemble_of`) is the same module with M trunks whose
feature maps are concatenated along the channel axis (K = M × 512 for ResNet-18) and one linear
head over them. Because heads are linear and pooling is a mean, averaging M members' (standardised)
logits is exactly one wider linear head, so the bundle format, the ONNX outputs and the exact CAM
stay as they are.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import torch
import torchvision
from torch import nn

from dlrs_desktop.errors import ModelError

#: Supported backbones and the channel count of their last feature maps.
FEATURE_DIMS: dict[str, int] = {"resnet18": 512, "resnet34": 512, "resnet50": 2048}


class ResNetTrunk(nn.Module):
    """A torchvision ResNet without its pooling and classifier: image → last feature maps.

    Sub-module names match torchvision (`conv1`, `bn1`, `layer1`..`layer4`) so its weights load
    into / from a torchvision ResNet state dict (minus `fc`).
    """

    def __init__(self, arch: str = "resnet18", in_channels: int = 1) -> None:
        super().__init__()
        if arch not in FEATURE_DIMS:
            raise ValueError(f"unsupported backbone {arch!r}; choose one of {sorted(FEATURE_DIMS)}")
        base = getattr(torchvision.models, arch)(weights=None)  # nothing is downloaded
        if in_channels != 3:
            base.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
            nn.init.kaiming_normal_(base.conv1.weight, mode="fan_out", nonlinearity="relu")
        self.conv1, self.bn1, self.relu, self.maxpool = base.conv1, base.bn1, base.relu, base.maxpool
        self.layer1, self.layer2 = base.layer1, base.layer2
        self.layer3, self.layer4 = base.layer3, base.layer4
        self.out_channels = FEATURE_DIMS[arch]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class FusionNet(nn.Module):
    """Per-region ResNet evidence: shared backbone (default) or one backbone per region.

    State-dict keys: `backbones.<i>.<torchvision names>`, `head.weight` (R, K), `head.bias` (R,).
    With `members=M` (an ensemble, shared backbone only) backbone m is member m's trunk and
    columns m·K₀ … (m+1)·K₀ of `head.weight` are member m's part of each region's head.
    """

    def __init__(
        self,
        arch: str = "resnet18",
        n_regions: int = 4,
        shared_backbone: bool = True,
        in_channels: int = 1,
        members: int = 1,
    ) -> None:
        super().__init__()
        if n_regions < 1:
            raise ValueError("FusionNet needs at least one region")
        if members < 1 or (members > 1 and not shared_backbone):
            raise ValueError("an ensemble (members > 1) needs a shared backbone per member")
        self.arch = arch
        self.n_regions = int(n_regions)
        self.shared_backbone = bool(shared_backbone)
        self.in_channels = int(in_channels)
        self.members = int(members)
        n_backbones = members if shared_backbone else n_regions
        self.backbones = nn.ModuleList(ResNetTrunk(arch, in_channels) for _ in range(n_backbones))
        k = FEATURE_DIMS[arch] * self.members
        self.head = nn.Linear(k, n_regions)  # row r = head of region r (used per region, not mixed)
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    # --- configuration ------------------------------------------------------------------------
    @property
    def feature_dim(self) -> int:
        return FEATURE_DIMS[self.arch] * self.members

    def backbone_of(self, region: int) -> int:
        """Index of the backbone that sees region `region`."""
        return 0 if self.shared_backbone else region

    def config(self) -> dict[str, Any]:
        """The `architecture` block of the manifest; `FusionNet.from_config` rebuilds the module.

        `members` is written only for an ensemble, so single-network bundles stay readable by
        versions that predate it (which refuse an ensemble: its weights do not fit one trunk).
        """
        cfg: dict[str, Any] = {
            "family": "torchvision-resnet",
            "arch": self.arch,
            "n_regions": self.n_regions,
            "shared_backbone": self.shared_backbone,
            "in_channels": self.in_channels,
            "feature_dim": self.feature_dim,
            "pooling": "global-average",
            "head": "linear (one per region) on pooled features -> one logit per region",
        }
        if self.members > 1:
            cfg["members"] = self.members
            cfg["head"] = (
                f"linear (one per region) on the pooled features of {self.members} member networks, "
                "concatenated -> one logit per region = the mean of the members' standardised logits"
            )
        return cfg

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> FusionNet:
        return cls(
            arch=str(cfg["arch"]),
            n_regions=int(cfg["n_regions"]),
            shared_backbone=bool(cfg["shared_backbone"]),
            in_channels=int(cfg["in_channels"]),
            members=int(cfg.get("members", 1)),
        )

    # --- forward ------------------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, R, C, S, S) → last feature maps (B, R, K, h, w); one batched pass if shared."""
        b, r = x.shape[0], x.shape[1]
        if not torch.jit.is_tracing() and r != self.n_regions:
            raise ValueError(f"expected {self.n_regions} region crops, got {r}")
        if self.shared_backbone:
            flat = x.reshape(b * r, *x.shape[2:])
            f = torch.cat([trunk(flat) for trunk in self.backbones], dim=1)  # members side by side
            return f.reshape(b, r, *f.shape[1:])
        return torch.stack([self.backbones[i](x[:, i]) for i in range(r)], dim=1)

    def logits_from_features(self, f: torch.Tensor) -> torch.Tensor:
        pooled = f.mean(dim=(-2, -1))  # (B, R, K)
        return (pooled * self.head.weight).sum(dim=-1) + self.head.bias  # (B, R)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Region logits (B, R) and the last feature maps (B, R, K, h, w) for exact CAM."""
        f = self.features(x)
        return self.logits_from_features(f), f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_from_features(self.features(x))

    def cam(self, features: torch.Tensor) -> torch.Tensor:
        """Exact class activation maps (B, R, h, w) in logit units (mean over h, w = region logit)."""
        maps = torch.einsum("brkhw,rk->brhw", features, self.head.weight)
        return maps + self.head.bias[None, :, None, None]


def ensemble_of(nets: list[FusionNet], mean: Any, sd: Any) -> FusionNet:
    """One FusionNet whose region logits are the mean of `nets`' logits, each standardised first.

    `mean`, `sd`: (M, R) per member and region (e.g. on held-out cases). Why standardise: networks
    trained from scratch on a few hundred cases do not share a logit scale (stacking.py), so a raw
    average would be dominated by the member with the widest logits. Exact: member m's head row r
    becomes W/(M·sd) in its column block and the bias the mean of (b − mean)/sd.
    """
    first = nets[0]
    if any(n.members != 1 or not n.shared_backbone for n in nets):
        raise ValueError("ensemble_of takes single networks with a shared backbone")
    shape = (first.arch, first.n_regions, first.in_channels)
    if any((n.arch, n.n_regions, n.in_channels) != shape for n in nets):
        raise ValueError("ensemble members must share backbone, regions and input channels")
    m = len(nets)
    mean_t = torch.as_tensor(mean, dtype=torch.float64).reshape(m, first.n_regions)
    sd_t = torch.as_tensor(sd, dtype=torch.float64).reshape(m, first.n_regions)
    if not bool(torch.isfinite(mean_t).all()) or not bool((sd_t > 0).all()):
        raise ValueError("member standardisation needs finite means and positive SDs")
    out = FusionNet(first.arch, first.n_regions, True, first.in_channels, members=m)
    k = first.feature_dim
    weight = torch.zeros(first.n_regions, k * m, dtype=torch.float64)
    bias = torch.zeros(first.n_regions, dtype=torch.float64)
    with torch.no_grad():
        for i, net in enumerate(nets):
            out.backbones[i].load_state_dict(net.backbones[0].state_dict())
            w, b = net.head.weight.double(), net.head.bias.double()
            weight[:, i * k : (i + 1) * k] = w / (m * sd_t[i, :, None])
            bias += (b - mean_t[i]) / (m * sd_t[i])
        out.head.weight.copy_(weight.float())
        out.head.bias.copy_(bias.float())
    return out.eval()


class _ExportWrapper(nn.Module):
    def __init__(self, net: FusionNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.forward_with_features(x)


ONNX_INPUT = "crops"
ONNX_OUTPUTS = ("region_logits", "features")
ONNX_OPSET = 17


def export_onnx(net: FusionNet, input_size: int, opset: int = ONNX_OPSET) -> bytes:
    """ONNX bytes of `net` (eval mode): input `crops` (B, R, C, S, S), dynamic B;
    outputs `region_logits` (B, R) and `features` (B, R, K, h, w).

    Uses the TorchScript exporter (`dynamo=False`): deterministic, no extra dependencies.
    """
    was_training = net.training
    net.eval()
    dummy = torch.zeros(1, net.n_regions, net.in_channels, input_size, input_size)
    buf = io.BytesIO()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter is chosen on purpose (deterministic, no extra dependencies).
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                _ExportWrapper(net),
                (dummy,),
                buf,
                input_names=[ONNX_INPUT],
                output_names=list(ONNX_OUTPUTS),
                dynamic_axes={name: {0: "batch"} for name in (ONNX_INPUT, *ONNX_OUTPUTS)},
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        net.train(was_training)
    return buf.getvalue()


def state_dict_tensors(net: FusionNet) -> dict[str, torch.Tensor]:
    """Contiguous CPU float tensors for safetensors (BatchNorm's `num_batches_tracked` dropped)."""
    return {
        k: v.detach().to("cpu").contiguous()
        for k, v in net.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }


def load_net(arch_cfg: dict[str, Any], *weights: bytes, device: str | torch.device = "cpu") -> FusionNet:
    """Rebuild a FusionNet (eval mode) from the manifest's `architecture` block and the safetensors
    bytes of its weight files (backbone, heads):
    `load_net(bundle.architecture, *bundle.weights_bytes())`.
    """
    # lazy: torch is the optional [train]/[gpu] extra
    from safetensors.torch import load as st_load

    net = FusionNet.from_config(arch_cfg)
    tensors: dict[str, torch.Tensor] = {}
    for blob in weights:
        tensors.update(st_load(blob))
    missing, unexpected = net.load_state_dict(tensors, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ModelError(
            "The model weights do not match the declared architecture "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})."
        )
    return net.to(device).eval()
