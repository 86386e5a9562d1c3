"""video_pose_node against body_pose_node on the same 640x480 stream, side by side in one run.

One synthetic RGB-D sequence (people walking, 15 fps) is rendered once; each node then gets the
whole stream in a closed loop (publish a frame, wait for its keypoints, publish the next) from
a fresh start, so the video node's keyframes and propagated frames come in their real order.
Rounds alternate the two nodes (body, video, body, video, ...) so that both see the same drift
in this machine's speed; each round's frames/s ratio is printed and their median is the figure.
Also printed: median latency and frames/s of each node over all rounds, the video node's
keyframe ratio and mean MACs per frame against LitePose's, and the same for the core estimators
alone (no ROS). ONNX Runtime uses intra_op_threads threads, each node one worker thread.

    .venv/bin/python bench/video_vs_body_node.py [--frames 90] [--rounds 5] [--keyframe-interval 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from builtin_interfaces.msg import Time  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from hand_pose_ros.core.body_estimator import BodyEstimator  # noqa: E402
from hand_pose_ros.core.model_runtime import OnnxModel  # noqa: E402
from hand_pose_ros.core.video.dkd_model import DkdModel  # noqa: E402
from hand_pose_ros.core.video.keyframes import KeyframePolicy  # noqa: E402
from hand_pose_ros.core.video.video_estimator import VideoEstimator  # noqa: E402
from hand_pose_ros.nodes.body_pose_node import shipped_model_path  # noqa: E402
from hand_pose_ros.nodes.pose_node_base import shipped_model_path as packaged  # noqa: E402
from hand_pose_ros.nodes.video_pose_parameters import SHIPPED_VIDEO_MODEL_NAME  # noqa: E402
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info  # noqa: E402
from hand_pose_ros.ros.image_conversions import numpy_to_image  # noqa: E402
from hand_pose_ros.runner.harness import RgbdHarness, VideoHarness  # noqa: E402
from hand_pose_ros.synthetic.people.sequences import PeopleSequence  # noqa: E402

WIDTH, HEIGHT = 640, 480
FPS = 15.0
RESULT_TIMEOUT_S = 5.0


def _stream(seed: int, count: int) -> list:
    frames = []
    for index, truth in enumerate(PeopleSequence(seed, count, WIDTH, HEIGHT, FPS)):
        nanosec = round(index * 1e9 / FPS)
        header = Header(
            stamp=Time(sec=1000 + nanosec // 1_000_000_000, nanosec=nanosec % 1_000_000_000),
            frame_id="bench_color_optical_frame",
        )
        frames.append(
            (
                numpy_to_image(truth.color, "rgb8", header),
                numpy_to_image(truth.depth_mm, "16UC1", header),
                intrinsics_to_camera_info(truth.intrinsics, header),
                truth,
            )
        )
    return frames


def _closed_loop(harness, frames) -> np.ndarray:
    def publish(i: int):
        color, depth, info, _ = frames[i]
        return harness.publish_frame(color, depth, info)

    return harness.closed_loop_latencies(publish, len(frames), RESULT_TIMEOUT_S)


def _frames_per_s(latencies_s: np.ndarray) -> float:
    """Throughput of a closed loop: frames over the time they took."""
    return len(latencies_s) / float(latencies_s.sum())


def _core(frames, body_model: Path, dkd_model: Path, policy: KeyframePolicy) -> dict:
    body = BodyEstimator(OnnxModel(body_model))
    tracker = VideoEstimator(BodyEstimator(OnnxModel(body_model)), DkdModel(dkd_model), policy)
    body_s, video_s, macs, keyframes = [], [], [], 0
    for index, (_, _, _, truth) in enumerate(frames):
        depth_m = np.where(truth.depth_mm > 0, truth.depth_mm / 1000.0, np.nan).astype(np.float32)
        start = time.perf_counter()
        body.estimate(truth.color, depth_m, truth.intrinsics)
        body_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        tracked = tracker.estimate(truth.color, depth_m, truth.intrinsics, index / FPS)
        video_s.append(time.perf_counter() - start)
        macs.append(tracked.macs)
        keyframes += tracked.is_keyframe
    return {
        "body_ms": 1e3 * float(np.median(body_s)),
        "body_mean_ms": 1e3 * float(np.mean(body_s)),
        "video_ms": 1e3 * float(np.median(video_s)),
        "video_mean_ms": 1e3 * float(np.mean(video_s)),
        "video_macs": float(np.mean(macs)),
        "body_macs": float(body.model.metadata["complexity"]["macs"]),
        "keyframe_ratio": keyframes / len(frames),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90, help="length of the stream")
    parser.add_argument("--rounds", type=int, default=5, help="stream passes per node")
    parser.add_argument("--seed", type=int, default=3000200, help="synthetic sequence seed")
    parser.add_argument("--keyframe-interval", type=int, default=KeyframePolicy.interval_frames)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra_op_threads")
    args = parser.parse_args(argv)
    body_model, dkd_model = shipped_model_path(), packaged(SHIPPED_VIDEO_MODEL_NAME)
    for path in (body_model, dkd_model):
        if not path.exists():
            print(f"error: no model at {path}", file=sys.stderr)
            return 2
    print(f"rendering a {args.frames}-frame {WIDTH}x{HEIGHT} RGB-D sequence (seed {args.seed}) ...")
    frames = _stream(args.seed, args.frames)
    common = {"intra_op_threads": args.threads, "log_throttle_s": 60.0}
    video_parameters = {**common, "keyframe_interval_frames": args.keyframe_interval}
    results: dict[str, list[np.ndarray]] = {"body_pose_node": [], "video_pose_node": []}
    for _ in range(args.rounds):
        for name, harness_class, parameters in (
            ("body_pose_node", RgbdHarness, common),
            ("video_pose_node", VideoHarness, video_parameters),
        ):
            with harness_class(parameters) as harness:
                if harness.node.estimator is None:
                    print(f"error: {harness.node.model_error}", file=sys.stderr)
                    return 2
                if not harness.wait_for_connections():
                    print("error: DDS discovery timed out", file=sys.stderr)
                    return 2
                latencies = _closed_loop(harness, frames)
                results[name].append(latencies[np.isfinite(latencies)])
    core = _core(frames, body_model, dkd_model, KeyframePolicy(args.keyframe_interval))
    round_ratios = [
        _frames_per_s(video) / _frames_per_s(body)
        for body, video in zip(results["body_pose_node"], results["video_pose_node"])
    ]
    body, video = (np.concatenate(results[name]) for name in results)
    body_rate, video_rate = _frames_per_s(body), _frames_per_s(video)
    print(
        f"{args.frames} frames at {WIDTH}x{HEIGHT}, RGB-D, closed loop, {args.rounds} rounds "
        f"per node, keyframe interval {args.keyframe_interval}, intra_op_threads {args.threads}"
    )
    print(f"{'':<18} {'p50 ms':>8} {'mean ms':>8} {'frames/s':>9}")
    for name, latencies, rate in (
        ("body_pose_node", body, body_rate),
        ("video_pose_node", video, video_rate),
    ):
        p50, mean = 1e3 * np.median(latencies), 1e3 * np.mean(latencies)
        print(f"{name:<18} {p50:>8.1f} {mean:>8.1f} {rate:>9.1f}")
    print(
        f"frames/s ratio video / body (whole stream), median of {args.rounds} rounds: "
        f"{np.median(round_ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in round_ratios)})"
    )
    print(
        f"core only: BodyEstimator {core['body_ms']:.1f} ms p50 ({core['body_mean_ms']:.1f} "
        f"mean), VideoEstimator {core['video_ms']:.1f} ms p50 ({core['video_mean_ms']:.1f} "
        f"mean); keyframe ratio {core['keyframe_ratio']:.2f}; MACs per frame "
        f"{core['video_macs'] / 1e6:.0f} M vs {core['body_macs'] / 1e6:.0f} M "
        f"({core['video_macs'] / core['body_macs']:.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
