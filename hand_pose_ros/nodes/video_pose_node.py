"""video_pose_node: the body node's topics, with people tracked through the stream.

Everything but the core call is body_pose_node's (inputs, colour/depth pairing, drops, outputs):
the frame goes to VideoEstimator.estimate, which runs LitePose only on keyframes and the DKD
tracker in between, and ``instance`` in people/keypoints is the track id, stable across frames.
Diagnostics add the keyframe ratio and the mean compute per frame.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from std_msgs.msg import Header

from hand_pose_ros.core.body_estimator import BodyPeople
from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.keyframes import KeyframePolicy
from hand_pose_ros.core.video.motion import MotionSettings
from hand_pose_ros.core.video.tracks import TrackingSettings
from hand_pose_ros.core.video.video_estimator import VideoEstimator
from hand_pose_ros.nodes import pose_node_base
from hand_pose_ros.nodes.body_pose_node import (  # noqa: F401 (the same topics, re-exported)
    COLOR_INFO_TOPIC,
    COLOR_TOPIC,
    DEBUG_IMAGE_TOPIC,
    DEPTH_TOPIC,
    KEYPOINTS_TOPIC,
    MARKERS_TOPIC,
    BodyPoseNode,
    peak_search_details,
)
from hand_pose_ros.nodes.node_parameters import smoothing_settings
from hand_pose_ros.nodes.pose_node_base import spin_node
from hand_pose_ros.nodes.video_pose_parameters import (
    ESTIMATOR_PARAMETERS,
    PARAMETER_SPECS,
    SHIPPED_VIDEO_MODEL_NAME,
)
from hand_pose_ros.ros.stamps import stamp_seconds

NODE_NAME = "video_pose_node"
COST_WINDOW_FRAMES = 100
"""Frames over which the diagnostics' keyframe ratio and mean MACs are taken."""


class VideoPoseNode(BodyPoseNode):
    """body_pose_node's topics and parameters plus the tracker's; see
    config/video_pose_node.yaml."""

    PARAMETER_SPECS = PARAMETER_SPECS
    ESTIMATOR_PARAMETERS = ESTIMATOR_PARAMETERS

    def __init__(self, node_name: str = NODE_NAME, **node_kwargs: Any) -> None:
        self._recent_costs: deque[tuple[str, int]] = deque(maxlen=COST_WINDOW_FRAMES)
        self._tracks_last_frame = 0
        super().__init__(node_name, **node_kwargs)

    def _make_estimator(self, model: OnnxModel) -> VideoEstimator:
        path = pose_node_base.configured_model_path(
            str(self._param("video_model")), SHIPPED_VIDEO_MODEL_NAME
        )
        dkd = DkdModel(
            path,
            providers=list(self._param("providers")),
            intra_op_threads=int(self._param("intra_op_threads")),
        )
        smoothing = smoothing_settings(self._param)
        self._recent_costs.clear()
        return VideoEstimator(
            super()._make_estimator(model),
            dkd,
            KeyframePolicy(
                int(self._param("keyframe_interval_frames")),
                float(self._param("min_track_confidence")),
                float(self._param("confidence_drop_ratio")),
                int(self._param("min_motion_cells")),
                int(self._param("motion_gap_frames")),
            ),
            TrackingSettings(min_association_oks=float(self._param("min_association_oks"))),
            smoothing,
            float(self._param("lost_track_confidence")),
            MotionSettings(min_change=float(self._param("min_motion_change"))),
        )

    def _estimate(
        self,
        estimator: VideoEstimator,
        rgb: np.ndarray,
        depth_m: np.ndarray | None,
        intrinsics: Intrinsics | None,
        header: Header,
    ) -> tuple[BodyPeople, list[int]]:
        tracked = estimator.estimate(rgb, depth_m, intrinsics, stamp_seconds(header))
        self._recent_costs.append((tracked.keyframe_reason, tracked.macs))
        return tracked.people, [int(i) for i in tracked.track_ids]

    def cost_summary(self) -> dict[str, float]:
        """Keyframe ratio (and the part untracked motion asked for: the knob to turn when
        a moving camera makes too many) and mean GMACs per frame over the last
        COST_WINDOW_FRAMES frames."""
        costs = list(self._recent_costs)
        if not costs:
            return {
                "keyframe_ratio": 0.0,
                "motion_keyframe_ratio": 0.0,
                "mean_gmacs_per_frame": 0.0,
            }
        reasons = [reason for reason, _ in costs]
        return {
            "keyframe_ratio": round(sum(bool(r) for r in reasons) / len(costs), 3),
            "motion_keyframe_ratio": round(reasons.count("untracked_motion") / len(costs), 3),
            "mean_gmacs_per_frame": round(float(np.mean([m for _, m in costs])) / 1e9, 4),
        }

    def _ready_details(self) -> str:
        estimator = self.estimator
        if estimator is None:
            return ""
        return (
            f"{peak_search_details(estimator.body)}, tracker '{estimator.dkd.name}' "
            f"({estimator.dkd.path}), keyframe every {estimator.policy.interval_frames} frames"
        )

    def _extra_diagnostic_values(self) -> dict[str, str | float | int]:
        values = {**super()._extra_diagnostic_values(), **self.cost_summary()}
        estimator = self.estimator
        values["video_model"] = estimator.dkd.name if estimator is not None else "none"
        return values


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: ros2 run hand_pose_ros video_pose_node."""
    spin_node(VideoPoseNode, args)


if __name__ == "__main__":
    main()
