"""ROS message conversions and builders (rclpy message classes + numpy; no cv_bridge needed).

Pure functions: no node, no rclpy.init. Everything a node needs to turn input messages into
arrays and results into messages lives here, so nodes stay thin.
"""

from __future__ import annotations

from hand_pose_ros.ros.camera_info import camera_info_to_intrinsics, intrinsics_to_camera_info
from hand_pose_ros.ros.diagnostics import diagnostic_array, diagnostic_status, format_value
from hand_pose_ros.ros.errors import MessageConversionError
from hand_pose_ros.ros.image_conversions import (
    COLOR_ENCODINGS,
    DEPTH_ENCODINGS,
    SUPPORTED_IMAGE_ENCODINGS,
    color_image_to_rgb,
    depth_image_to_metres,
    image_encoding_layout,
    image_to_numpy,
    metres_to_depth_image,
    numpy_to_image,
)
from hand_pose_ros.ros.keypoint_cloud import (
    KEYPOINT_CLOUD_DTYPE,
    KEYPOINT_CLOUD_FIELDS,
    KEYPOINT_CLOUD_POINT_STEP,
    KeypointCloud,
    decode_keypoint_cloud,
    encode_instances_cloud,
    encode_keypoint_cloud,
)
from hand_pose_ros.ros.qos import input_qos
from hand_pose_ros.ros.skeleton_markers import (
    INSTANCE_PALETTE,
    delete_all_markers,
    delete_instance_markers,
    instance_colour,
    marker_ids,
    skeleton_markers,
)

__all__ = [
    "COLOR_ENCODINGS",
    "DEPTH_ENCODINGS",
    "INSTANCE_PALETTE",
    "KEYPOINT_CLOUD_DTYPE",
    "KEYPOINT_CLOUD_FIELDS",
    "KEYPOINT_CLOUD_POINT_STEP",
    "SUPPORTED_IMAGE_ENCODINGS",
    "KeypointCloud",
    "MessageConversionError",
    "camera_info_to_intrinsics",
    "color_image_to_rgb",
    "decode_keypoint_cloud",
    "delete_all_markers",
    "delete_instance_markers",
    "depth_image_to_metres",
    "diagnostic_array",
    "diagnostic_status",
    "encode_instances_cloud",
    "encode_keypoint_cloud",
    "format_value",
    "image_encoding_layout",
    "image_to_numpy",
    "input_qos",
    "instance_colour",
    "intrinsics_to_camera_info",
    "marker_ids",
    "metres_to_depth_image",
    "numpy_to_image",
    "skeleton_markers",
]
