"""Dynamic Kernel Distillation (Nie et al., ICCV 2019) for multi-person video, per person.

Three parts, one job each:

- :class:`FrameEncoder`: a small convolutional network, image -> stride-4 features, run once
  per frame (the only full-frame cost between keyframes).
- :class:`KernelDistillator`: one person's previous-frame features and pose maps (Gaussians at
  their previous keypoints, in the person's ROI grid) -> a bank of J pose kernels (C x k x k
  each) in one feed-forward pass: each kernel is the feature neighbourhood under that joint's
  pose map, pooled and passed through a learned transform.
- :class:`KernelMatcher`: correlates the kernels with the current frame's features inside the
  same ROI (a normalised convolution whose weights are the distilled kernels, written as one
  batched matrix product so it exports and counts cleanly), then a light head turns the J
  responses, the local features and the previous pose maps into J heatmaps.

ROI geometry (boxes, cell coordinates, pose maps) is the core's
(:mod:`hand_pose_ros.core.video.rois`): training and the runtime place the grid identically.
Features are cropped with ``grid_sample`` at the ROI cell centres, which for a feature map
covering the image exactly is the same normalised coordinate as for the image itself.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from hand_pose_ros.core.video.rois import RoiSpec
from training.body.networks import conv_bn_relu

FEATURE_STRIDE = 4
DEFAULT_FEATURE_CHANNELS = 24
STEM_CHANNELS = 8
DEFAULT_KERNEL_SIZE = 3
HEAD_CHANNELS = 32


class FrameEncoder(nn.Module):
    """Image (N, 3, H, W) -> features (N, C, H/4, W/4); about 14 MMACs at 256x192."""

    def __init__(self, channels: int = DEFAULT_FEATURE_CHANNELS):
        super().__init__()
        self.stem = conv_bn_relu(3, STEM_CHANNELS, 3, stride=2)
        self.down = nn.Sequential(
            conv_bn_relu(STEM_CHANNELS, STEM_CHANNELS, 3, 2, groups=STEM_CHANNELS),
            conv_bn_relu(STEM_CHANNELS, channels),
        )
        self.blocks = nn.ModuleList([self._block(channels, dilation) for dilation in (1, 2, 4)])

    @staticmethod
    def _block(channels: int, dilation: int) -> nn.Sequential:
        """Depthwise 5x5 (dilated: a person-sized receptive field at no extra cost) + 1x1."""
        return nn.Sequential(
            nn.Conv2d(
                channels, channels, 5, 1, 2 * dilation, dilation, groups=channels, bias=False
            ),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.down(self.stem(image))
        for block in self.blocks[:-1]:
            x = F.relu(x + block(x))
        # No ReLU on the output: signed features give cosine matches a useful range.
        return x + self.blocks[-1](x)


def roi_grid(boxes: torch.Tensor, spec: RoiSpec, width_px: int, height_px: int) -> torch.Tensor:
    """(P, 4) boxes in network-input pixels -> (P, Hr, Wr, 2) grid_sample coordinates of the
    ROI cell centres (align_corners=False: pixel i spans [i - 0.5, i + 0.5])."""
    dtype, device = boxes.dtype, boxes.device
    cols = (torch.arange(spec.width_cells, dtype=dtype, device=device) + 0.5) / spec.width_cells
    rows = (torch.arange(spec.height_cells, dtype=dtype, device=device) + 0.5) / spec.height_cells
    x0, y0, x1, y1 = (boxes[:, i : i + 1] for i in range(4))
    x_px = x0 + cols[None, :] * (x1 - x0)  # (P, Wr)
    y_px = y0 + rows[None, :] * (y1 - y0)  # (P, Hr)
    x_norm = (2.0 * x_px + 1.0) / width_px - 1.0
    y_norm = (2.0 * y_px + 1.0) / height_px - 1.0
    grid_x = x_norm[:, None, :].expand(-1, spec.height_cells, -1)
    grid_y = y_norm[:, :, None].expand(-1, -1, spec.width_cells)
    return torch.stack([grid_x, grid_y], dim=-1)


def crop_features(features: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of (P, C, h, w) features at (P, Hr, Wr, 2) grid points; zeros outside."""
    return F.grid_sample(features, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class Neighbourhoods(nn.Module):
    """(P, C, H, W) -> (P, C*k*k, H*W): each cell's k x k neighbourhood (zero padded), the
    columns a convolution multiplies its kernel with.

    Written as a fixed depthwise convolution with one-hot kernels so that it exports as a plain
    Conv with static shapes (a traced pad-and-slice gives ONNX shape inference nothing to go on).
    """

    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        taps = kernel_size * kernel_size
        one_hot = torch.eye(taps).reshape(taps, 1, kernel_size, kernel_size)
        self.register_buffer("one_hot", one_hot.repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.kernel_size == 1:
            return features.flatten(2)
        columns = F.conv2d(
            features, self.one_hot, padding=self.kernel_size // 2, groups=self.channels
        )
        return columns.flatten(2)


def _dilated_depthwise(channels: int, dilation: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 5, 1, 2 * dilation, dilation, groups=channels, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


class KernelDistillator(nn.Module):
    """Previous features + pose maps in the ROI -> (P, J, k*k*C) pose kernels."""

    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        self.neighbourhoods = Neighbourhoods(channels, kernel_size)
        width = kernel_size * kernel_size * channels
        self.transform = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))

    def forward(self, previous_roi: torch.Tensor, pose_maps: torch.Tensor) -> torch.Tensor:
        columns = self.neighbourhoods(previous_roi)  # (P, kkC, R)
        weights = pose_maps.flatten(2)  # (P, J, R)
        mass = weights.sum(dim=2, keepdim=True) + 1e-3
        pooled = torch.matmul(weights, columns.transpose(1, 2)) / mass  # (P, J, kkC)
        return pooled + self.transform(pooled)


class KernelMatcher(nn.Module):
    """Pose kernels x current ROI features -> (P, J, Hr, Wr) heatmaps.

    The head sees the J match responses, the current features and the previous pose maps: the
    responses say where each joint's appearance recurs, the pose maps where it was a frame ago
    (a cosine match alone has no notion of which of several similar places is the joint).
    Two dilated 5x5 depthwise layers give it a receptive field of about half the ROI.
    """

    def __init__(self, channels: int, joints: int, kernel_size: int):
        super().__init__()
        self.neighbourhoods = Neighbourhoods(channels, kernel_size)
        width = HEAD_CHANNELS
        self.head = nn.Sequential(
            conv_bn_relu(2 * joints + channels, width),
            _dilated_depthwise(width, 1),
            conv_bn_relu(width, width),
            _dilated_depthwise(width, 2),
            nn.Conv2d(width, joints, 1),
        )

    def correlate(self, kernels: torch.Tensor, current_roi: torch.Tensor) -> torch.Tensor:
        """(P, J, kkC) kernels x (P, C, Hr, Wr) features -> (P, J, Hr, Wr) cosine responses."""
        height, width = current_roi.shape[-2:]
        columns = self.neighbourhoods(current_roi)  # (P, kkC, R)
        # Cosine similarity: a match does not depend on the frame's contrast or exposure.
        response = torch.matmul(F.normalize(kernels, dim=2), F.normalize(columns, dim=1))
        return response.reshape(response.shape[0], -1, height, width)

    def forward(
        self, kernels: torch.Tensor, current_roi: torch.Tensor, pose_maps: torch.Tensor
    ) -> torch.Tensor:
        response = self.correlate(kernels, current_roi)
        return self.head(torch.cat([response, current_roi, pose_maps], dim=1))


class DkdNetwork(nn.Module):
    """Encoder + distillator + matcher; ``propagate`` is one tracking step for P people."""

    def __init__(
        self,
        joints: int,
        spec: RoiSpec,
        input_width_px: int,
        input_height_px: int,
        channels: int = DEFAULT_FEATURE_CHANNELS,
        kernel_size: int = DEFAULT_KERNEL_SIZE,
    ):
        super().__init__()
        self.spec = spec
        self.input_width_px, self.input_height_px = input_width_px, input_height_px
        self.channels, self.kernel_size, self.joints = channels, kernel_size, joints
        self.encoder = FrameEncoder(channels)
        self.distillator = KernelDistillator(channels, kernel_size)
        self.matcher = KernelMatcher(channels, joints, kernel_size)

    def propagate(
        self,
        previous_features: torch.Tensor,
        current_features: torch.Tensor,
        boxes: torch.Tensor,
        pose_maps: torch.Tensor,
    ) -> torch.Tensor:
        """Features (P, C, h, w) of each person's previous and current frame, their boxes
        (P, 4) and previous pose maps (P, J, Hr, Wr) -> current heatmaps (P, J, Hr, Wr)."""
        grid = roi_grid(boxes, self.spec, self.input_width_px, self.input_height_px)
        kernels = self.distillator(crop_features(previous_features, grid), pose_maps)
        return self.matcher(kernels, crop_features(current_features, grid), pose_maps)


class DkdExportGraph(nn.Module):
    """The deployed graph: one frame, its predecessor's features, P people.

    Inputs ``image`` (1, 3, H, W), ``previous_features`` (1, C, h, w), ``boxes`` (P, 4),
    ``pose_maps`` (P, J, Hr, Wr); outputs ``features`` (1, C, h, w, the next call's
    ``previous_features``) and ``heatmaps`` (P, J, Hr, Wr).
    """

    def __init__(self, network: DkdNetwork):
        super().__init__()
        self.network = network

    def forward(self, image, previous_features, boxes, pose_maps):
        features = self.network.encoder(image)
        people = boxes.shape[0]
        heatmaps = self.network.propagate(
            previous_features.expand(people, -1, -1, -1),
            features.expand(people, -1, -1, -1),
            boxes,
            pose_maps,
        )
        return features, heatmaps


INPUT_NAMES = ("image", "previous_features", "boxes", "pose_maps")
OUTPUT_NAMES = ("features", "heatmaps")


def export_dkd_onnx(
    network: DkdNetwork, path: str | Path, opset: int = 17, people: int | None = None
) -> None:
    """Trace the deployed graph with a symbolic people axis, or a fixed count of ``people``
    (static shapes, for counting MACs)."""
    network.eval()
    spec = network.spec
    h, w = network.input_height_px, network.input_width_px
    dummy = (
        torch.zeros(1, 3, h, w),
        torch.zeros(1, network.channels, h // FEATURE_STRIDE, w // FEATURE_STRIDE),
        torch.tensor([[0.0, 0.0, w / 2, h / 2]]).repeat(people or 2, 1),
        torch.zeros(people or 2, network.joints, spec.height_cells, spec.width_cells),
    )
    axes = {"boxes": {0: "people"}, "pose_maps": {0: "people"}, "heatmaps": {0: "people"}}
    if people is not None:
        axes = None
    torch.onnx.export(
        DkdExportGraph(network),
        dummy,
        str(path),
        input_names=list(INPUT_NAMES),
        output_names=list(OUTPUT_NAMES),
        dynamic_axes=axes,
        opset_version=opset,
        dynamo=False,
    )


def export_encoder_onnx(network: DkdNetwork, path: str | Path, opset: int = 17) -> None:
    """The encoder alone, only to count its MACs apart from the per-person part."""
    network.eval()
    dummy = torch.zeros(1, 3, network.input_height_px, network.input_width_px)
    torch.onnx.export(network.encoder, dummy, str(path), opset_version=opset, dynamo=False)


class TemporalDiscriminator(nn.Module):
    """A short pose sequence (N, T, J, 2), ROI-normalised coordinates -> (N,) realness.

    Temporal 1-D convolutions over the joints' positions and velocities: it sees shape, speed
    and acceleration, so adversarial training pushes the propagated poses to move like real ones.
    """

    def __init__(self, joints: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(joints * 4, hidden, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, hidden, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, 1, 1),
        )

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        n, t = poses.shape[:2]
        trajectories = poses.reshape(n, t, -1).transpose(1, 2)  # (N, 2J, T)
        velocities = torch.diff(trajectories, dim=2, prepend=trajectories[:, :, :1])
        return self.net(torch.cat([trajectories, velocities], dim=1)).mean(dim=(1, 2))
