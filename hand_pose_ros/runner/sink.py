"""A node that records what a pose node published, with receipt times, for the runner and tests.

Keypoint clouds are decoded on receipt (ros layer) and keyed by header stamp, which the source
makes unique per frame, so a result can be matched to the frame that produced it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2
from visualization_msgs.msg import MarkerArray

from hand_pose_ros.ros.errors import MessageConversionError
from hand_pose_ros.ros.keypoint_cloud import KeypointCloud, decode_keypoint_cloud

StampKey = tuple[int, int]

OUTPUT_HISTORY_DEPTH = 100
"""Deep enough that a burst of results is not lost while the executor is busy publishing."""


def stamp_key(stamp: Time) -> StampKey:
    return (int(stamp.sec), int(stamp.nanosec))


@dataclass
class ReceivedKeypoints:
    """One keypoints message as the sink saw it."""

    received_s: float  # time.perf_counter() in the subscription callback
    frame_id: str
    cloud: KeypointCloud | None  # None when the cloud could not be decoded
    error: str | None = None


class RecordingSink(Node):
    """Subscribes to a pose node's outputs (relative topic names, same namespace)."""

    def __init__(
        self,
        keypoints_topic: str = "hands/keypoints",
        markers_topic: str | None = "hands/markers",
        debug_image_topic: str | None = None,
        diagnostics_name_filter: str | None = None,
        node_name: str = "hand_pose_sink",
        **node_kwargs,
    ) -> None:
        super().__init__(node_name, **node_kwargs)
        self.keypoints: dict[StampKey, ReceivedKeypoints] = {}
        self.keypoints_order: list[StampKey] = []
        self.markers: list[MarkerArray] = []
        self.debug_images: list[Image] = []
        self.diagnostics: list[DiagnosticStatus] = []
        self.on_keypoints: Callable[[StampKey], None] | None = None
        self._diagnostics_name_filter = diagnostics_name_filter
        reliable = QoSProfile(depth=OUTPUT_HISTORY_DEPTH, reliability=ReliabilityPolicy.RELIABLE)
        self.keypoints_sub = self.create_subscription(
            PointCloud2, keypoints_topic, self._on_keypoints, reliable
        )
        self.markers_sub = (
            self.create_subscription(MarkerArray, markers_topic, self.markers.append, reliable)
            if markers_topic
            else None
        )
        self.debug_image_sub = (
            self.create_subscription(Image, debug_image_topic, self.debug_images.append, 1)
            if debug_image_topic
            else None
        )
        self.diagnostics_sub = self.create_subscription(
            DiagnosticArray, "/diagnostics", self._on_diagnostics, 10
        )

    def _on_keypoints(self, msg: PointCloud2) -> None:
        received_s = time.perf_counter()
        key = stamp_key(msg.header.stamp)
        try:
            record = ReceivedKeypoints(received_s, msg.header.frame_id, decode_keypoint_cloud(msg))
        except MessageConversionError as error:
            record = ReceivedKeypoints(received_s, msg.header.frame_id, None, str(error))
        self.keypoints[key] = record
        self.keypoints_order.append(key)
        if self.on_keypoints is not None:
            self.on_keypoints(key)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if self._diagnostics_name_filter is None or status.name.startswith(
                self._diagnostics_name_filter
            ):
                self.diagnostics.append(status)

    def clear(self) -> None:
        self.keypoints.clear()
        self.keypoints_order.clear()
        self.markers.clear()
        self.debug_images.clear()
        self.diagnostics.clear()
