"""Hand networks: a tiny multi-task encoder-decoder and a MobileNetV2 baseline.

Both map a (N, 1, H, W) normalised depth image to the outputs of the model-file contract:
heatmaps and segmentation at stride 4, presence, visibility and keypose logits. They share the
decoder and heads so that the ablation compares encoders and auxiliary training only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """Top-down path: upsample the deepest feature and add each shallower skip in turn."""

    def __init__(self, skip_channels: Sequence[int], width: int):
        super().__init__()
        deepest, *shallower = list(skip_channels)[::-1]
        self.reduce_deep = conv_bn_relu(deepest, width, 1)
        self.lateral = nn.ModuleList(_lateral(c, width) for c in shallower)
        self.refine = nn.ModuleList(SeparableBlock(width, width) for _ in shallower)

    def forward(self, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        """The fused feature at the shallowest skip's resolution."""
        deepest, *shallower = list(skips)[::-1]
        x = self.reduce_deep(deepest)
        for skip, lateral, refine in zip(shallower, self.lateral, self.refine, strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = refine(x + lateral(skip))
        return x


class HandHeads(nn.Module):
    """Primary heads (heatmaps, presence); auxiliary ones (visibility, segmentation, keypose).

    The dense heads read a feature at least as wide as the number of heatmaps: each output
    pixel's heatmap vector is a linear map of that feature, so a narrower one could not give
    every keypoint its own peak. Per-hand heads (visibility, keypose) read the dense feature
    pooled over that hand's predicted pixels, so two hands in view do not blur together.
    """

    def __init__(self, decoder_ch: int, head_ch: int, global_ch: int, num_keypoints: int,
                 num_keyposes: int, num_seg_classes: int = 3):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.num_keyposes = num_keyposes
        self.dense = SeparableBlock(decoder_ch, head_ch)
        self.heatmaps = nn.Conv2d(head_ch, NUM_SIDES * num_keypoints, 1)
        # Start from near-empty heatmaps, as the targets mostly are.
        nn.init.normal_(self.heatmaps.weight, std=1e-3)
        nn.init.zeros_(self.heatmaps.bias)
        self.segmentation = nn.Conv2d(head_ch, num_seg_classes, 1)
        self.presence = nn.Linear(2 * global_ch, NUM_SIDES)
        # Shared across sides: a mirrored left hand is a right hand.
        self.visibility = nn.Linear(head_ch, num_keypoints)
        self.keypose = nn.Linear(head_ch, num_keyposes)

    def forward(self, decoded: torch.Tensor, deep: torch.Tensor) -> dict[str, torch.Tensor]:
        dense = self.dense(decoded)
        segmentation = self.segmentation(dense)
        # (B, sides, HW) soft masks of each hand, normalised to sum to one.
        masks = segmentation.softmax(dim=1)[:, 1:].flatten(2)
        masks = masks / (masks.sum(dim=2, keepdim=True) + 1e-6)
        per_hand = torch.bmm(masks, dense.flatten(2).transpose(1, 2))  # (B, sides, C)
        pooled = torch.cat([deep.mean(dim=(2, 3)), deep.amax(dim=(2, 3))], dim=1)
        return {
            "heatmaps": self.heatmaps(dense),
            "presence": self.presence(pooled),
            "visibility": self.visibility(per_hand).flatten(1),
            "segmentation": segmentation,
            "keypose": self.keypose(per_hand),
        }


class HandNet(nn.Module):
    """Encoder stages (the first at stride 2 or 4) + fusion decoder to stride 4 + heads."""

    def __init__(self, stages: nn.ModuleList, stage_channels: Sequence[int],
                 first_skip: int, decoder_width: int, head_width: int,
                 num_keypoints: int, num_keyposes: int):
        super().__init__()
        self.stages = stages
        self.first_skip = first_skip
        self.decoder = FusionDecoder(stage_channels[first_skip:], decoder_width)
        self.heads = HandHeads(decoder_width, head_width, stage_channels[-1], num_keypoints,
                               num_keyposes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        return self.heads(self.decoder(skips[self.first_skip:]), skips[-1])


TINY_STAGE_CHANNELS = (16, 32, 48, 64)
SLIM_STAGE_CHANNELS = (8, 16, 24, 32)


def tiny_stages(
    channels: Sequence[int] = TINY_STAGE_CHANNELS, second_blocks: bool = True
) -> nn.ModuleList:
    """Three tiers of growing complexity after a stem: separable, then inverted residual blocks
    (widths ``channels``, strides 2, 4, 8, 16; the deeper two tiers with a second,
    stride-1 block unless ``second_blocks`` is False)."""
    stem_ch, t1, t2, t3 = channels
    stride_8 = [InvertedResidual(t1, t2, 2, 2, downsample_first=True)]
    stride_16 = [InvertedResidual(t2, t3, 2, 2, downsample_first=True)]
    if second_blocks:
        stride_8.append(InvertedResidual(t2, t2, 1, 2))
        stride_16.append(InvertedResidual(t3, t3, 1, 2, dilation=2))
    return nn.ModuleList([
        conv_bn_relu(1, stem_ch, 3, 2),                                          # stride 2
        SeparableBlock(stem_ch, t1, 2),                                          # stride 4
        nn.Sequential(*stride_8),                                                # stride 8
        nn.Sequential(*stride_16),                                               # stride 16
    ])


def tiny_hand_net(num_keypoints: int, num_keyposes: int) -> HandNet:
    """The tiny encoder; skips from stride 4 upwards, heads at stride 4."""
    return HandNet(tiny_stages(), TINY_STAGE_CHANNELS, first_skip=1, decoder_width=32,
                   head_width=48, num_keypoints=num_keypoints, num_keyposes=num_keyposes)


def slim_hand_net(num_keypoints: int, num_keyposes: int) -> HandNet:
    """The tiny network at half width with one block per tier: a first stage for the refiner,
    which only needs each hand found and roughly placed, so that both stages fit the budget
    together."""
    return HandNet(tiny_stages(SLIM_STAGE_CHANNELS, second_blocks=False), SLIM_STAGE_CHANNELS,
                   first_skip=1,
                   decoder_width=16, head_width=24, num_keypoints=num_keypoints,
                   num_keyposes=num_keyposes)


@dataclass(frozen=True)
class RefinerWidths:
    """Channel widths of a refiner: encoder stages (stem, then stride 4, 8, 16), decoder, head."""

    stages: tuple[int, int, int, int]
    decoder: int
    head: int

    def describe(self) -> str:
        return (f"encoder widths {'/'.join(map(str, self.stages))}, decoder {self.decoder}, "
                f"head {self.head}")


REFINER_ARCHITECTURES = {
    "tiny": RefinerWidths(TINY_STAGE_CHANNELS, decoder=32, head=48),
    # 1.5x the tiny widths at every layer: 2.0x its FLOPs and 2.1x its parameters. At 6000
    # steps from scratch it is 4.4 points ahead of tiny on crops around labelled hands.
    "wide": RefinerWidths((24, 48, 72, 96), decoder=48, head=64),
    # 2x the tiny widths: 3.4x its FLOPs and 3.7x its parameters. At 6000 steps from scratch
    # 2.5 points ahead of wide on the same crops (docs/studies/hand.md).
    "wide2": RefinerWidths((32, 64, 96, 128), decoder=64, head=96),
}
DEFAULT_REFINER_ARCH = "tiny"


class HandRefinerNet(nn.Module):
    """Second stage: the tiny encoder and decoder (or wider ones) on a crop of one
    (right-facing) hand, with a heatmap head of one channel per keypoint at stride 4 and a
    keypoint-depth head beside it.

    With the hand filling the crop, the same network has about 16x more heatmap cells per hand
    than at full frame for a hand at arm's length. The depth head gives each keypoint's surface
    depth relative to the crop's reference, read where its heatmap peaks: a keypoint placed a
    pixel off a finger would otherwise sample the wall behind it. It reads the decoder's
    features (not the wider heatmap branch) to keep its cost at 0.3 MFLOPs per hand.
    """

    def __init__(self, num_keypoints: int,
                 widths: RefinerWidths = REFINER_ARCHITECTURES[DEFAULT_REFINER_ARCH]):
        super().__init__()
        self.stages = tiny_stages(widths.stages)
        self.decoder = FusionDecoder(widths.stages[1:], widths.decoder)
        self.dense = SeparableBlock(widths.decoder, widths.head)
        self.heatmaps = nn.Conv2d(widths.head, num_keypoints, 1)
        nn.init.normal_(self.heatmaps.weight, std=1e-3)
        nn.init.zeros_(self.heatmaps.bias)
        # Built last: the layers above draw the same initial weights as before it existed.
        self.keypoint_depth = nn.Conv2d(widths.decoder, num_keypoints, 1)
        nn.init.normal_(self.keypoint_depth.weight, std=1e-3)
        nn.init.zeros_(self.keypoint_depth.bias)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        features = self.decoder(skips[1:])
        return {
            "heatmaps": self.heatmaps(self.dense(features)),
            "keypoint_depth": self.keypoint_depth(features),
        }


def build_refiner_net(arch: str = DEFAULT_REFINER_ARCH) -> HandRefinerNet:
    """The refiner network of the named width for the package's hand layout."""
    return HandRefinerNet(len(HAND_KEYPOINT_NAMES), REFINER_ARCHITECTURES[arch])


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
    return HandNet(stages, [channels_by_stride[s] for s in strides], first_skip=1,
                   decoder_width=64, head_width=96, num_keypoints=num_keypoints,
                   num_keyposes=num_keyposes)


ARCHITECTURES = {
    "tiny": tiny_hand_net,
    "slim": slim_hand_net,
    "mobilenet_v2": mobilenet_v2_hand_net,
}


def build_hand_net(arch: str) -> HandNet:
    """A network of the named architecture for the package's hand layout."""
    return ARCHITECTURES[arch](len(HAND_KEYPOINT_NAMES), len(HAND_KEYPOSES))


class OutputsInOrder(nn.Module):
    """Returns only the outputs the run trained, in a fixed order, so untrained heads are pruned
    (what export writes, and what a warm start from an exported file compares against)."""

    def __init__(self, model: nn.Module, roles: tuple[str, ...]):
        super().__init__()
        self.model, self.roles = model, roles

    def forward(self, depth: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs = self.model(depth)
        return tuple(outputs[role] for role in self.roles)
