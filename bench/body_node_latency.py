"""End-to-end latency and throughput of body_pose_node at 640x480 in one process.

Closed loop (publish colour + registered depth + camera info, wait for the keypoints, publish
the next) gives latency; a camera-like flood at 30 Hz gives the rate the node sustains and what
it dropped; colour-only mode and the core BodyEstimator alone (same frames, same process, its
own timing breakdown) show what depth lifting and the ROS plumbing add. Frames are rendered
once (synthetic PeopleSequence) and cycled. Medians; ONNX Runtime uses intra_op_threads
threads, the node one worker thread: on this machine's 2 cores.

    .venv/bin/python bench/body_node_latency.py [--frames 100] [--model PATH] [--flip-test]
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
from hand_pose_ros.nodes.body_pose_node import shipped_model_path  # noqa: E402
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info  # noqa: E402
from hand_pose_ros.ros.image_conversions import numpy_to_image  # noqa: E402
from hand_pose_ros.runner.harness import RgbdHarness  # noqa: E402
from hand_pose_ros.synthetic.people.sequences import PeopleSequence  # noqa: E402

WIDTH, HEIGHT = 640, 480
DISTINCT_FRAMES = 12
RESULT_TIMEOUT_S = 5.0
FLOOD_RATE_HZ = 30.0
FLOOD_SETTLE_S = 5.0


def _frames(seed: int) -> list:
    sequence = PeopleSequence(seed, DISTINCT_FRAMES * 4, WIDTH, HEIGHT)
    frames = []
    for index in range(DISTINCT_FRAMES):
        truth = sequence.frame(index * 4)
        header = Header(frame_id="bench_color_optical_frame")
        frames.append(
            (
                numpy_to_image(truth.color, "rgb8", header),
                numpy_to_image(truth.depth_mm, "16UC1", header),
                intrinsics_to_camera_info(truth.intrinsics, header),
                truth,
            )
        )
    return frames


def _stamped(frame, serial: int, depth: bool):
    color, depth_image, info, _ = frame
    stamp = Time(sec=1000 + serial // 1000, nanosec=(serial % 1000) * 1000)
    for msg in (color, depth_image, info):
        msg.header.stamp = stamp
    return color, (depth_image if depth else None), info


def _closed_loop(harness: RgbdHarness, frames, count: int, serial: int, depth: bool):
    def publish(i: int):
        return harness.publish_frame(*_stamped(frames[i % len(frames)], serial + i, depth))

    return harness.closed_loop_latencies(publish, count, RESULT_TIMEOUT_S)


def _flood(harness: RgbdHarness, frames, count: int, serial: int) -> tuple[int, int, float, dict]:
    """Publish at FLOOD_RATE_HZ while another thread spins; (received, results, rate, drops)."""
    node = harness.node
    drops_before = dict(node.drop_counts)
    received_before, out_before = node.frames_received, len(harness.sink.keypoints_order)
    with harness.spinning_in_background():
        start_s = time.perf_counter()
        for i in range(count):
            delay_s = start_s + i / FLOOD_RATE_HZ - time.perf_counter()
            if delay_s > 0:
                time.sleep(delay_s)
            harness.publish_frame(*_stamped(frames[i % len(frames)], serial + i, True))
        time.sleep(0.5)
        deadline = time.perf_counter() + FLOOD_SETTLE_S
        while time.perf_counter() < deadline and node._mailbox._item is not None:
            time.sleep(0.01)
        time.sleep(0.3)
    keys = harness.sink.keypoints_order[out_before:]
    times = [harness.sink.keypoints[k].received_s for k in keys]
    rate = (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else float("nan")
    drops = {
        reason: count - drops_before.get(reason, 0)
        for reason, count in node.drop_counts.items()
        if count > drops_before.get(reason, 0)
    }
    return node.frames_received - received_before, len(keys), rate, drops


def _core_only(model, frames, count: int, flip_test: bool) -> dict[str, float]:
    estimator = BodyEstimator(model, flip_test=flip_test)
    timings = []
    for i in range(count):
        _, _, _, truth = frames[i % len(frames)]
        depth_m = np.where(truth.depth_mm > 0, truth.depth_mm / 1000.0, np.nan).astype(np.float32)
        start = time.perf_counter()
        people = estimator.estimate(truth.color, depth_m, truth.intrinsics)
        total = time.perf_counter() - start
        timings.append({**people.timings, "total_s": total, "people": len(people)})
    return {key: float(np.median([t[key] for t in timings])) for key in timings[0]}


def _ms(values) -> str:
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return "n/a"
    return f"{np.median(finite) * 1e3:.1f} / {np.percentile(finite, 90) * 1e3:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames per measurement")
    parser.add_argument("--model", default="", help="ONNX body model (default: shipped)")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra_op_threads")
    parser.add_argument("--flip-test", action="store_true", help="flip test on")
    parser.add_argument("--seed", type=int, default=0, help="synthetic sequence seed")
    args = parser.parse_args(argv)
    model = args.model or str(shipped_model_path())
    if not Path(model).exists():
        print(f"error: no model at {model}; pass --model PATH", file=sys.stderr)
        return 2
    print(f"rendering {DISTINCT_FRAMES} synthetic {WIDTH}x{HEIGHT} RGB-D frames ...")
    frames = _frames(args.seed)
    parameters = {
        "model": model,
        "intra_op_threads": args.threads,
        "flip_test": args.flip_test,
        "log_throttle_s": 60.0,
    }
    rows = []
    with RgbdHarness(parameters) as harness:
        node = harness.node
        if node.estimator is None:
            print(f"error: {node.model_error}", file=sys.stderr)
            return 2
        if not harness.wait_for_connections():
            print("error: DDS discovery timed out", file=sys.stderr)
            return 2
        _closed_loop(harness, frames, 5, 0, True)  # warm-up
        node.stats.snapshot()
        latencies = _closed_loop(harness, frames, args.frames, 100, True)
        internal = node.stats.snapshot()
        rows.append(
            (
                "closed loop, RGB-D",
                args.frames,
                int(np.isfinite(latencies).sum()),
                _ms(latencies),
                f"{1.0 / np.nanmedian(latencies):.1f}",
                f"node-internal p50 {internal.latency_p50_s * 1e3:.1f} ms",
            )
        )
        received, results, rate, drops = _flood(harness, frames, args.frames, 10_000)
        drop_text = ", ".join(f"{k} {v}" for k, v in sorted(drops.items())) or "none"
        rows.append(
            (
                f"camera at {FLOOD_RATE_HZ:g} Hz, RGB-D",
                args.frames,
                results,
                "-",
                f"{rate:.1f}",
                f"node received {received}, drops: {drop_text}",
            )
        )
        model_obj, model_name = node.model, node.model.name
    with RgbdHarness({**parameters, "use_depth": False}) as colour_only:
        assert colour_only.wait_for_connections()
        _closed_loop(colour_only, frames, 5, 20_000, False)
        latencies = _closed_loop(colour_only, frames, args.frames, 20_100, False)
        rows.append(
            (
                "closed loop, colour only",
                args.frames,
                int(np.isfinite(latencies).sum()),
                _ms(latencies),
                f"{1.0 / np.nanmedian(latencies):.1f}",
                "",
            )
        )
    core = _core_only(model_obj, frames, args.frames, args.flip_test)
    rows.append(
        (
            "core BodyEstimator only",
            args.frames,
            args.frames,
            f"{core['total_s'] * 1e3:.1f}",
            f"{1.0 / core['total_s']:.1f}",
            f"preprocess {core['preprocess_s'] * 1e3:.1f}, inference "
            f"{core['inference_s'] * 1e3:.1f}, decode {core['decode_s'] * 1e3:.1f}, lift "
            f"{core['lift_s'] * 1e3:.1f} ms; "
            f"{core['people']:.0f} people (median)",
        )
    )
    print(
        f"body_pose_node, {WIDTH}x{HEIGHT}, model {model_name} ({model}), "
        f"intra_op_threads {args.threads}, flip test {'on' if args.flip_test else 'off'}"
    )
    print(f"{'mode':<28} {'in':>4} {'out':>4} {'ms p50 / p90':>14} {'frames/s':>9}  note")
    for mode, sent, out, latency, rate, note in rows:
        print(f"{mode:<28} {sent:>4} {out:>4} {latency:>14} {rate:>9}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
