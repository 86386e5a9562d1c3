"""Tracking against both stages on every frame, side by side on held-out synthetic clips.

    python -m training.hand.evaluate_tracking \
        --model hand_pose_ros/models/hand_tiny_multitask.onnx \
        --refiner hand_pose_ros/models/hand_refiner_wide2.onnx \
        --split validation_sequences --redetect-intervals 1,2,4,8

Each clip of the split (`HandSequence` seeds and length in splits.json, 30 Hz stamps) is
rendered once and every frame goes, in order, through one `HandEstimator` per redetection
interval (1: both stages on every frame), so all settings see the same frames; keypoints are
smoothed as the node smooths them unless ``--smoothing`` says otherwise. Choose settings on
``validation_sequences``; ``test_sequences`` is for the figures reported once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hand_pose_ros.core.hand_estimator import (
    DEFAULT_FIRST_CROP,
    DEFAULT_REFINER_PASSES,
    DEFAULT_SMOOTHING,
    FIRST_CROP_SOURCES,
    HandEstimator,
)
from hand_pose_ros.core.hand_metrics import HandJitter, HandMetrics
from hand_pose_ros.core.hand_tracking import (
    DEFAULT_MAX_GAP_S,
    DEFAULT_MAX_TRACK_DEPTH_M,
    DEFAULT_MIN_TRACK_SCORE,
    HandTrackingSettings,
)
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.one_euro import OneEuroSettings
from hand_pose_ros.synthetic import HandSequence
from training.hand.data import SPLITS_FILE

SEQUENCE_SPLITS: tuple[str, ...] = ("validation_sequences", "test_sequences")


def sequence_split(split: str, count: int | None, frames: int | None) -> tuple[range, int]:
    """Clip seeds of a sequence split and frames per clip (prefixes when given)."""
    spec = json.loads(SPLITS_FILE.read_text())[split]
    clips = spec["count"] if count is None else min(count, spec["count"])
    length = spec["frames"] if frames is None else min(frames, spec["frames"])
    return range(spec["first_seed"], spec["first_seed"] + clips), length


def evaluate_tracking(
    model_path: Path,
    refiner_path: Path,
    split: str,
    intervals: list[int],
    width: int,
    height: int,
    min_track_score: float = DEFAULT_MIN_TRACK_SCORE,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_track_depth_m: float = DEFAULT_MAX_TRACK_DEPTH_M,
    refiner_passes: int = DEFAULT_REFINER_PASSES,
    clips: int | None = None,
    frames_per_clip: int | None = None,
    smoothing: OneEuroSettings | None = None,
    first_crop: str = DEFAULT_FIRST_CROP,
) -> dict:
    seeds, length = sequence_split(split, clips, frames_per_clip)
    first, refiner = OnnxModel(model_path), OnnxModel(refiner_path)
    settings = {
        interval: HandTrackingSettings(interval, min_track_score, max_gap_s, max_track_depth_m)
        for interval in intervals
    }
    metrics = {interval: HandMetrics() for interval in intervals}
    jitter = {interval: HandJitter() for interval in intervals}
    detected = {interval: 0 for interval in intervals}
    estimate_s: dict[int, list[float]] = {interval: [] for interval in intervals}
    for seed in tqdm(seeds, desc=f"evaluate {split}", unit="clip"):
        sequence = HandSequence(seed, width=width, height=height)
        # A fresh estimator per clip and setting: tracks never cross clips.
        estimators = {
            interval: HandEstimator(first, refiner=refiner, refiner_passes=refiner_passes,
                                    first_crop=first_crop, tracking=tracking,
                                    smoothing=smoothing)
            for interval, tracking in settings.items()
        }
        for index in range(length):
            frame = sequence.frame(index)
            depth_m = frame.depth_m.astype(np.float32)
            for interval, estimator in estimators.items():
                start = time.perf_counter()
                estimate = estimator.estimate(depth_m, frame.intrinsics, index / sequence.fps)
                estimate_s[interval].append(time.perf_counter() - start)
                detected[interval] += estimate.detected
                metrics[interval].add_hands(estimate.hands, frame)
                jitter[interval].add_hands(estimate.hands, frame)
        for interval_jitter in jitter.values():
            interval_jitter.end_clip()
    total = len(seeds) * length
    return {
        "split": split,
        "seeds": [seeds.start, seeds.stop],
        "frames_per_clip": length,
        "resolution": f"{width}x{height}",
        "first_stage": first.name,
        "refiner": refiner.name,
        "refiner_passes": refiner_passes,
        "first_crop": first_crop,
        "min_track_score": min_track_score,
        "max_gap_s": max_gap_s,
        "max_track_depth_m": max_track_depth_m,
        "smoothing": None if smoothing is None else dataclasses.asdict(smoothing),
        "by_redetect_interval": {
            str(interval): {
                **metrics[interval].summary(),
                **jitter[interval].summary(),
                "first_stage_share": round(detected[interval] / total, 4),
                "estimate_median_ms": round(float(np.median(estimate_s[interval])) * 1e3, 3),
            }
            for interval in intervals
        },
        "onnx_threads": 1,
        "evaluated": time.strftime("%Y-%m-%d"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, required=True)
    parser.add_argument("--split", choices=SEQUENCE_SPLITS, default="validation_sequences")
    parser.add_argument("--redetect-intervals", default="1,4",
                        help="comma-separated redetect_interval_frames values (1: no tracking)")
    parser.add_argument("--min-track-score", type=float, default=DEFAULT_MIN_TRACK_SCORE)
    parser.add_argument("--max-gap-s", type=float, default=DEFAULT_MAX_GAP_S)
    parser.add_argument("--max-track-depth-m", type=float, default=DEFAULT_MAX_TRACK_DEPTH_M,
                        help="tracked hands farther than this are lost (inf: no limit)")
    parser.add_argument("--refiner-passes", type=int, default=DEFAULT_REFINER_PASSES)
    parser.add_argument("--first-crop", choices=FIRST_CROP_SOURCES, default=DEFAULT_FIRST_CROP,
                        help="what the refiner's first crop of a hand is cut around")
    parser.add_argument("--smoothing", default="default",
                        help="One-Euro smoothing of the keypoints: 'default' (the node's), 'off', "
                        "or MIN_CUTOFF_HZ,SPEED_COEFFICIENT")
    parser.add_argument("--width", type=int, default=224)
    parser.add_argument("--height", type=int, default=172)
    parser.add_argument("--clips", type=int, default=None, help="prefix of the split's clips")
    parser.add_argument("--frames-per-clip", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    args = parser.parse_args(argv)
    intervals = [int(value) for value in args.redetect_intervals.split(",")]
    smoothing: OneEuroSettings | None = DEFAULT_SMOOTHING
    if args.smoothing == "off":
        smoothing = None
    elif args.smoothing != "default":
        min_cutoff_hz, speed_coefficient = (float(v) for v in args.smoothing.split(","))
        smoothing = OneEuroSettings(min_cutoff_hz, speed_coefficient)
    result = evaluate_tracking(
        args.model, args.refiner, args.split, intervals, args.width, args.height,
        args.min_track_score, args.max_gap_s, args.max_track_depth_m, args.refiner_passes,
        args.clips, args.frames_per_clip, smoothing, args.first_crop,
    )
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
