"""body_pose_node: multi-person 2D keypoints from a colour camera, lifted to 3D with depth.

Thin by design: a colour image (and the registered depth image paired with it by stamp) is
converted by the ros layer, estimated by one core call (BodyEstimator.estimate) and published by
the ros layer. The frame policy (drops counted by reason, throttled logs, one-slot mailbox,
diagnostics, markers, debug image only while subscribed) is shared with hand_pose_node in
nodes/pose_node_base.py; colour/depth pairing is nodes/stamp_pairing.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from hand_pose_ros.core.body_estimator import BodyEstimator, BodyPeople
from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.drawing import draw_hands
from hand_pose_ros.core.model_metadata import BODY_POSE_TASK
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.nodes import pose_node_base
from hand_pose_ros.nodes.body_pose_parameters import (
    ESTIMATOR_PARAMETERS,
    PARAMETER_SPECS,
    SHIPPED_MODEL_NAME,
)
from hand_pose_ros.nodes.pose_node_base import (
    COMMON_DROP_REASONS,
    COMMON_WARNING_DROP_REASONS,
    DROP_BAD_ENCODING,
    DROP_MALFORMED,
    DROP_SIZE_MISMATCH,
    FrameDropped,
    PendingFrame,
    PoseNodeBase,
    intrinsics_for_image,
    same_aspect,
    spin_node,
)
from hand_pose_ros.nodes.stamp_pairing import NO_DEPTH, UNSYNCHRONISED, Paired, StampPairer
from hand_pose_ros.ros.errors import MessageConversionError
from hand_pose_ros.ros.image_conversions import (
    COLOR_ENCODINGS,
    color_image_to_rgb,
    numpy_to_image,
)
from hand_pose_ros.ros.keypoint_cloud import encode_instances_cloud
from hand_pose_ros.ros.stamps import stamp_seconds

NODE_NAME = "body_pose_node"
COLOR_TOPIC = "color/image"
COLOR_INFO_TOPIC = "color/camera_info"
DEPTH_TOPIC = "depth/image"
KEYPOINTS_TOPIC = "people/keypoints"
MARKERS_TOPIC = "people/markers"
DEBUG_IMAGE_TOPIC = "people/debug_image"
MARKER_NAMESPACE_PREFIX = "people"

DROP_UNSYNCHRONISED = UNSYNCHRONISED
DROP_NO_DEPTH = NO_DEPTH
DROP_REASONS: tuple[str, ...] = (*COMMON_DROP_REASONS, DROP_UNSYNCHRONISED, DROP_NO_DEPTH)
WARNING_DROP_REASONS: frozenset[str] = COMMON_WARNING_DROP_REASONS | {DROP_NO_DEPTH}
"""No depth yet is start-up; stamps that never pair (unsynchronised) are a configuration error."""

DEBUG_LINE_WIDTH_PER_PX = 1.0 / 320.0
"""Skeleton line thickness in the debug image per pixel of image width (2 px at 640)."""


def shipped_model_path() -> Path:
    """The body model shipped with the package."""
    return pose_node_base.shipped_model_path(SHIPPED_MODEL_NAME)


@dataclass
class RgbdFrame:
    """What the worker gets: a colour image and its paired depth image (None: colour only)."""

    color: Image
    depth: Image | None


class BodyPoseNode(PoseNodeBase):
    """Subscribes color/image + color/camera_info (+ depth/image, registered to colour);
    publishes people/keypoints, people/markers, people/debug_image and /diagnostics.
    See config/body_pose_node.yaml for parameters."""

    PARAMETER_SPECS = PARAMETER_SPECS
    ESTIMATOR_PARAMETERS = ESTIMATOR_PARAMETERS
    MODEL_TASK = BODY_POSE_TASK
    MODEL_KIND = "body"
    SHIPPED_MODEL_NAME = SHIPPED_MODEL_NAME
    KEYPOINTS_TOPIC = KEYPOINTS_TOPIC
    MARKERS_TOPIC = MARKERS_TOPIC
    DEBUG_IMAGE_TOPIC = DEBUG_IMAGE_TOPIC
    DROP_REASONS = DROP_REASONS
    WARNING_DROP_REASONS = WARNING_DROP_REASONS
    WAITING_FOR = "colour images"

    def __init__(self, node_name: str = NODE_NAME, **node_kwargs: Any) -> None:
        self._color_sub = None
        self._depth_sub = None
        self._pairing_lock = threading.Lock()
        self._pairer: StampPairer | None = None
        self._people_last_frame = 0
        super().__init__(node_name, **node_kwargs)

    # ------------------------------------------------------------------ set-up
    def _make_estimator(self, model: OnnxModel) -> BodyEstimator:
        detection = float(self._param("detection_threshold"))
        tag = float(self._param("tag_threshold"))
        max_people = int(self._param("max_people"))
        return BodyEstimator(
            model,
            flip_test=bool(self._param("flip_test")),
            detection_threshold=detection if detection >= 0 else None,
            tag_threshold=tag if tag > 0 else None,
            max_people=max_people if max_people > 0 else None,
            peak_search=str(self._param("peak_search")),
            depth_window_px=int(self._param("depth_window_px")),
            foreground_band_m=float(self._param("foreground_band_m")),
            person_depth_band_m=float(self._param("person_depth_band_m")),
        )

    def _ready_details(self) -> str:
        return peak_search_details(self.estimator) if self.estimator is not None else ""

    def _create_input_subscriptions(self) -> None:
        qos, info_qos = self._input_qos_profiles()
        for subscription in (self._color_sub, self._depth_sub, self._info_sub):
            if subscription is not None:
                self.destroy_subscription(subscription)
        self._depth_sub = None
        with self._pairing_lock:
            self._pairer = StampPairer(float(self._param("max_stamp_difference_s")))
        self._info_sub = self.create_subscription(
            CameraInfo, COLOR_INFO_TOPIC, self._on_camera_info, info_qos
        )
        if self._param("use_depth"):
            self._depth_sub = self.create_subscription(Image, DEPTH_TOPIC, self._on_depth, qos)
        self._color_sub = self.create_subscription(Image, COLOR_TOPIC, self._on_color, qos)

    def _on_parameters_applied(self, names: set[str]) -> None:
        if "use_depth" in names:  # (QoS changes were applied by the base class)
            self._create_input_subscriptions()
        elif "max_stamp_difference_s" in names:
            with self._pairing_lock:
                self._pairer = StampPairer(float(self._param("max_stamp_difference_s")))

    def _input_description(self) -> str:
        topics = [self._color_sub.topic_name]
        if self._depth_sub is not None:
            topics.append(self._depth_sub.topic_name)
        return " + ".join(topics)

    def _marker_namespace(self, instance_id: int) -> str:
        return f"{MARKER_NAMESPACE_PREFIX}/{instance_id}"

    # ------------------------------------------------------------------ inputs
    def _on_color(self, msg: Image) -> None:
        self.stats.count_received()
        received_s = time.perf_counter()
        if self._depth_sub is None:
            self._enqueue(RgbdFrame(msg, None), received_s)
            return
        with self._pairing_lock:
            events = self._pairer.add_color((msg, received_s), stamp_seconds(msg.header))
        self._dispatch(events)

    def _on_depth(self, msg: Image) -> None:
        with self._pairing_lock:
            events = self._pairer.add_depth(msg, stamp_seconds(msg.header))
        self._dispatch(events)

    def _dispatch(self, events: Sequence[Any]) -> None:
        for event in events:
            color, received_s = event.color
            if isinstance(event, Paired):
                self._enqueue(RgbdFrame(color, event.depth), received_s)
            else:
                self._drop(event.reason, event.message)

    # ------------------------------------------------------------------ one frame
    def _process(self, pending: PendingFrame) -> None:
        frame: RgbdFrame = pending.msg
        estimator: BodyEstimator = self._ready_estimator()
        rgb = self._color_rgb(frame.color)
        height, width = rgb.shape[:2]
        depth_m: np.ndarray | None = None
        intrinsics: Intrinsics | None = None
        if frame.depth is not None:
            intrinsics = self._color_intrinsics(frame.color.header, width, height)
            depth_m = self._depth_metres(frame.depth)
            depth_h, depth_w = depth_m.shape
            if not same_aspect(depth_w, depth_h, width, height):
                raise FrameDropped(
                    DROP_SIZE_MISMATCH,
                    f"depth image is {depth_w}x{depth_h} but the colour image is "
                    f"{width}x{height}, another aspect ratio: is the depth registered to "
                    "colour (e.g. aligned_depth_to_color)?",
                )
        people, instances = self._estimate(estimator, rgb, depth_m, intrinsics, frame.color.header)
        self._publish_outputs(frame.color.header, rgb, people, instances, estimator.skeleton)
        self.stats.count_processed(
            time.perf_counter() - pending.received_s, float(people.timings.get("inference_s", 0))
        )

    def _estimate(
        self,
        estimator: BodyEstimator,
        rgb: np.ndarray,
        depth_m: np.ndarray | None,
        intrinsics: Intrinsics | None,
        header: Header,
    ) -> tuple[BodyPeople, list[int]]:
        """The core call: people and their instance ids (detection index per frame)."""
        people = estimator.estimate(rgb, depth_m, intrinsics)
        return people, list(range(len(people)))

    def _color_rgb(self, msg: Image) -> np.ndarray:
        if msg.encoding not in COLOR_ENCODINGS:
            raise FrameDropped(
                DROP_BAD_ENCODING,
                f"colour image encoding '{msg.encoding}' is not supported; expected one of "
                f"{', '.join(COLOR_ENCODINGS)} (is a depth topic remapped to color/image?)",
            )
        try:
            return color_image_to_rgb(msg)
        except MessageConversionError as error:
            raise FrameDropped(DROP_MALFORMED, f"malformed colour image: {error}") from error

    def _color_intrinsics(self, header: Header, width: int, height: int) -> Intrinsics:
        source = self._current_intrinsics(header)
        intrinsics = intrinsics_for_image(source, width, height)
        if intrinsics is None:
            raise FrameDropped(
                DROP_SIZE_MISMATCH,
                f"colour image is {width}x{height} but CameraInfo describes "
                f"{source.width}x{source.height} with another aspect ratio: cannot scale the "
                "intrinsics (is the camera info from another stream?)",
            )
        return intrinsics

    # ------------------------------------------------------------------ outputs
    def _publish_outputs(
        self,
        header: Header,
        rgb: np.ndarray,
        people: BodyPeople,
        instances: list[int],
        skeleton: Sequence[tuple[int, int]],
    ) -> None:
        self._people_last_frame = len(instances)
        self.keypoints_pub.publish(
            encode_instances_cloud(
                header,
                instances,
                list(people.xyz_m),
                list(people.uv_px),
                list(people.depth_m),
                list(people.score),
            )
        )
        self._publish_markers(
            header, [(i, people.xyz_m[k]) for k, i in enumerate(instances)], skeleton
        )
        if self._debug_image_wanted():
            picture = np.array(rgb, dtype=np.uint8, copy=True)
            thickness = max(1, round(rgb.shape[1] * DEBUG_LINE_WIDTH_PER_PX))
            draw_hands(
                picture,
                [(i, people.uv_px[k]) for k, i in enumerate(instances)],
                skeleton,
                line_thickness_px=thickness,
                joint_radius_px=thickness,
            )
            self.debug_image_pub.publish(numpy_to_image(picture, "rgb8", header))

    def _extra_diagnostic_values(self) -> dict[str, str | float | int]:
        return {
            "use_depth": int(bool(self._param("use_depth"))),
            "people_last_frame": self._people_last_frame,
        }


def peak_search_details(estimator: BodyEstimator) -> str:
    """Where peaks are searched (a speed matter): in the model's graph or in numpy."""
    where = "in the model's graph" if estimator.searches_peaks_in_graph else "in numpy"
    return f", peak search '{estimator.decoder.peak_search}' {where}"


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: ros2 run hand_pose_ros body_pose_node."""
    spin_node(BodyPoseNode, args)


if __name__ == "__main__":
    main()
