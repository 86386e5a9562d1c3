"""Evaluate an exported hand model on held-out synthetic frames, the way the node runs it.

    python -m training.hand.evaluate --model hand_pose_ros/models/hand_tiny_multitask.onnx \
        --split test --embed

Every frame goes through `HandEstimator.estimate` (ONNX Runtime, the core decoder, depth
sampling, back-projection): the figures are the node's figures minus ROS transport. `--embed`
writes them into the model's metadata, which the model card is printed from. With
`--refiner REFINER.onnx` the pipeline runs the second stage too, and `--embed` writes into the
refiner's metadata (the figures are the pair's).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hand_pose_ros.core.hand_estimator import (
    DEFAULT_FIRST_CROP,
    DEFAULT_REFINER_PASSES,
    FIRST_CROP_SOURCES,
    HandEstimator,
)
from hand_pose_ros.core.hand_metrics import HandMetrics
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.synthetic import render_frame
from training.common.onnx_metadata import read_onnx_metadata, write_metadata
from training.hand.data import split_seeds


def load_estimator(model_path: Path, refiner_path: Path | None = None,
                   refiner_passes: int = DEFAULT_REFINER_PASSES,
                   first_crop: str = DEFAULT_FIRST_CROP, threads: int = 1) -> HandEstimator:
    """The node's estimator for exported files, one ONNX Runtime thread each by default."""
    refiner = OnnxModel(refiner_path, intra_op_threads=threads) if refiner_path else None
    return HandEstimator(OnnxModel(model_path, intra_op_threads=threads), refiner=refiner,
                         refiner_passes=refiner_passes, first_crop=first_crop)


def evaluate(model_path: Path, split: str, frames: int | None, width: int, height: int,
             threads: int = 1, refiner_path: Path | None = None,
             refiner_passes: int = DEFAULT_REFINER_PASSES,
             first_crop: str = DEFAULT_FIRST_CROP) -> dict:
    seeds = split_seeds(split, frames)
    estimator = load_estimator(model_path, refiner_path, refiner_passes, first_crop, threads)
    refiner = estimator.refiner.model if estimator.refiner else None
    metrics = HandMetrics()
    inference_s: list[float] = []
    refine_s: list[float] = []
    for seed in tqdm(seeds, desc=f"evaluate {split}", unit="frame"):
        frame = render_frame(seed, width, height)
        estimate = estimator.estimate(frame.depth_m, frame.intrinsics)
        inference_s.append(estimate.inference_s)
        refine_s.append(estimate.refine_s)
        metrics.add_hands(estimate.hands, frame)
    return {
        "split": split,
        "seeds": [seeds.start, seeds.stop],
        "resolution": f"{width}x{height}",
        **({"first_stage": estimator.model.name, "refiner": refiner.name,
            "refiner_passes": refiner_passes, "first_crop": first_crop} if refiner else {}),
        **metrics.summary(),
        "onnx_inference_median_ms": round(float(np.median(inference_s)) * 1000.0, 3),
        **({"refine_median_ms": round(float(np.median(refine_s)) * 1000.0, 3)} if refiner else {}),
        "onnx_threads": threads,
        "evaluated": time.strftime("%Y-%m-%d"),
    }


def add_pipeline_arguments(parser: argparse.ArgumentParser, default_split: str,
                           splits: tuple[str, ...] = ("validation", "test")) -> None:
    """Which pipeline runs on which frames: the options every hand evaluation shares."""
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--split", choices=splits, default=default_split)
    parser.add_argument("--frames", type=int, default=None, help="prefix of the split's seeds")
    parser.add_argument("--width", type=int, default=None, help="default: the model's input")
    parser.add_argument("--height", type=int, default=None)
    parser.add_argument("--refiner", type=Path, default=None,
                        help="second-stage refiner model (hand_keypoints_crop) to run after it")
    parser.add_argument("--refiner-passes", type=int, default=DEFAULT_REFINER_PASSES)
    parser.add_argument("--first-crop", choices=FIRST_CROP_SOURCES, default=DEFAULT_FIRST_CROP,
                        help="what the refiner's first crop of a hand is cut around")


def input_size(args: argparse.Namespace, metadata: dict) -> tuple[int, int]:
    """(width, height) of the frames: the options, else the first stage's input."""
    return (args.width or metadata["input"]["width"], args.height or metadata["input"]["height"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate an exported hand model.")
    add_pipeline_arguments(parser, default_split="test")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    parser.add_argument("--embed", action="store_true",
                        help="store the result under metrics.<split>_<resolution> in the "
                        "model's metadata (the refiner's with --refiner)")
    args = parser.parse_args(argv)
    metadata = read_onnx_metadata(args.model)
    width, height = input_size(args, metadata)
    result = evaluate(args.model, args.split, args.frames, width, height,
                      refiner_path=args.refiner, refiner_passes=args.refiner_passes,
                      first_crop=args.first_crop)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    if args.embed:
        target = args.refiner or args.model
        target_metadata = read_onnx_metadata(target) if args.refiner else metadata
        target_metadata["metrics"][f"{args.split}_{result['resolution']}"] = result
        write_metadata(target, target_metadata)


if __name__ == "__main__":
    main()
