"""Multi-task loss with running-mean task balancing.

Each task's loss is divided by its own running mean, so every task contributes its chosen share
of the total whatever its units, and the shares say how much the shared encoder should serve
each task. The primary task (heatmaps) keeps the largest share: the auxiliary tasks are there to
shape the tiny encoder's features, not to compete with the keypoints. Learned uncertainty
weights were tried first and starved the heatmaps: they equalise loss values, and segmentation's
small loss then dominated the shared gradients.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from training.hand.data import Batch

PRIMARY_TASKS = ("heatmaps", "presence")
AUXILIARY_TASKS = ("visibility", "segmentation", "keypose")

TASK_SHARES = {"heatmaps": 1.0, "presence": 0.2, "visibility": 0.1, "segmentation": 0.1,
               "keypose": 0.1}
"""Contribution of each task to the total loss, relative to the heatmaps."""

RUNNING_MEAN_MOMENTUM = 0.99
HEATMAP_FOREGROUND_WEIGHT = 9.0
"""Extra weight on pixels under a target Gaussian, against the long all-zero plateau."""


def heatmap_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error summed over pixels, averaged over channels (a per-channel scale that does
    not shrink with output resolution), with keypoint pixels weighted up."""
    pixel_weight = 1.0 + HEATMAP_FOREGROUND_WEIGHT * target
    return (pixel_weight * (predicted - target).pow(2)).sum(dim=(2, 3)).mean()


def keypoint_depth_loss(
    predicted: torch.Tensor, heatmaps: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """L1 error of per-keypoint depth maps (B, K, h, w) against (B, K) targets, weighted by the
    target heatmaps: the map must be right around the keypoint, where its peak will be read,
    and is free elsewhere. Only keypoints in ``mask`` (B, K) count."""
    weights = heatmaps * mask[:, :, None, None]
    error = (predicted - target[:, :, None, None]).abs()
    return (weights * error).sum() / weights.sum().clamp_min(1e-6)


def task_losses(outputs: dict[str, torch.Tensor], batch: Batch) -> dict[str, torch.Tensor]:
    """Unweighted loss of every task the outputs cover."""
    losses = {
        "heatmaps": heatmap_loss(outputs["heatmaps"], batch.heatmaps),
        "presence": F.binary_cross_entropy_with_logits(outputs["presence"], batch.presence),
    }
    mask = batch.visibility_mask
    if mask.any():
        losses["visibility"] = F.binary_cross_entropy_with_logits(
            outputs["visibility"][mask], batch.visibility[mask])
    else:
        losses["visibility"] = outputs["visibility"].sum() * 0.0
    losses["segmentation"] = F.cross_entropy(outputs["segmentation"], batch.segmentation)
    keypose_logits = outputs["keypose"].reshape(-1, outputs["keypose"].shape[-1])
    keypose_target = batch.keypose.reshape(-1)
    if (keypose_target >= 0).any():
        losses["keypose"] = F.cross_entropy(keypose_logits, keypose_target, ignore_index=-1)
    else:
        losses["keypose"] = keypose_logits.sum() * 0.0
    return losses


class BalancedMultiTaskLoss(nn.Module):
    """Sum over active tasks of share_t * L_t / running_mean(L_t)."""

    def __init__(self, use_auxiliary: bool):
        super().__init__()
        self.tasks = PRIMARY_TASKS + (AUXILIARY_TASKS if use_auxiliary else ())
        # Buffers, so the running means are saved with checkpoints and resume exactly.
        self.register_buffer("running_means", torch.zeros(len(self.tasks)))

    def forward(self, outputs: dict[str, torch.Tensor], batch: Batch
                ) -> tuple[torch.Tensor, dict[str, float]]:
        losses = task_losses(outputs, batch)
        current = torch.stack([losses[t].detach() for t in self.tasks])
        if self.training:
            first = self.running_means == 0
            self.running_means.copy_(torch.where(
                first, current,
                RUNNING_MEAN_MOMENTUM * self.running_means
                + (1 - RUNNING_MEAN_MOMENTUM) * current))
        scale = self.running_means.clamp_min(1e-8)
        total = sum(TASK_SHARES[t] * losses[t] / scale[i] for i, t in enumerate(self.tasks))
        return total, {t: float(losses[t].detach()) for t in losses}
