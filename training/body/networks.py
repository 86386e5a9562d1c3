"""LitePose (Wang et al., CVPR 2022): a single-branch bottom-up multi-person pose network.

MobileNetV2-style backbone with large-kernel (7x7) depthwise convolutions and a Fusion Deconv
Head. Outputs follow the body model-file contract: J heatmaps + J*tag_dim associative-embedding
tags at stride 4, J heatmaps at stride 2.

MACs. The stage block counts (6, 8, 10, 10 for every size, all blocks expansion 6 / 7x7) and
widths are the paper's released searched configurations. Counted exactly on the exported
graph (`training.common.onnx_complexity`) they cost 0.89 / 3.62 / 5.28 / 9.98 GMACs at the
published input sizes, 68-74% of the published 1.2 / 5.0 / 7.8 / 13.7. The published
figures count each 4x4 stride-2 transposed conv as a dense conv over its *output* (in_ch x 16
MACs per output element, 4x its true cost, the convention of common PyTorch profilers);
counted that way (`published_convention_macs`) the same graphs land within 4% of every
published figure (the rest is BatchNorm and additions, which those profilers also count).
Matching the figures under the exact count would need more blocks than the released
configurations have, so that reading was rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import shape_inference
from torch import nn

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES
from training.common.onnx_complexity import count_complexity

STEM_CHANNELS = 32
EXPANSION = 6
STAGE_BLOCKS = (6, 8, 10, 10)
STAGE_STRIDES = (2, 2, 2, 1)
"""Stage outputs at 1/4, 1/8, 1/16, 1/16 of the input (the stem already halves it)."""
PREDICTION_KERNEL = 5
HEADS = ("fusion", "plain")


@dataclass(frozen=True)
class LitePoseConfig:
    input_px: int  # published (square) input size, for the MACs figures
    stem_out: int  # C0
    stage_channels: tuple[int, int, int, int]
    deconv_channels: tuple[int, int, int]
    published_gmacs: float
    stage_blocks: tuple[int, int, int, int] = STAGE_BLOCKS


LITEPOSE_CONFIGS: dict[str, LitePoseConfig] = {
    "XS": LitePoseConfig(256, 16, (16, 32, 48, 80), (16, 24, 24), 1.2),
    "S": LitePoseConfig(448, 16, (16, 32, 48, 120), (32, 24, 32), 5.0),
    "M": LitePoseConfig(448, 16, (24, 48, 72, 120), (64, 40, 32), 7.8),
    "L": LitePoseConfig(512, 24, (24, 64, 96, 160), (64, 40, 32), 13.7),
}


def conv_bn_relu(
    in_ch: int, out_ch: int, kernel: int = 1, stride: int = 1, groups: int = 1, relu: bool = True
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """Expand 1x1, depthwise k x k (the large receptive field is LitePose's cheap gain), project."""

    def __init__(
        self, in_ch: int, out_ch: int, stride: int, kernel_size: int, expansion: int = EXPANSION
    ):
        super().__init__()
        hidden = in_ch * expansion
        self.body = nn.Sequential(
            conv_bn_relu(in_ch, hidden, 1),
            conv_bn_relu(hidden, hidden, kernel_size, stride, groups=hidden),
            conv_bn_relu(hidden, out_ch, 1, relu=False),
        )
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class SeparableConv(nn.Module):
    """Depthwise k x k then pointwise to the prediction channels (the prediction layers)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = PREDICTION_KERNEL):
        super().__init__()
        self.depthwise = conv_bn_relu(in_ch, in_ch, kernel_size, groups=in_ch)
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def _deconv(in_ch: int, out_ch: int) -> nn.ConvTranspose2d:
    """4x4 stride-2 transposed conv: exactly doubles the resolution."""
    return nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1, bias=False)


class LitePose(nn.Module):
    """Backbone + Fusion Deconv Head (or a plain deconv head for the ablation).

    Fusion: each of the three deconv steps upsamples the head feature and, in parallel, the
    backbone feature of the same (input) resolution, sums them, then BN + ReLU. The stride-4
    and stride-2 predictions each sum a separable 5x5 conv on the head feature and one on the
    backbone feature of that scale (stage 1 at 1/4, the stem at 1/2). `head="plain"` keeps only
    the head-feature paths.
    """

    def __init__(
        self,
        config: LitePoseConfig,
        num_joints: int = len(COCO_KEYPOINT_NAMES),
        tag_dim: int = 1,
        kernel_size: int = 7,
        head: str = "fusion",
    ):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        self.num_joints, self.tag_dim, self.fusion = num_joints, tag_dim, head == "fusion"
        self.stem = nn.Sequential(
            conv_bn_relu(3, STEM_CHANNELS, 3, 2),
            conv_bn_relu(STEM_CHANNELS, STEM_CHANNELS, 3, groups=STEM_CHANNELS),
            conv_bn_relu(STEM_CHANNELS, config.stem_out, 1, relu=False),
        )
        channels = [config.stem_out, *config.stage_channels]  # stem, stage 1..4
        stages = []
        for i, (out_ch, blocks, stride) in enumerate(
            zip(config.stage_channels, config.stage_blocks, STAGE_STRIDES)
        ):
            stages.append(
                nn.Sequential(
                    *(
                        InvertedResidual(
                            channels[i] if b == 0 else out_ch,
                            out_ch,
                            stride if b == 0 else 1,
                            kernel_size,
                        )
                        for b in range(blocks)
                    )
                )
            )
        self.stages = nn.ModuleList(stages)
        # Deconv step i reads the head feature and backbone feature `raw_sources[i]` (stage 3
        # at 1/16, stage 2 at 1/8, stage 1 at 1/4, as indices into [stem, s1, s2, s3, s4]).
        self.raw_sources = (3, 2, 1)
        head_in = [channels[4], *config.deconv_channels[:2]]
        self.deconv_head = nn.ModuleList(
            _deconv(c_in, c_out) for c_in, c_out in zip(head_in, config.deconv_channels)
        )
        self.deconv_raw = (
            nn.ModuleList(
                _deconv(channels[src], c_out)
                for src, c_out in zip(self.raw_sources, config.deconv_channels)
            )
            if self.fusion
            else None
        )
        self.deconv_bn_relu = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True)) for c in config.deconv_channels
        )
        coarse_out = num_joints * (1 + tag_dim)
        self.predict_s4 = SeparableConv(config.deconv_channels[1], coarse_out)
        self.predict_s2 = SeparableConv(config.deconv_channels[2], num_joints)
        if self.fusion:
            self.predict_s4_raw = SeparableConv(channels[1], coarse_out)
            self.predict_s2_raw = SeparableConv(channels[0], num_joints)
        for module in self.modules():
            if isinstance(module, SeparableConv):
                # Near-zero predictions at the start: heatmap targets are mostly zero.
                nn.init.normal_(module.pointwise.weight, std=1e-3)
                nn.init.zeros_(module.pointwise.bias)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = [self.stem(image)]
        for stage in self.stages:
            features.append(stage(features[-1]))
        x = features[-1]
        head_features = []
        for i, deconv in enumerate(self.deconv_head):
            y = deconv(x)
            if self.deconv_raw is not None:
                y = y + self.deconv_raw[i](features[self.raw_sources[i]])
            x = self.deconv_bn_relu[i](y)
            head_features.append(x)
        coarse = self.predict_s4(head_features[1])
        fine = self.predict_s2(head_features[2])
        if self.fusion:
            coarse = coarse + self.predict_s4_raw(features[1])
            fine = fine + self.predict_s2_raw(features[0])
        j = self.num_joints
        return coarse[:, :j], coarse[:, j:], fine


def build_litepose(
    size: str = "XS",
    num_joints: int = len(COCO_KEYPOINT_NAMES),
    tag_dim: int = 1,
    kernel_size: int = 7,
    head: str = "fusion",
) -> LitePose:
    if size not in LITEPOSE_CONFIGS:
        raise ValueError(f"size must be one of {sorted(LITEPOSE_CONFIGS)}, got {size!r}")
    if kernel_size % 2 != 1:
        raise ValueError(f"kernel_size must be odd, got {kernel_size}")
    return LitePose(LITEPOSE_CONFIGS[size], num_joints, tag_dim, kernel_size, head)


def export_onnx(
    model: nn.Module,
    path: str | Path,
    height_px: int,
    width_px: int,
    opset: int = 17,
    dynamic_batch: bool = False,
) -> None:
    """Trace to ONNX with the contract's input/output names (batch axis symbolic on request,
    so that a flip test runs both passes in one call)."""
    model.eval()
    dummy = torch.zeros(1, 3, height_px, width_px)
    names = ["heatmaps_s4", "tags_s4", "heatmaps_s2"]
    axes = {name: {0: "batch"} for name in ["image", *names]} if dynamic_batch else None
    torch.onnx.export(
        model,
        dummy,
        str(path),
        input_names=["image"],
        output_names=names,
        dynamic_axes=axes,
        opset_version=opset,
        dynamo=False,
    )


def published_convention_macs(path: str | Path) -> int:
    """MACs of an exported graph with transposed convs counted dense over their output.

    The exact count (`count_complexity`) charges a transposed conv in_ch x k^2 / stride^2 MACs
    per output element; the published LitePose figures charge in_ch x k^2 (4x for 4x4 s2).
    """
    model = onnx.load(str(path))
    graph = shape_inference.infer_shapes(model).graph
    shapes = {
        v.name: tuple(max(1, d.dim_value) for d in v.type.tensor_type.shape.dim)
        for v in [*graph.value_info, *graph.output]
    }
    weights = {t.name: tuple(t.dims) for t in graph.initializer}
    extra = 0
    for node in graph.node:
        if node.op_type != "ConvTranspose":
            continue
        in_ch, out_ch_per_group, kh, kw = weights[node.input[1]]
        out = shapes[node.output[0]]
        inp = shapes[node.input[0]]  # symbolic (batch) dims count as 1
        dense = int(np.prod(out)) * in_ch * kh * kw
        exact = int(np.prod(inp)) * out_ch_per_group * kh * kw
        extra += dense - exact
    return count_complexity(path).macs + extra
