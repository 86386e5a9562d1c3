"""Multi-task loss with learned task balancing.

Each task loss is weighted by a learned precision, exp(-s), plus s as a regulariser (Kendall
et al. 2018): a task's weight settles near the inverse of its loss, so no task dominates
because of its units. The same balancing is used whether or not auxiliary tasks are on, so the
ablation changes only which tasks are trained.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from training.hand.data import Batch

PRIMARY_TASKS = ("heatmaps", "presence")
AUXILIARY_TASKS = ("visibility", "segmentation", "keypose")


def task_losses(outputs: dict[str, torch.Tensor], batch: Batch) -> dict[str, torch.Tensor]:
    """Unweighted loss of every task the outputs cover."""
    # Heatmaps: squared error summed over pixels, averaged over channels (a per-channel scale
    # that does not shrink with output resolution).
    heat_error = (outputs["heatmaps"] - batch.heatmaps).pow(2).sum(dim=(2, 3)).mean()
    losses = {
        "heatmaps": heat_error,
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
    """Sum of exp(-s_t) * L_t + s_t over the active tasks, s_t learned."""

    def __init__(self, use_auxiliary: bool):
        super().__init__()
        self.tasks = PRIMARY_TASKS + (AUXILIARY_TASKS if use_auxiliary else ())
        self.log_variances = nn.ParameterDict(
            {t: nn.Parameter(torch.zeros(())) for t in self.tasks})

    def forward(self, outputs: dict[str, torch.Tensor], batch: Batch
                ) -> tuple[torch.Tensor, dict[str, float]]:
        losses = task_losses(outputs, batch)
        total = sum(
            torch.exp(-self.log_variances[t]) * losses[t] + self.log_variances[t]
            for t in self.tasks)
        return total, {t: float(losses[t].detach()) for t in losses}
