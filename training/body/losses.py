"""LitePose / HigherHRNet losses: masked heatmap MSE at two scales, associative embedding.

The heatmap loss is a per-pixel mean (as in HigherHRNet): pull and push are O(1) while the
heatmap MSE is O(1e-2). The papers weight pull and push 1e-3 for a 300-epoch COCO schedule; at
the few thousand CPU steps this package can afford, 1e-3 left the tags collapsed (push stuck at
its initial value, pull 0 after 1000 steps), while 1e-2 separates people within a few hundred
steps. Both remain command-line options.
"""

from __future__ import annotations

import torch
from torch import nn

from training.body.data import BodyBatch

AE_PULL_WEIGHT = 1e-2
AE_PUSH_WEIGHT = 1e-2


def masked_heatmap_mse(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean over pixels and joints of mask * (pred - target)^2; mask is (B, h, w)."""
    return ((pred - target).pow(2) * mask[:, None]).mean()


def associative_embedding_loss(
    tags: torch.Tensor, joints: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pull (tags of one person agree) and push (people's mean tags differ) losses.

    tags: (B, J * D, h, w); joints: (B, P, J, 2) int64 [flat index into h*w, valid 0/1].
    Pull: per person the mean squared distance of its joint tags to its mean tag, averaged over
    people. Push: exp(-||mean_i - mean_j||^2) over ordered pairs of different people, averaged
    (the diagonal is excluded). Both are averaged over the batch images that have people.
    """
    batch, _, h, w = tags.shape
    people, num_joints = joints.shape[1], joints.shape[2]
    dim = tags.shape[1] // num_joints
    flat = tags.reshape(batch, num_joints, dim, h * w)
    index = joints[..., 0].clamp(0, h * w - 1)  # (B, P, J)
    valid = joints[..., 1].to(tags.dtype)  # (B, P, J)
    # gather: per (b, j) the tags at each person's location -> (B, P, J, D)
    gather_index = index.permute(0, 2, 1)[:, :, None, :].expand(batch, num_joints, dim, people)
    picked = torch.gather(flat, 3, gather_index).permute(0, 3, 1, 2)
    count = valid.sum(dim=2)  # (B, P)
    present = (count > 0).to(tags.dtype)
    mean = (picked * valid[..., None]).sum(dim=2) / count.clamp(min=1)[..., None]  # (B, P, D)
    spread = ((picked - mean[:, :, None]).pow(2).sum(dim=3) * valid).sum(dim=2)
    pull_per_person = spread / count.clamp(min=1)
    n_people = present.sum(dim=1)  # (B,)
    pull = (pull_per_person * present).sum(dim=1) / n_people.clamp(min=1)
    distance_sq = (mean[:, :, None] - mean[:, None]).pow(2).sum(dim=3)  # (B, P, P)
    pair = present[:, :, None] * present[:, None, :]
    pair = pair * (1.0 - torch.eye(people, dtype=tags.dtype, device=tags.device))
    pairs = pair.sum(dim=(1, 2))
    push = (torch.exp(-distance_sq) * pair).sum(dim=(1, 2)) / pairs.clamp(min=1)
    has_people = (n_people > 0).to(tags.dtype)
    images = has_people.sum().clamp(min=1)
    return (pull * has_people).sum() / images, (push * has_people).sum() / images


class LitePoseLoss(nn.Module):
    """Total loss and its parts (floats, for logging)."""

    def __init__(
        self,
        pull_weight: float = AE_PULL_WEIGHT,
        push_weight: float = AE_PUSH_WEIGHT,
        fine_weight: float = 1.0,
    ):
        super().__init__()
        self.pull_weight, self.push_weight, self.fine_weight = pull_weight, push_weight, fine_weight

    def forward(
        self, outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], batch: BodyBatch
    ) -> tuple[torch.Tensor, dict[str, float]]:
        heatmaps_s4, tags_s4, heatmaps_s2 = outputs
        coarse = masked_heatmap_mse(heatmaps_s4, batch.heatmaps_s4, batch.mask_s4)
        fine = masked_heatmap_mse(heatmaps_s2, batch.heatmaps_s2, batch.mask_s2)
        pull, push = associative_embedding_loss(tags_s4, batch.joints)
        total = coarse + self.fine_weight * fine + self.pull_weight * pull + self.push_weight * push
        parts = {
            "heatmaps_s4": coarse.item(),
            "heatmaps_s2": fine.item(),
            "pull": pull.item(),
            "push": push.item(),
            "total": total.item(),
        }
        return total, parts
