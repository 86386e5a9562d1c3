"""Diagnostics builders: levels, KeyValue formatting, array stamping."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus

from hand_pose_ros.ros import diagnostic_array, diagnostic_status, format_value


def test_status_fields_and_value_order():
    status = diagnostic_status(
        "hand_pose_node: processing",
        "depth_camera",
        DiagnosticStatus.WARN,
        "input rate low",
        {
            "input_rate_hz": 14.98765432,
            "latency_s": np.float32(0.0123),
            "dropped_frames": 3,
            "model": "hand_tiny_multitask",
            "using_projection": False,
        },
    )
    assert status.level == DiagnosticStatus.WARN
    assert (status.name, status.hardware_id, status.message) == (
        "hand_pose_node: processing",
        "depth_camera",
        "input rate low",
    )
    assert [(kv.key, kv.value) for kv in status.values] == [
        ("input_rate_hz", "14.9877"),
        ("latency_s", "0.0123"),  # float32 noise hidden by 6 significant digits
        ("dropped_frames", "3"),
        ("model", "hand_tiny_multitask"),
        ("using_projection", "false"),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (1.5, "1.5"),
        (-2.25e-5, "-2.25e-05"),
        (123456.7, "123457"),
        (2.5e9, "2500000000"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (np.int64(7), "7"),
        (2**40, "1099511627776"),
        (np.bool_(True), "true"),
        ("x", "x"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("level", [0, 1, 2, 3, DiagnosticStatus.OK, DiagnosticStatus.STALE])
def test_levels_accepted_as_int_or_byte(level):
    status = diagnostic_status("n", "h", level, "m", {})
    expected = level if isinstance(level, bytes) else bytes([level])
    assert status.level == expected and status.values == []


@pytest.mark.parametrize("level", [4, -1, b"\x09", b"", True, "OK"])
def test_invalid_level_is_rejected(level):
    with pytest.raises(ValueError):
        diagnostic_status("n", "h", level, "m", {})


def test_unsupported_value_type_is_rejected():
    with pytest.raises(TypeError):
        diagnostic_status("n", "h", 0, "m", {"bad": [1, 2]})


def test_array_copies_the_stamp():
    stamp = Time(sec=10, nanosec=20)
    status = diagnostic_status("n", "h", 0, "ok", {"a": 1})
    array = diagnostic_array(stamp, [status])
    stamp.sec = 99
    assert (array.header.stamp.sec, array.header.stamp.nanosec) == (10, 20)
    assert array.status == [status]
