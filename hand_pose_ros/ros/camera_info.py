"""sensor_msgs/CameraInfo <-> Intrinsics, without image_geometry (not installable here)."""

from __future__ import annotations

import math

from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.ros.errors import MessageConversionError


def _binning(value: int) -> int:
    """CameraInfo uses 0 and 1 both for "no binning"."""
    return max(int(value), 1)


def camera_info_to_intrinsics(msg: CameraInfo, use_projection: bool = False) -> Intrinsics:
    """Pinhole intrinsics of the image this CameraInfo describes.

    K describes the raw (distorted) image, P the rectified one: use_projection=True for images
    that a driver or image_proc has rectified. Binning and a region of interest are applied the
    way image_geometry does, so the result matches the published image's pixels.
    """
    # Row-major 3x3 K and 3x4 P: fx, cx on row 0; fy, cy on row 1.
    name, matrix, columns = ("P", msg.p, 4) if use_projection else ("K", msg.k, 3)
    fx, cx = float(matrix[0]), float(matrix[2])
    fy, cy = float(matrix[columns + 1]), float(matrix[columns + 2])
    if not (math.isfinite(fx) and math.isfinite(fy) and fx > 0 and fy > 0):
        raise MessageConversionError(
            f"CameraInfo {name} has focal lengths fx={fx}, fy={fy}; expected finite values > 0 "
            "(an all-zero matrix means the camera is uncalibrated)"
        )
    if not (math.isfinite(cx) and math.isfinite(cy)):
        raise MessageConversionError(
            f"CameraInfo {name} has principal point cx={cx}, cy={cy}; expected finite values"
        )
    width, height = int(msg.width), int(msg.height)
    if width <= 0 or height <= 0:
        raise MessageConversionError(
            f"CameraInfo image size is {width}x{height}; expected width and height > 0"
        )
    roi = msg.roi
    if roi.width > 0 and roi.height > 0:
        if roi.x_offset + roi.width > width or roi.y_offset + roi.height > height:
            raise MessageConversionError(
                f"CameraInfo roi {roi.width}x{roi.height}+{roi.x_offset}+{roi.y_offset} lies "
                f"outside the {width}x{height} image"
            )
        cx -= roi.x_offset
        cy -= roi.y_offset
        width, height = int(roi.width), int(roi.height)
    binning_x, binning_y = _binning(msg.binning_x), _binning(msg.binning_y)
    width, height = width // binning_x, height // binning_y
    if width <= 0 or height <= 0:
        raise MessageConversionError(
            f"CameraInfo binning {binning_x}x{binning_y} leaves an empty {width}x{height} image"
        )
    return Intrinsics(fx / binning_x, fy / binning_y, cx / binning_x, cy / binning_y, width, height)


def intrinsics_to_camera_info(intrinsics: Intrinsics, header: Header | None = None) -> CameraInfo:
    """CameraInfo for an ideal (undistorted) pinhole camera: K, P (no baseline), R = identity.

    Used where this package is the camera (synthetic runner input), so consumers reading either
    K or P agree.
    """
    fx, fy, cx, cy = (
        float(v) for v in (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy)
    )
    msg = CameraInfo()
    if header is not None:
        msg.header = header
    msg.width = int(intrinsics.width)
    msg.height = int(intrinsics.height)
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg
