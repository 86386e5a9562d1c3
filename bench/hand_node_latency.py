"""End-to-end latency and throughput of hand_pose_node in one process, beside ONNX-only time.

For each resolution: a closed loop (publish a depth frame, wait for its keypoints, publish the
next) gives latency; an open-loop flood (publish as fast as possible) gives throughput and
what the node dropped. ONNX Runtime alone (OnnxModel.run on the preprocessed input of the
same frames) is timed in the same process right after, so the table shows what the ROS
plumbing adds to the network; with the refiner (the default) its run on the crops of the
frame's hands is timed too. The frames are a 5 s clip streamed at 30 Hz stamps, so the node
tracks hands between first-model runs as it would on a camera (`--redetect-interval 1`: both
models on every frame); the closed-loop row says on how many frames the first model ran.

    .venv/bin/python bench/hand_node_latency.py [--frames 500] [--model PATH]
        [--refiner-model PATH|none] [--refiner-passes N] [--redetect-interval N]
        [--no-smoothing] [--executor events|single]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from builtin_interfaces.msg import Time  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from hand_pose_ros.core.hand_crops import crop_input  # noqa: E402
from hand_pose_ros.core.hand_estimator import (  # noqa: E402
    DEFAULT_FIRST_CROP,
    DEFAULT_REFINER_PASSES,
    FIRST_CROP_SOURCES,
)
from hand_pose_ros.core.preprocess import make_network_input  # noqa: E402
from hand_pose_ros.nodes.executors import DEFAULT_EXECUTOR_KIND, EXECUTOR_KINDS  # noqa: E402
from hand_pose_ros.nodes.hand_pose_node import shipped_model_path  # noqa: E402
from hand_pose_ros.ros.camera_info import (  # noqa: E402
    camera_info_to_intrinsics,
    intrinsics_to_camera_info,
)
from hand_pose_ros.ros.image_conversions import metres_to_depth_image  # noqa: E402
from hand_pose_ros.runner.cli import add_tracking_arguments, tracking_parameters  # noqa: E402
from hand_pose_ros.runner.harness import InProcessHarness  # noqa: E402
from hand_pose_ros.synthetic import HandSequence  # noqa: E402

CLIP_FRAMES = 150  # 5 s at 30 Hz, rendered once per resolution and cycled (not measured)
FRAME_PERIOD_NS = 33_333_333
CLIP_PAUSE_NS = 10_000_000_000  # between passes over the clip: longer than max_track_gap_s
RESULT_TIMEOUT_S = 2.0
FLOOD_SETTLE_S = 3.0


@dataclass
class Row:
    resolution: str
    mode: str
    frames_in: int
    frames_out: int
    p50_ms: float
    p90_ms: float
    rate_hz: float
    note: str = ""


def _frames(width: int, height: int, seed: int) -> list[tuple[Image, CameraInfo, np.ndarray]]:
    """A clip of consecutive frames, as a camera streams them (tracking depends on it)."""
    sequence = HandSequence(seed, width=width, height=height)
    frames = []
    for index in range(CLIP_FRAMES):
        truth = sequence.frame(index)
        header = Header(frame_id="bench_depth_optical_frame")
        frames.append(
            (
                metres_to_depth_image(truth.depth_m, "16UC1", header),
                intrinsics_to_camera_info(truth.intrinsics, header),
                truth.depth_m,
            )
        )
    return frames


def _stamp(image: Image, info: CameraInfo, serial: int, clip_frames: int) -> None:
    """A unique stamp per publish (results are matched to frames by stamp): 30 Hz within a pass
    over the clip, and a jump between passes, which the node sees as a new stream."""
    passes, index = divmod(serial, clip_frames)
    stamp_ns = passes * CLIP_PAUSE_NS + index * FRAME_PERIOD_NS
    stamp = Time(sec=1000 + stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
    image.header.stamp = stamp
    info.header.stamp = stamp


def first_model_share(node, tracked_before: int, frames: int) -> float:
    """Share of the last ``frames`` processed frames on which the first model ran."""
    return 1.0 - (node.frames_tracked - tracked_before) / frames


def _closed_loop(harness: InProcessHarness, frames, count: int, serial: int) -> np.ndarray:
    def publish(i: int):
        image, info, _ = frames[(serial + i) % len(frames)]
        _stamp(image, info, serial + i, len(frames))
        return harness.publish_frame(image, info)

    return harness.closed_loop_latencies(publish, count, RESULT_TIMEOUT_S)


def _flood(
    harness: InProcessHarness, frames, count: int, serial: int, rate_hz: float
) -> tuple[int, list[float], float]:
    """Publish ``count`` frames at ``rate_hz`` (above what the node sustains) while another
    thread spins the executor; returns (frames the node received, latencies of the frames that
    got a result, seconds from the first publish to the last result)."""
    node = harness.node
    received_before = node.frames_received
    out_before = len(harness.sink.keypoints_order)
    sent: dict = {}
    with harness.spinning_in_background():
        start_s = time.perf_counter()
        for i in range(count):
            image, info, _ = frames[(serial + i) % len(frames)]
            _stamp(image, info, serial + i, len(frames))
            delay_s = start_s + i / rate_hz - time.perf_counter()
            if delay_s > 0:
                time.sleep(delay_s)
            key, sent_s = harness.publish_frame(image, info)
            sent[key] = sent_s
        deadline = time.perf_counter() + FLOOD_SETTLE_S
        while time.perf_counter() < deadline:  # until idle: everything received is accounted
            if node.frames_received == node.frames_processed + sum(node.drop_counts.values()):
                time.sleep(0.05)  # let the last results reach the sink
                break
            time.sleep(0.005)
    order = [k for k in harness.sink.keypoints_order[out_before:] if k in sent]
    times = [harness.sink.keypoints[k].received_s for k in order]
    latencies = [harness.sink.keypoints[k].received_s - sent[k] for k in order]
    elapsed_s = (max(times) - start_s) if times else float("nan")
    return node.frames_received - received_before, latencies, elapsed_s


def _run_times_s(model, inputs: list[np.ndarray], count: int) -> np.ndarray:
    """Seconds of ``count`` OnnxModel.run calls cycling through ``inputs``, after a warm-up."""
    for network_input in inputs[:10]:
        model.run(network_input)
    times = np.empty(count)
    for i in range(count):
        network_input = inputs[i % len(inputs)]
        start = time.perf_counter()
        model.run(network_input)
        times[i] = time.perf_counter() - start
    return times


def _onnx_only(harness: InProcessHarness, frames, count: int) -> np.ndarray:
    model = harness.node.model
    inputs = [make_network_input(depth, model.input_spec) for _, _, depth in frames]
    return _run_times_s(model, inputs, count)


def _refiner_only(harness: InProcessHarness, frames, count: int) -> np.ndarray | None:
    """OnnxModel.run of the refiner on the crops of each frame's hands (None without one)."""
    estimator = harness.node.estimator
    if estimator.refiner is None:
        return None
    refiner = estimator.refiner
    batches = []
    for _, info, depth in frames:
        hands = estimator.estimate(depth, camera_info_to_intrinsics(info)).hands
        crops = [refiner.decoder.crop_for(hand.uv_px, hand.side) for hand in hands]
        if crops:
            batches.append(np.stack([
                crop_input(depth, crop, refiner.decoder.spec)[0][None] for crop in crops
            ]))
    return _run_times_s(refiner.model, batches, count)


def _run_times_row(resolution: str, mode: str, times_s: np.ndarray, note: str) -> Row:
    """A table row of isolated ONNX runs: every run counts as a frame in and out."""
    times_ms = times_s * 1e3
    count = len(times_ms)
    return Row(resolution, mode, count, count, float(np.median(times_ms)),
               float(np.percentile(times_ms, 90)), 1e3 / float(np.mean(times_ms)), note)


def bench_resolution(width: int, height: int, args: argparse.Namespace) -> list[Row]:
    frames = _frames(width, height, args.seed)
    resolution = f"{width}x{height}"
    parameters = {
        "model": args.model,
        "refiner_model": args.refiner_model,
        "refiner_passes": args.refiner_passes,
        "refiner_first_crop": args.first_crop,
        **tracking_parameters(args),
    }
    with InProcessHarness(parameters, executor=args.executor) as harness:
        if harness.node.estimator is None:
            raise SystemExit(f"error: {harness.node.model_error}")
        if not harness.wait_for_connections():
            raise SystemExit("error: DDS discovery timed out")
        _closed_loop(harness, frames, args.warmup, 0)
        serial = args.warmup
        harness.node.stats.snapshot()  # reset the node's window to the measured frames
        tracked_before = harness.node.frames_tracked
        latencies = _closed_loop(harness, frames, args.frames, serial)
        serial += args.frames
        node_stats = harness.node.stats.snapshot()
        first_model_on = first_model_share(harness.node, tracked_before, args.frames)
        lat_ms = latencies[np.isfinite(latencies)] * 1e3
        out = int(np.isfinite(latencies).sum())
        closed = Row(
            resolution,
            "closed loop",
            args.frames,
            out,
            float(np.median(lat_ms)),
            float(np.percentile(lat_ms, 90)),
            out / float(np.nansum(latencies)),
            f"node-internal p50 {node_stats.latency_p50_s * 1e3:.2f} ms; first model on "
            f"{first_model_on:.0%} of frames",
        )
        drops_before = harness.node.drop_counts
        flood_rate_hz = args.flood_factor * closed.rate_hz
        node_in, flood_latencies, flood_s = _flood(
            harness, frames, args.frames, serial, flood_rate_hz
        )
        flood_ms = np.array(flood_latencies) * 1e3
        flood_out = len(flood_latencies)
        drops = {
            reason: count - drops_before.get(reason, 0)
            for reason, count in harness.node.drop_counts.items()
            if count - drops_before.get(reason, 0)
        }
        lost = args.frames - node_in
        flood = Row(
            resolution,
            f"flood {flood_rate_hz:.0f} Hz",
            args.frames,
            flood_out,
            float(np.median(flood_ms)) if flood_out else float("nan"),
            float(np.percentile(flood_ms, 90)) if flood_out else float("nan"),
            flood_out / flood_s if flood_s > 0 else float("nan"),
            "node drops: "
            + (", ".join(f"{k} {v}" for k, v in sorted(drops.items())) or "none")
            + f"; lost before the node (DDS keep-last): {lost}",
        )
        onnx = _run_times_row(
            resolution,
            "ONNX only",
            _onnx_only(harness, frames, args.frames),
            f"OnnxModel.run on {harness.node.model.input_width}x"
            f"{harness.node.model.input_height} input",
        )
        rows = [closed, flood, onnx]
        refiner_s = _refiner_only(harness, frames, args.frames)
        if refiner_s is not None:
            rows.append(_run_times_row(
                resolution,
                "refiner ONNX",
                refiner_s,
                "OnnxModel.run of the refiner on the crops of a frame's hands",
            ))
    return rows


def format_table(rows: list[Row]) -> str:
    header = (
        f"| {'resolution':<10} | {'mode':<15} | {'in':>5} | {'out':>5} | {'p50 ms':>7} | "
        f"{'p90 ms':>7} | {'frames/s':>8} | notes"
    )
    lines = [
        header,
        "|" + "|".join(["-" * 12, "-" * 17, "-" * 7, "-" * 7, "-" * 9, "-" * 9, "-" * 10, "-" * 7]),
    ]

    def number(value: float, digits: int) -> str:
        return "-" if not np.isfinite(value) else f"{value:.{digits}f}"

    for row in rows:
        lines.append(
            f"| {row.resolution:<10} | {row.mode:<15} | {row.frames_in:>5} | {row.frames_out:>5} "
            f"| {number(row.p50_ms, 3):>7} | {number(row.p90_ms, 3):>7} | "
            f"{number(row.rate_hz, 0):>8} | {row.note}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500, help="measured frames per mode")
    parser.add_argument("--warmup", type=int, default=50, help="closed-loop warm-up frames")
    parser.add_argument("--model", default="", help=f"ONNX model (default {shipped_model_path()})")
    parser.add_argument(
        "--refiner-model", default="", help="refiner (default: the shipped one; 'none': off)"
    )
    parser.add_argument(
        "--refiner-passes", type=int, default=DEFAULT_REFINER_PASSES, help="refiner runs per hand"
    )
    parser.add_argument(
        "--first-crop", choices=FIRST_CROP_SOURCES, default=DEFAULT_FIRST_CROP,
        help="what the refiner's first crop of a hand is cut around (refiner_first_crop)",
    )
    add_tracking_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="synthetic sequence seed")
    parser.add_argument(
        "--executor", choices=EXECUTOR_KINDS, default=DEFAULT_EXECUTOR_KIND,
        help="rclpy executor spinning the node (hand_pose_ros.nodes.executors)",
    )
    parser.add_argument(
        "--flood-factor",
        type=float,
        default=2.0,
        help="open-loop publish rate as a multiple of the closed-loop rate",
    )
    parser.add_argument(
        "--resolutions", default="224x172,640x480", help="comma-separated WIDTHxHEIGHT list"
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for item in args.resolutions.split(","):
        width, height = (int(v) for v in item.lower().split("x"))
        rows.extend(bench_resolution(width, height, args))
    model = args.model or str(shipped_model_path())
    print(
        f"hand_pose_node latency bench: model {model}, refiner "
        f"{args.refiner_model or 'shipped'} ({args.refiner_passes} pass(es), first crop around "
        f"the {args.first_crop}), redetect_interval_frames {args.redetect_interval}, "
        f"smoothing {'off' if args.no_smoothing else 'on'}, "
        f"{args.executor} "
        f"executor, {args.frames} "
        f"frames per mode after "
        f"{args.warmup} warm-up, one process, real DDS (publish depth -> keypoints received)"
    )
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
