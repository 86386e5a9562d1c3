"""Export a trained DKD tracker to a self-describing ONNX file (task video_pose_dkd).

    python -m training.video.export --run runs/video_dkd \
        --out hand_pose_ros/models/video_dkd_synthetic.onnx

Writes the video model-file contract's metadata (keypoints and skeleton of COCO-17, the body
input normalisation, graph input/output names, feature and ROI geometry, MACs per frame and per
tracked person counted on static exports of the graph, training data and schedule), checks that
ONNX Runtime reproduces torch and loads the file through the core ``DkdModel``.
``training.video.evaluate --embed`` later adds held-out metrics.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from hand_pose_ros.core.model_metadata import VIDEO_POSE_TASK
from hand_pose_ros.core.model_runtime import create_session
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.rois import RoiSpec
from training.body.coco_format import COCO17
from training.body.export import input_spec
from training.body.train import parse_size
from training.common.checkpoints import CHECKPOINT_NAME, load_checkpoint
from training.common.export_cli import export_parser
from training.common.onnx_complexity import count_complexity
from training.common.onnx_metadata import write_metadata
from training.common.warm_restart import chain_totals
from training.video.data import split_seeds
from training.video.networks import (
    FEATURE_STRIDE,
    INPUT_NAMES,
    OUTPUT_NAMES,
    DkdExportGraph,
    DkdNetwork,
    export_dkd_onnx,
    export_encoder_onnx,
)
from training.video.train import command_line

PARITY_TOLERANCE = 1e-3


def load_network(run_dir: Path) -> tuple[DkdNetwork, dict, dict]:
    state = load_checkpoint(run_dir / CHECKPOINT_NAME)
    if state is None:
        raise SystemExit(f"no checkpoint in {run_dir}")
    config = state["config"]
    network = DkdNetwork(
        len(COCO17),
        RoiSpec.from_metadata(config["roi"]),
        *parse_size(config["input"]),
        config["channels"],
        config["kernel"],
    )
    network.load_state_dict(state["model"])
    network.eval()
    return network, config, state


def count_macs(network: DkdNetwork) -> dict[str, int]:
    """MACs of the encoder (once per frame) and of one tracked person, from static exports."""
    with tempfile.TemporaryDirectory() as folder:
        one_person, encoder = Path(folder) / "one.onnx", Path(folder) / "encoder.onnx"
        export_dkd_onnx(network, one_person, people=1)
        export_encoder_onnx(network, encoder)
        total, frame = count_complexity(one_person), count_complexity(encoder)
    return {
        "macs_per_frame": frame.macs,
        "macs_per_person": total.macs - frame.macs,
        "params": total.params,
    }


def check_parity(path: Path, network: DkdNetwork) -> float:
    """Largest |torch - ONNX Runtime| over both outputs, on random inputs with 3 people."""
    generator = torch.Generator().manual_seed(0)
    h, w = network.input_height_px, network.input_width_px
    spec = network.spec
    inputs = (
        torch.randn(1, 3, h, w, generator=generator),
        torch.randn(
            1, network.channels, h // FEATURE_STRIDE, w // FEATURE_STRIDE, generator=generator
        ),
        torch.tensor([[10.0, 5.0, 90.0, 120.0], [100.0, 40.0, 160.0, 120.0], [-20.0, 0, 60, 100]]),
        torch.rand(3, network.joints, spec.height_cells, spec.width_cells, generator=generator),
    )
    with torch.no_grad():
        expected = DkdExportGraph(network)(*inputs)
    session = create_session(path)  # the options the nodes run with
    actual = session.run(
        list(OUTPUT_NAMES), {name: t.numpy() for name, t in zip(INPUT_NAMES, inputs)}
    )
    return max(float(np.max(np.abs(e.numpy() - a))) for e, a in zip(expected, actual))


def training_summary(config: dict, state: dict) -> dict:
    """What the metadata says about how the run was trained."""
    synthetic = config.get("penn_action") in (None, "None")
    seeds = split_seeds("train", config.get("train_sequences"))
    total_steps, total_time_s = chain_totals(state)
    return {
        "data": (
            "synthetic people sequences (PeopleSequence) at "
            f"{config['input']}, {config['frames_per_sequence']} frames each"
            if synthetic
            else f"Penn Action style folder {config['penn_action']}"
        ),
        "train_seeds": [seeds.start, seeds.stop] if synthetic else None,
        # A warm restart (--init-from) counts the earlier runs' steps and time as well.
        "steps": total_steps,
        **({"warm_restart_at_step": config["init_steps"]} if config.get("init_steps") else {}),
        "batch_size": config["batch_size"],
        "clip_length": config["clip_length"],
        "lr": config["lr"],
        "adversarial_weight": config["adversarial_weight"],
        "rollout_probability": config["rollout_probability"],
        "pose_noise": config["pose_noise"],
        "seed": config["seed"],
        "train_time_s": total_time_s,
        "command": command_line(config),
    }


def build_metadata(network: DkdNetwork, model_name: str, training: dict, complexity: dict) -> dict:
    width, height = network.input_width_px, network.input_height_px
    return {
        "format_version": 1,
        "task": VIDEO_POSE_TASK,
        "model_name": model_name,
        "architecture": {
            "family": "dkd",
            "feature_channels": network.channels,
            "kernel_size": network.kernel_size,
        },
        "keypoint_names": list(COCO17.keypoint_names),
        "skeleton": [list(edge) for edge in COCO17.skeleton],
        "input": input_spec(width, height),
        "inputs": dict(zip(("image", "previous_features", "boxes", "pose_maps"), INPUT_NAMES)),
        "outputs": dict(zip(("features", "heatmaps"), OUTPUT_NAMES)),
        "features": {"channels": network.channels, "stride": FEATURE_STRIDE},
        "roi": network.spec.to_metadata(),
        "complexity": complexity,
        "training": training,
        "metrics": {},
    }


def export_network(network: DkdNetwork, out: Path, model_name: str, training: dict) -> dict:
    """Write the ONNX file with its metadata, check parity and load it through the core."""
    network.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    export_dkd_onnx(network, out)
    complexity = count_macs(network)
    write_metadata(out, build_metadata(network, model_name, training, complexity))
    parity = check_parity(out, network)
    if parity > PARITY_TOLERANCE:
        raise SystemExit(f"ONNX output differs from torch by {parity:.2e} > {PARITY_TOLERANCE}")
    loaded = DkdModel(out)
    return {"model": str(out), "model_name": loaded.name, **complexity, "parity_max_abs": parity}


def export(run_dir: Path, out: Path, model_name: str) -> dict:
    network, config, state = load_network(run_dir)
    report = export_network(network, out, model_name, training_summary(config, state))
    print(json.dumps(report, indent=2))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = export_parser("Export a trained DKD tracker to ONNX.", "dkd_synthetic")
    args = parser.parse_args(argv)
    export(args.run, args.out, args.name)


if __name__ == "__main__":
    main()
