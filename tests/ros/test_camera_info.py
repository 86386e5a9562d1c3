"""CameraInfo -> Intrinsics: K versus P, binning / ROI, and rejection of uncalibrated input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo, RegionOfInterest
from std_msgs.msg import Header

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.ros import (
    MessageConversionError,
    camera_info_to_intrinsics,
    intrinsics_to_camera_info,
)


def camera_info(k=(500.0, 510.0, 319.5, 239.5), p=(480.0, 490.0, 322.0, 236.0), size=(640, 480)):
    """Distinct K and P so a test can tell which one was read."""
    fx, fy, cx, cy = k
    pfx, pfy, pcx, pcy = p
    return CameraInfo(
        width=size[0],
        height=size[1],
        distortion_model="plumb_bob",
        d=[0.1, -0.05, 0.0, 0.0, 0.0],
        k=[fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0],
        p=[pfx, 0.0, pcx, 0.0, 0.0, pfy, pcy, 0.0, 0.0, 0.0, 1.0, 0.0],
    )


def test_k_is_the_default():
    assert camera_info_to_intrinsics(camera_info()) == Intrinsics(
        500.0, 510.0, 319.5, 239.5, 640, 480
    )


def test_p_when_rectified():
    intrinsics = camera_info_to_intrinsics(camera_info(), use_projection=True)
    assert intrinsics == Intrinsics(480.0, 490.0, 322.0, 236.0, 640, 480)


@pytest.mark.parametrize(
    ("k", "use_projection"),
    [
        ((0.0, 0.0, 0.0, 0.0), False),  # uncalibrated driver: all-zero K
        ((math.nan, 510.0, 319.5, 239.5), False),
        ((500.0, math.inf, 319.5, 239.5), False),
        ((-500.0, 510.0, 319.5, 239.5), False),
        ((500.0, 510.0, math.nan, 239.5), False),
    ],
)
def test_bad_k_is_rejected(k, use_projection):
    with pytest.raises(MessageConversionError, match="K"):
        camera_info_to_intrinsics(camera_info(k=k), use_projection)


def test_bad_p_is_rejected_only_when_used():
    msg = camera_info(p=(0.0, 0.0, 0.0, 0.0))
    assert camera_info_to_intrinsics(msg).fx == 500.0
    with pytest.raises(MessageConversionError, match="P has focal"):
        camera_info_to_intrinsics(msg, use_projection=True)


@pytest.mark.parametrize("size", [(0, 480), (640, 0), (0, 0)])
def test_zero_size_is_rejected(size):
    with pytest.raises(MessageConversionError, match="size"):
        camera_info_to_intrinsics(camera_info(size=size))


def test_binning_and_roi_match_the_published_pixels():
    msg = camera_info()
    msg.roi = RegionOfInterest(x_offset=100, y_offset=40, width=320, height=240)
    msg.binning_x, msg.binning_y = 2, 2
    intrinsics = camera_info_to_intrinsics(msg)
    assert intrinsics == Intrinsics(250.0, 255.0, 109.75, 99.75, 160, 120)
    # A 3D point projects to the same place in the full image and in the binned ROI image.
    point = np.array([0.05, -0.02, 0.6])
    full_uv = camera_info_to_intrinsics(camera_info()).project(point)
    np.testing.assert_allclose(intrinsics.project(point), (full_uv - [100, 40]) / 2)


def test_roi_outside_the_image_is_rejected():
    msg = camera_info()
    msg.roi = RegionOfInterest(x_offset=400, y_offset=0, width=320, height=240)
    with pytest.raises(MessageConversionError, match="roi"):
        camera_info_to_intrinsics(msg)


@settings(max_examples=50, deadline=None)
@given(
    width=st.integers(1, 4096),
    height=st.integers(1, 4096),
    fov_deg=st.floats(20.0, 150.0),
    use_projection=st.booleans(),
)
def test_intrinsics_round_trip(width, height, fov_deg, use_projection):
    intrinsics = Intrinsics.from_fov(width, height, fov_deg)
    msg = intrinsics_to_camera_info(intrinsics, Header(frame_id="depth_optical"))
    assert msg.header.frame_id == "depth_optical"
    assert list(msg.r) == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert camera_info_to_intrinsics(msg, use_projection) == intrinsics
