"""Train the hand refiner (second stage) on jittered crops around labelled hands.

    python -m training.hand.train_refiner --out runs/hand_refiner

Same data (the cached training frames), resumable checkpoints, warm restarts (`--init-from` a
finished run folder, or an exported refiner file when its run is gone) and JSON metrics as
`training.hand.train`; validation scores crops around the labelled hands of validation frames
through the core's `RefinerDecoder`. `--first-stage MODEL` cuts `--first-stage-share` of the
crops around the boxes that first-stage model finds on the training frames.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from hand_pose_ros.core.model_metadata import REFINER_OUTPUT_ROLES
from training.common.device import batch_to_device, training_device
from training.common.loop import finish_run, optimiser_step, run_steps, to_channels_last
from training.common.seeding import seed_everything
from training.common.warm_restart import (
    chained_command,
    is_model_file,
    start_from,
    start_from_model,
)
from training.hand.data import load_or_render, split_seeds
from training.hand.losses import heatmap_loss, keypoint_depth_loss
from training.hand.networks import (
    DEFAULT_REFINER_ARCH,
    REFINER_ARCHITECTURES,
    OutputsInOrder,
    build_refiner_net,
)
from training.hand.refiner_data import CropJitter, RefinerBatches, first_stage_boxes
from training.hand.train import add_run_arguments, learning_rate_factor, loop_settings, run_flags
from training.hand.validation import validate_refiner


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the hand refiner on synthetic depth.")
    add_run_arguments(parser, default_steps=20000)
    parser.add_argument("--arch", choices=sorted(REFINER_ARCHITECTURES),
                        default=DEFAULT_REFINER_ARCH, help="the refiner's widths")
    parser.add_argument("--centre-jitter", type=float, default=CropJitter.centre,
                        help="std of the crop centre's offset, fraction of the hand box side")
    parser.add_argument("--scale-jitter", type=float, default=CropJitter.log_scale,
                        help="std of the log of the crop size factor")
    parser.add_argument("--depth-weight", type=float, default=DEFAULT_DEPTH_WEIGHT,
                        help="weight of the keypoint-depth loss against the heatmap loss")
    parser.add_argument("--first-stage", type=Path, default=None,
                        help="exported first-stage hand model whose boxes on the training "
                        "frames some crops are cut around (see --first-stage-share)")
    parser.add_argument("--first-stage-share", type=float, default=0.5,
                        help="share of the crops cut around the --first-stage boxes")
    args = parser.parse_args(argv)
    if args.first_stage is not None and not 0.0 <= args.first_stage_share <= 1.0:
        parser.error("--first-stage-share must be in [0, 1]")
    return args


CALIBRATION_CROPS = 256
"""Crops whose statistics rebuild the BatchNorms of a refiner started from an exported file."""


DEFAULT_DEPTH_WEIGHT = 0.0
"""No depth loss unless asked (`make hand-refiner` asks): so that the recorded commands of runs
from before the depth head, which the shipped chain starts from, still mean what they did."""


ARCH_RECORDED_BEFORE_THE_FLAG = {"arch": DEFAULT_REFINER_ARCH}
"""Runs recorded before ``--arch`` existed are tiny (for warm-restart checks and exports)."""


def refiner_arch(config: dict) -> str:
    """A run's refiner architecture."""
    return config.get("arch", ARCH_RECORDED_BEFORE_THE_FLAG["arch"])


def depth_weight(config: dict) -> float:
    """A run's depth-loss weight (runs recorded before the flag existed trained none)."""
    return float(config.get("depth_weight", DEFAULT_DEPTH_WEIGHT))


def crop_jitter(config: dict) -> CropJitter:
    """A run's jitter (runs recorded before the flags existed used the defaults)."""
    return CropJitter(config.get("centre_jitter", CropJitter.centre),
                      config.get("scale_jitter", CropJitter.log_scale))


def command_line(config: dict) -> str:
    """The command that reproduces a run (stored in exported metadata)."""
    flags = run_flags(config)
    if refiner_arch(config) != DEFAULT_REFINER_ARCH:
        flags.append(f"--arch {refiner_arch(config)}")
    jitter = crop_jitter(config)
    if jitter != CropJitter():
        flags += [f"--centre-jitter {jitter.centre:g}", f"--scale-jitter {jitter.log_scale:g}"]
    if depth_weight(config) != DEFAULT_DEPTH_WEIGHT:
        flags.append(f"--depth-weight {depth_weight(config):g}")
    if config.get("first_stage") not in (None, "None"):
        flags += [f"--first-stage {config['first_stage']}",
                  f"--first-stage-share {config['first_stage_share']:g}"]
    return chained_command(config, "python -m training.hand.train_refiner " + " ".join(flags))


def train(args: argparse.Namespace) -> dict:
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = training_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    train_seeds = split_seeds("train", args.train_frames)
    val_seeds = split_seeds("validation", args.val_frames)
    arrays = load_or_render(train_seeds, args.cache_dir, args.render_workers)
    boxes = (
        None if args.first_stage is None
        else first_stage_boxes(arrays, args.first_stage, args.cache_dir)
    )
    crops = RefinerBatches(arrays, crop_jitter(config), boxes, args.first_stage_share)

    model = build_refiner_net(args.arch)
    if args.init_from is not None and is_model_file(args.init_from):
        calibration = crops.batch(np.random.default_rng([args.seed, 1]), CALIBRATION_CROPS)
        start_from_model(args.init_from, model, config,
                         OutputsInOrder(model, REFINER_OUTPUT_ROLES), calibration.inputs,
                         "training.hand.export_refiner")
    elif args.init_from is not None:
        start_from(args.init_from, model, config, ("arch",), command_line,
                   new_layers=("keypoint_depth.",),
                   recorded_before=ARCH_RECORDED_BEFORE_THE_FLAG)
    model = to_channels_last(model).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, args.steps)
    )
    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler}

    def train_step(step: int) -> dict[str, float]:
        # Crops depend only on (seed, step), so a resumed run sees the same data.
        rng = np.random.default_rng([args.seed, step])
        batch = batch_to_device(crops.batch(rng, args.batch_size), device)
        outputs = model(batch.inputs)
        heatmaps = heatmap_loss(outputs["heatmaps"], batch.heatmaps)
        losses = {"heatmaps": heatmaps}
        if args.depth_weight > 0:  # else the depth head gets no gradient at all
            losses["keypoint_depth"] = keypoint_depth_loss(
                outputs["keypoint_depth"], batch.heatmaps, batch.keypoint_depth, batch.depth_mask
            )
        optimiser_step(heatmaps + args.depth_weight * losses.get("keypoint_depth", 0.0),
                       optimizer, scheduler)
        return {name: float(loss.detach()) for name, loss in losses.items()}

    history, started = run_steps(
        loop_settings(args, config),
        parts,
        train_step,
        lambda: validate_refiner(model, val_seeds),
        lambda running: {name[:5]: f"{value:.3f}" for name, value in running.items()},
    )
    summary = {
        "config": config,
        "train_seeds": [train_seeds.start, train_seeds.stop],
        "train_hands": crops.size,
        "validation_seeds": [val_seeds.start, val_seeds.stop],
    }
    return finish_run(args.out, summary, started, history)


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()

