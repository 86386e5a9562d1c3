"""Colour images -> RGB for the body node, and per-instance keypoint clouds."""

from __future__ import annotations

import numpy as np
import pytest
from std_msgs.msg import Header

from hand_pose_ros.ros.errors import MessageConversionError
from hand_pose_ros.ros.image_conversions import color_image_to_rgb, numpy_to_image
from hand_pose_ros.ros.keypoint_cloud import decode_keypoint_cloud, encode_instances_cloud

RGB = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
def test_colour_encodings_come_back_as_rgb(encoding: str) -> None:
    pixels = RGB if encoding.startswith("rgb") else RGB[:, :, ::-1]
    if encoding.endswith("a8"):
        pixels = np.concatenate([pixels, np.full((5, 7, 1), 7, np.uint8)], axis=-1)
    rgb = color_image_to_rgb(numpy_to_image(pixels, encoding))
    assert rgb.shape == (5, 7, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, RGB)


def test_mono8_is_grey_rgb_and_padded_rows_are_skipped() -> None:
    grey = RGB[:, :, 0]
    msg = numpy_to_image(grey, "mono8")
    padded = np.zeros((5, 9), np.uint8)
    padded[:, :7] = grey
    msg.step = 9
    msg.data = padded.tobytes()
    rgb = color_image_to_rgb(msg)
    np.testing.assert_array_equal(rgb, np.repeat(grey[:, :, None], 3, axis=2))


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1", "rgb16", "yuv422"])
def test_other_encodings_are_refused_with_the_accepted_list(encoding: str) -> None:
    msg = numpy_to_image(RGB, "rgb8")
    msg.encoding = encoding
    with pytest.raises(MessageConversionError, match="rgb8, bgr8, rgba8, bgra8, mono8"):
        color_image_to_rgb(msg)


def test_instances_cloud_lists_every_keypoint_of_every_instance() -> None:
    xyz = [np.full((3, 3), i, np.float32) for i in (4, 9)]
    uv = [np.arange(6, dtype=np.float32).reshape(3, 2) + i for i in (4, 9)]
    depth = [np.array([1.0, np.nan, 2.0], np.float32)] * 2
    score = [np.array([0.1, 0.5, 0.9], np.float32)] * 2
    cloud = decode_keypoint_cloud(encode_instances_cloud(Header(), [4, 9], xyz, uv, depth, score))
    np.testing.assert_array_equal(cloud.instance, [4, 4, 4, 9, 9, 9])
    np.testing.assert_array_equal(cloud.keypoint, [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(cloud.uv_px, np.concatenate(uv))
    np.testing.assert_array_equal(cloud.depth_m, np.concatenate(depth))
    assert len(decode_keypoint_cloud(encode_instances_cloud(Header(), [], [], [], [], []))) == 0
    with pytest.raises(MessageConversionError):
        encode_instances_cloud(Header(), [1, 2], xyz[:1], uv, depth, score)
