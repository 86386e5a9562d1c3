"""Depth frames as the messages a camera driver publishes, for node tests."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.ros.image_conversions import metres_to_depth_image

FRAME_ID = "test_depth_optical_frame"
WIDTH, HEIGHT = 224, 172


def header(index: int) -> Header:
    """Unique stamp per frame index (results are matched by stamp)."""
    return Header(stamp=Time(sec=100 + index, nanosec=index * 1000), frame_id=FRAME_ID)


def plane_depth_m(width: int = WIDTH, height: int = HEIGHT, distance_m: float = 0.6) -> np.ndarray:
    """A tilted plane with a little texture: valid depth everywhere."""
    rows = np.linspace(0.0, 0.2, height, dtype=np.float32)[:, None]
    cols = np.linspace(0.0, 0.05, width, dtype=np.float32)[None, :]
    return distance_m + rows + cols


def intrinsics(width: int = WIDTH, height: int = HEIGHT) -> Intrinsics:
    return Intrinsics.from_fov(width, height, 70.0)


def frame(
    index: int,
    depth_m: np.ndarray | None = None,
    encoding: str = "16UC1",
    camera: Intrinsics | None = None,
) -> tuple[Image, CameraInfo]:
    depth = plane_depth_m() if depth_m is None else depth_m
    height, width = depth.shape
    camera = camera or intrinsics(width, height)
    stamp_header = header(index)
    return (
        metres_to_depth_image(depth, encoding, stamp_header),
        intrinsics_to_camera_info(camera, stamp_header),
    )
