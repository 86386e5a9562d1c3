"""hand_pose_run / `python -m hand_pose_ros.runner`: see the package work with one command.

Runs a frame source through the real node in this process (real DDS, no ROS install needed),
prints what it reached and writes pictures plus summary.json. Pipelines are looked up in
PIPELINES: "wearable" (depth -> hand_pose_node), "robot" (colour + depth -> body_pose_node) and
"video" (the same stream -> video_pose_node, people tracked with stable ids).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hand_pose_ros.core.hand_estimator import DEFAULT_REFINER_PASSES
from hand_pose_ros.core.hand_tracking import DEFAULT_REDETECT_INTERVAL_FRAMES
from hand_pose_ros.runner.report import (
    MOSAIC_NAME,
    SUMMARY_NAME,
    format_report,
    summarize,
    write_mosaic,
    write_summary,
)
from hand_pose_ros.runner.sources import SourceError, open_source
from hand_pose_ros.runner.wearable import RunnerError, accuracy, run_wearable

DEFAULT_FRAMES = 300
DEFAULT_OUT = "demo_output"
ROBOT_SUBFOLDER = "robot"
VIDEO_SUBFOLDER = "video"


@dataclass(frozen=True)
class Pipeline:
    """How to run one pipeline: open its source from the arguments, run it, print it."""

    description: str
    open: Callable[[argparse.Namespace], object]
    run: Callable[[argparse.Namespace, object], dict]
    format: Callable[[dict], str]
    default_out: str
    default_size: tuple[int, int]  # synthetic (width, height)


def _source_options(args: argparse.Namespace) -> dict:
    """Source options both pipelines take from the command line."""
    return {
        "width": args.width,
        "height": args.height,
        "seed": args.seed,
        "encoding": args.encoding,
        "depth_topic": args.depth_topic,
        "camera_info_topic": args.camera_info_topic,
        "intrinsics": args.intrinsics,
    }


def _run_info(args: argparse.Namespace, source, pipeline: str) -> dict:
    """What was run, as both summaries record it."""
    return {
        "pipeline": pipeline,
        "source": source.description,
        "source_kind": args.source.partition(":")[0],
        "mode": f"open loop at {args.rate:g} Hz" if args.rate > 0 else "closed loop",
        "seed": args.seed,
    }


def _finish(summary: dict, mosaic: Path | None, args: argparse.Namespace) -> dict:
    """Record the picture written (if any) and write summary.json next to it."""
    summary["pictures"] = [str(mosaic)] if mosaic is not None else []
    write_summary(summary, Path(args.out) / SUMMARY_NAME)
    return summary


def _open_wearable(args: argparse.Namespace):
    return open_source(args.source, args.frames, **_source_options(args))


def _run_wearable(args: argparse.Namespace, source) -> dict:
    result = run_wearable(
        source,
        model=args.model,
        rate_hz=args.rate,
        frame_timeout_s=args.frame_timeout,
        node_parameters={"refiner_model": args.refiner_model,
                         "refiner_passes": args.refiner_passes,
                         **tracking_parameters(args)},
    )
    summary = summarize(result, accuracy(result), _run_info(args, source, "wearable"))
    summary["refiner"] = result.extra.get("refiner")
    return _finish(summary, write_mosaic(result, Path(args.out) / MOSAIC_NAME), args)


def _open_robot(args: argparse.Namespace):
    from hand_pose_ros.runner.rgbd_sources import open_rgbd_source

    return open_rgbd_source(
        args.source, args.frames, color_topic=args.color_topic, **_source_options(args)
    )


def _run_robot(args: argparse.Namespace, source, video: bool = False) -> dict:
    from hand_pose_ros.runner.harness import RgbdHarness, VideoHarness
    from hand_pose_ros.runner.robot import robot_accuracy, run_robot
    from hand_pose_ros.runner.robot_report import (
        MOSAIC_NAME as PEOPLE_MOSAIC_NAME,
    )
    from hand_pose_ros.runner.robot_report import (
        summarize_robot,
        write_people_mosaic,
    )

    parameters = {"flip_test": True} if args.flip_test else {}
    if args.no_depth:
        parameters["use_depth"] = False
    if video and args.video_model:
        parameters["video_model"] = args.video_model
    result = run_robot(
        source,
        model=args.model,
        rate_hz=args.rate,
        frame_timeout_s=max(args.frame_timeout, 2.0),
        node_parameters=parameters,
        harness_class=VideoHarness if video else RgbdHarness,
    )
    run_info = _run_info(args, source, "video" if video else "robot")
    run_info["use_depth"] = bool(source.has_depth and not args.no_depth)
    summary = summarize_robot(result, robot_accuracy(result), run_info)
    if video:
        from hand_pose_ros.runner.video import tracking_accuracy

        summary["tracking"] = tracking_accuracy(result)
        summary["cost"] = dict(result.extra)
    return _finish(summary, write_people_mosaic(result, Path(args.out) / PEOPLE_MOSAIC_NAME), args)


def _run_video(args: argparse.Namespace, source) -> dict:
    return _run_robot(args, source, video=True)


def _format_robot(summary: dict) -> str:
    from hand_pose_ros.runner.robot_report import format_robot_report

    return format_robot_report(summary)


def _format_video(summary: dict) -> str:
    from hand_pose_ros.runner.report import fmt
    from hand_pose_ros.runner.robot_report import format_robot_report

    lines = [format_robot_report(summary)]
    cost = summary.get("cost") or {}
    if cost:
        lines.append(
            f"keyframes: {fmt(100 * cost['keyframe_ratio'], 1)}% of frames; compute "
            f"{fmt(cost['mean_gmacs_per_frame'], 3)} GMACs per frame (mean)"
        )
    tracking = summary.get("tracking")
    if tracking:
        lines.append(
            f"tracking vs ground truth: PCK@0.2 {fmt(tracking['pck@0.2'], 3)}, identity "
            f"switches {tracking['id_switches']} "
            f"({fmt(tracking['id_switches_per_100_frames'], 2)} per 100 frames), jitter "
            f"{fmt(tracking['jitter_px'], 2)} px (true motion "
            f"{fmt(tracking['truth_acceleration_px'], 2)} px)"
        )
    return "\n".join(lines)


PIPELINES: dict[str, Pipeline] = {
    "wearable": Pipeline(
        "egocentric depth -> 2.5D hand keypoints (hand_pose_node)",
        _open_wearable,
        _run_wearable,
        format_report,
        DEFAULT_OUT,
        (224, 172),
    ),
    "robot": Pipeline(
        "RGB-D -> multi-person 2D/3D body keypoints (body_pose_node)",
        _open_robot,
        _run_robot,
        _format_robot,
        f"{DEFAULT_OUT}/{ROBOT_SUBFOLDER}",
        (640, 480),
    ),
    "video": Pipeline(
        "RGB-D stream -> tracked people, LitePose keyframes + DKD (video_pose_node)",
        _open_robot,
        _run_video,
        _format_video,
        f"{DEFAULT_OUT}/{VIDEO_SUBFOLDER}",
        (640, 480),
    ),
}


def add_tracking_arguments(parser: argparse.ArgumentParser, help_prefix: str = "") -> None:
    """--redetect-interval and --no-smoothing: the hand node's tracking and smoothing settings
    (the runner's and the hand benches' options; `tracking_parameters` maps them)."""
    parser.add_argument(
        "--redetect-interval", type=int, default=DEFAULT_REDETECT_INTERVAL_FRAMES,
        help=f"{help_prefix}the first model runs at least every this many frames, hands are "
        "tracked by the refiner in between (1: both models on every frame)",
    )
    parser.add_argument(
        "--no-smoothing", action="store_true",
        help=f"{help_prefix}publish the hands' keypoints without One-Euro smoothing",
    )


def tracking_parameters(args: argparse.Namespace) -> dict:
    """The hand node parameters `add_tracking_arguments` set."""
    return {
        "redetect_interval_frames": args.redetect_interval,
        "smoothing": not args.no_smoothing,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hand_pose_run",
        description="Run a pose pipeline in one process on a built-in sample or a recording, "
        "print the figures it reached and write pictures + summary.json.",
    )
    parser.add_argument("--pipeline", choices=sorted(PIPELINES), default="wearable")
    parser.add_argument(
        "--source",
        default="synthetic",
        help="wearable: synthetic (default; with ground truth) | bag:PATH (rosbag2 folder) | "
        "pngdir:PATH (16-bit PNG depth in mm + intrinsics.json/yaml). robot: synthetic "
        "(default; PeopleSequence with ground truth) | bag:PATH (colour, depth, camera info) | "
        "images:DIR (colour images, optional intrinsics file; no depth) | video:FILE (a video "
        "file through PyAV, optional intrinsics file; no depth). video: as robot",
    )
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="frames to run (max)")
    parser.add_argument(
        "--width", type=int, default=None, help="synthetic image width (px; 224 / robot 640)"
    )
    parser.add_argument(
        "--height", type=int, default=None, help="synthetic image height (px; 172 / robot 480)"
    )
    parser.add_argument("--seed", type=int, default=0, help="synthetic sequence seed")
    parser.add_argument(
        "--encoding", choices=("16UC1", "32FC1"), default="16UC1", help="synthetic depth encoding"
    )
    parser.add_argument("--model", default="", help="ONNX model (default: the shipped model)")
    parser.add_argument(
        "--refiner-model",
        default="",
        help="wearable: ONNX hand refiner (default: the shipped one; 'none': first stage only)",
    )
    parser.add_argument(
        "--refiner-passes", type=int, default=DEFAULT_REFINER_PASSES,
        help="wearable: refiner passes per hand on frames where the first model runs (the "
        "first from both first crops, as the node's refiner_first_crop default)",
    )
    add_tracking_arguments(parser, "wearable: ")
    parser.add_argument(
        "--video-model", default="", help="video: ONNX DKD tracker (default: the shipped one)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help=f"folder for pictures and summary.json (default {DEFAULT_OUT}, robot: "
        f"{DEFAULT_OUT}/{ROBOT_SUBFOLDER}, video: {DEFAULT_OUT}/{VIDEO_SUBFOLDER})",
    )
    parser.add_argument("--color-topic", default=None, help="robot bag: colour Image topic")
    parser.add_argument("--depth-topic", default=None, help="bag: depth Image topic")
    parser.add_argument("--camera-info-topic", default=None, help="bag: CameraInfo topic")
    parser.add_argument(
        "--intrinsics", default=None, help="pngdir / images / video: intrinsics JSON/YAML file"
    )
    parser.add_argument(
        "--no-depth", action="store_true", help="robot: run colour only (use_depth false)"
    )
    parser.add_argument(
        "--flip-test", action="store_true", help="robot: flip test (slower, a little better)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="publish at this rate in Hz like a camera (default 0: closed loop, each frame "
        "as soon as the previous result arrived)",
    )
    parser.add_argument(
        "--frame-timeout", type=float, default=1.0, help="seconds to wait for one result"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.frames < 1:
        print("error: --frames must be >= 1", file=sys.stderr)
        return 2
    pipeline = PIPELINES[args.pipeline]
    width, height = pipeline.default_size
    args.width = width if args.width is None else args.width
    args.height = height if args.height is None else args.height
    args.out = pipeline.default_out if args.out is None else args.out
    started = time.perf_counter()
    try:
        source = pipeline.open(args)
        summary = pipeline.run(args, source)
    except (SourceError, RunnerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(pipeline.format(summary))
    written = [*summary.get("pictures", []), str(Path(args.out) / SUMMARY_NAME)]
    print(f"wrote {', '.join(written)} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
