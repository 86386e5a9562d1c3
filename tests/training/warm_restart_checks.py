"""What every trainer's ``--init-from`` must do, checked the same way for the hand, body and
video trainers: start from the parent's weights and record the chain in the exported file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hand_pose_ros.core.model_runtime import OnnxModel
from training.common.onnx_metadata import read_onnx_metadata


def largest_weight_change(parent_run: Path, child_run: Path) -> float:
    """Largest absolute difference of any weight or bias between two runs' checkpoints."""
    parent = torch.load(parent_run / "checkpoint.pt", weights_only=False)["model"]
    child = torch.load(child_run / "checkpoint.pt", weights_only=False)["model"]
    return max(
        float((child[name].float() - value.float()).abs().max())
        for name, value in parent.items()
        if name.endswith(("weight", "bias"))
    )


def assert_chain_recorded(
    training: dict, trainer: str, parent_run: Path, child_run: Path, parent_steps: int
) -> None:
    """``training`` (an exported file's metadata block) of a one-step restart of ``parent_run``
    names both commands in order and counts the parent's ``parent_steps`` steps."""
    first, second = training["command"].split(" && ")
    assert first.startswith(f"python -m training.{trainer}.train") and "--init-from" not in first
    assert f"--init-from {parent_run}" in second and f"--out {child_run}" in second
    assert training["steps"] == parent_steps + 1
    assert training["warm_restart_at_step"] == parent_steps


def assert_started_from_file(
    parent_file: Path, child_file: Path, parent_steps: int, inputs: np.ndarray, output: str,
    parent_export: str,
) -> None:
    """The export ``child_file`` of a one-step, near-zero-rate restart from the exported
    ``parent_file`` records the file's chain, then ``parent_export`` (the command that wrote
    the file), before its own command; counts the parent's steps; and still computes the
    parent's function on ``inputs`` (N, ...) (its BatchNorms rebuilt, not reset)."""
    training = read_onnx_metadata(child_file)["training"]
    chain, export, own = training["command"].rsplit(" && ", 2)
    assert chain == read_onnx_metadata(parent_file)["training"]["command"]
    assert export == parent_export
    assert own.endswith(f"--init-from {parent_file}")
    assert training["steps"] == parent_steps + 1
    parent, child = OnnxModel(parent_file), OnnxModel(child_file)
    for sample in inputs:
        want = parent.run(sample[None])[output]
        got = child.run(sample[None])[output]
        assert np.abs(got - want).max() < 0.05 * np.abs(want).max() + 1e-3
