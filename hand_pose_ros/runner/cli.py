"""hand_pose_run / `python -m hand_pose_ros.runner`: see the package work with one command.

Runs a frame source through the real node in this process (real DDS, no ROS install needed),
prints what it reached and writes pictures plus summary.json. Pipelines are looked up in
PIPELINES so the robot pipeline can be added beside the wearable one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Pipeline:
    """How to run one pipeline; ``run`` takes the parsed arguments and the opened source."""

    description: str
    run: Callable[[argparse.Namespace, object], dict]


def _run_wearable(args: argparse.Namespace, source) -> dict:
    result = run_wearable(
        source,
        model=args.model,
        rate_hz=args.rate,
        frame_timeout_s=args.frame_timeout,
    )
    run_info = {
        "pipeline": "wearable",
        "source": source.description,
        "source_kind": args.source.partition(":")[0],
        "mode": f"open loop at {args.rate:g} Hz" if args.rate > 0 else "closed loop",
        "seed": args.seed,
    }
    summary = summarize(result, accuracy(result), run_info)
    out = Path(args.out)
    mosaic = write_mosaic(result, out / MOSAIC_NAME)
    summary["pictures"] = [str(mosaic)] if mosaic is not None else []
    write_summary(summary, out / SUMMARY_NAME)
    return summary


PIPELINES: dict[str, Pipeline] = {
    "wearable": Pipeline("egocentric depth -> 2.5D hand keypoints (hand_pose_node)", _run_wearable),
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
        help="synthetic (default; with ground truth) | bag:PATH (rosbag2 folder) | "
        "pngdir:PATH (16-bit PNG depth in mm + intrinsics.json/yaml)",
    )
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="frames to run (max)")
    parser.add_argument("--width", type=int, default=224, help="synthetic image width (px)")
    parser.add_argument("--height", type=int, default=172, help="synthetic image height (px)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic sequence seed")
    parser.add_argument(
        "--encoding", choices=("16UC1", "32FC1"), default="16UC1", help="synthetic depth encoding"
    )
    parser.add_argument("--model", default="", help="ONNX model (default: the shipped model)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for pictures and summary.json")
    parser.add_argument("--depth-topic", default=None, help="bag: depth Image topic")
    parser.add_argument("--camera-info-topic", default=None, help="bag: CameraInfo topic")
    parser.add_argument("--intrinsics", default=None, help="pngdir: intrinsics JSON/YAML file")
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
    started = time.perf_counter()
    try:
        source = open_source(
            args.source,
            args.frames,
            width=args.width,
            height=args.height,
            seed=args.seed,
            encoding=args.encoding,
            depth_topic=args.depth_topic,
            camera_info_topic=args.camera_info_topic,
            intrinsics=args.intrinsics,
        )
        summary = PIPELINES[args.pipeline].run(args, source)
    except (SourceError, RunnerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_report(summary))
    written = [*summary.get("pictures", []), str(Path(args.out) / SUMMARY_NAME)]
    print(f"wrote {', '.join(written)} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
