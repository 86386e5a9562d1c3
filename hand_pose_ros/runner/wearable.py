"""The wearable pipeline run end to end: depth frames -> HandPoseNode over DDS -> recorded hands.

Closed loop by default (the next frame is published as soon as the previous result arrived),
so the rate printed is what the node sustains; ``rate_hz`` publishes on a fixed clock like a
camera instead, and the node's drop counters show what it could not keep up with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hand_pose_ros.ros.image_conversions import depth_image_to_metres
from hand_pose_ros.runner.harness import InProcessHarness
from hand_pose_ros.runner.records import (
    PICTURE_FRAMES,
    FrameRecord,
    RunnerError,
    RunResult,
    picture_indices,
    run_through_node,
)
from hand_pose_ros.runner.sink import ReceivedKeypoints

__all__ = [
    "PICTURE_FRAMES",
    "SIDES",
    "FrameRecord",
    "RunResult",
    "RunnerError",
    "accuracy",
    "predicted_hands",
    "run_wearable",
]

SIDES = 2


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


def run_wearable(
    source,
    model: str = "",
    rate_hz: float = 0.0,
    frame_timeout_s: float = 1.0,
    picture_frames: int = PICTURE_FRAMES,
    node_parameters: dict[str, Any] | None = None,
) -> RunResult:
    """Publish every frame of ``source`` to a real HandPoseNode and record the results."""
    kept = picture_indices(len(source), picture_frames)
    parameters = {"model": model, **(node_parameters or {})}

    def make_record(frame, key, sent_s) -> FrameRecord:
        record = FrameRecord(frame.index, key, sent_s, truth=frame.truth)
        if frame.index in kept:
            record.depth_m = depth_image_to_metres(frame.image)
        return record

    with InProcessHarness(parameters) as harness:
        result = run_through_node(
            harness,
            source,
            lambda frame: harness.publish_frame(frame.image, frame.camera_info),
            make_record,
            rate_hz,
            frame_timeout_s,
        )
        estimator = harness.node.estimator
        if estimator is not None and estimator.refiner is not None:
            refiner = estimator.refiner.model
            result.extra["refiner"] = {
                "name": refiner.name,
                "path": str(refiner.path),
                "passes": estimator.refiner_passes,
                "redetect_interval_frames": (
                    estimator.tracks.settings.redetect_interval_frames
                    if estimator.tracks is not None
                    else 1
                ),
                "frames_tracked": harness.node.frames_tracked,
                "smoothing": estimator.smoothing is not None,
            }
        return result


def accuracy(result: RunResult) -> dict[str, Any] | None:
    """HandMetrics over the frames that have ground truth (None if none has)."""
    with_truth = [r for r in result.records if r.truth is not None]
    if not with_truth:
        return None
    from hand_pose_ros.core.hand_metrics import HandJitter, HandMetrics

    metrics, jitter = HandMetrics(), HandJitter()
    for record in with_truth:  # in frame order: jitter follows the stream
        uv, xyz, present = predicted_hands(record.result, result.keypoint_count)
        metrics.add(uv, xyz, present, record.truth)
        jitter.add(uv, record.truth)  # NaN for sides not detected
    return {**metrics.summary(), **jitter.summary()}
