"""The wearable pipeline run end to end: depth frames -> HandPoseNode over DDS -> recorded hands.

Closed loop by default (the next frame is published as soon as the previous result arrived),
so the rate printed is what the node sustains; ``rate_hz`` publishes on a fixed clock like a
camera instead, and the node's drop counters show what it could not keep up with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hand_pose_ros.ros.image_conversions import depth_image_to_metres
from hand_pose_ros.runner.harness import InProcessHarness
from hand_pose_ros.runner.sink import ReceivedKeypoints, StampKey

PICTURE_FRAMES = 6
SIDES = 2


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


def predicted_hands(
    result: ReceivedKeypoints | None, keypoint_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(2, K, 2) uv, (2, K, 3) xyz (NaN for sides not detected) and (2,) presence from a cloud."""
    uv = np.full((SIDES, keypoint_count, 2), np.nan)
    xyz = np.full((SIDES, keypoint_count, 3), np.nan)
    present = np.zeros(SIDES, dtype=bool)
    if result is None or result.cloud is None:
        return uv, xyz, present
    cloud = result.cloud
    for side in range(SIDES):
        rows = np.flatnonzero(cloud.instance == side)
        if rows.size == 0:
            continue
        keypoints = cloud.keypoint[rows].astype(np.intp)
        inside = keypoints < keypoint_count
        uv[side, keypoints[inside]] = cloud.uv_px[rows[inside]]
        xyz[side, keypoints[inside]] = cloud.xyz_m[rows[inside]]
        present[side] = True
    return uv, xyz, present


def _wait_done(harness: InProcessHarness, key: StampKey, drops_before: int) -> bool:
    """A frame is finished when its keypoints arrived or the node counted it as dropped."""
    return key in harness.sink.keypoints or sum(harness.node.drop_counts.values()) > drops_before


def run_wearable(
    source,
    model: str = "",
    rate_hz: float = 0.0,
    frame_timeout_s: float = 1.0,
    picture_frames: int = PICTURE_FRAMES,
    node_parameters: dict[str, Any] | None = None,
) -> RunResult:
    """Publish every frame of ``source`` to a real HandPoseNode and record the results."""
    total = len(source)
    picture_indices = set(
        np.unique(np.linspace(0, total - 1, min(picture_frames, total)).round().astype(int))
    )
    parameters = {"model": model, **(node_parameters or {})}
    with InProcessHarness(parameters) as harness:
        node = harness.node
        if node.estimator is None:
            raise RunnerError(f"the node has no usable model: {node.model_error}")
        if not harness.wait_for_connections():
            raise RunnerError("DDS discovery between the runner and the node timed out")
        records: list[FrameRecord] = []
        period_s = 1.0 / rate_hz if rate_hz > 0 else 0.0
        start_s = time.perf_counter()
        for frame in source:
            drops_before = sum(node.drop_counts.values())
            key, sent_s = harness.publish_frame(frame.image, frame.camera_info)
            record = FrameRecord(frame.index, key, sent_s, truth=frame.truth)
            if frame.index in picture_indices:
                record.depth_m = depth_image_to_metres(frame.image)
            records.append(record)
            if period_s > 0:
                next_s = start_s + (frame.index + 1) * period_s
                harness.spin_for(max(0.0, next_s - time.perf_counter()))
            else:
                harness.spin_until(
                    lambda key=key, before=drops_before: _wait_done(harness, key, before),
                    frame_timeout_s,
                )
        # Open loop: let the last frames finish.
        harness.spin_until(
            lambda: all(r.key in harness.sink.keypoints for r in records[-3:]), frame_timeout_s
        )
        wall_s = time.perf_counter() - start_s
        for record in records:
            record.result = harness.sink.keypoints.get(record.key)
        snapshot = node.stats.snapshot()
        estimator = node.estimator
        return RunResult(
            records=records,
            wall_s=wall_s,
            model_name=node.model.name,
            model_path=str(node.model.path),
            keypoint_count=len(estimator.keypoint_names),
            skeleton=tuple(estimator.skeleton),
            drop_counts=node.drop_counts,
            node_frames_received=node.frames_received,
            node_latency_p50_s=snapshot.latency_p50_s,
            node_inference_p50_s=snapshot.inference_p50_s,
        )


def accuracy(result: RunResult) -> dict[str, Any] | None:
    """HandMetrics over the frames that have ground truth (None if none has)."""
    with_truth = [r for r in result.records if r.truth is not None]
    if not with_truth:
        return None
    from hand_pose_ros.core.hand_metrics import HandMetrics

    metrics = HandMetrics()
    for record in with_truth:
        uv, xyz, present = predicted_hands(record.result, result.keypoint_count)
        metrics.add(uv, xyz, present, record.truth)
    return metrics.summary()
