"""What a run produced, frame by frame, and the loop that produces it for any pipeline.

Closed loop by default (the next frame is published as soon as the previous result arrived or
the node counted it as dropped), so the rate printed is what the node sustains; ``rate_hz``
publishes on a fixed clock like a camera instead, and the node's drop counters show what it
could not keep up with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hand_pose_ros.runner.sink import ReceivedKeypoints, StampKey

PICTURE_FRAMES = 6


class RunnerError(RuntimeError):
    """The run cannot start or produced nothing; the text says why."""


@dataclass
class FrameRecord:
    """One published frame and what came back for it."""

    index: int
    key: StampKey
    sent_s: float
    result: ReceivedKeypoints | None = None
    truth: Any | None = None
    depth_m: np.ndarray | None = None  # kept only for the frames that go into pictures
    color_rgb: np.ndarray | None = None  # robot pipeline: kept for pictures too

    @property
    def latency_s(self) -> float:
        return self.result.received_s - self.sent_s if self.result is not None else float("nan")


@dataclass
class RunResult:
    records: list[FrameRecord]
    wall_s: float
    model_name: str
    model_path: str
    keypoint_count: int
    skeleton: tuple[tuple[int, int], ...]
    drop_counts: dict[str, int]
    node_frames_received: int
    node_latency_p50_s: float
    node_inference_p50_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def picture_indices(total: int, picture_frames: int) -> set[int]:
    """Evenly spread frame indices that are kept for pictures."""
    if total < 1 or picture_frames < 1:
        return set()
    return set(np.unique(np.linspace(0, total - 1, min(picture_frames, total)).round().astype(int)))


def drive(
    harness,
    frames: Iterable[Any],
    publish: Callable[[Any], tuple[StampKey, float]],
    make_record: Callable[[Any, StampKey, float], FrameRecord],
    rate_hz: float,
    frame_timeout_s: float,
) -> tuple[list[FrameRecord], float]:
    """Publish every frame through ``publish`` and wait per the mode; returns the records
    (results filled in) and the wall time."""
    node = harness.node
    records: list[FrameRecord] = []
    period_s = 1.0 / rate_hz if rate_hz > 0 else 0.0
    start_s = time.perf_counter()
    for position, frame in enumerate(frames):
        drops_before = sum(node.drop_counts.values())
        key, sent_s = publish(frame)
        records.append(make_record(frame, key, sent_s))
        if period_s > 0:
            next_s = start_s + (position + 1) * period_s
            harness.spin_for(max(0.0, next_s - time.perf_counter()))
        else:

            def done(key: StampKey = key, before: int = drops_before) -> bool:
                # Finished when its keypoints arrived or the node counted it as dropped.
                return key in harness.sink.keypoints or sum(node.drop_counts.values()) > before

            harness.spin_until(done, frame_timeout_s)
    # Open loop: let the last frames finish.
    harness.spin_until(
        lambda: all(r.key in harness.sink.keypoints for r in records[-3:]), frame_timeout_s
    )
    wall_s = time.perf_counter() - start_s
    for record in records:
        record.result = harness.sink.keypoints.get(record.key)
    return records, wall_s


def run_result(harness, records: list[FrameRecord], wall_s: float) -> RunResult:
    """Collect the node's side of a run (model, drops, internal latencies)."""
    node = harness.node
    snapshot = node.stats.snapshot()
    estimator = node.estimator
    return RunResult(
        records=records,
        wall_s=wall_s,
        model_name=node.model.name,
        model_path=str(node.model.path),
        keypoint_count=len(estimator.keypoint_names),
        skeleton=tuple(tuple(int(i) for i in edge) for edge in estimator.skeleton),
        drop_counts=node.drop_counts,
        node_frames_received=node.frames_received,
        node_latency_p50_s=snapshot.latency_p50_s,
        node_inference_p50_s=snapshot.inference_p50_s,
    )


def run_through_node(
    harness,
    frames: Iterable[Any],
    publish: Callable[[Any], tuple[StampKey, float]],
    make_record: Callable[[Any, StampKey, float], FrameRecord],
    rate_hz: float,
    frame_timeout_s: float,
) -> RunResult:
    """Refuse a node without a model or without DDS connections, then drive every frame
    through it and collect the run (both pipelines start a run the same way)."""
    node = harness.node
    if node.estimator is None:
        raise RunnerError(f"the node has no usable model: {node.model_error}")
    if not harness.wait_for_connections():
        raise RunnerError("DDS discovery between the runner and the node timed out")
    records, wall_s = drive(harness, frames, publish, make_record, rate_hz, frame_timeout_s)
    return run_result(harness, records, wall_s)
