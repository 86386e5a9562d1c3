"""Train a hand network on synthetic egocentric depth.

    python -m training.hand.train --arch tiny --aux --out runs/hand_tiny_aux

Resumes from `<out>/checkpoint.pt` when it exists; writes `<out>/metrics.json` with the
configuration, loss history and validation metrics (validation seeds only: the test split is
for `training.hand.evaluate` on the exported file). `--init-from RUN` warm-restarts from a
finished run's network weights with a fresh optimiser, loss balance and schedule, so CPU-sized
schedules can be chained across sessions; `--init-from MODEL.onnx` starts from an exported
file instead (`training.common.onnx_weights`), for when the run folder is gone.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch

from training.common.device import (
    add_device_argument,
    batch_to_device,
    device_flag,
    training_device,
)
from training.common.loop import (
    LoopSettings,
    finish_run,
    optimiser_step,
    run_steps,
    to_channels_last,
)
from training.common.seeding import seed_everything
from training.common.warm_restart import (
    chained_command,
    is_model_file,
    start_from,
    start_from_model,
)
from training.hand.data import HandBatches, load_or_render, split_seeds
from training.hand.losses import AUXILIARY_TASKS, PRIMARY_TASKS, BalancedMultiTaskLoss
from training.hand.networks import ARCHITECTURES, OutputsInOrder, build_hand_net
from training.hand.validation import validate

WARMUP_STEPS = 200
DEFAULT_WEIGHT_DECAY = 1e-4
CALIBRATION_FRAMES = 64
"""Training frames whose statistics rebuild the BatchNorms of a network started from an
exported file (`--init-from MODEL.onnx`)."""
ARCHITECTURE_KEYS = ("arch", "aux")
"""What a warm restart's parent must share with the run (the heads follow from `aux`)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a hand network on synthetic depth.")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="tiny")
    parser.add_argument(
        "--aux",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train the auxiliary tasks (visibility, segmentation, keypose)",
    )
    add_run_arguments(parser, default_steps=24000)
    return parser.parse_args(argv)


def add_run_arguments(parser: argparse.ArgumentParser, default_steps: int) -> None:
    """Run folder, schedule, data and machine options both hand trainers take."""
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--steps", type=int, default=default_steps)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--weight-decay", type=float, default=DEFAULT_WEIGHT_DECAY)
    parser.add_argument(
        "--train-frames",
        type=int,
        default=None,
        help="prefix of the training seeds (default: all in splits.json)",
    )
    parser.add_argument("--val-frames", type=int, default=500)
    parser.add_argument("--eval-every", type=int, default=2000)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--render-workers", type=int, default=2)
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="finished run folder, or exported model file (.onnx) when its run is gone, whose "
        "network weights this run starts from (warm restart)",
    )
    add_device_argument(parser)


def learning_rate_factor(step: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < WARMUP_STEPS:
        return (step + 1) / WARMUP_STEPS
    progress = (step - WARMUP_STEPS) / max(1, total_steps - WARMUP_STEPS)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def command_line(config: dict) -> str:
    """The train command that reproduces a run (stored in exported metadata), preceded by its
    warm-restart chain."""
    flags = [f"--arch {config['arch']}", "--aux" if config["aux"] else "--no-aux",
             *run_flags(config)]
    return chained_command(config, "python -m training.hand.train " + " ".join(flags))


def run_flags(config: dict) -> list[str]:
    """The `add_run_arguments` flags that shape a run (defaults omitted where the shipped
    commands omit them)."""
    flags = [
        f"--steps {config['steps']}",
        f"--batch-size {config['batch_size']}",
        f"--lr {config['lr']}",
        f"--seed {config['seed']}",
        f"--threads {config['threads']}",
        f"--out {config['out']}",
    ]
    if config["weight_decay"] != DEFAULT_WEIGHT_DECAY:
        flags.append(f"--weight-decay {config['weight_decay']:g}")
    if config.get("train_frames"):
        flags.append(f"--train-frames {config['train_frames']}")
    return flags + device_flag(config)


def loop_settings(args: argparse.Namespace, config: dict) -> LoopSettings:
    return LoopSettings(args.out, args.steps, args.eval_every, args.checkpoint_every, config)


def train(args: argparse.Namespace) -> dict:
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = training_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    train_seeds = split_seeds("train", args.train_frames)
    val_seeds = split_seeds("validation", args.val_frames)
    train_batches = HandBatches(
        load_or_render(train_seeds, args.cache_dir, args.render_workers), augment=True
    )

    model = build_hand_net(args.arch)
    if args.init_from is not None and is_model_file(args.init_from):
        rng = np.random.default_rng([args.seed, 1])
        frames = rng.integers(0, train_batches.size, CALIBRATION_FRAMES)
        roles = PRIMARY_TASKS + (AUXILIARY_TASKS if args.aux else ())
        start_from_model(args.init_from, model, config, OutputsInOrder(model, roles),
                         train_batches.batch(frames, rng).inputs, "training.hand.export")
    elif args.init_from is not None:
        start_from(args.init_from, model, config, ARCHITECTURE_KEYS, command_line)
    model = to_channels_last(model).to(device)
    criterion = BalancedMultiTaskLoss(args.aux).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, args.steps)
    )
    parts = {"model": model, "criterion": criterion, "optimizer": optimizer, "scheduler": scheduler}

    def train_step(step: int) -> dict[str, float]:
        # Batches depend only on (seed, step), so a resumed run sees the same data.
        rng = np.random.default_rng([args.seed, step])
        indices = rng.integers(0, train_batches.size, args.batch_size)
        batch = batch_to_device(train_batches.batch(indices, rng), device)
        loss, losses = criterion(model(batch.inputs), batch)
        optimiser_step(loss, optimizer, scheduler)
        return losses

    history, started = run_steps(
        loop_settings(args, config),
        parts,
        train_step,
        lambda: validate(model, val_seeds),
        lambda running: {"heat": f"{running['heatmaps']:.3f}",
                         "pres": f"{running['presence']:.3f}"},
    )
    summary = {
        "config": config,
        "train_seeds": [train_seeds.start, train_seeds.stop],
        "validation_seeds": [val_seeds.start, val_seeds.stop],
    }
    return finish_run(args.out, summary, started, history)


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
