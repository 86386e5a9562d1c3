"""Export a trained LitePose network to a self-describing ONNX file (task body_pose_2d_ae).

    python -m training.body.export --run runs/body_xs \
        --out hand_pose_ros/models/litepose_xs_synthetic.onnx

Writes the body model-file contract's metadata (keypoints, skeleton, flip index, OKS sigmas,
input normalisation and letterbox, output layout, decoding defaults, per-joint depth offsets
measured on training frames, training data and schedule, complexity counted on the exported
graph), appends the decoder's peak search to the graph (`training.body.peak_outputs`),
validates it with the core's `validate_metadata`, checks that ONNX Runtime reproduces
torch on validation inputs, and loads the file through the core `OnnxModel`.
`training.body.evaluate --embed` later adds held-out metrics to the same metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch
from tqdm import tqdm

from hand_pose_ros.core.body_estimator import DEFAULT_BODY_BAND_M, DEFAULT_BODY_WINDOW_PX
from hand_pose_ros.core.depth_sampling import sample_depth
from hand_pose_ros.core.model_metadata import BODY_DECODING_DEFAULTS, BODY_POSE_TASK
from hand_pose_ros.core.model_runtime import OnnxModel, create_session
from training.body.coco_format import COCO17, LAYOUTS, KeypointLayout
from training.body.data import (
    HEATMAP_SIGMA_PX,
    IMAGE_MEAN,
    IMAGE_STD,
    NUM_JOINTS,
    PIXEL_SCALE,
    STRIDE_COARSE,
    STRIDE_FINE,
    split_seeds,
)
from training.body.networks import build_litepose, export_onnx, published_convention_macs
from training.body.peak_outputs import add_peak_outputs
from training.body.train import command_line, parse_size
from training.common.checkpoints import CHECKPOINT_NAME, load_checkpoint
from training.common.export_cli import export_parser
from training.common.onnx_complexity import count_complexity
from training.common.onnx_metadata import set_metadata
from training.common.warm_restart import chain_totals

OUTPUT_NAMES = {"heatmaps": "heatmaps_s4", "tags": "tags_s4", "heatmaps_fine": "heatmaps_s2"}
PARITY_TOLERANCE = 1e-3
"""Largest absolute torch/ONNX difference accepted on any output (float32 round-off)."""
OFFSET_FRAMES = 200
"""Training frames whose visible keypoints give the per-joint depth offsets."""
OFFSET_RESOLUTION_PX = (640, 480)


def input_spec(width: int, height: int) -> dict:
    return {
        "name": "image",
        "layout": "NCHW",
        "height": height,
        "width": width,
        "channels": 3,
        "color_order": "rgb",
        "scale": PIXEL_SCALE,
        "mean": list(IMAGE_MEAN),
        "std": list(IMAGE_STD),
        "resize": "letterbox",
        "pad_value": 0,
    }


def build_metadata(
    model_name: str,
    architecture: dict,
    layout: KeypointLayout,
    width: int,
    height: int,
    training: dict,
    depth_offsets_m: list[float] | None,
    detection_threshold: float = BODY_DECODING_DEFAULTS["detection_threshold"],
) -> dict:
    metadata = {
        "format_version": 1,
        "task": BODY_POSE_TASK,
        "model_name": model_name,
        "architecture": architecture,
        "keypoint_names": list(layout.keypoint_names),
        "skeleton": [list(edge) for edge in layout.skeleton],
        "flip_index": list(layout.flip_index),
        "oks_sigmas": list(layout.oks_sigmas),
        "input": input_spec(width, height),
        "outputs": {
            "heatmaps": {"name": OUTPUT_NAMES["heatmaps"], "stride": STRIDE_COARSE},
            "tags": {
                "name": OUTPUT_NAMES["tags"],
                "stride": STRIDE_COARSE,
                "tag_dim": architecture.get("tag_dim", 1),
            },
            "heatmaps_fine": {"name": OUTPUT_NAMES["heatmaps_fine"], "stride": STRIDE_FINE},
        },
        "heatmap_sigma_px": HEATMAP_SIGMA_PX,
        "decoding": {**BODY_DECODING_DEFAULTS, "detection_threshold": detection_threshold},
        "training": training,
        "metrics": {},
    }
    if depth_offsets_m is not None:
        metadata["keypoint_depth_offsets_m"] = depth_offsets_m
    return metadata


def keypoint_depth_offsets(seeds: range, width: int, height: int) -> tuple[list[float], dict]:
    """Per joint the median of (label z - depth sampled as the estimator samples it) over
    visible keypoints: the joint centre lies behind the surface the camera sees."""
    from hand_pose_ros.synthetic.people import render_people_frame

    residuals: list[list[float]] = [[] for _ in range(NUM_JOINTS)]
    for seed in tqdm(seeds, desc="depth offsets", unit="frame"):
        frame = render_people_frame(seed, width=width, height=height)
        if not len(frame.keypoints_uv):
            continue
        depth_m = frame.depth_mm.astype(np.float32) / 1000.0
        depth_m[frame.depth_mm == 0] = np.nan
        sampled = sample_depth(
            depth_m, frame.keypoints_uv.reshape(-1, 2), DEFAULT_BODY_WINDOW_PX, DEFAULT_BODY_BAND_M
        )
        sampled = sampled.reshape(frame.visibility.shape)
        z = frame.keypoints_xyz[..., 2]
        use = (frame.visibility == 2) & np.isfinite(sampled)
        for joint in range(NUM_JOINTS):
            residuals[joint].extend((z[:, joint] - sampled[:, joint])[use[:, joint]].tolist())
    offsets = [round(float(np.median(r)), 4) if r else 0.0 for r in residuals]
    stats = {
        "frames": len(seeds),
        "resolution": f"{width}x{height}",
        "samples_per_joint": [len(r) for r in residuals],
    }
    return offsets, stats


def check_parity(path: Path, model: torch.nn.Module, inputs: torch.Tensor) -> float:
    """Largest |torch - ONNX Runtime| over every output on the given inputs."""
    session = create_session(path)  # the options the nodes run with
    with torch.no_grad():
        expected = model(inputs)
    actual = session.run(list(OUTPUT_NAMES.values()), {"image": inputs.numpy()})
    return max(float(np.max(np.abs(e.numpy() - a))) for e, a in zip(expected, actual, strict=True))


def export(
    run_dir: Path,
    out: Path,
    model_name: str,
    input_size: tuple[int, int] | None = None,
    offset_frames: int = OFFSET_FRAMES,
    detection_threshold: float = BODY_DECODING_DEFAULTS["detection_threshold"],
) -> dict:
    """Export a run's checkpoint (synthetic or `--coco` trained) with validated metadata."""
    state = load_checkpoint(run_dir / CHECKPOINT_NAME)
    if state is None:
        raise SystemExit(f"no checkpoint in {run_dir}")
    config = state["config"]
    total_steps, total_time_s = chain_totals(state)
    width, height = input_size or parse_size(config["render"])
    architecture = {
        "family": "litepose",
        "size": config["size"],
        "kernel_size": config["kernel"],
        "head": config["head"],
        "tag_dim": 1,
    }
    layout = {layout.name: layout for layout in LAYOUTS}[config.get("keypoint_layout", "coco17")]
    model = build_litepose(
        config["size"], num_joints=len(layout), kernel_size=config["kernel"], head=config["head"]
    )
    model.load_state_dict(state["model"])
    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out, height, width, dynamic_batch=True)
    complexity = count_complexity(out)
    synthetic = config.get("coco") in (None, "None")
    train_seeds = split_seeds("train", config.get("train_frames"))
    offsets, offset_stats = (None, None)
    if offset_frames > 0 and layout is COCO17:  # measured on synthetic RGB-D frames
        offsets, offset_stats = keypoint_depth_offsets(
            range(train_seeds.start, train_seeds.start + min(offset_frames, len(train_seeds))),
            *OFFSET_RESOLUTION_PX,
        )
    source = (
        f"synthetic people (render_people_frame) at {config['render']}"
        if synthetic
        else f"{config['coco']} ({layout.name}) letterboxed to {config['render']}"
    )
    training = {
        "data": f"{source}, cached; augmentation: rotation +-30 deg, scale 0.75-1.5, "
        "translation, horizontal flip with left/right swap; training input "
        f"{config['input']}",
        "train_seeds": [train_seeds.start, train_seeds.stop] if synthetic else None,
        "architecture": architecture,
        # A warm restart (--init-from) counts the earlier runs' steps and time as well.
        "steps": total_steps,
        **({"warm_restart_at_step": config["init_steps"]} if config.get("init_steps") else {}),
        "batch_size": config["batch_size"],
        "lr": config["lr"],
        "weight_decay": config["weight_decay"],
        "schedule": config["schedule"],
        "loss": {
            "heatmaps": "masked MSE at 1/4 and 1/2, sigma 2",
            "ae_pull_weight": config["pull_weight"],
            "ae_push_weight": config["push_weight"],
        },
        "seed": config["seed"],
        "train_time_s": total_time_s,
        "command": command_line(config),
        "depth_offsets": offset_stats,
    }
    metadata = build_metadata(
        model_name, architecture, layout, width, height, training, offsets, detection_threshold
    )
    metadata["complexity"] = {
        "macs": complexity.macs,
        "flops": complexity.flops,
        "params": complexity.params,
        "macs_published_convention": published_convention_macs(out),
    }
    graph = onnx.load(str(out))
    metadata = add_peak_outputs(graph, metadata)  # the decoder's peak search as graph nodes
    set_metadata(graph, metadata, str(out))  # validates with the core's validate_metadata
    onnx.save(graph, str(out))

    # Normalised inputs span a few units around 0: random normal inputs exercise every path.
    inputs = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    parity = check_parity(out, model, inputs)
    if parity > PARITY_TOLERANCE:
        raise SystemExit(f"ONNX output differs from torch by {parity:.2e} > {PARITY_TOLERANCE}")
    loaded = OnnxModel(out)  # the core runtime's own shape and metadata checks
    report = {
        "model": str(out),
        "model_name": loaded.name,
        "input": f"{width}x{height}",
        **complexity.as_dict(),
        "macs_published_convention": metadata["complexity"]["macs_published_convention"],
        "parity_max_abs": parity,
        "keypoint_depth_offsets_m": offsets,
    }
    print(json.dumps(report, indent=2))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = export_parser("Export a trained LitePose network to ONNX.", "litepose_xs_synthetic")
    parser.add_argument(
        "--input",
        type=parse_size,
        default=None,
        help="network input WxH (default: the run's render size)",
    )
    parser.add_argument(
        "--offset-frames",
        type=int,
        default=OFFSET_FRAMES,
        help="training frames for keypoint_depth_offsets_m (0: leave out)",
    )
    parser.add_argument(
        "--detection-threshold",
        type=float,
        default=BODY_DECODING_DEFAULTS["detection_threshold"],
        help="heatmap value from which a joint starts or joins a person (the model's decoding "
        "default; choose it on the validation split)",
    )
    args = parser.parse_args(argv)
    export(
        args.run, args.out, args.name, args.input, args.offset_frames, args.detection_threshold
    )


if __name__ == "__main__":
    main()
