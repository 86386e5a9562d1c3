"""Hand networks: a tiny multi-task encoder-decoder and a MobileNetV2 baseline.

Both map a (N, 1, H, W) normalised depth image to the outputs of the model-file contract:
heatmaps and segmentation at stride 2, presence, visibility and keypose logits. They share the
decoder and heads so that the ablation compares encoders and auxiliary training only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_KEYPOSES

NUM_SIDES = 2


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                 dilation: int = 1, relu: bool = True) -> nn.Sequential:
    padding = dilation * (kernel - 1) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel, stride, padding, dilation=dilation, groups=groups,
                  bias=False),
        nn.BatchNorm2d(out_ch),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class SeparableBlock(nn.Module):
    """Tier 1: depthwise 3x3 then pointwise, residual when the shape allows."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(in_ch, in_ch, 3, stride, groups=in_ch),
            conv_bn_relu(in_ch, out_ch, 1, relu=False),
        )
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return F.relu(x + y) if self.residual else F.relu(y)


class InvertedResidual(nn.Module):
    """Tiers 2-3 and MobileNetV2: expand, depthwise, project (linear bottleneck).

    `downsample_first` runs the strided depthwise before the expansion, which keeps the
    expansion at the low resolution: the tiny network's main FLOP saving.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int,
                 dilation: int = 1, downsample_first: bool = False):
        super().__init__()
        hidden = in_ch * expansion
        layers: list[nn.Module] = []
        if downsample_first and stride > 1:
            layers.append(conv_bn_relu(in_ch, in_ch, 3, stride, groups=in_ch))
            stride = 1
        if expansion != 1:
            layers.append(conv_bn_relu(in_ch, hidden, 1))
        layers.append(conv_bn_relu(hidden, hidden, 3, stride, groups=hidden, dilation=dilation))
        layers.append(conv_bn_relu(hidden, out_ch, 1, relu=False))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch and not downsample_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


def _lateral(in_ch: int, out_ch: int) -> nn.Module:
    """Skip connection into the decoder: free when the widths already agree."""
    return nn.Identity() if in_ch == out_ch else conv_bn_relu(in_ch, out_ch, 1)


class FusionDecoder(nn.Module):
    """Top-down path: upsample the deepest feature and add each shallower one (stride 16 -> 2)."""

    def __init__(self, skip_channels: Sequence[int], width: int, out_channels: int):
        super().__init__()
        deepest, *shallower = list(skip_channels)[::-1]
        self.reduce_deep = conv_bn_relu(deepest, width, 1)
        self.lateral = nn.ModuleList(_lateral(c, width) for c in shallower[:-1])
        self.refine = nn.ModuleList(SeparableBlock(width, width) for _ in shallower[:-1])
        self.to_out = conv_bn_relu(width, out_channels, 1)
        self.finest_lateral = _lateral(shallower[-1], out_channels)
        self.finest_refine = conv_bn_relu(out_channels, out_channels, 3, groups=out_channels)

    def forward(self, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        """The fused feature at the finest skip's resolution (stride 2)."""
        deepest, *shallower = list(skips)[::-1]
        x = self.reduce_deep(deepest)
        for skip, lateral, refine in zip(shallower[:-1], self.lateral, self.refine, strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = refine(x + lateral(skip))
        finest = shallower[-1]
        x = F.interpolate(self.to_out(x), size=finest.shape[-2:], mode="nearest")
        return self.finest_refine(x + self.finest_lateral(finest))


class HandHeads(nn.Module):
    """Primary heads (heatmaps, presence); auxiliary ones (visibility, segmentation, keypose)."""

    def __init__(self, fine_ch: int, global_ch: int, num_keypoints: int, num_keyposes: int,
                 num_seg_classes: int = 3):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.num_keyposes = num_keyposes
        self.heatmaps = nn.Conv2d(fine_ch, NUM_SIDES * num_keypoints, 1)
        # Start from near-empty heatmaps, as the targets mostly are.
        nn.init.normal_(self.heatmaps.weight, std=1e-3)
        nn.init.zeros_(self.heatmaps.bias)
        self.segmentation = nn.Conv2d(fine_ch, num_seg_classes, 1)
        pooled = 2 * global_ch
        self.presence = nn.Linear(pooled, NUM_SIDES)
        self.visibility = nn.Linear(pooled, NUM_SIDES * num_keypoints)
        self.keypose = nn.Linear(pooled, NUM_SIDES * num_keyposes)

    def forward(self, fine: torch.Tensor, deep: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = torch.cat([deep.mean(dim=(2, 3)), deep.amax(dim=(2, 3))], dim=1)
        return {
            "heatmaps": self.heatmaps(fine),
            "presence": self.presence(pooled),
            "visibility": self.visibility(pooled),
            "segmentation": self.segmentation(fine),
            "keypose": self.keypose(pooled).view(-1, NUM_SIDES, self.num_keyposes),
        }


class HandNet(nn.Module):
    """Encoder (list of stages, strides 2/4/8/16) + fusion decoder + heads."""

    def __init__(self, stages: nn.ModuleList, stage_channels: Sequence[int], decoder_width: int,
                 fine_width: int, num_keypoints: int, num_keyposes: int):
        super().__init__()
        self.stages = stages
        self.decoder = FusionDecoder(stage_channels, decoder_width, fine_width)
        self.heads = HandHeads(fine_width, stage_channels[-1], num_keypoints, num_keyposes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        fine = self.decoder(skips)
        return self.heads(fine, skips[-1])


def tiny_hand_net(num_keypoints: int, num_keyposes: int) -> HandNet:
    """Three tiers of growing complexity after a stem: separable, then inverted residual blocks."""
    stem_ch, t1, t2, t3 = 16, 32, 48, 64
    stages = nn.ModuleList([
        conv_bn_relu(1, stem_ch, 3, 2),                                          # stride 2
        SeparableBlock(stem_ch, t1, 2),                                          # stride 4
        nn.Sequential(InvertedResidual(t1, t2, 2, 2, downsample_first=True),
                      InvertedResidual(t2, t2, 1, 2)),                           # stride 8
        nn.Sequential(InvertedResidual(t2, t3, 2, 2, downsample_first=True),
                      InvertedResidual(t3, t3, 1, 2, dilation=2)),               # stride 16
    ])
    return HandNet(stages, (stem_ch, t1, t2, t3), decoder_width=32, fine_width=16,
                   num_keypoints=num_keypoints, num_keyposes=num_keyposes)


# MobileNetV2 (Sandler et al. 2018) inverted-residual settings up to stride 16:
# (expansion, channels, repeats, first stride).
_MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))


def mobilenet_v2_hand_net(num_keypoints: int, num_keyposes: int) -> HandNet:
    """MobileNetV2 at width 1.0 up to its stride-16 features, with the tiny net's decoder."""
    layers_by_stride: dict[int, list[nn.Module]] = {2: [conv_bn_relu(1, 32, 3, 2)]}
    channels_by_stride: dict[int, int] = {2: 32}
    in_ch, stride = 32, 2
    for expansion, out_ch, repeats, first_stride in _MOBILENET_V2_SETTINGS:
        for i in range(repeats):
            block_stride = first_stride if i == 0 else 1
            stride *= block_stride
            layers_by_stride.setdefault(stride, []).append(
                InvertedResidual(in_ch, out_ch, block_stride, expansion))
            channels_by_stride[stride] = in_ch = out_ch
    strides = sorted(layers_by_stride)
    stages = nn.ModuleList(nn.Sequential(*layers_by_stride[s]) for s in strides)
    return HandNet(stages, [channels_by_stride[s] for s in strides], decoder_width=64,
                   fine_width=32, num_keypoints=num_keypoints, num_keyposes=num_keyposes)


ARCHITECTURES = {"tiny": tiny_hand_net, "mobilenet_v2": mobilenet_v2_hand_net}


def build_hand_net(arch: str) -> HandNet:
    """A network of the named architecture for the package's hand layout."""
    return ARCHITECTURES[arch](len(HAND_KEYPOINT_NAMES), len(HAND_KEYPOSES))
