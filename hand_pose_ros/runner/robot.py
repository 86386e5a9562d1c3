"""The robot pipeline run end to end: colour (+ depth) -> BodyPoseNode over DDS -> people.

Same loop as the wearable run (records.drive): closed loop by default, ``rate_hz`` for a
camera-like clock. People come back as a keypoint cloud, instance = detection index.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from hand_pose_ros.ros.image_conversions import color_image_to_rgb, depth_image_to_metres
from hand_pose_ros.runner.harness import RgbdHarness
from hand_pose_ros.runner.records import (
    PICTURE_FRAMES,
    FrameRecord,
    RunResult,
    picture_indices,
    run_through_node,
)
from hand_pose_ros.runner.sink import ReceivedKeypoints

DEFAULT_FRAME_TIMEOUT_S = 2.0


class CloudPeople(NamedTuple):
    """A keypoint cloud as arrays, one row per person (ascending instance id)."""

    uv_px: np.ndarray  # (P, K, 2), NaN where a keypoint is missing
    xyz_m: np.ndarray  # (P, K, 3)
    score: np.ndarray  # (P, K), 0 where missing
    instance: np.ndarray  # (P,) the cloud's instance (track) ids


def predicted_people(result: ReceivedKeypoints | None, keypoint_count: int) -> CloudPeople:
    """The people of a received cloud (none without one)."""
    if result is None or result.cloud is None or len(result.cloud) == 0:
        return CloudPeople(
            np.zeros((0, keypoint_count, 2)),
            np.zeros((0, keypoint_count, 3)),
            np.zeros((0, keypoint_count)),
            np.zeros(0, np.int64),
        )
    cloud = result.cloud
    instances = np.unique(cloud.instance)
    uv = np.full((len(instances), keypoint_count, 2), np.nan)
    xyz = np.full((len(instances), keypoint_count, 3), np.nan)
    score = np.zeros((len(instances), keypoint_count))
    for row, instance in enumerate(instances):
        rows = np.flatnonzero(cloud.instance == instance)
        keypoints = cloud.keypoint[rows].astype(np.intp)
        inside = keypoints < keypoint_count
        uv[row, keypoints[inside]] = cloud.uv_px[rows[inside]]
        xyz[row, keypoints[inside]] = cloud.xyz_m[rows[inside]]
        score[row, keypoints[inside]] = cloud.score[rows[inside]]
    return CloudPeople(uv, xyz, score, instances)


def run_robot(
    source,
    model: str = "",
    rate_hz: float = 0.0,
    frame_timeout_s: float = DEFAULT_FRAME_TIMEOUT_S,
    picture_frames: int = PICTURE_FRAMES,
    node_parameters: dict[str, Any] | None = None,
    harness_class: type[RgbdHarness] = RgbdHarness,
) -> RunResult:
    """Publish every frame of ``source`` to a real BodyPoseNode (or, with ``VideoHarness``, a
    VideoPoseNode) and record the results."""
    kept = picture_indices(len(source), picture_frames)
    parameters = {"model": model, "use_depth": bool(source.has_depth), **(node_parameters or {})}

    def make_record(frame, key, sent_s) -> FrameRecord:
        record = FrameRecord(frame.index, key, sent_s, truth=frame.truth)
        if frame.index in kept:
            record.color_rgb = np.array(color_image_to_rgb(frame.color))
            if frame.depth is not None:
                record.depth_m = depth_image_to_metres(frame.depth)
        return record

    with harness_class(parameters) as harness:
        result = run_through_node(
            harness,
            source,
            lambda frame: harness.publish_frame(frame.color, frame.depth, frame.camera_info),
            make_record,
            rate_hz,
            frame_timeout_s,
        )
        cost_summary = getattr(harness.node, "cost_summary", None)
        if cost_summary is not None:
            result.extra.update(cost_summary())
        return result


def robot_accuracy(result: RunResult) -> dict[str, Any] | None:
    """OKS AP, mean OKS, PCK and 3D error over the frames with ground truth (None if none)."""
    with_truth = [r for r in result.records if r.truth is not None]
    if not with_truth:
        return None
    from hand_pose_ros.runner.robot_metrics import PeopleMetrics

    metrics = PeopleMetrics()
    for record in with_truth:
        people = predicted_people(record.result, result.keypoint_count)
        person_score = people.score.mean(axis=1) if len(people.score) else np.zeros(0)
        metrics.add(people.uv_px, people.xyz_m, person_score, record.truth)
    return metrics.summary()
