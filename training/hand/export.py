"""Export a trained hand network to a self-describing ONNX file.

    python -m training.hand.export --run runs/hand_tiny_aux \
        --out hand_pose_ros/models/hand_tiny_multitask.onnx

Writes the model-file contract's metadata (keypoints, skeleton, input normalisation, output
layout, training data and schedule, complexity counted on the exported graph) and checks that
ONNX Runtime reproduces torch on validation inputs. `training.hand.evaluate --embed` later adds
the held-out test metrics to the same metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from training.common.checkpoints import CHECKPOINT_NAME, load_checkpoint
from training.common.export_cli import export_parser
from training.common.onnx_complexity import count_complexity
from training.common.onnx_metadata import write_metadata
from training.common.onnx_parity import check_parity
from training.common.warm_restart import chain_totals
from training.hand.data import INPUT_SPEC, HandBatches, load_or_render, split_seeds
from training.hand.losses import AUXILIARY_TASKS, PRIMARY_TASKS
from training.hand.metadata import build_metadata
from training.hand.networks import OutputsInOrder, build_hand_net
from training.hand.train import command_line

OPSET = 17
PARITY_TOLERANCE = 1e-4
"""Largest absolute torch/ONNX difference accepted on any output (float32 round-off)."""


def export(run_dir: Path, out: Path, model_name: str) -> dict:
    state = load_checkpoint(run_dir / CHECKPOINT_NAME)
    if state is None:
        raise SystemExit(f"no checkpoint in {run_dir}")
    config = state["config"]
    model = build_hand_net(config["arch"])
    model.load_state_dict(state["model"])
    model.eval()
    roles = PRIMARY_TASKS + (AUXILIARY_TASKS if config["aux"] else ())
    wrapper = OutputsInOrder(model, roles).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 1, INPUT_SPEC["height"], INPUT_SPEC["width"])
    torch.onnx.export(
        wrapper,
        dummy,
        str(out),
        input_names=[INPUT_SPEC["name"]],
        output_names=list(roles),
        opset_version=OPSET,
        dynamo=False,
    )
    complexity = count_complexity(out)
    total_steps, total_time_s = chain_totals(state)
    train_seeds = split_seeds("train", config.get("train_frames"))
    training = {
        "data": "synthetic egocentric depth, hand_pose_ros.synthetic.render_frame at "
        f"{INPUT_SPEC['width']}x{INPUT_SPEC['height']}, horizontal flip augmentation",
        "train_seeds": [train_seeds.start, train_seeds.stop],
        "architecture": config["arch"],
        "auxiliary_tasks": list(AUXILIARY_TASKS) if config["aux"] else [],
        "steps": total_steps,
        **({"warm_restart_at_step": config["init_steps"]} if config.get("init_steps") else {}),
        "batch_size": config["batch_size"],
        "lr": config["lr"],
        "weight_decay": config["weight_decay"],
        "seed": config["seed"],
        "train_time_s": total_time_s,
        "command": command_line(config),
    }
    metadata = build_metadata(model_name, roles, training)
    metadata["complexity"] = {
        "macs": complexity.macs,
        "flops": complexity.flops,
        "params": complexity.params,
    }
    write_metadata(out, metadata)
    validation = load_or_render(split_seeds("validation", 16), Path(config["cache_dir"]))
    inputs = HandBatches(validation, augment=False).inputs.astype(np.float32)
    return verify_and_report(out, wrapper, inputs)


def verify_and_report(
    out: Path, wrapper: torch.nn.Module, inputs: np.ndarray, input_name: str = INPUT_SPEC["name"]
) -> dict:
    """Refuse a written file ONNX Runtime does not reproduce torch with; print and return its
    complexity and parity."""
    parity = check_parity(out, wrapper, inputs, input_name)
    if parity > PARITY_TOLERANCE:
        raise SystemExit(f"ONNX output differs from torch by {parity:.2e} > {PARITY_TOLERANCE}")
    report = {"model": str(out), **count_complexity(out).as_dict(), "parity_max_abs": parity}
    print(json.dumps(report, indent=2))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = export_parser("Export a trained hand network to ONNX.", "hand_tiny_multitask")
    args = parser.parse_args(argv)
    export(args.run, args.out, args.name)


if __name__ == "__main__":
    main()
