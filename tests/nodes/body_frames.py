"""RGB-D frames as a camera driver publishes them, and a body stand-in model, for node tests.

The stand-in model (tests.core.body_stand_in, shared with the core tests) outputs constant
heatmaps and tags for two people at known network-input pixels, so the node's keypoints are
known without trained weights; the graph still runs in ONNX Runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.ros.image_conversions import metres_to_depth_image, numpy_to_image
from tests.core.body_stand_in import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    body_metadata,
    build_body_model,
    render_body_outputs,
)

FRAME_ID = "test_color_optical_frame"
WIDTH, HEIGHT = 320, 240  # same aspect as the 256x192 network input: no letterbox padding
JOINTS = 17
PEOPLE = 2
PERSON_TAGS = (0.0, 3.0)
PLANE_DISTANCE_M = 2.0


def stand_in_people_network_px() -> np.ndarray:
    """(2, 17, 2) network-input pixels of the two stand-in people (upright, side by side)."""
    rows = np.linspace(24.0, 168.0, JOINTS)
    spread = np.tile([-6.0, 6.0], JOINTS)[:JOINTS] * (np.arange(JOINTS) > 0)
    people = [np.stack([centre + spread, rows], axis=-1) for centre in (72.0, 184.0)]
    return np.stack(people)


def build_body_stand_in_model(path: Path) -> Path:
    outputs = render_body_outputs(stand_in_people_network_px(), np.array(PERSON_TAGS))
    return build_body_model(path, body_metadata(), outputs)


def header(index: int, offset_s: float = 0.0) -> Header:
    """Unique stamp per frame index (results are matched by the colour stamp)."""
    nanosec = index * 1000 + round(offset_s * 1e9)
    return Header(
        stamp=Time(sec=100 + index + nanosec // 1_000_000_000, nanosec=nanosec % 1_000_000_000),
        frame_id=FRAME_ID,
    )


def intrinsics(width: int = WIDTH, height: int = HEIGHT) -> Intrinsics:
    return Intrinsics.from_fov(width, height, 69.0)


def color_rgb(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A textured picture (the stand-in ignores it, but the real preprocessing runs)."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack(
        [(rows * 3) % 256, (cols * 5) % 256, ((rows + cols) * 2) % 256], axis=-1
    ).astype(np.uint8)


def plane_depth_m(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A slightly tilted plane about 2 m away: valid depth everywhere."""
    rows = np.linspace(0.0, 0.1, height, dtype=np.float32)[:, None]
    return PLANE_DISTANCE_M + rows + np.zeros((1, width), np.float32)


def rgbd_frame(
    index: int,
    encoding: str = "rgb8",
    depth_m: np.ndarray | None = None,
    depth_encoding: str = "16UC1",
    depth_offset_s: float = 0.0,
    camera: Intrinsics | None = None,
) -> tuple[Image, Image, CameraInfo]:
    """(colour, depth, colour camera info) with the same stamp (depth shifted by offset)."""
    rgb = color_rgb()
    stamp_header = header(index)
    if encoding in ("rgb8", "bgr8"):
        pixels = rgb if encoding == "rgb8" else rgb[:, :, ::-1]
    elif encoding in ("rgba8", "bgra8"):
        alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
        base = rgb if encoding == "rgba8" else rgb[:, :, ::-1]
        pixels = np.concatenate([base, alpha], axis=-1)
    elif encoding == "mono8":
        pixels = rgb.mean(axis=-1).astype(np.uint8)
    else:
        raise ValueError(encoding)
    color = numpy_to_image(pixels, encoding, stamp_header)
    depth = metres_to_depth_image(
        plane_depth_m() if depth_m is None else depth_m,
        depth_encoding,
        header(index, depth_offset_s),
    )
    info = intrinsics_to_camera_info(camera or intrinsics(), stamp_header)
    return color, depth, info


__all__ = [
    "FRAME_ID",
    "HEIGHT",
    "INPUT_HEIGHT",
    "INPUT_WIDTH",
    "JOINTS",
    "PEOPLE",
    "WIDTH",
    "build_body_stand_in_model",
    "color_rgb",
    "header",
    "intrinsics",
    "plane_depth_m",
    "rgbd_frame",
    "stand_in_people_network_px",
]
