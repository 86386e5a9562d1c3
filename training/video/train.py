"""Train the DKD tracker (frame encoder, kernel distillator, matcher) with a temporal
discriminator on one-person clips of pose videos.

    python -m training.video.train --out runs/video_dkd

Each step draws clips of ``--clip-length`` frames. Frame 0's pose is the label plus noise
(what a keyframe detection gives); every later frame is predicted from the previous one, whose
pose is the label plus noise or, with ``--rollout-probability``, the tracker's own decoded
prediction (so it learns to recover from its own drift). Boxes and pose maps come from the core
(:mod:`hand_pose_ros.core.video.rois`), exactly as at run time. Loss: heatmap MSE against
Gaussians at the labels, plus, with ``--adversarial-weight`` > 0, a least-squares GAN term from
a temporal discriminator over the predicted pose sequence (0 gives the ablation without it).
Resumes from ``<out>/checkpoint.pt``; writes ``<out>/metrics.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hand_pose_ros.core.video.rois import (
    RoiSpec,
    decode_roi_heatmaps,
    person_boxes,
    render_pose_maps,
)
from training.body.data import NUM_JOINTS, normalise_images
from training.body.train import format_size, parse_size
from training.common.checkpoints import CHECKPOINT_NAME
from training.common.device import (
    add_device_argument,
    device_flag,
    module_device,
    training_device,
)
from training.common.loop import (
    finish_run,
    is_due,
    optimiser_step,
    progress_bar,
    record_evaluation,
    resume,
    smooth_losses,
    write_checkpoint,
)
from training.common.seeding import seed_everything
from training.common.warm_restart import chained_command, start_from
from training.video.data import (
    ClipSampler,
    load_or_render_sequences,
    noisy_previous_pose,
    split_seeds,
)
from training.video.networks import DkdNetwork, TemporalDiscriminator

HEATMAP_LOSS_SCALE = 1000.0
"""Gaussian targets are mostly zeros: scaled, the loss reads in units of about 1."""
POSITIVE_WEIGHT = 20.0
SOFT_ARGMAX_SHARPNESS = 20.0
BOX_JITTER = 0.08
"""Relative box shift and scale noise: keyframe boxes are never exactly centred."""
VALIDATION_CLIPS = 32
ARCHITECTURE_KEYS = ("input", "channels", "kernel", "roi")
"""What a warm restart's parent run must share with it."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the DKD video pose tracker.")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--input", type=parse_size, default=(256, 192), help="network input WxH")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=8, help="clips per step")
    parser.add_argument("--clip-length", type=int, default=4, help="frames per clip")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--adversarial-weight", type=float, default=0.05)
    parser.add_argument("--rollout-probability", type=float, default=0.5)
    parser.add_argument("--pose-noise", type=float, default=0.03, help="x box height")
    parser.add_argument("--channels", type=int, default=24, help="encoder feature channels")
    parser.add_argument("--kernel", type=int, default=3, help="pose kernel size (cells)")
    parser.add_argument("--train-sequences", type=int, default=None)
    parser.add_argument("--val-sequences", type=int, default=None, help="prefix of validation")
    parser.add_argument("--frames-per-sequence", type=int, default=32)
    parser.add_argument(
        "--penn-action",
        type=Path,
        default=None,
        help="train on a Penn Action style folder (frames/ + labels/) instead of synthetic",
    )
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="run folder whose final tracker weights start this run (a warm restart: fresh "
        "optimisers, schedule and discriminator); its command is recorded with this run's",
    )
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--render-workers", type=int, default=2)
    add_device_argument(parser)
    return parser.parse_args(argv)


def command_line(config: dict) -> str:
    """The train command that reproduces a run (stored in exported metadata)."""
    flags = [
        f"--input {config['input']}",
        f"--steps {config['steps']}",
        f"--batch-size {config['batch_size']}",
        f"--clip-length {config['clip_length']}",
        f"--lr {config['lr']}",
        f"--adversarial-weight {config['adversarial_weight']:g}",
        f"--rollout-probability {config['rollout_probability']:g}",
        f"--pose-noise {config['pose_noise']:g}",
        f"--channels {config['channels']}",
        f"--kernel {config['kernel']}",
        f"--seed {config['seed']}",
        f"--threads {config['threads']}",
        f"--out {config['out']}",
    ]
    for name in ("train_sequences", "val_sequences"):
        if config.get(name):
            flags.append(f"--{name.replace('_', '-')} {config[name]}")
    if config.get("penn_action") not in (None, "None"):
        flags.append(f"--penn-action {config['penn_action']}")
    flags += device_flag(config)
    return chained_command(config, "python -m training.video.train " + " ".join(flags))


def load_arrays(args: argparse.Namespace, split: str, count: int | None):
    if args.penn_action is not None:
        from training.video.penn_action import load_penn_action

        return load_penn_action(
            args.penn_action, split, *args.input, args.cache_dir, args.frames_per_sequence
        )
    seeds = split_seeds(split, count)
    return load_or_render_sequences(
        seeds, args.frames_per_sequence, *args.input, args.cache_dir, args.render_workers
    )


def heatmap_loss(heatmaps: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """MSE with the cells under a Gaussian weighted up: plain MSE on mostly-zero targets sits
    for thousands of steps on the all-zero answer before peaks appear."""
    weights = 1.0 + POSITIVE_WEIGHT * targets
    return (weights * (heatmaps - targets) ** 2).mean() * HEATMAP_LOSS_SCALE


def soft_argmax_px(heatmaps: torch.Tensor, boxes: torch.Tensor, spec: RoiSpec) -> torch.Tensor:
    """Differentiable (P, J, 2) network-input pixels of (P, J, Hr, Wr) heatmaps."""
    height, width = heatmaps.shape[-2:]
    weights = F.softmax(SOFT_ARGMAX_SHARPNESS * heatmaps.flatten(2), dim=2).reshape(heatmaps.shape)
    cols = torch.arange(width, dtype=heatmaps.dtype, device=heatmaps.device)
    rows = torch.arange(height, dtype=heatmaps.dtype, device=heatmaps.device)
    x_cells = (weights.sum(dim=2) * cols).sum(dim=-1)
    y_cells = (weights.sum(dim=3) * rows).sum(dim=-1)
    box = boxes[:, None, :]
    x = (x_cells + 0.5) * (box[..., 2] - box[..., 0]) / width + box[..., 0]
    y = (y_cells + 0.5) * (box[..., 3] - box[..., 1]) / height + box[..., 1]
    return torch.stack([x, y], dim=-1)


def jitter_boxes(boxes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = boxes[:, 2:] - boxes[:, :2]
    centre = 0.5 * (boxes[:, 2:] + boxes[:, :2]) + rng.uniform(-1, 1, (len(boxes), 2)) * (
        BOX_JITTER * size
    )
    size = size * (1.0 + rng.uniform(-1, 1, (len(boxes), 1)) * BOX_JITTER)
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(np.float32)


def run_clips(
    network: DkdNetwork,
    clip,
    rng: np.random.Generator,
    pose_noise: float,
    rollout_probability: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Track each clip's person from frame 0 to the end.

    Returns the heatmap loss, the predicted poses (N, T-1, J, 2) (differentiable), the label
    poses (N, T-1, J, 2) and the first box of each clip (N, 4), the last two as tensors.
    """
    spec = network.spec
    device = module_device(network)

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)

    count, length = clip.color.shape[:2]
    images = tensor(clip.color).float()
    images = normalise_images(images.flatten(0, 1).permute(0, 3, 1, 2))
    features = network.encoder(images).unflatten(0, (count, length))
    truth = clip.keypoints_uv.astype(np.float64)  # (N, T, J, 2)
    labelled = clip.visibility > 0

    first_boxes = person_boxes(truth[:, 0], labelled[:, 0].astype(np.float32), spec)
    heights = first_boxes[:, 3] - first_boxes[:, 1]
    previous_uv, previous_score = noisy_previous_pose(truth[:, 0], heights, rng, pose_noise)
    loss = torch.zeros((), device=device)
    predictions = []
    for k in range(1, length):
        boxes = jitter_boxes(person_boxes(previous_uv, previous_score, spec), rng)
        pose_maps = render_pose_maps(previous_uv, previous_score, boxes, spec)
        targets = render_pose_maps(truth[:, k], labelled[:, k].astype(np.float32), boxes, spec)
        boxes_t = tensor(boxes)
        heatmaps = network.propagate(features[:, k - 1], features[:, k], boxes_t, tensor(pose_maps))
        loss = loss + heatmap_loss(heatmaps, tensor(targets))
        predictions.append(soft_argmax_px(heatmaps, boxes_t, spec))
        if rng.random() < rollout_probability:  # continue from the tracker's own estimate
            previous_uv, previous_score = decode_roi_heatmaps(
                heatmaps.detach().cpu().numpy(), boxes, spec
            )
        else:
            previous_uv, previous_score = noisy_previous_pose(truth[:, k], heights, rng, pose_noise)
    return (
        loss / (length - 1),
        torch.stack(predictions, dim=1),
        tensor(truth[:, 1:]).float(),
        tensor(first_boxes),
    )


def normalised_poses(
    poses: torch.Tensor, truth: torch.Tensor, first_boxes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sequences relative to the clip's first box (centre 0, height 1); joints not
    labelled in every frame are zeroed in both, so the discriminator cannot tell by them."""
    centre = 0.5 * (first_boxes[:, :2] + first_boxes[:, 2:])[:, None, None, :]
    height = (first_boxes[:, 3] - first_boxes[:, 1])[:, None, None, None]
    labelled = torch.isfinite(truth).all(dim=-1).all(dim=1)[:, None, :, None]  # (N, 1, J, 1)
    zero = torch.zeros((), dtype=poses.dtype, device=poses.device)
    fake = torch.where(labelled, (poses - centre) / height, zero)
    real = torch.where(labelled, (torch.nan_to_num(truth) - centre) / height, zero)
    return fake, real


@torch.no_grad()
def validate(network: DkdNetwork, sampler: ClipSampler, args: argparse.Namespace) -> dict:
    network.eval()
    rng = np.random.default_rng(0)
    clip = sampler.sample(VALIDATION_CLIPS, rng)
    loss, poses, truth, first_boxes = run_clips(network, clip, rng, args.pose_noise, 1.0)
    error = torch.linalg.norm(poses - torch.nan_to_num(truth), dim=-1)
    labelled = torch.isfinite(truth).all(dim=-1)
    heights = (first_boxes[:, 3] - first_boxes[:, 1])[:, None, None]
    pck = ((error <= 0.2 * heights / network.spec.expand) & labelled).sum() / labelled.sum()
    network.train()
    return {"heatmaps": round(float(loss), 5), "rollout_pck_0.2": round(float(pck), 4)}


def train(args: argparse.Namespace) -> dict:
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = training_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {
        k: format_size(v) if k == "input" else (str(v) if isinstance(v, Path) else v)
        for k, v in vars(args).items()
    }
    spec = RoiSpec()
    config["roi"] = spec.to_metadata()
    if args.penn_action is None:  # counts, not "the whole split": the command must still
        # reproduce this run after the committed split grows
        config["train_sequences"] = len(split_seeds("train", args.train_sequences))
        config["val_sequences"] = len(split_seeds("validation", args.val_sequences))
    train_arrays = load_arrays(args, "train", args.train_sequences)
    sampler = ClipSampler(train_arrays, args.clip_length)
    val_sampler = ClipSampler(load_arrays(args, "validation", args.val_sequences), args.clip_length)

    network = DkdNetwork(NUM_JOINTS, spec, *args.input, args.channels, args.kernel).to(device)
    discriminator = TemporalDiscriminator(NUM_JOINTS).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + np.cos(np.pi * min(1.0, step / args.steps)))
    )
    if args.init_from is not None:
        start_from(args.init_from, network, config, ARCHITECTURE_KEYS, command_line)
    parts = {
        "model": network,
        "discriminator": discriminator,
        "optimizer": optimizer,
        "d_optimizer": d_optimizer,
        "scheduler": scheduler,
    }
    checkpoint_path = args.out / CHECKPOINT_NAME
    start_step, history, elapsed_s = resume(checkpoint_path, parts)
    adversarial = args.adversarial_weight > 0

    network.train()
    started = time.perf_counter() - elapsed_s
    running: dict[str, float] = {}
    progress = progress_bar(start_step, args.steps, args.out.name, mininterval=5.0)
    for step in progress:
        rng = np.random.default_rng([args.seed, step])
        clip = sampler.sample(args.batch_size, rng)
        heatmap_loss, poses, truth, first_boxes = run_clips(
            network, clip, rng, args.pose_noise, args.rollout_probability
        )
        losses = {"heatmaps": heatmap_loss.item()}
        loss = heatmap_loss
        if adversarial:
            fake, real = normalised_poses(poses, truth, first_boxes)
            d_loss = (discriminator(real) - 1).pow(2).mean() + discriminator(fake.detach()).pow(
                2
            ).mean()
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimizer.step()
            g_loss = (discriminator(fake) - 1).pow(2).mean()
            loss = loss + args.adversarial_weight * g_loss
            losses.update(discriminator=d_loss.item(), generator=g_loss.item())
        optimiser_step(loss, optimizer, scheduler)
        smooth_losses(running, losses)
        progress.set_postfix(refresh=False, hm=f"{running['heatmaps']:.3f}")
        done = step + 1
        if is_due(done, args.eval_every, args.steps):
            elapsed_s = time.perf_counter() - started
            metrics = validate(network, val_sampler, args)
            record_evaluation(
                history, done, elapsed_s, running, metrics, scheduler.get_last_lr()[0]
            )
        if is_due(done, args.checkpoint_every, args.steps):
            elapsed_s = time.perf_counter() - started
            write_checkpoint(checkpoint_path, parts, done, history, elapsed_s, config)

    summary = {
        "config": config,
        "command": command_line(config),
        "data": "penn_action" if args.penn_action is not None else "synthetic",
    }
    return finish_run(args.out, summary, started, history)


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
