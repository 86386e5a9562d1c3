"""video_pose_node's parameters: the body node's, plus the tracker's, in one table.

config/video_pose_node.yaml and launch/robot.launch.py (mode:=video) use the same names.
The keyframe model is ``model`` (LitePose, as in body_pose_node); ``video_model`` is the DKD
tracker that runs between keyframes.
"""

from __future__ import annotations

from typing import Any

from hand_pose_ros.core.one_euro import DEFAULT_SMOOTHING
from hand_pose_ros.core.video.keyframes import KeyframePolicy
from hand_pose_ros.core.video.motion import MotionSettings
from hand_pose_ros.core.video.tracks import TrackingSettings
from hand_pose_ros.core.video.video_estimator import DEFAULT_LOST_CONFIDENCE
from hand_pose_ros.nodes import body_pose_parameters
from hand_pose_ros.nodes.node_parameters import (
    ParameterSpec,
    at_least_one,
    check_spec_value,
    non_negative,
    positive,
    smoothing_specs,
    specs_by_name,
    unit_interval,
)

SHIPPED_VIDEO_MODEL_NAME = "video_dkd_synthetic.onnx"

TRACKER_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "video_model",
        "",
        "Path of the ONNX DKD tracker (task video_pose_dkd) run between keyframes; empty = the "
        f"shipped models/{SHIPPED_VIDEO_MODEL_NAME}. Read-only.",
        read_only=True,
    ),
    ParameterSpec(
        "keyframe_interval_frames",
        KeyframePolicy.interval_frames,
        "Run the full model (and find people who entered) at least every this many frames.",
        at_least_one,
    ),
    ParameterSpec(
        "min_track_confidence",
        KeyframePolicy.min_track_confidence,
        "A track whose mean keypoint score falls below this [0, 1] makes the next frame a "
        "keyframe.",
        unit_interval,
    ),
    ParameterSpec(
        "confidence_drop_ratio",
        KeyframePolicy.confidence_drop_ratio,
        "A track whose mean keypoint score falls below this fraction [0, 1] of its score on the "
        "first frame after its last keyframe makes the next frame a keyframe; 0 = off.",
        unit_interval,
    ),
    ParameterSpec(
        "min_motion_cells",
        KeyframePolicy.min_motion_cells,
        "Moving cells (8x8 network-input pixels, camera pan undone) outside every track's box "
        "that make the frame a keyframe: somebody untracked moved into view; 0 = off.",
        non_negative,
    ),
    ParameterSpec(
        "motion_gap_frames",
        KeyframePolicy.motion_gap_frames,
        "Frames after a keyframe before untracked motion may force the next one.",
        at_least_one,
    ),
    ParameterSpec(
        "min_motion_change",
        MotionSettings.min_change,
        "Mean brightness change (0-1 scale) over a cell that counts as motion.",
        positive,
    ),
    ParameterSpec(
        "lost_track_confidence",
        DEFAULT_LOST_CONFIDENCE,
        "A propagated track below this mean keypoint score [0, 1] is ended at once.",
        unit_interval,
    ),
    ParameterSpec(
        "min_association_oks",
        TrackingSettings.min_association_oks,
        "Smallest OKS [0, 1] at which a keyframe detection continues an existing track.",
        unit_interval,
    ),
    *smoothing_specs(True, DEFAULT_SMOOTHING, "each track's keypoints"),
)

PARAMETER_SPECS: tuple[ParameterSpec, ...] = (
    *body_pose_parameters.PARAMETER_SPECS,
    *TRACKER_SPECS,
)
ESTIMATOR_PARAMETERS: frozenset[str] = body_pose_parameters.ESTIMATOR_PARAMETERS | frozenset(
    spec.name for spec in TRACKER_SPECS if not spec.read_only
)
"""Changing any of these rebuilds the tracker (its tracks start afresh)."""

SPECS_BY_NAME: dict[str, ParameterSpec] = specs_by_name(PARAMETER_SPECS)


def check_value(name: str, value: Any) -> str | None:
    """None if ``value`` is acceptable for parameter ``name``, else a sentence saying why not."""
    return check_spec_value(SPECS_BY_NAME, name, value)
