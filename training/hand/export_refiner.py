"""Export a trained hand refiner to a self-describing ONNX file.

    python -m training.hand.export_refiner --run runs/hand_refiner \
        --out hand_pose_ros/models/hand_refiner_tiny.onnx

Writes the `hand_keypoints_crop` metadata (keypoints, crop geometry and depth normalisation,
heatmap stride, training data and schedule, complexity counted on the exported graph) with a
dynamic batch axis (one crop per hand in a frame), and checks ONNX Runtime against torch on
crops of validation frames. `training.hand.evaluate --refiner --embed` adds the pipeline's
held-out figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hand_pose_ros.core.hand_crops import crop_input
from hand_pose_ros.core.model_metadata import REFINER_OUTPUT_ROLES
from training.common.checkpoints import CHECKPOINT_NAME, load_checkpoint
from training.common.export_cli import export_parser
from training.common.onnx_complexity import count_complexity
from training.common.onnx_metadata import write_metadata
from training.common.warm_restart import chain_totals
from training.hand.data import INPUT_SPEC, load_or_render, split_seeds
from training.hand.export import OPSET, verify_and_report
from training.hand.metadata import build_refiner_metadata
from training.hand.networks import REFINER_ARCHITECTURES, OutputsInOrder, build_refiner_net
from training.hand.refiner_data import (
    CROP_SPEC,
    REFINER_INPUT_SPEC,
    hand_crop,
    labelled_hands,
)
from training.hand.train_refiner import command_line, crop_jitter, depth_weight, refiner_arch

PARITY_CROPS = 16


def first_stage_note(config: dict) -> str:
    """What the data description adds for a run with first-stage crops (none before them)."""
    if config.get("first_stage") in (None, "None"):
        return ""
    return (f"; {config['first_stage_share']:.0%} of the crops (last run) cut around the boxes "
            f"{Path(config['first_stage']).name} finds on those frames (its hand masks)")


def parity_crops(cache_dir: Path) -> np.ndarray:
    """(N, 1, S, S) crops around labelled hands of the first validation frames."""
    arrays = load_or_render(split_seeds("validation", PARITY_CROPS), cache_dir)
    crops = [
        crop_input(
            arrays["depth_m"][frame].astype(np.float32),
            hand_crop(arrays["keypoints_uv"][frame, side].astype(np.float64), int(side)),
            CROP_SPEC,
        )[0]
        for frame, side in labelled_hands(arrays)
    ]
    return np.stack(crops)[:, None]


def export(run_dir: Path, out: Path, model_name: str) -> dict:
    state = load_checkpoint(run_dir / CHECKPOINT_NAME)
    if state is None:
        raise SystemExit(f"no checkpoint in {run_dir}")
    config = state["config"]
    arch = refiner_arch(config)
    model = build_refiner_net(arch)
    model.load_state_dict(state["model"])
    wrapper = OutputsInOrder(model, REFINER_OUTPUT_ROLES).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    size = REFINER_INPUT_SPEC["height"]
    torch.onnx.export(
        wrapper,
        torch.zeros(1, 1, size, size),
        str(out),
        input_names=[REFINER_INPUT_SPEC["name"]],
        output_names=list(REFINER_OUTPUT_ROLES),
        dynamic_axes={
            name: {0: "hands"} for name in (REFINER_INPUT_SPEC["name"], *REFINER_OUTPUT_ROLES)
        },
        opset_version=OPSET,
        dynamo=False,
    )
    complexity = count_complexity(out)
    total_steps, total_time_s = chain_totals(state)
    train_seeds = split_seeds("train", config.get("train_frames"))
    jitter = crop_jitter(config)
    training = {
        "data": "crops around the labelled hands of synthetic egocentric depth frames "
        f"(hand_pose_ros.synthetic.render_frame at {INPUT_SPEC['width']}x"
        f"{INPUT_SPEC['height']}), left hands mirrored; crop centre jitter "
        f"{jitter.centre:g} and log-size jitter {jitter.log_scale:g} (standard deviations)"
        + first_stage_note(config),
        "train_seeds": [train_seeds.start, train_seeds.stop],
        "architecture": f"{arch}: tiny-style encoder + fusion decoder "
        f"({REFINER_ARCHITECTURES[arch].describe()}), one heatmap and one depth map per keypoint",
        "steps": total_steps,
        **({"warm_restart_at_step": config["init_steps"]} if config.get("init_steps") else {}),
        "depth_loss_weight": depth_weight(config),
        "batch_size": config["batch_size"],
        "lr": config["lr"],
        "weight_decay": config["weight_decay"],
        "seed": config["seed"],
        "train_time_s": total_time_s,
        "command": command_line(config),
    }
    metadata = build_refiner_metadata(model_name, training)
    metadata["complexity"] = {
        "macs": complexity.macs,
        "flops": complexity.flops,
        "params": complexity.params,
        "per": "hand",
    }
    write_metadata(out, metadata)
    crops = parity_crops(Path(config["cache_dir"]))
    return verify_and_report(out, wrapper, crops, REFINER_INPUT_SPEC["name"])


def main(argv: list[str] | None = None) -> None:
    parser = export_parser("Export a trained hand refiner to ONNX.", "hand_refiner_tiny")
    args = parser.parse_args(argv)
    export(args.run, args.out, args.name)


if __name__ == "__main__":
    main()
