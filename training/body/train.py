"""Train a LitePose network on synthetic multi-person RGB frames.

    python -m training.body.train --size XS --input 256x192 --out runs/body_xs

Frames are rendered once at `--render` size into the disk cache (see `training.body.data`);
each step warps a random batch to `--input` size (smaller inputs are crops at the same scale).
Resumes from `<out>/checkpoint.pt` when it exists (batches depend only on (seed, step), so a
resumed run sees the same data); writes `<out>/metrics.json` with the configuration, loss
history and validation losses (validation seeds only: the test split is for
`training.body.evaluate` on the exported file).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from training.body.coco_format import COCO17, KeypointLayout
from training.body.data import (
    RENDER_SIZE_PX,
    Augmentation,
    BodySamples,
    CocoSource,
    load_or_render,
    split_seeds,
)
from training.body.losses import AE_PULL_WEIGHT, AE_PUSH_WEIGHT, LitePoseLoss
from training.body.networks import HEADS, LITEPOSE_CONFIGS, build_litepose
from training.common.checkpoints import CHECKPOINT_NAME
from training.common.device import (
    add_device_argument,
    batch_to_device,
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
    to_channels_last,
    write_checkpoint,
)
from training.common.seeding import seed_everything
from training.common.warm_restart import chained_command, start_from

WARMUP_STEPS = 500
STEP_SCHEDULE_MILESTONES = (0.7, 0.9)
"""Fractions of the run after which the step schedule divides the rate by 10."""
VALIDATION_BATCH = 8
ARCHITECTURE_KEYS = ("size", "kernel", "head", "keypoint_layout")
"""What a warm restart's parent run must share with it."""
DEFAULT_INPUT_PX = (192, 144)
"""Training crops: 56% of a 256x192 render at the deployed scale, ~2x faster steps on CPU."""


def parse_size(text: str) -> tuple[int, int]:
    """'256x192' -> (256, 192) as (width, height)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from error
    return width, height


def format_size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train LitePose on synthetic people.")
    parser.add_argument("--size", choices=sorted(LITEPOSE_CONFIGS), default="XS")
    parser.add_argument("--kernel", type=int, default=7, help="depthwise kernel size")
    parser.add_argument("--head", choices=HEADS, default="fusion")
    parser.add_argument(
        "--input",
        type=parse_size,
        default=DEFAULT_INPUT_PX,
        help="training input WxH (crops when smaller than --render)",
    )
    parser.add_argument(
        "--render",
        type=parse_size,
        default=RENDER_SIZE_PX,
        help="cached render WxH (the deployed model input scale)",
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--steps", type=int, default=24000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument(
        "--norm-weight-decay",
        type=float,
        default=None,
        help="L2 decay of BatchNorm scales/shifts and biases (default: --weight-decay, as the "
        "shipped run). With Adam's coupled decay, 0 keeps little-used residual blocks alive "
        "(docs/studies/body.md, training length)",
    )
    parser.add_argument("--schedule", choices=("cosine", "step"), default="cosine")
    parser.add_argument("--pull-weight", type=float, default=AE_PULL_WEIGHT)
    parser.add_argument("--push-weight", type=float, default=AE_PUSH_WEIGHT)
    parser.add_argument(
        "--train-frames",
        type=int,
        default=None,
        help="prefix of the training seeds (default: all in splits.json)",
    )
    parser.add_argument("--val-frames", type=int, default=64)
    parser.add_argument(
        "--coco",
        type=Path,
        default=None,
        help="train on a COCO-style keypoint set (COCO / CrowdPose) instead of synthetic people",
    )
    parser.add_argument("--images", type=Path, default=None, help="image folder for --coco")
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="run folder whose final weights start this run (a warm restart: fresh optimiser "
        "and schedule); its command is recorded with this run's",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--render-workers", type=int, default=2)
    add_device_argument(parser)
    return parser.parse_args(argv)


def parameter_groups(model: torch.nn.Module, args: argparse.Namespace) -> list[dict]:
    """Conv weights decay by --weight-decay; 1-D parameters (norm scales/shifts, biases) by
    --norm-weight-decay, which defaults to the same value."""
    norm_decay = args.weight_decay if args.norm_weight_decay is None else args.norm_weight_decay
    weights = [p for p in model.parameters() if p.ndim > 1]
    vectors = [p for p in model.parameters() if p.ndim <= 1]
    return [
        {"params": weights, "weight_decay": args.weight_decay},
        {"params": vectors, "weight_decay": norm_decay},
    ]


def learning_rate_factor(step: int, total_steps: int, schedule: str = "cosine") -> float:
    """Linear warm-up, then cosine decay to zero or two /10 steps."""
    warmup = min(WARMUP_STEPS, max(1, total_steps // 10))
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    if schedule == "step":
        return 0.1 ** sum(progress >= m for m in STEP_SCHEDULE_MILESTONES)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def command_line(config: dict) -> str:
    """The train command that reproduces a run (stored in exported metadata)."""
    flags = [
        f"--size {config['size']}",
        f"--kernel {config['kernel']}",
        f"--head {config['head']}",
        f"--input {config['input']}",
        f"--render {config['render']}",
        f"--steps {config['steps']}",
        f"--batch-size {config['batch_size']}",
        f"--lr {config['lr']}",
        f"--schedule {config['schedule']}",
        f"--pull-weight {config['pull_weight']:g}",
        *(
            [f"--norm-weight-decay {config['norm_weight_decay']:g}"]
            if config.get("norm_weight_decay") is not None
            else []
        ),
        f"--push-weight {config['push_weight']:g}",
        f"--seed {config['seed']}",
        f"--threads {config['threads']}",
        f"--out {config['out']}",
    ]
    if config.get("train_frames"):
        flags.append(f"--train-frames {config['train_frames']}")
    if config.get("coco") not in (None, "None"):
        flags.append(f"--coco {config['coco']} --images {config['images']}")
    flags += device_flag(config)
    return chained_command(config, "python -m training.body.train " + " ".join(flags))


def load_data(
    args: argparse.Namespace, render_fn=None, version: str | None = None
) -> tuple[BodySamples, BodySamples, KeypointLayout, range]:
    """Training samples (augmented, `--input` size), validation samples (un-augmented, at the
    render size = the deployed input), the keypoint layout and the training seeds/indices.

    Synthetic: seeds from splits.json. `--coco`: the annotation file's images, the last
    `--val-frames` of them held out for the validation losses.
    """
    if args.coco is not None:
        source = CocoSource(args.coco, args.images)
        render_fn, version = source, source.version()
        layout = source.dataset.layout
        total = len(source.dataset)
        val_count = min(args.val_frames, max(0, total - 1))
        train_count = total - val_count
        if args.train_frames:
            train_count = min(train_count, args.train_frames)
        train_seeds, val_seeds = range(train_count), range(total - val_count, total)
    else:
        layout = COCO17
        train_seeds = split_seeds("train", args.train_frames)
        val_seeds = split_seeds("validation", args.val_frames)
    common = {"workers": args.render_workers, "render_fn": render_fn, "version": version}
    train_arrays = load_or_render(train_seeds, args.cache_dir, *args.render, **common)
    val_arrays = load_or_render(val_seeds, args.cache_dir, *args.render, **common)
    flip = layout.flip_index
    return (
        BodySamples(train_arrays, args.input, Augmentation(), flip),
        BodySamples(val_arrays, args.render, Augmentation.none(), flip),
        layout,
        train_seeds,
    )


@torch.no_grad()
def validate(model: torch.nn.Module, criterion: LitePoseLoss, samples: BodySamples) -> dict:
    model.eval()
    device = module_device(model)
    totals: dict[str, float] = {}
    rng = np.random.default_rng(0)
    batches = 0
    for start in range(0, samples.size, VALIDATION_BATCH):
        indices = np.arange(start, min(samples.size, start + VALIDATION_BATCH))
        batch = batch_to_device(samples.batch(indices, rng), device)
        _, parts = criterion(model(batch.inputs), batch)
        for name, value in parts.items():
            totals[name] = totals.get(name, 0.0) + value
        batches += 1
    return {name: round(value / max(1, batches), 6) for name, value in totals.items()}


def train(args: argparse.Namespace, render_fn=None, version: str | None = None) -> dict:
    """Run (or resume) training; `render_fn`/`version` swap the renderer (tests)."""
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = training_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {
        k: format_size(v) if k in ("input", "render") else (str(v) if isinstance(v, Path) else v)
        for k, v in vars(args).items()
    }
    samples, val_samples, layout, train_seeds = load_data(args, render_fn, version)
    config["keypoint_layout"] = layout.name

    model = to_channels_last(
        build_litepose(args.size, num_joints=len(layout), kernel_size=args.kernel, head=args.head)
    ).to(device)
    criterion = LitePoseLoss(args.pull_weight, args.push_weight)
    optimizer = torch.optim.Adam(parameter_groups(model, args), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, args.steps, args.schedule)
    )
    if args.init_from is not None:
        start_from(args.init_from, model, config, ARCHITECTURE_KEYS, command_line)
    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    checkpoint_path = args.out / CHECKPOINT_NAME
    start_step, history, elapsed_s = resume(checkpoint_path, parts)

    model.train()
    started = time.perf_counter() - elapsed_s
    running: dict[str, float] = {}
    progress = progress_bar(start_step, args.steps, args.out.name, mininterval=5.0)
    for step in progress:
        rng = np.random.default_rng([args.seed, step])
        batch = samples.batch(rng.integers(0, samples.size, args.batch_size), rng)
        batch = batch_to_device(batch, device)
        loss, losses = criterion(model(batch.inputs), batch)
        optimiser_step(loss, optimizer, scheduler)
        smooth_losses(running, losses)
        progress.set_postfix(
            refresh=False,
            hm=f"{1e3 * running['heatmaps_s4']:.3f}e-3",
            pull=f"{running['pull']:.3f}",
            push=f"{running['push']:.3f}",
        )
        done = step + 1
        if is_due(done, args.eval_every, args.steps):
            elapsed_s = time.perf_counter() - started
            metrics = validate(model, criterion, val_samples)
            model.train()
            lr = scheduler.get_last_lr()[0]
            record_evaluation(history, done, elapsed_s, running, metrics, lr=lr)
        if is_due(done, args.checkpoint_every, args.steps):
            elapsed_s = time.perf_counter() - started
            write_checkpoint(checkpoint_path, parts, done, history, elapsed_s, config)

    summary = {
        "config": config,
        "command": command_line(config),
        "train_seeds": [train_seeds.start, train_seeds.stop],
        "data": "coco" if args.coco is not None else "synthetic",
    }
    return finish_run(args.out, summary, started, history)


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
