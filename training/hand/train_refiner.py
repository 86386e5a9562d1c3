"""Train the hand refiner (second stage) on jittered crops around labelled hands.

    python -m training.hand.train_refiner --out runs/hand_refiner

Same data (the cached training frames), resumable checkpoints and JSON metrics as
`training.hand.train`; validation scores crops around the labelled hands of validation frames
through the core's `RefinerDecoder`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from training.common.checkpoints import CHECKPOINT_NAME
from training.common.device import (
    add_device_argument,
    batch_to_device,
    device_flag,
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
    to_channels_last,
    write_checkpoint,
)
from training.common.seeding import seed_everything
from training.hand.data import load_or_render, split_seeds
from training.hand.losses import heatmap_loss
from training.hand.networks import build_refiner_net
from training.hand.refiner_data import RefinerBatches
from training.hand.train import learning_rate_factor
from training.hand.validation import validate_refiner

DEFAULT_WEIGHT_DECAY = 1e-4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the hand refiner on synthetic depth.")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--weight-decay", type=float, default=DEFAULT_WEIGHT_DECAY)
    parser.add_argument(
        "--train-frames", type=int, default=None,
        help="prefix of the training seeds (default: all in splits.json)",
    )
    parser.add_argument("--val-frames", type=int, default=500)
    parser.add_argument("--eval-every", type=int, default=2000)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--render-workers", type=int, default=2)
    add_device_argument(parser)
    return parser.parse_args(argv)


def command_line(config: dict) -> str:
    """The command that reproduces a run (stored in exported metadata)."""
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
    flags += device_flag(config)
    return "python -m training.hand.train_refiner " + " ".join(flags)


def train(args: argparse.Namespace) -> dict:
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = training_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    train_seeds = split_seeds("train", args.train_frames)
    val_seeds = split_seeds("validation", args.val_frames)
    crops = RefinerBatches(load_or_render(train_seeds, args.cache_dir, args.render_workers))

    model = to_channels_last(build_refiner_net()).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, args.steps)
    )
    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    checkpoint_path = args.out / CHECKPOINT_NAME
    start_step, history, elapsed_s = resume(checkpoint_path, parts)

    model.train()
    started = time.perf_counter() - elapsed_s
    running: dict[str, float] = {}
    progress = progress_bar(start_step, args.steps, args.out.name)
    for step in progress:
        # Crops depend only on (seed, step), so a resumed run sees the same data.
        rng = np.random.default_rng([args.seed, step])
        batch = batch_to_device(crops.batch(rng, args.batch_size), device)
        loss = heatmap_loss(model(batch.inputs)["heatmaps"], batch.heatmaps)
        optimiser_step(loss, optimizer, scheduler)
        smooth_losses(running, {"heatmaps": float(loss.detach())})
        progress.set_postfix(heat=f"{running['heatmaps']:.3f}")
        done = step + 1
        if is_due(done, args.eval_every, args.steps):
            elapsed_s = time.perf_counter() - started
            metrics = validate_refiner(model, val_seeds)
            model.train()
            record_evaluation(history, done, elapsed_s, running, metrics)
        if is_due(done, args.checkpoint_every, args.steps):
            elapsed_s = time.perf_counter() - started
            write_checkpoint(checkpoint_path, parts, done, history, elapsed_s, config)

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

