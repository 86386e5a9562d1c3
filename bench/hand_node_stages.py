"""Where a closed-loop frame of hand_pose_node spends its time, stage by stage.

Runs the closed loop of `hand_node_latency.py` (same frames, same harness) while timing, in
place, the node's processing, the core estimator inside it, the depth conversion and the
publishing of the outputs; the rest of the end-to-end latency is DDS and the hand-off to the
node's worker thread. Medians in milliseconds.

    .venv/bin/python bench/hand_node_stages.py [--frames 1000] [--refiner-model PATH|none]
        [--redetect-interval N] [--no-smoothing] [--executor events|single]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from hand_node_latency import _closed_loop, _frames, first_model_share  # noqa: E402

from hand_pose_ros.nodes.executors import DEFAULT_EXECUTOR_KIND, EXECUTOR_KINDS  # noqa: E402
from hand_pose_ros.runner.cli import add_tracking_arguments, tracking_parameters  # noqa: E402
from hand_pose_ros.runner.harness import InProcessHarness  # noqa: E402

WARMUP_FRAMES = 100


def _time_calls(owner: Any, method: str, times_s: list[float]) -> None:
    """Wrap ``owner.method`` on the instance so that each call's duration lands in ``times_s``."""
    original: Callable[..., Any] = getattr(owner, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times_s.append(time.perf_counter() - start)

    setattr(owner, method, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000, help="measured closed-loop frames")
    parser.add_argument("--resolution", default="224x172", help="WIDTHxHEIGHT")
    parser.add_argument("--refiner-model", default="", help="as the node's refiner_model")
    add_tracking_arguments(parser)
    parser.add_argument("--executor", choices=EXECUTOR_KINDS, default=DEFAULT_EXECUTOR_KIND)
    parser.add_argument("--seed", type=int, default=0, help="synthetic sequence seed")
    args = parser.parse_args(argv)
    width, height = (int(value) for value in args.resolution.split("x"))
    frames = _frames(width, height, args.seed)
    stages: dict[str, list[float]] = {
        "node processing": [], "core estimator": [], "depth conversion": [], "publishing": []
    }
    parameters = {"refiner_model": args.refiner_model, **tracking_parameters(args)}
    with InProcessHarness(parameters, executor=args.executor) as harness:
        node = harness.node
        if node.estimator is None:
            raise SystemExit(f"error: {node.model_error}")
        if not harness.wait_for_connections():
            raise SystemExit("error: DDS discovery timed out")
        _time_calls(node, "_process", stages["node processing"])
        _time_calls(node.estimator, "estimate", stages["core estimator"])
        _time_calls(node, "_depth_metres", stages["depth conversion"])
        _time_calls(node, "_publish_outputs", stages["publishing"])
        _closed_loop(harness, frames, WARMUP_FRAMES, 0)
        for times_s in stages.values():
            times_s.clear()
        tracked_before = node.frames_tracked
        latencies_s = _closed_loop(harness, frames, args.frames, WARMUP_FRAMES)
        first_model_on = first_model_share(node, tracked_before, args.frames)
    print(f"hand_pose_node stages, {args.resolution}, {args.executor} executor, "
          f"{args.frames} closed-loop frames, first model on {first_model_on:.0%} of them "
          "(medians, ms)")
    print(f"  {'publish -> keypoints received':<30} {np.nanmedian(latencies_s) * 1e3:7.3f}")
    for name, times_s in stages.items():
        print(f"  {name:<30} {np.median(times_s) * 1e3:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
