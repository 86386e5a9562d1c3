"""Evaluate the video tracker against per-frame LitePose on the same held-out sequences.

    python -m training.video.evaluate --model hand_pose_ros/models/video_dkd_synthetic.onnx \
        --body-model hand_pose_ros/models/body_litepose_xs.onnx --split test --embed

Both run through the core, as the nodes do: per-frame ``BodyEstimator.estimate`` on every
frame, and ``VideoEstimator.estimate`` (LitePose keyframes + DKD propagation + tracking and
smoothing). Each sequence of the split is rendered at ``--resolution`` with
``PeopleSequence(seed)``; the metrics (:mod:`hand_pose_ros.core.video.metrics`) are PCK@0.2 of
the box size, identity switches, jitter, and MACs per frame counted on the exported graphs.
``--embed`` stores the result in the DKD model's metadata under ``metrics.<split>``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hand_pose_ros.core.body_estimator import BodyEstimator
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.one_euro import OneEuroSettings
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.keyframes import KeyframePolicy
from hand_pose_ros.core.video.metrics import VideoPoseMetrics
from hand_pose_ros.core.video.motion import DEFAULT_MOTION, MotionSettings
from hand_pose_ros.core.video.tracks import DEFAULT_TRACKING, TrackingSettings
from hand_pose_ros.core.video.video_estimator import VideoEstimator
from training.body.train import format_size, parse_size
from training.common.onnx_metadata import read_onnx_metadata, write_metadata
from training.video.data import split_seeds

SEQUENCE_FRAMES = 60


def render_labels(args: tuple[int, int, int, int]) -> list[dict]:
    """Frames of one sequence (seed, frames, width, height) with what evaluation needs."""
    from hand_pose_ros.synthetic.people import PeopleSequence

    seed, frames, width, height = args
    sequence = PeopleSequence(seed, frames, width=width, height=height, depth_artefacts=False)
    out = []
    for index in range(frames):
        frame = sequence.frame(index)
        out.append(
            {
                "color": frame.color,
                "uv": frame.keypoints_uv,
                "visibility": frame.visibility,
                "ids": frame.track_ids,
                "boxes": frame.boxes_xywh,
                "time_s": index / sequence.fps,
            }
        )
    return out


def evaluate(
    model: Path,
    body_model: Path,
    seeds: range,
    frames: int,
    resolution: tuple[int, int],
    policy: KeyframePolicy,
    smoothing: bool,
    threads: int = 1,
    workers: int = 2,
    motion: MotionSettings = DEFAULT_MOTION,
    tracking: TrackingSettings = DEFAULT_TRACKING,
) -> dict:
    body = BodyEstimator(OnnxModel(body_model, intra_op_threads=threads))
    dkd = DkdModel(model, intra_op_threads=threads)
    sigmas = np.asarray(body.model.metadata["oks_sigmas"])
    per_frame, video = VideoPoseMetrics(sigmas), VideoPoseMetrics(sigmas)
    body_macs = int(body.model.metadata["complexity"]["macs"])
    jobs = [(seed, frames, *resolution) for seed in seeds]
    with Pool(workers) as pool:
        for sequence in tqdm(
            pool.imap(render_labels, jobs), total=len(jobs), desc="sequences", unit="seq"
        ):
            tracker = VideoEstimator(
                body,
                dkd,
                policy,
                smoothing=OneEuroSettings() if smoothing else None,
                motion=motion,
                tracking=tracking,
            )
            for frame in sequence:
                truth = (frame["uv"], frame["visibility"], frame["ids"], frame["boxes"])
                detected = body.estimate(frame["color"])
                per_frame.add_frame(detected.uv_px, None, *truth, macs=body_macs)
                tracked = tracker.estimate(frame["color"], time_s=frame["time_s"])
                video.add_frame(
                    tracked.people.uv_px,
                    tracked.track_ids,
                    *truth,
                    macs=tracked.macs,
                    keyframe=tracked.is_keyframe,
                )
            per_frame.end_sequence()
            video.end_sequence()
    frame_summary, video_summary = per_frame.summary(), video.summary()
    return {
        "sequences": [seeds.start, seeds.stop],
        "frames_per_sequence": frames,
        "resolution": format_size(resolution),
        "keyframe_interval_frames": policy.interval_frames,
        "min_track_confidence": policy.min_track_confidence,
        "confidence_drop_ratio": policy.confidence_drop_ratio,
        "min_motion_cells": policy.min_motion_cells,
        "motion_gap_frames": policy.motion_gap_frames,
        "min_motion_change": motion.min_change,
        "smoothing": smoothing,
        "tracking": asdict(tracking),
        "body_model": body.model.name,
        "per_frame_litepose": frame_summary,
        "video_dkd": video_summary,
        "macs_ratio": video_summary["mean_macs_per_frame"]
        / max(1.0, frame_summary["mean_macs_per_frame"]),
        "pck_difference_points": 100.0 * (video_summary["pck@0.2"] - frame_summary["pck@0.2"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the DKD video tracker.")
    parser.add_argument("--model", type=Path, required=True, help="DKD ONNX file")
    parser.add_argument("--body-model", type=Path, required=True, help="keyframe LitePose file")
    parser.add_argument("--split", choices=("validation", "test"), default="test")
    parser.add_argument("--sequences", type=int, default=None, help="prefix of the split")
    parser.add_argument("--frames", type=int, default=SEQUENCE_FRAMES)
    parser.add_argument("--resolution", type=parse_size, default=(640, 480))
    parser.add_argument("--keyframe-interval", type=int, default=KeyframePolicy.interval_frames)
    parser.add_argument(
        "--min-track-confidence", type=float, default=KeyframePolicy.min_track_confidence
    )
    parser.add_argument(
        "--confidence-drop-ratio", type=float, default=KeyframePolicy.confidence_drop_ratio
    )
    parser.add_argument(
        "--min-motion-cells", type=int, default=KeyframePolicy.min_motion_cells,
        help="untracked moving cells that force a keyframe; 0 = off",
    )
    parser.add_argument(
        "--motion-gap-frames", type=int, default=KeyframePolicy.motion_gap_frames
    )
    parser.add_argument(
        "--min-motion-change", type=float, default=MotionSettings.min_change,
        help="mean brightness change (0-1) of a moving cell",
    )
    parser.add_argument("--no-smoothing", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    parser.add_argument("--embed", action="store_true", help="store in the DKD metadata")
    args = parser.parse_args(argv)
    policy = KeyframePolicy(
        args.keyframe_interval,
        args.min_track_confidence,
        args.confidence_drop_ratio,
        args.min_motion_cells,
        args.motion_gap_frames,
    )
    result = evaluate(
        args.model,
        args.body_model,
        split_seeds(args.split, args.sequences),
        args.frames,
        args.resolution,
        policy,
        not args.no_smoothing,
        args.threads,
        args.workers,
        MotionSettings(min_change=args.min_motion_change),
    )
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    if args.embed:
        metadata = read_onnx_metadata(args.model)
        metadata["metrics"][args.split] = result
        write_metadata(args.model, metadata)


if __name__ == "__main__":
    main()
