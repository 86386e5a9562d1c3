"""hand_pose_node: 2.5D hand keypoints from an egocentric depth stream.

Thin by design: a frame is converted by the ros layer, estimated by one core call
(HandEstimator.estimate) and published by the ros layer. The node's policy (which frames to
drop and why, never queueing behind the camera, diagnostics, markers) is shared with the body
node in nodes/pose_node_base.py; what is here is the hand-specific part.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

from hand_pose_ros.core.depth_sampling import DEFAULT_FOREGROUND_BAND_M, DEFAULT_WINDOW_PX
from hand_pose_ros.core.drawing import depth_to_rgb, draw_hands
from hand_pose_ros.core.hand_estimator import (
    DEFAULT_PRESENCE_THRESHOLD,
    DEFAULT_REFINER_PASSES,
    HandEstimate,
    HandEstimator,
)
from hand_pose_ros.core.hand_tracking import HandTrackingSettings
from hand_pose_ros.core.model_metadata import HAND_POSE_TASK, HAND_REFINER_TASK
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.nodes import pose_node_base
from hand_pose_ros.nodes.hand_pose_parameters import (
    ESTIMATOR_PARAMETERS,
    NO_REFINER,
    PARAMETER_SPECS,
    SHIPPED_MODEL_NAME,
    SHIPPED_REFINER_NAME,
)
from hand_pose_ros.nodes.node_parameters import smoothing_settings
from hand_pose_ros.nodes.pose_node_base import (
    ASPECT_TOLERANCE,
    COMMON_DROP_REASONS,
    COMMON_WARNING_DROP_REASONS,
    DIAGNOSTICS_TOPIC,
    DROP_BAD_CAMERA_INFO,
    DROP_BAD_ENCODING,
    DROP_BAD_PARAMETER,
    DROP_BUSY,
    DROP_MALFORMED,
    DROP_NO_CAMERA_INFO,
    DROP_NO_MODEL,
    DROP_NO_VALID_DEPTH,
    DROP_PROCESSING_ERROR,
    DROP_SIZE_MISMATCH,
    WORKER_POLL_S,
    FrameDropped,
    PendingFrame,
    PoseNodeBase,
    intrinsics_for_image,
    spin_node,
)
from hand_pose_ros.ros.image_conversions import numpy_to_image
from hand_pose_ros.ros.keypoint_cloud import encode_instances_cloud
from hand_pose_ros.ros.stamps import stamp_seconds

__all__ = [
    "ASPECT_TOLERANCE",
    "CAMERA_INFO_TOPIC",
    "DEBUG_IMAGE_TOPIC",
    "DEPTH_TOPIC",
    "DIAGNOSTICS_TOPIC",
    "DROP_BAD_CAMERA_INFO",
    "DROP_BAD_ENCODING",
    "DROP_BAD_PARAMETER",
    "DROP_BUSY",
    "DROP_MALFORMED",
    "DROP_NO_CAMERA_INFO",
    "DROP_NO_MODEL",
    "DROP_NO_VALID_DEPTH",
    "DROP_PROCESSING_ERROR",
    "DROP_REASONS",
    "DROP_SIZE_MISMATCH",
    "KEYPOINTS_TOPIC",
    "MARKERS_TOPIC",
    "NODE_NAME",
    "WARNING_DROP_REASONS",
    "WORKER_POLL_S",
    "FrameDropped",
    "HandPoseNode",
    "intrinsics_for_image",
    "main",
    "shipped_model_path",
]

NODE_NAME = "hand_pose_node"
DEPTH_TOPIC = "depth/image"
CAMERA_INFO_TOPIC = "depth/camera_info"
KEYPOINTS_TOPIC = "hands/keypoints"
MARKERS_TOPIC = "hands/markers"
DEBUG_IMAGE_TOPIC = "hands/debug_image"
MARKER_NAMESPACE_PREFIX = "hands"

DROP_REASONS: tuple[str, ...] = COMMON_DROP_REASONS
WARNING_DROP_REASONS: frozenset[str] = COMMON_WARNING_DROP_REASONS


def shipped_model_path() -> Path:
    """The hand model shipped with the package."""
    return pose_node_base.shipped_model_path(SHIPPED_MODEL_NAME)


class HandPoseNode(PoseNodeBase):
    """Subscribes depth/image + depth/camera_info; publishes hands/keypoints, hands/markers,
    hands/debug_image and /diagnostics. See config/hand_pose_node.yaml for parameters."""

    PARAMETER_SPECS = PARAMETER_SPECS
    ESTIMATOR_PARAMETERS = ESTIMATOR_PARAMETERS
    MODEL_TASK = HAND_POSE_TASK
    MODEL_KIND = "hand"
    SHIPPED_MODEL_NAME = SHIPPED_MODEL_NAME
    KEYPOINTS_TOPIC = KEYPOINTS_TOPIC
    MARKERS_TOPIC = MARKERS_TOPIC
    DEBUG_IMAGE_TOPIC = DEBUG_IMAGE_TOPIC
    DROP_REASONS = DROP_REASONS
    WARNING_DROP_REASONS = WARNING_DROP_REASONS
    WAITING_FOR = "depth images"

    def __init__(self, node_name: str = NODE_NAME, **node_kwargs: Any) -> None:
        self._image_sub = None
        self._refiner: OnnxModel | None = None
        self._refiner_opened = False
        self.frames_tracked = 0  # processed frames where the first model did not run
        super().__init__(node_name, **node_kwargs)

    # ------------------------------------------------------------------ set-up
    def _make_estimator(self, model: OnnxModel) -> HandEstimator:
        return HandEstimator(
            model,
            presence_threshold=float(self._param("presence_threshold", DEFAULT_PRESENCE_THRESHOLD)),
            depth_window_px=int(self._param("depth_window_px", DEFAULT_WINDOW_PX)),
            foreground_band_m=float(self._param("foreground_band_m", DEFAULT_FOREGROUND_BAND_M)),
            hand_depth_band_m=float(self._param("hand_depth_band_m")),
            predicted_depth_band_m=float(self._param("predicted_depth_band_m")),
            refiner=self._load_refiner(),
            refiner_passes=int(self._param("refiner_passes", DEFAULT_REFINER_PASSES)),
            first_crop=str(self._param("refiner_first_crop")),
            tracking=HandTrackingSettings(
                redetect_interval_frames=int(self._param("redetect_interval_frames")),
                min_track_score=float(self._param("min_track_score")),
                max_gap_s=float(self._param("max_track_gap_s")),
                max_depth_m=float(self._param("max_track_depth_m")),
            ),
            smoothing=smoothing_settings(self._param),
        )

    def _load_refiner(self) -> OnnxModel | None:
        """The refiner the parameter names, opened once (``refiner_model`` is read-only, and an
        estimator parameter change must not stall frames on a new session). A failure reaches
        _build_estimator, which keeps the node up and dropping frames with the reason."""
        if self._refiner_opened:
            return self._refiner
        configured = str(self._param("refiner_model"))
        if configured != NO_REFINER:
            path = pose_node_base.configured_model_path(configured, SHIPPED_REFINER_NAME)
            try:
                self._refiner = self._open_model(path, HAND_REFINER_TASK)
            except Exception as error:
                message = f"cannot load the hand refiner ('refiner_model'): {error}"
                raise RuntimeError(message) from error
        self._refiner_opened = True
        return self._refiner

    def _extra_diagnostic_values(self) -> dict[str, str | float | int]:
        refiner = self.estimator.refiner if self.estimator is not None else None
        return {
            "refiner": refiner.model.name if refiner is not None else NO_REFINER,
            "frames_tracked": self.frames_tracked,
        }

    def _ready_details(self) -> str:
        refiner = self.estimator.refiner if self.estimator is not None else None
        if refiner is None:
            return ", no refiner"
        return f", refiner '{refiner.model.name}' ({refiner.model.path})"

    def _create_input_subscriptions(self) -> None:
        qos, info_qos = self._input_qos_profiles()
        for subscription in (self._image_sub, self._info_sub):
            if subscription is not None:
                self.destroy_subscription(subscription)
        self._info_sub = self.create_subscription(
            CameraInfo, CAMERA_INFO_TOPIC, self._on_camera_info, info_qos
        )
        self._image_sub = self.create_subscription(Image, DEPTH_TOPIC, self._on_image, qos)

    def _input_description(self) -> str:
        return self._image_sub.topic_name

    def _marker_namespace(self, instance_id: int) -> str:
        sides = self.model.metadata["sides"] if self.model is not None else []
        label = sides[instance_id] if 0 <= instance_id < len(sides) else str(instance_id)
        return f"{MARKER_NAMESPACE_PREFIX}/{label}"

    def _on_image(self, msg: Image) -> None:
        self.stats.count_received()
        self._enqueue(msg)

    # ------------------------------------------------------------------ one frame
    def _process(self, pending: PendingFrame) -> None:
        msg = pending.msg
        estimator = self._ready_estimator()
        intrinsics_source = self._current_intrinsics(msg.header)
        depth_m = self._depth_metres(msg)
        height, width = depth_m.shape
        intrinsics = intrinsics_for_image(intrinsics_source, width, height)
        if intrinsics is None:
            raise FrameDropped(
                DROP_SIZE_MISMATCH,
                f"depth image is {width}x{height} but CameraInfo describes "
                f"{intrinsics_source.width}x{intrinsics_source.height} with another aspect "
                "ratio: cannot scale the intrinsics (is the camera info from another stream?)",
            )
        estimate = estimator.estimate(depth_m, intrinsics, stamp_seconds(msg.header))
        self._publish_outputs(msg.header, depth_m, estimate, estimator)
        if not estimate.detected:
            self.frames_tracked += 1
        # The first model's time, on the frames where it ran (inference_p50_ms).
        inference_s = estimate.inference_s if estimate.detected else float("nan")
        self.stats.count_processed(time.perf_counter() - pending.received_s, inference_s)

    def _publish_outputs(
        self, header: Header, depth_m: np.ndarray, estimate: HandEstimate, estimator: HandEstimator
    ) -> None:
        hands = sorted(estimate.hands, key=lambda hand: hand.side)
        self.keypoints_pub.publish(_keypoint_cloud(header, hands))
        self._publish_markers(
            header, [(hand.side, hand.xyz_m) for hand in hands], estimator.skeleton
        )
        if self._debug_image_wanted():
            picture = depth_to_rgb(depth_m)
            draw_hands(picture, [(hand.side, hand.uv_px) for hand in hands], estimator.skeleton)
            self.debug_image_pub.publish(numpy_to_image(picture, "rgb8", header))


def _keypoint_cloud(header: Header, hands: Sequence[Any]) -> PointCloud2:
    """All keypoints of every detected hand, instance = side (0 left, 1 right)."""
    return encode_instances_cloud(
        header,
        [hand.side for hand in hands],
        [hand.xyz_m for hand in hands],
        [hand.uv_px for hand in hands],
        [hand.depth_m for hand in hands],
        [hand.score for hand in hands],
    )


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: ros2 run hand_pose_ros hand_pose_node."""
    spin_node(HandPoseNode, args)


if __name__ == "__main__":
    main()
