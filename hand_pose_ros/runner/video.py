"""The video pipeline's figures: tracking quality of video_pose_node's clouds against the
sequence's ground truth (PCK@0.2, identity switches, jitter), on top of the robot figures."""

from __future__ import annotations

from typing import Any

import numpy as np

from hand_pose_ros.core.skeletons import COCO_OKS_SIGMAS
from hand_pose_ros.core.video.metrics import VideoPoseMetrics
from hand_pose_ros.runner.records import RunResult
from hand_pose_ros.runner.robot import predicted_people


def tracking_accuracy(result: RunResult) -> dict[str, Any] | None:
    """Video metrics over the frames with ground truth, in order (None without any)."""
    records = [r for r in result.records if r.truth is not None]
    if not records:
        return None
    metrics = VideoPoseMetrics(np.asarray(COCO_OKS_SIGMAS))
    for record in records:
        people = predicted_people(record.result, result.keypoint_count)
        truth = record.truth
        metrics.add_frame(
            people.uv_px,
            people.instance,
            truth.keypoints_uv,
            truth.visibility,
            truth.track_ids,
            truth.boxes_xywh,
        )
    summary = metrics.summary()
    kept = (
        "pck@0.2",
        "id_switches",
        "id_switches_per_100_frames",
        "jitter_px",
        "truth_acceleration_px",
    )
    return {key: summary[key] for key in kept}
