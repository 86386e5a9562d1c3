"""Stamps as seconds: what stamp pairing and camera-info caching compare."""

from __future__ import annotations

import pytest
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from hand_pose_ros.ros.stamps import stamp_seconds


@pytest.mark.parametrize(("sec", "nanosec", "seconds"), [
    (0, 0, 0.0), (3, 250_000_000, 3.25), (1_764_000_000, 999_999_999, 1_764_000_000.999999999),
])
def test_stamp_seconds(sec: int, nanosec: int, seconds: float) -> None:
    header = Header(stamp=Time(sec=sec, nanosec=nanosec))
    assert stamp_seconds(header) == pytest.approx(seconds, abs=1e-6)


def test_a_nanosecond_later_is_later() -> None:
    base = Header(stamp=Time(sec=1_764_000_000, nanosec=1_000))
    later = Header(stamp=Time(sec=1_764_000_000, nanosec=2_000))
    assert stamp_seconds(later) > stamp_seconds(base)
