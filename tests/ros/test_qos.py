"""Input QoS: sensor-data style profile, and that it really matches publishers of either kind."""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from hand_pose_ros.ros import image_to_numpy, input_qos, numpy_to_image


def test_default_is_best_effort_keep_last_one():
    profile = input_qos()
    assert profile.reliability == ReliabilityPolicy.BEST_EFFORT
    assert profile.history == HistoryPolicy.KEEP_LAST
    assert profile.depth == 1
    assert profile.durability == DurabilityPolicy.VOLATILE


def test_reliable_and_depth():
    profile = input_qos("reliable", 5)
    assert profile.reliability == ReliabilityPolicy.RELIABLE and profile.depth == 5
    assert input_qos(" Best_Effort ", np.int64(3)).depth == 3


@pytest.mark.parametrize(
    ("reliability", "depth"),
    [
        ("system_default", 1),
        ("", 1),
        ("besteffort", 1),
        (None, 1),
        ("reliable", 0),
        ("reliable", -2),
        ("reliable", 1.5),
        ("reliable", True),
    ],
)
def test_invalid_settings_raise_value_error(reliability, depth):
    with pytest.raises(ValueError):
        input_qos(reliability, depth)


@pytest.mark.parametrize(
    "publisher_reliability", [ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT]
)
def test_default_subscription_receives_from_any_publisher(publisher_reliability):
    """The design relies on best effort matching reliable publishers (real DDS, one process)."""
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node(f"qos_test_{uuid.uuid4().hex[:8]}", context=context)
        topic = f"qos_test_{uuid.uuid4().hex}/depth/image"  # no crosstalk with parallel runs
        received: list[Image] = []
        node.create_subscription(Image, topic, received.append, input_qos())
        publisher = node.create_publisher(
            Image, topic, QoSProfile(depth=1, reliability=publisher_reliability)
        )
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        pixels = np.arange(12, dtype=np.uint16).reshape(3, 4)
        deadline = time.monotonic() + 10.0
        while not received and time.monotonic() < deadline:
            publisher.publish(numpy_to_image(pixels, "16UC1"))
            executor.spin_once(timeout_sec=0.05)
        assert received, "best-effort input subscription got nothing"
        np.testing.assert_array_equal(image_to_numpy(received[0]), pixels)
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
