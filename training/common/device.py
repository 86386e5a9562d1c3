"""Where a trainer runs its network: the CPU (the default, CI and every shipped run) or a CUDA GPU.

Data preparation (rendering, augmentation, targets) stays in numpy on the CPU; each batch moves
to the device just before the forward pass, and validation brings outputs back for the core
decoders. Checkpoints load onto the CPU first (`load_checkpoint`) and then into the parts
wherever they live, so a run started on one device resumes on the other.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TypeVar

import torch

DEVICES: tuple[str, ...] = ("cpu", "cuda")
DEFAULT_DEVICE = "cpu"

BatchT = TypeVar("BatchT")


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default=DEFAULT_DEVICE,
        help="where the network trains (data is prepared on the CPU either way)",
    )


def training_device(name: str) -> torch.device:
    """The torch device for ``--device``; refuses CUDA that this torch build cannot see."""
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            f"--device cuda: torch {torch.__version__} sees no CUDA GPU "
            f"(built for CUDA {torch.version.cuda}); train on --device cpu"
        )
    if name == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: pick the fastest kernels once
    return torch.device(name)


def module_device(module: torch.nn.Module) -> torch.device:
    """Where a network's weights live: validation sends its inputs there."""
    return next(module.parameters()).device


def batch_to_device(batch: BatchT, device: torch.device) -> BatchT:
    """A copy of a batch dataclass with every tensor field on ``device``; other fields (numpy
    labels the metrics read) stay as they are."""
    moved = {
        field.name: value.to(device, non_blocking=True)
        for field in dataclasses.fields(batch)
        if isinstance(value := getattr(batch, field.name), torch.Tensor) and value.device != device
    }
    return dataclasses.replace(batch, **moved) if moved else batch


def device_flag(config: dict) -> list[str]:
    """``--device`` for a recorded command line: named only when it is not the default, so
    the commands of CPU runs read as they always have."""
    device = config.get("device", DEFAULT_DEVICE)
    return [] if device == DEFAULT_DEVICE else [f"--device {device}"]
